/* sandhostd's configuration: a file of "key = value" lines ('#' starts a
 * comment), every key optional with an embedded default.  docs/hostd.md
 * lists them. */
#pragma once

#include <stdint.h>
#include "error.h"

struct hd_config {
  char state_dir[256];       /* database and storage: /var/lib/sandhost */
  char runtime_dir[256];     /* socket and pid file: /run/sandhost */
  char socket[256];          /* the API socket: <runtime_dir>/sandhostd.sock */
  char admin_group[64];      /* its members are provider admins on the socket ("" for none) */
  uint32_t idmap_start;      /* host ids for containers: idmap_start... */
  uint32_t idmap_count;      /* ...a multiple of 65,536 */
  uint32_t max_body;         /* largest request body in bytes */
  uint64_t pool_size;        /* the default storage pool's loop file, bytes */
  char pool_driver[16];      /* "btrfs" or "overlay" */
  char sbx[256];             /* the runtime binary ("": beside sandhostd, else on PATH) */
  char probe[256];           /* sandhost-probe ("": the build tree's or libexec's beside sandhostd) */
  uint32_t stop_timeout;     /* seconds from SIGTERM to SIGKILL on stop */
  uint32_t usage_interval;   /* seconds between usage samples of running containers */
  uint32_t workers;          /* threads that run operations side by side */
  char network_pool4[64];    /* tenants' IPv4 subnets (/24 each) come from here */
  char network_pool6[64];    /* and their IPv6 ones (/64 each, ULA by default) */
  char uplink[16];           /* the host's way out, masqueraded ("": no egress NAT) */
  char bpf_dir[256];         /* where containers' policy programs are pinned (on bpffs) */
  char forward_ports[16];    /* public ports tenants may forward: "10000-29999" */
  uint16_t forward_lo, forward_hi;   /* (parsed) */
  char cgroup_name[32];      /* the cgroup below sandhostd's own that holds tenants: "sandhost" */
  /* The portal (issue 7): a second socket where only sessions and API
   * tokens authenticate, and the rules of logging in. */
  char portal_socket[256];   /* <runtime_dir>/portal.sock */
  char portal_group[64];     /* the portal's group: it may connect to portal_socket */
  uint32_t session_idle;     /* seconds a session lives unused */
  uint32_t session_max;      /* seconds a session lives at most */
  uint32_t login_max_failures;   /* failed logins in a row before the account locks */
  uint32_t login_lockout;    /* seconds of the first lock (doubling, at most an hour) */
  uint32_t password_min_length;
  uint32_t login_queue;      /* logins waiting for a login thread before 503 */
  char totp_required_roles[64];  /* "admin,owner": their sessions must set up TOTP first */
};

void hd_config_defaults(struct hd_config *c);
/* Read path over the defaults; a missing file is fine when !required.
 * Errors name the line and the key. */
int hd_config_load(struct hd_config *c, const char *path, int required, sh_error *e);
/* Apply one "key=value" (the command line's --set). */
int hd_config_set(struct hd_config *c, const char *assignment, const char *where, sh_error *e);
/* After loading and setting: derive the socket path, check what spans keys. */
int hd_config_finish(struct hd_config *c, const char *path, sh_error *e);
