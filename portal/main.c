/* sandhost-portal: the HTTPS front.  As root it reads its configuration,
 * binds the listener and loads (or on a first start makes) the certificate;
 * then it becomes its own user with no capabilities and a seccomp filter,
 * and serves: /1.0 to sandhostd's portal socket, the rest from the assets. */
#include "cleanup.h"
#include "config.h"
#include "headers.h"
#include "log.h"
#include "privsep.h"
#include "proxy.h"
#include "ratelimit.h"
#include "static.h"
#include "tls.h"

#include <errno.h>
#include <getopt.h>
#include <h2o.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct portal {
  struct pt_config cfg;
  h2o_globalconf_t config;
  h2o_context_t ctx;
  h2o_accept_ctx_t accept_ctx;
  bool stop;
};

static void usage(FILE *f)
{
  fprintf(f, "usage: sandhost-portal [--config FILE] [--set KEY=VALUE]... [--foreground]\n"
             "  --config FILE  configuration (default /etc/sandhost/portal.conf; missing is fine)\n"
             "  --set K=V      override one configuration key (see sandhost-portal.conf)\n"
             "  --foreground   stay attached (systemd runs it so); otherwise detach once serving\n");
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
  struct portal *p = listener->data;
  if (err)
    return;
  h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
  if (sock)
    h2o_accept(&p->accept_ctx, sock);
}

/* SIGHUP: a new context from the files; new connections use it, open ones
 * keep theirs (each SSL holds a reference).  A bad file keeps the old. */
static void reload(struct portal *p)
{
  sh_error e = {0};
  char buf[1024];
  SSL_CTX *ctx;
  if (pt_tls_context(p->cfg.cert, p->cfg.key, &ctx, &e) < 0) {
    sh_error_log("reload refused, keeping the current certificate: %s", sh_error_str(&e, buf, sizeof buf));
    return;
  }
  SSL_CTX_free(p->accept_ctx.ssl_ctx);
  p->accept_ctx.ssl_ctx = ctx;
  sh_info("certificate reloaded from %s", p->cfg.cert);
}

static void on_signal(h2o_socket_t *sock, const char *err)
{
  struct portal *p = sock->data;
  if (err) {
    p->stop = true;
    return;
  }
  for (size_t off = 0; off + sizeof(struct signalfd_siginfo) <= sock->input->size; off += sizeof(struct signalfd_siginfo)) {
    struct signalfd_siginfo si;
    memcpy(&si, sock->input->bytes + off, sizeof si);
    if (si.ssi_signo == SIGHUP)
      reload(p);
    else
      p->stop = true;
  }
  h2o_buffer_consume(&sock->input, sock->input->size);
}

static int listen_on(const struct pt_config *c, int *out, sh_error *e)
{
  _cleanup_close_ int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0)
    return sh_errno(e, "socket", c->listen);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      (c->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
    return sh_errno(e, "setsockopt", c->listen);
  if (bind(fd, (const struct sockaddr *) &c->addr, c->addr_len) < 0)
    return sh_errno(e, "bind", c->listen);
  if (listen(fd, 1024) < 0)
    return sh_errno(e, "listen", c->listen);
  *out = steal_fd(fd);
  return 0;
}

static int setup(struct portal *p, int listen_fd, int signal_fd, struct pt_ratelimit *rl, sh_error *e)
{
  h2o_config_init(&p->config);
  p->config.max_request_entity_size = p->cfg.max_body;
  p->config.server_name = h2o_iovec_init(H2O_STRLIT("sandhost-portal"));
  h2o_hostconf_t *host = h2o_config_register_host(&p->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *api = h2o_config_register_path(host, "/1.0", 0);
  int r = pt_proxy_register(&p->config, api, p->cfg.api_socket, rl, e);
  if (r < 0)
    return r;
  pt_headers_register(api, p->cfg.hsts_max_age);
  h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
  pt_static_register(root, p->cfg.assets);
  pt_headers_register(root, p->cfg.hsts_max_age);
  /* h2o's own answers to requests it could not route (a bad request line). */
  pt_headers_register(&host->fallback_path, p->cfg.hsts_max_age);
  h2o_context_init(&p->ctx, h2o_evloop_create(), &p->config);
  p->accept_ctx.ctx = &p->ctx;
  p->accept_ctx.hosts = p->config.hosts;
  h2o_socket_t *ls = h2o_evloop_socket_create(p->ctx.loop, listen_fd, H2O_SOCKET_FLAG_DONT_READ);
  ls->data = p;
  h2o_socket_read_start(ls, on_accept);
  h2o_socket_t *ss = h2o_evloop_socket_create(p->ctx.loop, signal_fd, 0);
  ss->data = p;
  h2o_socket_read_start(ss, on_signal);
  return 0;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    { "config", required_argument, NULL, 'c' }, { "set", required_argument, NULL, 's' },
    { "foreground", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { 0 },
  };
  const char *config_path = "/etc/sandhost/portal.conf";
  bool config_given = false, foreground = false;
  _cleanup_free_ char **sets = calloc((size_t) argc, sizeof *sets);
  int n_sets = 0, o;
  sh_log_set_name("sandhost-portal");
  sh_log_set_level(SH_LOG_INFO);
  while ((o = getopt_long(argc, argv, "c:s:fh", opts, NULL)) != -1) {
    switch (o) {
    case 'c': config_path = optarg; config_given = true; break;
    case 's': sets[n_sets++] = optarg; break;
    case 'f': foreground = true; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return 2;
  }
  static struct portal p;
  sh_error e = {0};
  char buf[1024];
  pt_config_defaults(&p.cfg);
  int r = pt_config_load(&p.cfg, config_path, config_given, &e);
  for (int i = 0; r == 0 && i < n_sets; i++)
    r = pt_config_set(&p.cfg, sets[i], "--set", &e);
  if (r == 0)
    r = pt_config_finish(&p.cfg, config_path, &e);

  uid_t uid = 0;
  gid_t gid = 0;
  int made = 0;
  _cleanup_close_ int lfd = -1;
  _cleanup_close_ int sfd = -1;
  struct pt_ratelimit *rl = NULL;
  if (r == 0 && getuid() != 0)
    r = sh_err(&e, EPERM, "start", NULL, "run as root: it binds, loads the key, then drops to \"%s\"", p.cfg.user);
  if (r == 0)
    r = pt_privsep_lookup(p.cfg.user, &uid, &gid, &e);
  if (r == 0)
    r = pt_tls_ensure(p.cfg.cert, p.cfg.key, p.cfg.host, gid, &made, &e);
  if (r == 0 && made)
    sh_info("made a self-signed certificate: %s (key %s)", p.cfg.cert, p.cfg.key);
  if (r == 0)
    r = pt_tls_context(p.cfg.cert, p.cfg.key, &p.accept_ctx.ssl_ctx, &e);
  if (r == 0)
    r = listen_on(&p.cfg, &lfd, &e);
  if (r == 0 && !(rl = pt_ratelimit_new(p.cfg.login_burst, (uint64_t) p.cfg.login_refill * 1000)))
    r = sh_err(&e, ENOMEM, "start", NULL, NULL);
  if (r == 0 && !foreground && daemon(0, 1) < 0)
    r = sh_errno(&e, "detach", NULL);
  if (r == 0) {
    /* Signals through a signalfd in the event loop (after daemon()'s fork). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
      r = sh_errno(&e, "signalfd", NULL);
  }
  if (r == 0)
    r = setup(&p, steal_fd(lfd), steal_fd(sfd), rl, &e);
  if (r == 0)
    r = pt_privsep_drop(uid, gid, &e);
  if (r == 0)
    r = pt_privsep_seccomp(&e);
  if (r < 0) {
    sh_error_log("%s", sh_error_str(&e, buf, sizeof buf));
    pt_ratelimit_free(rl);
    return 1;
  }
  sh_info("serving https://%s as %s, API at %s, assets in %s", p.cfg.listen, p.cfg.user, p.cfg.api_socket, p.cfg.assets);
  while (!p.stop)
    if (h2o_evloop_run(p.ctx.loop, INT32_MAX) != 0 && errno != EINTR) {
      sh_error_log("serve %s: %s", p.cfg.listen, strerror(errno));
      return 1;
    }
  sh_info("stopping");
  /* h2o 2.2 cannot dispose of a loop with connections open: exit does it. */
  return 0;
}
