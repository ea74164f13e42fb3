/* The API over HTTP/1.1 on a unix socket, through h2o's event loop. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

struct hd_http;

/* Listen on socket_path (mode 0660, group admin_gid unless -1) and on
 * portal_path (the same with portal_gid), where peer credentials grant
 * nothing and X-Forwarded-For names the client.  A live daemon already on
 * a path is EADDRINUSE; a stale socket is replaced. */
int hd_http_new(const char *socket_path, gid_t admin_gid, const char *portal_path, gid_t portal_gid, uint32_t max_body,
                sqlite3 *db, struct hd_http **out, sh_error *e);
/* Where exec finds the runtime (hostd/exec-ws.c). */
void hd_http_set_exec(struct hd_http *h, const char *sbx, const char *sbx_root, const char *runtime_dir);
/* Where logins run (hostd/login-queue.c): threads with connections of
 * their own to db_path, at most `queue` logins waiting for one. */
void hd_http_set_logins(struct hd_http *h, const char *db_path, unsigned queue);
/* Serve until SIGTERM or SIGINT (blocked by the caller, taken here through
 * a signalfd); the login threads start here (after any fork) and are
 * joined before it returns, the logins running finished and answered. */
int hd_http_run(struct hd_http *h, sh_error *e);
/* Close the listener and remove the socket. */
void hd_http_free(struct hd_http *h);
