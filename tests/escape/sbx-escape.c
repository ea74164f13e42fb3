/* sbx-escape: the attacker's half of the escape regression suite.  The
 * tests in tests/escape copy it into a container's rootfs and run it there
 * as the container's root; each command reproduces one step of a known
 * escape and prints what the kernel answered, one "NAME RESULT" line per
 * attempt (RESULT: "ok", or the errno name as in sbx-check).  The shell
 * tests compare those lines and check the host side (hashes, files).
 * A few commands run on the host to set a trap the container then tries.
 *
 *   cwd                       "cwd inside|outside": does ".." from the cwd reach our "/"?
 *   fds                       "fd N KIND inside|outside" for every open fd but stdio
 *   exe-race SECONDS DEV:INO  watch for runtime processes (non-dumpable, or whose
 *                             /proc/PID/exe is DEV:INO) and attack each: hold its exe
 *                             with O_PATH, reopen it for writing, ptrace-attach;
 *                             prints "exe-race seen=S direct=D denied=N held=H write_tries=T
 *                             write_ok=W after_exec=A ptrace_ok=P" (D direct O_WRONLY opens of
 *                             /proc/PID/exe, N of them refused with EACCES/EPERM/ETXTBSY;
 *                             A: attached only once the process ran the container's
 *                             program, which is allowed)
 *   ptrace PID...             "ptrace PID RESULT" and "pidfd PID RESULT", "kill0 PID RESULT"
 *   cgroup1 SUBSYS...         mount a v1 hierarchy (CVE-2022-0492), also after
 *                             unshare(CLONE_NEWNS|CLONE_NEWCGROUP); if a mount works,
 *                             write release_agent and notify_on_release in it
 *   mount-fs TYPE [FILE DATA] mount a fresh TYPE (proc, sysfs, binfmt_misc) on a
 *                             temporary directory; if it works and FILE is given,
 *                             write DATA to FILE in it; then unmount
 *   mknod-open NAME MAJ MIN   mknod a char device in /dev and in /tmp, then open it
 *   swap A B SECONDS          exchange A and B (renameat2) as fast as possible
 *   keyctl-read SERIAL        keyctl READ and DESCRIBE of a key, add_key to the user keyring
 *   key-add DESC DATA         (host) add a user key to the session keyring, 300 s timeout; prints its serial
 *   key-show SERIAL           (host) "key SERIAL DATA"
 *   key-drop SERIAL           (host) invalidate the key
 *   raw                       AF_INET/SOCK_RAW and AF_PACKET sockets
 *   spoof SRC DST PORT TEXT   one UDP datagram SRC -> DST:PORT through a raw socket (IP_HDRINCL)
 *   uring                     io_uring_setup, io_uring_enter, io_uring_register; userfaultfd,
 *                             /dev/userfaultfd
 *   shocker                   name_to_handle_at on "/", then open_by_handle_at of inode 2
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "helper-common.h"

static const char *res(long r)
{
  return r < 0 ? errno_name(errno) : "ok";
}

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Climb ".." from dirfd until it stops moving: the kernel stops at the
 * process's root, or, for a directory outside it, at the root of the mount
 * namespace.  Inside iff that top is our "/". */
static const char *where(int dirfd)
{
  struct stat cur, up, root;
  if (stat("/", &root) < 0)
    return errno_name(errno);
  _cleanup_close_ int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno_name(errno);
  for (int depth = 0; depth < 4096; depth++) {
    if (fstat(fd, &cur) < 0)
      return errno_name(errno);
    int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
      return errno_name(errno);
    if (fstat(parent, &up) < 0) {
      close(parent);
      return errno_name(errno);
    }
    close(fd);
    fd = parent;
    if (same_file(&cur, &up))
      return same_file(&cur, &root) ? "inside" : "outside";
  }
  return "ELOOP";
}

static int cmd_cwd(void)
{
  printf("cwd %s\n", where(AT_FDCWD));
  return 0;
}

static const char *kind(mode_t m)
{
  switch (m & S_IFMT) {
  case S_IFDIR: return "dir";
  case S_IFREG: return "file";
  case S_IFCHR: return "chr";
  case S_IFBLK: return "blk";
  case S_IFIFO: return "fifo";
  case S_IFSOCK: return "sock";
  case S_IFLNK: return "link";
  default: return "anon";
  }
}

/* A file is inside when the path the kernel gives for it names the same
 * file from our root; a directory when ".." climbs to our root. */
static const char *fd_where(int fd, const struct stat *st)
{
  if (S_ISDIR(st->st_mode))
    return where(fd);
  if (!S_ISREG(st->st_mode) && !S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode))
    return "inside"; /* pipes, sockets, anonymous inodes name no path */
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0)
    return errno_name(errno);
  target[n] = '\0';
  struct stat there;
  return target[0] == '/' && lstat(target, &there) == 0 && same_file(&there, st) ? "inside" : "outside";
}

static int cmd_fds(void)
{
  _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  if (!d) {
    printf("fds %s\n", errno_name(errno));
    return 0;
  }
  int n = 0;
  while ((de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    int fd = atoi(de->d_name);
    struct stat st;
    if (fd == dirfd(d) || fd <= 2 || fstat(fd, &st) < 0)
      continue;
    printf("fd %d %s %s\n", fd, kind(st.st_mode), fd_where(fd, &st));
    n++;
  }
  printf("fds %d beyond stdio\n", n);
  return 0;
}

/* ---- CVE-2019-5736 and ptrace of the runtime -------------------------------- */

struct victim {
  pid_t pid;
  int exe;   /* O_PATH of its /proc/PID/exe, or -1 */
};

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The attach's stop, polled: the tracee may exit instead (a short-lived
 * process), which must not hang the race. */
static void wait_stop(pid_t pid)
{
  for (int i = 0; i < 200; i++) {
    pid_t r = waitpid(pid, NULL, __WALL | WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      return;
    usleep(5000);
  }
}

/* Is pid, now stopped under our trace, still the runtime's binary? */
static bool runs_runtime(pid_t pid, unsigned long long dev, unsigned long long ino)
{
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  if (stat(path, &st) < 0)
    return errno == EACCES || errno == EPERM;
  return st.st_dev == dev && st.st_ino == ino;
}

static int cmd_exe_race(double seconds, const char *devino)
{
  unsigned long long want_dev, want_ino;
  if (sscanf(devino, "%llu:%llu", &want_dev, &want_ino) != 2)
    return 2;
  static struct victim held[4096];
  size_t n_held = 0;
  long seen = 0, write_ok = 0, ptrace_ok = 0, write_tries = 0, attached_later = 0;
  long direct_tries = 0, direct_denied = 0;
  pid_t self = getpid(), parent = getppid();
  static bool known[1 << 22];
  double end = now() + seconds;

  while (now() < end) {
    _cleanup_closedir_ DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d))) {
      pid_t pid = (pid_t) atoi(de->d_name);
      if (pid <= 1 || pid == self || pid == parent || pid >= (1 << 22) || known[pid])
        continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      int fd = open(path, O_PATH | O_CLOEXEC);
      int err = errno;
      struct stat st;
      bool runtime = fd < 0 ? (err == EACCES || err == EPERM)
                            : fstat(fd, &st) == 0 && st.st_dev == want_dev && st.st_ino == want_ino;
      if (fd < 0 && err == ENOENT)
        continue; /* gone, or a kernel thread: try again next round */
      known[pid] = true;
      if (!runtime) {
        if (fd >= 0)
          close(fd);
        continue;
      }
      seen++;
      /* The direct attempt: reopen its exe for writing at once. */
      int w = open(path, O_WRONLY | O_CLOEXEC);
      direct_tries++;
      if (w >= 0) {
        write_ok++;
        printf("exe-race opened-for-write pid %d\n", pid);
        close(w);
      } else if (errno == EACCES || errno == EPERM || errno == ETXTBSY) {
        direct_denied++;
      }
      /* The runc attack: ptrace the setup process, and keep its exe to
       * reopen for writing once the binary is no longer busy. */
      /* SEIZE makes the same permission check as ATTACH without queueing
       * a SIGSTOP that could outlive us in a process we never saw stop. */
      if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
        /* An attach works once the process has exec'd the container's
         * program (exec makes it dumpable): only an attach to a process
         * still running the runtime's binary is the attack. */
        bool runtime_now = runs_runtime(pid, want_dev, want_ino);
        ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
        wait_stop(pid);
        if (runtime_now) {
          ptrace_ok++;
          printf("exe-race ptrace-attached %d\n", pid);
        } else {
          attached_later++;
        }
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
      }
      if (fd >= 0 && n_held < ARRAY_SIZE(held))
        held[n_held++] = (struct victim){ pid, fd };
      else if (fd >= 0)
        close(fd);
    }
    for (size_t i = 0; i < n_held; i++) {
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", held[i].exe);
      write_tries++;
      int w = open(path, O_WRONLY | O_CLOEXEC);
      if (w >= 0) {
        write_ok++;
        printf("exe-race opened-for-write pid %d\n", held[i].pid);
        close(w); /* never write: the point is made */
      }
    }
  }
  for (size_t i = 0; i < n_held; i++)
    close(held[i].exe);
  printf("exe-race seen=%ld direct=%ld denied=%ld held=%zu write_tries=%ld write_ok=%ld after_exec=%ld "
         "ptrace_ok=%ld\n", seen, direct_tries, direct_denied, n_held, write_tries, write_ok, attached_later,
         ptrace_ok);
  return 0;
}

static int cmd_ptrace(int n, char **pids)
{
  for (int i = 0; i < n; i++) {
    pid_t pid = (pid_t) atoi(pids[i]);
    long r = ptrace(PTRACE_SEIZE, pid, NULL, NULL);
    printf("ptrace %d %s\n", pid, res(r));
    if (r == 0) {
      ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
      wait_stop(pid);
      ptrace(PTRACE_DETACH, pid, NULL, NULL);
    }
    long fd = syscall(SYS_pidfd_open, pid, 0);
    printf("pidfd %d %s\n", pid, res(fd));
    if (fd >= 0)
      close((int) fd);
    printf("kill0 %d %s\n", pid, res(kill(pid, 0)));
    char buf[8];
    struct iovec local = { buf, sizeof buf }, remote = { (void *) 0x400000, sizeof buf };
    printf("vm_readv %d %s\n", pid, res(process_vm_readv(pid, &local, 1, &remote, 1, 0)));
  }
  return 0;
}

/* ---- mounts of kernel filesystems ---------------------------------------- */

static bool write_at(const char *dir, const char *file, const char *data, const char *label)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  long r = fd < 0 ? -1 : write(fd, data, strlen(data));
  printf("%s %s %s\n", label, file, res(r));
  return r >= 0;
}

static char *tmpdir(char *buf, size_t size)
{
  snprintf(buf, size, "/tmp/sbx-escape-XXXXXX");
  return mkdtemp(buf);
}

/* Mount TYPE with data on a fresh directory; labelled result line. */
static int try_mount(const char *label, const char *type, const char *data, char *dir, size_t size)
{
  if (!tmpdir(dir, size)) {
    printf("%s SKIP mkdtemp:%s\n", label, errno_name(errno));
    return -1;
  }
  int r = mount(type, dir, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, data);
  printf("%s %s\n", label, res(r));
  if (r < 0)
    rmdir(dir);
  return r;
}

static void undo_mount(const char *dir)
{
  umount2(dir, MNT_DETACH);
  rmdir(dir);
}

/* In a child: the unshare must not change the caller. */
static int cgroup1_in_child(const char *subsys, bool unshare_first)
{
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return 1;
  if (pid == 0) {
    char label[96], dir[64];
    snprintf(label, sizeof label, "cgroup1%s %s", unshare_first ? "-unshared" : "", subsys);
    if (unshare_first && unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0) {
      printf("%s SKIP unshare:%s\n", label, errno_name(errno));
      _exit(0);
    }
    if (try_mount(label, "cgroup", subsys, dir, sizeof dir) == 0) {
      write_at(dir, "release_agent", "/sbx-escape-release-agent", label);
      write_at(dir, "notify_on_release", "1", label);
      undo_mount(dir);
    }
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  return 0;
}

static int cmd_cgroup1(int n, char **subsys)
{
  for (int i = 0; i < n; i++) {
    cgroup1_in_child(subsys[i], false);
    cgroup1_in_child(subsys[i], true);
  }
  return 0;
}

static int cmd_mount_fs(const char *type, const char *file, const char *data)
{
  char dir[64], label[64];
  snprintf(label, sizeof label, "mount-%s", type);
  if (try_mount(label, type, NULL, dir, sizeof dir) == 0) {
    if (file)
      write_at(dir, file, data, label);
    undo_mount(dir);
  }
  return 0;
}

static int cmd_mknod_open(const char *name, unsigned maj, unsigned min)
{
  static const char *const dirs[] = { "/dev", "/tmp" };
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/sbx-escape-%s", dirs[i], name);
    int r = mknod(path, S_IFCHR | 0600, makedev(maj, min));
    printf("mknod %s %s\n", path, res(r));
    if (r == 0) {
      _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      printf("open %s %s\n", path, res(fd));
      unlink(path);
    }
  }
  return 0;
}

static int cmd_swap(const char *a, const char *b, double seconds)
{
  long n = 0, failed = 0;
  double end = now() + seconds;
  while (now() < end)
    for (int i = 0; i < 1000; i++, n++)
      if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0)
        failed++;
  printf("swap %ld exchanges %ld failed\n", n, failed);
  return 0;
}

/* ---- keys ----------------------------------------------------------------- */

static int cmd_keyctl_read(long serial)
{
  char buf[256];
  long r = syscall(SYS_keyctl, KEYCTL_READ, serial, buf, sizeof buf);
  printf("keyctl-read %s\n", res(r));
  r = syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, buf, sizeof buf);
  printf("keyctl-describe %s\n", res(r));
  r = syscall(SYS_keyctl, KEYCTL_UPDATE, serial, "owned", 5);
  printf("keyctl-update %s\n", res(r));
  r = syscall(SYS_add_key, "user", "sbx-escape", "x", (size_t) 1, KEY_SPEC_USER_KEYRING);
  printf("add_key-user %s\n", res(r));
  if (r > 0)
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, r);
  return 0;
}

static int cmd_key_add(const char *desc, const char *data)
{
  long id = syscall(SYS_add_key, "user", desc, data, strlen(data), KEY_SPEC_USER_KEYRING);
  if (id < 0) {
    printf("key-add %s\n", errno_name(errno));
    return 1;
  }
  /* Expires by itself should the test die before removing it; readable by
   * possessor, user, group and others, so only the namespace stands in the way. */
  syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, id, 300);
  syscall(SYS_keyctl, KEYCTL_SETPERM, id, 0x3f3f3f3f);
  printf("%ld\n", id);
  return 0;
}

static int cmd_key_show(long serial)
{
  char buf[256];
  long r = syscall(SYS_keyctl, KEYCTL_READ, serial, buf, sizeof buf - 1);
  if (r < 0) {
    printf("key %ld %s\n", serial, errno_name(errno));
    return 0;
  }
  buf[r < (long) sizeof buf - 1 ? r : (long) sizeof buf - 1] = '\0';
  printf("key %ld %s\n", serial, buf);
  return 0;
}

/* ---- sockets ---------------------------------------------------------------- */

static int cmd_raw(void)
{
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  printf("raw-inet %s\n", res(fd));
  if (fd >= 0)
    close(fd);
  fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  printf("raw-packet %s\n", res(fd));
  if (fd >= 0)
    close(fd);
  return 0;
}

static uint16_t csum(const void *data, size_t len)
{
  const uint8_t *p = data;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += (uint32_t) (p[i] << 8 | p[i + 1]);
  if (len & 1)
    sum += (uint32_t) p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t) ~sum);
}

static int cmd_spoof(const char *src, const char *dst, int port, const char *text)
{
  struct {
    struct iphdr ip;
    struct udphdr udp;
    char payload[256];
  } __attribute__((packed)) pkt;
  size_t plen = strnlen(text, sizeof pkt.payload);
  memset(&pkt, 0, sizeof pkt);
  pkt.ip.version = 4;
  pkt.ip.ihl = 5;
  pkt.ip.ttl = 64;
  pkt.ip.protocol = IPPROTO_UDP;
  pkt.ip.tot_len = htons((uint16_t) (sizeof pkt.ip + sizeof pkt.udp + plen));
  if (inet_pton(AF_INET, src, &pkt.ip.saddr) != 1 || inet_pton(AF_INET, dst, &pkt.ip.daddr) != 1)
    return 2;
  pkt.ip.check = csum(&pkt.ip, sizeof pkt.ip);
  pkt.udp.source = htons(40000);
  pkt.udp.dest = htons((uint16_t) port);
  pkt.udp.len = htons((uint16_t) (sizeof pkt.udp + plen));
  memcpy(pkt.payload, text, plen); /* UDP checksum 0: none, valid for IPv4 */
  _cleanup_close_ int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) {
    printf("spoof socket %s\n", errno_name(errno));
    return 0;
  }
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = pkt.ip.daddr };
  ssize_t n = sendto(fd, &pkt, sizeof pkt.ip + sizeof pkt.udp + plen, 0, (struct sockaddr *) &to, sizeof to);
  printf("spoof send %s\n", res(n));
  return 0;
}

/* ---- exploitation primitives ----------------------------------------------- */

static int cmd_uring(void)
{
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  long r = syscall(SYS_io_uring_setup, 1U, &p);
  printf("io_uring_setup %s\n", res(r));
  if (r >= 0)
    close((int) r);
  /* A bad fd: past the filter the kernel would answer EBADF. */
  printf("io_uring_enter %s\n", res(syscall(SYS_io_uring_enter, -1, 0U, 0U, 0U, NULL, 0UL)));
  printf("io_uring_register %s\n", res(syscall(SYS_io_uring_register, -1, 0U, NULL, 0U)));
  r = syscall(SYS_userfaultfd, O_CLOEXEC);
  printf("userfaultfd %s\n", res(r));
  if (r >= 0)
    close((int) r);
  int fd = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  printf("dev-userfaultfd %s\n", res(fd));
  if (fd >= 0)
    close(fd);
  return 0;
}

static int cmd_shocker(void)
{
  _Alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  struct file_handle *fh = (struct file_handle *) buf;
  int mount_id;
  fh->handle_bytes = MAX_HANDLE_SZ;
  long r = syscall(SYS_name_to_handle_at, AT_FDCWD, "/", fh, &mount_id, 0);
  printf("name_to_handle_at %s\n", res(r));
  /* Shocker's guess: ext4's root directory is inode 2, generation 0
   * (FILEID_INO32_GEN), opened through any fd on the same filesystem. */
  fh->handle_type = 1;
  fh->handle_bytes = 8;
  memset(fh->f_handle, 0, 8);
  fh->f_handle[0] = 2;
  _cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  r = syscall(SYS_open_by_handle_at, root, fh, O_RDONLY | O_CLOEXEC);
  printf("open_by_handle_at %s\n", res(r));
  if (r >= 0)
    close((int) r);
  return 0;
}

static int usage(void)
{
  fputs("usage: sbx-escape cwd | fds | exe-race SECONDS DEV:INO | ptrace PID...\n"
        "       sbx-escape cgroup1 SUBSYS... | mount-fs TYPE [FILE DATA] | mknod-open NAME MAJ MIN\n"
        "       sbx-escape swap A B SECONDS | keyctl-read SERIAL\n"
        "       sbx-escape key-add DESC DATA | key-show SERIAL | key-drop SERIAL\n"
        "       sbx-escape raw | spoof SRC DST PORT TEXT | uring | shocker\n",
        stderr);
  return 2;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2)
    return usage();
  const char *cmd = argv[1];
  if (!strcmp(cmd, "cwd") && argc == 2)
    return cmd_cwd();
  if (!strcmp(cmd, "fds") && argc == 2)
    return cmd_fds();
  if (!strcmp(cmd, "exe-race") && argc == 4)
    return cmd_exe_race(atof(argv[2]), argv[3]);
  if (!strcmp(cmd, "ptrace") && argc > 2)
    return cmd_ptrace(argc - 2, argv + 2);
  if (!strcmp(cmd, "cgroup1") && argc > 2)
    return cmd_cgroup1(argc - 2, argv + 2);
  if (!strcmp(cmd, "mount-fs") && (argc == 3 || argc == 5))
    return cmd_mount_fs(argv[2], argc == 5 ? argv[3] : NULL, argc == 5 ? argv[4] : NULL);
  if (!strcmp(cmd, "mknod-open") && argc == 5)
    return cmd_mknod_open(argv[2], (unsigned) atoi(argv[3]), (unsigned) atoi(argv[4]));
  if (!strcmp(cmd, "swap") && argc == 5)
    return cmd_swap(argv[2], argv[3], atof(argv[4]));
  if (!strcmp(cmd, "keyctl-read") && argc == 3)
    return cmd_keyctl_read(atol(argv[2]));
  if (!strcmp(cmd, "key-add") && argc == 4)
    return cmd_key_add(argv[2], argv[3]);
  if (!strcmp(cmd, "key-show") && argc == 3)
    return cmd_key_show(atol(argv[2]));
  if (!strcmp(cmd, "key-drop") && argc == 3)
    return syscall(SYS_keyctl, KEYCTL_INVALIDATE, atol(argv[2])) < 0;
  if (!strcmp(cmd, "raw") && argc == 2)
    return cmd_raw();
  if (!strcmp(cmd, "spoof") && argc == 6)
    return cmd_spoof(argv[2], argv[3], atoi(argv[4]), argv[5]);
  if (!strcmp(cmd, "uring") && argc == 2)
    return cmd_uring();
  if (!strcmp(cmd, "shocker") && argc == 2)
    return cmd_shocker();
  return usage();
}
