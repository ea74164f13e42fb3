/* sandhostd: the daemon.  It opens (and on first start creates) its state,
 * then serves the API on a unix socket until SIGTERM. */
#include "api.h"
#include "auth.h"
#include "cleanup.h"
#include "config.h"
#include "containers.h"
#include "db.h"
#include "host.h"
#include "metrics.h"
#include "http.h"
#include "ops.h"
#include "reconcile.h"
#include "audit.h"
#include "log.h"
#include "login.h"
#include "seal.h"
#include "tenant-cg.h"
#include "sandhost-config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
  fprintf(f, "usage: sandhostd [--config FILE] [--set KEY=VALUE]... [--foreground] [--log FILE] [--debug]\n"
             "  --config FILE  configuration (default /etc/sandhost/sandhostd.conf; missing is fine)\n"
             "  --set K=V      override one configuration key (see docs/hostd.md)\n"
             "  --foreground   stay attached (systemd runs it so); otherwise detach once serving\n"
             "  --log FILE     log there instead of stderr (under systemd, stderr is the journal)\n");
}

/* The embedded defaults of a first start: a plan to give tenants, and the
 * admin account whose token is printed once. */
static int first_start(sqlite3 *db, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e, "SELECT count(*) FROM users WHERE role = 'admin'", NULL);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return hd_db_err(db, SQLITE_ERROR, e, "read users");
  if (sqlite3_column_int(s, 0) > 0)
    return 0;
  int r = hd_db_begin(db, e);
  if (r < 0)
    return r;
  char secret[64];
  int64_t id;
  r = hd_db_exec(db, e,
                 "INSERT OR IGNORE INTO plans (name, cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, max_containers,"
                 " total_cpu_millis, total_memory_mib, total_disk_mib, net_default, seccomp, created_at)"
                 " VALUES ('small', 1000, 512, 512, 2048, 100, 5, 2000, 2048, 10240, 'allow', 'default', ?)", "i", hd_now());
  if (r >= 0)
    r = hd_db_exec(db, e, "INSERT INTO users (name, role, created_at) VALUES ('admin', 'admin', ?)", "i", hd_now());
  if (r >= 0)
    r = hd_token_create(db, sqlite3_last_insert_rowid(db), "first-start", secret, &id, e);
  if (r >= 0)
    r = hd_db_commit(db, e);
  if (r < 0) {
    hd_db_rollback(db);
    return r;
  }
  printf("sandhostd: first start: user \"admin\" created; its API token (shown once, only its hash is kept):\n%s\n", secret);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    { "config", required_argument, NULL, 'c' }, { "set", required_argument, NULL, 's' },
    { "foreground", no_argument, NULL, 'f' }, { "log", required_argument, NULL, 'l' },
    { "debug", no_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' }, { "routes", no_argument, NULL, 'R' }, { 0 },
  };
  const char *config_path = "/etc/sandhost/sandhostd.conf", *log_path = NULL;
  bool config_given = false, foreground = false;
  char **sets = calloc((size_t) argc, sizeof *sets);
  int n_sets = 0, o;
  sh_log_set_name("sandhostd");
  sh_log_set_level(SH_LOG_INFO);   /* a daemon says what it does */
  while ((o = getopt_long(argc, argv, "c:s:fl:dh", opts, NULL)) != -1) {
    switch (o) {
    case 'c': config_path = optarg; config_given = true; break;
    case 's': sets[n_sets++] = optarg; break;
    case 'f': foreground = true; break;
    case 'l': log_path = optarg; break;
    case 'd': sh_log_set_level(SH_LOG_DEBUG); break;
    case 'h': usage(stdout); free(sets); return 0;
    case 'R': hd_api_routes(stdout); free(sets); return 0;
    default: usage(stderr); free(sets); return 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    free(sets);
    return 2;
  }
  if (log_path && sh_log_open(log_path, "text") < 0) {
    fprintf(stderr, "sandhostd: cannot open log %s: %s\n", log_path, strerror(errno));
    return 1;
  }
  sh_error e = {0};
  char buf[1024];
  static struct hd_host host;
  struct hd_config *cfgp = &host.cfg;
#define cfg (*cfgp)
  hd_config_defaults(&cfg);
  int r = hd_config_load(&cfg, config_path, config_given, &e);
  for (int i = 0; r == 0 && i < n_sets; i++)
    r = hd_config_set(&cfg, sets[i], "--set", &e);
  if (r == 0)
    r = hd_config_finish(&cfg, config_path, &e);
  free(sets);
  if (r < 0) {
    sh_error_log("%s", sh_error_str(&e, buf, sizeof buf));
    return 1;
  }
  gid_t admin_gid = (gid_t) -1;
  if (cfg.admin_group[0]) {
    struct group *g = getgrnam(cfg.admin_group);
    if (g)
      admin_gid = g->gr_gid;
    else
      sh_info("admin group %s does not exist: only root is admin on the socket", cfg.admin_group);
  }
  gid_t portal_gid = (gid_t) -1;
  struct group *pg = cfg.portal_group[0] ? getgrnam(cfg.portal_group) : NULL;
  if (pg)
    portal_gid = pg->gr_gid;
  else
    sh_warn("portal group \"%s\" does not exist: %s is 0600 (root only)", cfg.portal_group, cfg.portal_socket);
  hd_auth_configure(&cfg);
  /* Signals come through the server's signalfd. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* Containers' inits are reparented to us (their runtime exits after
   * starting them), so their exit codes reach us; if sandhostd goes, they
   * go on running under init. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sqlite3 *db = NULL;
  struct hd_http *h = NULL;
  if ((r = hd_host_paths(&host, &e)) < 0 || (r = hd_db_open(host.db_path, &db, &e)) < 0 || (r = first_start(db, &e)) < 0 ||
      (r = hd_admin_password_init(db, cfg.state_dir, &e)) < 0 || (r = hd_seal_init(db, cfg.state_dir, &e)) < 0 ||
      (r = hd_http_new(cfg.socket, admin_gid, cfg.portal_socket, portal_gid, cfg.max_body, db, &h, &e)) < 0 || (r = hd_host_open_pool(&host, db, &e)) < 0)
    goto out;
  hd_containers_init(&cfg, &host);
  hd_metrics_init(&host);
  hd_cgroup_init(cfg.cgroup_name);
  hd_audit_init(&host);
  hd_audit_log_host();
  hd_http_set_exec(h, host.sbx, host.sbx_root, cfg.runtime_dir);
  hd_http_set_logins(h, host.db_path, cfg.login_queue);
  if ((r = hd_reconcile(&host, db, &e)) < 0)
    goto out;
  sh_info("serving the API on %s and the portal's on %s (database %s, schema %d, runtime %s)", cfg.socket, cfg.portal_socket, host.db_path, hd_db_version(db), host.sbx);
  /* Detach only now, so whoever started us knows the socket is ready. */
  fflush(stdout);
  if (!foreground && daemon(0, log_path ? 0 : 1) < 0) {
    r = sh_errno(&e, "detach", NULL);
    goto out;
  }
  /* The worker thread only now: daemon() forks, and threads do not follow. */
  if ((r = hd_worker_start(&host, &e)) == 0)
    r = hd_http_run(h, &e);
  sh_info("stopping (containers keep running)");
  hd_worker_stop();
out:
  if (r < 0)
    sh_error_log("%s", sh_error_str(&e, buf, sizeof buf));
  hd_http_free(h);
  hd_host_close(&host);
  sqlite3_close(db);
  return r < 0 ? 1 : 0;
}
