/* sbx: an OCI runtime CLI over libsandbox. */
#include "sandhost-config.h"
#include "sandbox.h"
#include "cleanup.h"
#include "fdutil.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *root = SBX_DEFAULT_ROOT;

static int fail(const sh_error *e)
{
  char buf[1400];
  sh_error_log("%s", sh_error_str(e, buf, sizeof buf));
  return e->err == ENOENT ? 2 : 1;
}

static int usage(void)
{
  fprintf(stderr,
    "usage: sbx [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...\n"
    "commands:\n"
    "  spec [--hardened] [--seccomp default|strict]\n"
    "                                    write config.json for ./rootfs\n"
    "  create [--bundle B] [--pid-file F] [--console-socket S] [--preserve-fds N] ID\n"
    "  start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID\n"
    "  run [--bundle B] [--pid-file F] [--console-socket S] [--detach] [--keep] ID\n"
    "  exec [-t] [-d] [-e K=V] [--cwd D] [--user U[:G]] [--process F] ID [CMD ...]\n"
    "  list | pause ID | resume ID | features | --version\n");
  return 2;
}

/* One getopt table for the options every create-like command shares. */
enum { O_BUNDLE = 'b', O_PIDFILE = 'p', O_CONSOLE = 'c', O_PRESERVE = 'P', O_DETACH = 'd',
       O_KEEP = 'k', O_FORCE = 'f', O_ALL = 'a', O_HARDENED = 'H', O_TTY = 't', O_ENV = 'e',
       O_CWD = 'C', O_USER = 'u', O_PROCESS = 'x', O_NOPIVOT = 'N', O_NONEWKEYRING = 'K',
       O_SECCOMP = 'S' };

static const struct option cmd_opts[] = {
  {"bundle", required_argument, NULL, O_BUNDLE}, {"pid-file", required_argument, NULL, O_PIDFILE},
  {"console-socket", required_argument, NULL, O_CONSOLE},
  {"preserve-fds", required_argument, NULL, O_PRESERVE}, {"detach", no_argument, NULL, O_DETACH},
  {"keep", no_argument, NULL, O_KEEP}, {"force", no_argument, NULL, O_FORCE},
  {"all", no_argument, NULL, O_ALL}, {"hardened", no_argument, NULL, O_HARDENED},
  {"tty", no_argument, NULL, O_TTY}, {"env", required_argument, NULL, O_ENV},
  {"cwd", required_argument, NULL, O_CWD}, {"user", required_argument, NULL, O_USER},
  {"process", required_argument, NULL, O_PROCESS},
  {"no-pivot", no_argument, NULL, O_NOPIVOT}, {"no-new-keyring", no_argument, NULL, O_NONEWKEYRING},
  {"seccomp", required_argument, NULL, O_SECCOMP},
  {NULL, 0, NULL, 0},
};

struct cmd_args {
  const char *bundle, *pid_file, *console, *cwd, *user, *process, *seccomp;
  int preserve;
  bool detach, keep, force, all, hardened, tty;
  char **env;
  size_t n_env;
};

static int parse_cmd(int argc, char **argv, struct cmd_args *a)
{
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+b:dtfe:u:", cmd_opts, NULL)) != -1) {
    switch (c) {
    case O_BUNDLE: a->bundle = optarg; break;
    case O_PIDFILE: a->pid_file = optarg; break;
    case O_CONSOLE: a->console = optarg; break;
    case O_PRESERVE: a->preserve = atoi(optarg); break;
    case O_DETACH: a->detach = true; break;
    case O_KEEP: a->keep = true; break;
    case O_FORCE: a->force = true; break;
    case O_ALL: a->all = true; break;
    case O_HARDENED: a->hardened = true; break;
    case O_TTY: a->tty = true; break;
    case O_CWD: a->cwd = optarg; break;
    case O_USER: a->user = optarg; break;
    case O_PROCESS: a->process = optarg; break;
    case O_SECCOMP: a->seccomp = optarg; break;
    case O_NOPIVOT:
      fprintf(stderr, "sbx: --no-pivot is refused: pivot_root is part of the isolation\n");
      return -1;
    case O_NONEWKEYRING: break; /* keyctl is denied by seccomp anyway */
    case O_ENV:
      a->env = realloc(a->env, (a->n_env + 2) * sizeof *a->env);
      a->env[a->n_env++] = optarg;
      a->env[a->n_env] = NULL;
      break;
    default: return -1;
    }
  }
  return optind;
}

static int need_id(int argc, char **argv, int i)
{
  if (i >= argc) {
    fprintf(stderr, "sbx: %s needs a container ID\n", argv[0]);
    return -1;
  }
  return 0;
}

static int do_run(const char *id, struct cmd_args *a)
{
  sh_error e = {0};
  int cs[2] = { -1, -1 };
  pid_t pid;
  struct sbx_create_opts o = {
    .root = root, .id = id, .bundle = a->bundle, .pid_file = a->pid_file,
    .console_socket = a->console, .preserve_fds = a->preserve, .console_fd = -1, .foreground = true,
  };
  /* run -t without a console socket: keep the pty master ourselves. */
  if (!a->console && !a->detach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) == 0)
    o.console_fd = cs[1];
  int r = sbx_create(&o, &pid, &e);
  if (cs[1] >= 0)
    close(cs[1]);
  if (r < 0)
    return fail(&e);
  int master = -1;
  /* A terminal container sent its pty master before create returned; a
   * non-blocking receive tells the two cases apart. */
  if (cs[0] >= 0)
    fcntl(cs[0], F_SETFL, O_NONBLOCK);
  if (sbx_start(root, id, &e) < 0) {
    sh_error ignore = {0};
    sbx_delete(root, id, true, &ignore);
    return fail(&e);
  }
  if (a->detach)
    return 0;
  int code = 0, status = 0;
  if (cs[0] >= 0 && sbx_console_recv(cs[0], &master, NULL) == 0) {
    if (sbx_console_proxy(master, pid, &status, &e) < 0)
      return fail(&e);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else if (sbx_wait_forward(pid, &code, &e) < 0) {
    return fail(&e);
  }
  if (!a->keep && sbx_delete(root, id, true, &e) < 0)
    fail(&e);
  return code;
}

int main(int argc, char **argv)
{
  static const struct option global[] = {
    {"root", required_argument, NULL, 'r'}, {"log", required_argument, NULL, 'l'},
    {"log-format", required_argument, NULL, 'f'}, {"debug", no_argument, NULL, 'D'},
    {"version", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
    {"systemd-cgroup", no_argument, NULL, 'S'}, {"rootless", required_argument, NULL, 'R'},
    {NULL, 0, NULL, 0},
  };
  const char *log_path = NULL, *log_format = "text";
  int c, orig_argc = argc;
  char **orig_argv = argv;
  while ((c = getopt_long(argc, argv, "+h", global, NULL)) != -1) {
    switch (c) {
    case 'r': root = optarg; break;
    case 'l': log_path = optarg; break;
    case 'f': log_format = optarg; break;
    case 'D': sh_log_set_level(SH_LOG_DEBUG); break;
    case 'v': printf("sbx version %s\nspec: 1.2.0\n", SANDHOST_VERSION); return 0;
    case 'S':
      fprintf(stderr, "sbx: --systemd-cgroup is not supported; cgroupsPath is a plain path\n");
      return 2;
    case 'R': break; /* sbx is always rootless-style: user namespace always */
    default: return usage();
    }
  }
  if (sh_log_open(log_path, log_format) < 0) {
    fprintf(stderr, "sbx: cannot open log %s (format %s)\n", log_path ? log_path : "stderr", log_format);
    return 2;
  }
  if (optind >= argc)
    return usage();
  char *cmd = argv[optind];
  argc -= optind;
  argv += optind;
  struct cmd_args a = { .bundle = "." };
  int i = parse_cmd(argc, argv, &a);
  if (i < 0)
    return usage();
  const char *id = i < argc ? argv[i] : NULL;
  sh_error e = {0};
  _cleanup_free_ char *out = NULL;

  if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0) {
    /* Re-exec from a sealed copy before any container process exists. */
    if (sbx_ensure_sealed_exe(orig_argc, orig_argv, &e) < 0)
      return fail(&e);
  }

  if (strcmp(cmd, "spec") == 0) {
    struct sbx_spec_opts so = { .hardened = a.hardened, .seccomp = a.seccomp };
    if (sbx_spec_generate_opts(&so, &out, &e) < 0)
      return fail(&e);
    int fd = open("config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      sh_err(&e, errno, "spec", "config.json", errno == EEXIST ? "already exists" : NULL);
      return fail(&e);
    }
    sh_write_all(fd, out, strlen(out));
    sh_write_all(fd, "\n", 1);
    close(fd);
    return 0;
  }
  if (strcmp(cmd, "features") == 0) {
    if (sbx_features(&out, &e) < 0)
      return fail(&e);
    puts(out);
    return 0;
  }
  if (strcmp(cmd, "list") == 0) {
    if (sbx_list(root, &out, &e) < 0)
      return fail(&e);
    puts(out);
    return 0;
  }
  if (need_id(argc, argv, i) < 0)
    return 2;
  if (strcmp(cmd, "create") == 0) {
    struct sbx_create_opts o = { .root = root, .id = id, .bundle = a.bundle, .pid_file = a.pid_file,
                                 .console_socket = a.console, .preserve_fds = a.preserve, .console_fd = -1 };
    return sbx_create(&o, NULL, &e) < 0 ? fail(&e) : 0;
  }
  if (strcmp(cmd, "run") == 0)
    return do_run(id, &a);
  if (strcmp(cmd, "start") == 0)
    return sbx_start(root, id, &e) < 0 ? fail(&e) : 0;
  if (strcmp(cmd, "state") == 0) {
    if (sbx_state(root, id, &out, &e) < 0)
      return fail(&e);
    puts(out);
    return 0;
  }
  if (strcmp(cmd, "kill") == 0) {
    int sig = SIGTERM;
    if (i + 1 < argc && (sig = sbx_parse_signal(argv[i + 1])) < 0) {
      fprintf(stderr, "sbx: unknown signal %s\n", argv[i + 1]);
      return 2;
    }
    return sbx_kill(root, id, sig, a.all, &e) < 0 ? fail(&e) : 0;
  }
  if (strcmp(cmd, "delete") == 0)
    return sbx_delete(root, id, a.force, &e) < 0 ? fail(&e) : 0;
  if (strcmp(cmd, "pause") == 0)
    return sbx_pause(root, id, &e) < 0 ? fail(&e) : 0;
  if (strcmp(cmd, "resume") == 0)
    return sbx_resume(root, id, &e) < 0 ? fail(&e) : 0;
  if (strcmp(cmd, "exec") == 0) {
    struct sbx_exec_opts o = {
      .args = i + 1 < argc ? argv + i + 1 : NULL, .process = a.process, .env = a.env,
      .cwd = a.cwd, .user = a.user, .tty = a.tty, .console_socket = a.console,
      .pid_file = a.pid_file, .preserve_fds = a.preserve,
    };
    pid_t pid;
    int master = -1, code = 0, status = 0;
    if (sbx_exec(root, id, &o, &pid, &master, &e) < 0)
      return fail(&e);
    if (a.detach)
      return 0;
    if (master >= 0) {
      if (sbx_console_proxy(master, pid, &status, &e) < 0)
        return fail(&e);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (sbx_wait_forward(pid, &code, &e) < 0)
      return fail(&e);
    return code;
  }
  fprintf(stderr, "sbx: unknown command %s\n", cmd);
  return usage();
}
