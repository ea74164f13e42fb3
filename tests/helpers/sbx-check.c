/* sbx-check: a static probe the integration tests copy into a container.
 * Each check prints "NAME RESULT" where RESULT is "ok" or an errno name.
 * Every syscall check runs in a forked child, so one cannot affect another. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

static const struct { int err; const char *name; } errnames[] = {
  {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"}, {EIO, "EIO"},
  {ENXIO, "ENXIO"}, {E2BIG, "E2BIG"}, {EBADF, "EBADF"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
  {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {ENOTBLK, "ENOTBLK"}, {EBUSY, "EBUSY"},
  {EEXIST, "EEXIST"}, {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"},
  {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"}, {EMFILE, "EMFILE"}, {ENOTTY, "ENOTTY"},
  {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"}, {ENOSYS, "ENOSYS"}, {EOPNOTSUPP, "EOPNOTSUPP"},
  {EAFNOSUPPORT, "EAFNOSUPPORT"}, {ELOOP, "ELOOP"}, {ENAMETOOLONG, "ENAMETOOLONG"},
};

static const char *errname(int err)
{
  static char buf[16];
  for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
    if (errnames[i].err == err)
      return errnames[i].name;
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

static long rc(long r)
{
  return r < 0 ? -errno : r;
}

#ifdef __x86_64__
/* The 32-bit entry point: the filter must cover it too. */
static long int80(long nr, long a, long b, long c)
{
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
  return ret; /* -errno on failure */
}
#endif

static long child_exit(long r)
{
  /* For clone-like checks: the child leaves at once. */
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t) r, NULL, 0);
  return r;
}

/* Each check returns 0/positive for success or -errno. */
static long do_check(const char *name)
{
  if (!strcmp(name, "keyctl"))
    return rc(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
  if (!strcmp(name, "add_key"))
    return rc(syscall(SYS_add_key, "user", "sbx-check", "x", 1, -3));
  if (!strcmp(name, "request_key"))
    return rc(syscall(SYS_request_key, "user", "sbx-check-none", NULL, 0));
  if (!strcmp(name, "bpf")) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    return rc(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
  }
  if (!strcmp(name, "perf_event_open")) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.exclude_kernel = 1;
    return rc(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  }
  if (!strcmp(name, "unshare-user"))
    return rc(unshare(CLONE_NEWUSER));
  if (!strcmp(name, "unshare-net"))
    return rc(unshare(CLONE_NEWNET));
  if (!strcmp(name, "clone-newuser"))
    return child_exit(rc(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)));
  if (!strcmp(name, "clone3")) {
    uint64_t args[8] = {0};
    args[4] = SIGCHLD; /* exit_signal */
    return child_exit(rc(syscall(SYS_clone3, args, 64)));
  }
  if (!strcmp(name, "kexec_load"))
    return rc(syscall(SYS_kexec_load, 0, 0, NULL, 0));
  if (!strcmp(name, "kexec_file_load"))
    return rc(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
  if (!strcmp(name, "init_module"))
    return rc(syscall(SYS_init_module, NULL, 0, ""));
  if (!strcmp(name, "finit_module"))
    return rc(syscall(SYS_finit_module, -1, "", 0));
  if (!strcmp(name, "delete_module"))
    return rc(syscall(SYS_delete_module, "sbx_check_none", 0));
  if (!strcmp(name, "userfaultfd"))
    return rc(syscall(SYS_userfaultfd, O_CLOEXEC));
  if (!strcmp(name, "io_uring_setup")) {
    char params[120];
    memset(params, 0, sizeof params);
    return rc(syscall(SYS_io_uring_setup, 1, params));
  }
  if (!strcmp(name, "open_by_handle_at")) {
    struct { unsigned int bytes; int type; unsigned char h[8]; } fh = { 8, 1, {0} };
    return rc(syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY));
  }
  if (!strcmp(name, "mount-blockdev")) {
    mkdir("/tmp/sbx-check-mnt", 0700);
    const char *src = "/dev/vda";
    DIR *d = opendir("/dev");
    struct dirent *de;
    static char path[300];
    while (d && (de = readdir(d))) {
      struct stat st;
      snprintf(path, sizeof path, "/dev/%s", de->d_name);
      if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
        src = path;
        break;
      }
    }
    if (d)
      closedir(d);
    return rc(mount(src, "/tmp/sbx-check-mnt", "ext4", MS_RDONLY, NULL));
  }
  if (!strcmp(name, "mount-tmpfs")) {
    mkdir("/tmp/sbx-check-tmpfs", 0700);
    long r = rc(mount("tmpfs", "/tmp/sbx-check-tmpfs", "tmpfs", 0, NULL));
    if (r == 0)
      umount("/tmp/sbx-check-tmpfs");
    return r;
  }
  if (!strcmp(name, "swapon"))
    return rc(syscall(SYS_swapon, "/tmp/sbx-check-noswap", 0));
  if (!strcmp(name, "reboot-kexec"))
    return rc(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_KEXEC, NULL));
  if (!strcmp(name, "syslog")) {
    char buf[256];
    return rc(syscall(SYS_syslog, 3 /* READ_ALL */, buf, (int) sizeof buf));
  }
  if (!strcmp(name, "mknod-char"))
    return rc(mknod("/tmp/sbx-check-null", S_IFCHR | 0600, makedev(1, 3)));
  if (!strcmp(name, "mknod-block"))
    return rc(mknod("/tmp/sbx-check-blk", S_IFBLK | 0600, makedev(8, 0)));
  if (!strcmp(name, "acct"))
    return rc(syscall(SYS_acct, NULL));
  if (!strcmp(name, "settimeofday")) {
    /* Sets the clock to what it already is: harmless if it ever succeeded. */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return rc(syscall(SYS_settimeofday, &tv, NULL));
  }
#ifdef __x86_64__
  if (!strcmp(name, "iopl"))
    return rc(syscall(SYS_iopl, 3));
  if (!strcmp(name, "int80-getpid"))
    return int80(20, 0, 0, 0);
  if (!strcmp(name, "int80-keyctl"))
    return int80(288, 0, -3, 0);
  if (!strcmp(name, "int80-unshare-user"))
    return int80(310, CLONE_NEWUSER, 0, 0);
  if (!strcmp(name, "x32-keyctl"))
    return rc(syscall(0x40000000 | 250, 0, -3, 0));
#endif
  return -9999;
}

static const char *const all_denied[] = {
  "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "unshare-user", "clone-newuser",
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "userfaultfd",
  "io_uring_setup", "open_by_handle_at", "mount-blockdev", "swapon", "reboot-kexec", "mknod-block",
  "acct", "settimeofday",
#ifdef __x86_64__
  "iopl", "int80-keyctl", "int80-unshare-user", "x32-keyctl",
#endif
};

static int run_check(const char *name)
{
  int p[2];
  if (pipe(p) < 0)
    return 2;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    long r = do_check(name);
    if (write(p[1], &r, sizeof r) != sizeof r)
      _exit(3);
    _exit(0);
  }
  close(p[1]);
  long r = 0;
  ssize_t n = read(p[0], &r, sizeof r);
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  if (n != sizeof r) {
    printf("%s killed(%d)\n", name, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 0;
  }
  if (r == -9999) {
    fprintf(stderr, "sbx-check: unknown check %s\n", name);
    return 2;
  }
  if (r >= 0)
    printf("%s ok\n", name);
  else
    printf("%s %s\n", name, errname((int) -r));
  return 0;
}

static int open_check(const char *path, const char *mode)
{
  int fd = open(path, (mode[0] == 'w' ? O_WRONLY : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
  printf("%s %s\n", path, fd < 0 ? errname(errno) : "ok");
  if (fd >= 0)
    close(fd);
  return 0;
}

static int read_check(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    printf("%s %s\n", path, errname(errno));
    return 0;
  }
  static char buf[1 << 16];
  size_t total = 0;
  ssize_t n;
  while (total < (1u << 20) && (n = read(fd, buf, sizeof buf)) > 0)
    total += (size_t) n;
  printf("%s ok %zu\n", path, total);
  close(fd);
  return 0;
}

static int write_check(const char *path, const char *data)
{
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  const char *res = "ok";
  if (fd < 0)
    res = errname(errno);
  else if (write(fd, data, strlen(data)) < 0)
    res = errname(errno);
  printf("%s %s\n", path, res);
  if (fd >= 0)
    close(fd);
  return 0;
}

static int fork_bomb(int n)
{
  pid_t *kids = calloc((size_t) n, sizeof *kids);
  int k = 0;
  const char *res = "ok";
  for (; kids && k < n; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (pid < 0) {
      res = errname(errno);
      break;
    }
    kids[k] = pid;
  }
  printf("forked %d %s\n", k, res);
  fflush(stdout);
  for (int i = 0; i < k; i++)
    kill(kids[i], SIGKILL);
  for (int i = 0; i < k; i++)
    waitpid(kids[i], NULL, 0);
  free(kids);
  return 0;
}

static int hog(int mb)
{
  for (int i = 1; i <= mb; i++) {
    char *p = malloc(1 << 20);
    if (!p) {
      printf("hog malloc failed at %d\n", i);
      return 1;
    }
    memset(p, i, 1 << 20);
    if (i % 16 == 0) {
      printf("hog %d\n", i);
      fflush(stdout);
    }
  }
  return 0;
}

static double now_ms(clockid_t c)
{
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int spin(int secs)
{
  double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
  while (now_ms(CLOCK_MONOTONIC) - w0 < secs * 1e3)
    ;
  printf("spin cpu_ms=%.0f wall_ms=%.0f\n", now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0, now_ms(CLOCK_MONOTONIC) - w0);
  return 0;
}

static int fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    printf("fds %s\n", errname(errno));
    return 0;
  }
  int self = dirfd(d), list[256], n = 0;
  struct dirent *de;
  while ((de = readdir(d)) && n < 256)
    if (de->d_name[0] != '.' && atoi(de->d_name) != self)
      list[n++] = atoi(de->d_name);
  closedir(d);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (list[j] < list[i]) {
        int t = list[i];
        list[i] = list[j];
        list[j] = t;
      }
  printf("fds");
  for (int i = 0; i < n; i++)
    printf(" %d", list[i]);
  printf("\n");
  return 0;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2)
    goto usage;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--all-denied")) {
    for (size_t i = 0; i < sizeof all_denied / sizeof all_denied[0]; i++)
      run_check(all_denied[i]);
    return 0;
  }
  if (!strcmp(cmd, "syscall") && argc > 2) {
    for (int i = 2; i < argc; i++)
      if (run_check(argv[i]) == 2)
        return 2;
    return 0;
  }
  if (!strcmp(cmd, "open") && argc == 4)
    return open_check(argv[2], argv[3]);
  if (!strcmp(cmd, "read") && argc == 3)
    return read_check(argv[2]);
  if (!strcmp(cmd, "write") && argc == 4)
    return write_check(argv[2], argv[3]);
  if (!strcmp(cmd, "fork-bomb") && argc == 3)
    return fork_bomb(atoi(argv[2]));
  if (!strcmp(cmd, "hog") && argc == 3)
    return hog(atoi(argv[2]));
  if (!strcmp(cmd, "spin") && argc == 3)
    return spin(atoi(argv[2]));
  if (!strcmp(cmd, "fds"))
    return fds();
usage:
  fprintf(stderr, "usage: sbx-check syscall NAME... | --all-denied | open PATH r|w | read PATH |\n"
                  "       write PATH DATA | fork-bomb N | hog MB | spin SECONDS | fds\n");
  return 2;
}
