/* HTTP/1.1 through h2o: the unix-socket listener, peer credentials and
 * bearer tokens to a principal, JSON bodies in and out.  Everything about
 * what a request means is in hostd/api.c. */
#include "http.h"

#include "api.h"
#include "auth.h"
#include "cleanup.h"
#include "events.h"
#include "exec-ws.h"
#include "log.h"
#include "login-queue.h"
#include "session.h"

#include <errno.h>
#include <h2o.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct hd_http {
  h2o_globalconf_t config;
  h2o_context_t ctx;
  h2o_accept_ctx_t accept_ctx;
  h2o_socket_t *listener, *portal_listener, *signals;
  sqlite3 *db;
  gid_t admin_gid;
  char path[108];
  char portal_path[108];     /* the portal's socket: no peer credentials count there */
  volatile bool stop;
  struct hd_exec_env exec;
  h2o_timeout_entry_t reaper;
  struct hd_login_queue *logins;   /* while hd_http_run runs */
  char db_path[300];               /* the login threads' connections */
  unsigned login_depth;
};

enum { LOGIN_THREADS = 2 };

struct api_handler {
  h2o_handler_t super;
  struct hd_http *h;
};

/* An /operations/N/wait request parked until its operation ends: polled
 * every 10 ms (a database read).  It lives in the request's pool; if the client goes away
 * first, disposing of the pool unlinks it. */
struct waiter {
  h2o_timeout_entry_t entry;
  h2o_req_t *req;
  struct hd_http *h;
  struct hd_principal who;
  int64_t op;
  uint64_t deadline;
};
static h2o_timeout_t poll_timeout;

static const char *reason(int status)
{
  static const struct { int s; const char *r; } t[] = {
    { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
    { 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" }, { 409, "Conflict" },
    { 304, "Not Modified" }, { 412, "Precondition Failed" }, { 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
    { 422, "Unprocessable Entity" }, { 429, "Too Many Requests" }, { 500, "Internal Server Error" }, { 503, "Service Unavailable" },
    { 507, "Insufficient Storage" },
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(t); i++)
    if (t[i].s == status)
      return t[i].r;
  return "Unknown";
}

/* A header's value as a NUL-terminated string from the request's pool. */
static const char *header(h2o_req_t *req, const h2o_token_t *token)
{
  ssize_t i = h2o_find_header(&req->headers, token, -1);
  if (i < 0)
    return NULL;
  h2o_iovec_t v = req->headers.entries[i].value;
  return h2o_strdup(&req->pool, v.base, v.len).base;
}

static void respond(h2o_req_t *req, struct hd_call *c)
{
  req->res.status = c->status;
  req->res.reason = reason(c->status);
  if (c->etag[0])
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, c->etag, strlen(c->etag));
  if (c->location[0])
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, c->location, strlen(c->location));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
  if (c->set_session) {
    /* The session's secret only here, never in a body (the portal makes it a cookie). */
    char *v = h2o_strdup(&req->pool, c->session_out, SIZE_MAX).base;
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sandhost-session"), 0, NULL, v, strlen(v));
  }
  if (c->retry_after > 0) {
    char *v = h2o_mem_alloc_pool(&req->pool, 16);
    int n = snprintf(v, 16, "%d", c->retry_after);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, v, (size_t) n);
  }
  if (c->text) {
    size_t len = c->text_len ? c->text_len : strlen(c->text);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, c->content_type, strlen(c->content_type));
    req->res.content_length = len;
    h2o_send_inline(req, c->text, len);
    return;
  }
  if (c->status == 204 || c->status == 304 || !c->result) {
    req->res.content_length = 0;
    h2o_send_inline(req, "", 0);
    return;
  }
  _cleanup_free_ char *body = json_dumps(c->result, JSON_COMPACT);
  size_t len = body ? strlen(body) : 0;
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
  req->res.content_length = len + 1;
  char *nl = h2o_mem_alloc_pool(&req->pool, len + 1);
  memcpy(nl, body, len);
  nl[len] = '\n';
  h2o_send_inline(req, nl, len + 1);
}

/* Whether the connection came in on the portal's socket (an accepted unix
 * socket has its listener's address). */
static bool from_portal(struct hd_http *h, int fd)
{
  struct sockaddr_un a;
  socklen_t l = sizeof a;
  if (getsockname(fd, (struct sockaddr *) &a, &l) < 0 || l <= offsetof(struct sockaddr_un, sun_path))
    return true;   /* unsure: the side that grants less */
  return strncmp(a.sun_path, h->portal_path, sizeof a.sun_path) == 0;
}

/* The last element of X-Forwarded-For (what the portal appended), if it
 * looks like an address: nothing else reaches the audit log. */
static void forwarded_for(h2o_req_t *req, char *out, size_t len)
{
  const char *xff = header(req, H2O_TOKEN_X_FORWARDED_FOR), *last = xff ? strrchr(xff, ',') : NULL;
  last = last ? last + 1 : xff;
  while (last && *last == ' ')
    last++;
  size_t n = last ? strspn(last, "0123456789abcdefABCDEF:.") : 0;
  if (!n || n > 45 || last[n + strspn(last + n, " ")])
    snprintf(out, len, "portal:ip=unknown");
  else
    snprintf(out, len, "portal:ip=%.*s", (int) n, last);
}

/* Who is on the other end: a session, a bearer token or, on the admin
 * socket only, the peer's credentials. */
static void principal(struct hd_http *h, h2o_req_t *req, struct hd_call *c, char *source, size_t source_len)
{
  struct ucred cr = { .pid = 0, .uid = (uid_t) -1, .gid = (gid_t) -1 };
  socklen_t l = sizeof cr;
  h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
  bool portal = !sock || from_portal(h, h2o_socket_get_fd(sock));
  if (portal)
    forwarded_for(req, source, source_len);
  else {
    if (getsockopt(h2o_socket_get_fd(sock), SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
      cr.uid = (uid_t) -1;
    snprintf(source, source_len, "unix:uid=%d,pid=%d", (int) cr.uid, (int) cr.pid);
  }
  const char *auth = header(req, H2O_TOKEN_AUTHORIZATION);
  sh_error e = {0};
  c->who = (struct hd_principal){ .role = HD_ROLE_NONE, .name = "anonymous" };
  if (auth && strncasecmp(auth, "Session ", 8) == 0) {
    if (hd_auth_session(h->db, auth + 8, &c->who, &e) < 0)
      snprintf(c->who.name, sizeof c->who.name, "anonymous");
  } else if (auth) {
    /* A token speaks for its user, whoever carries it (the portal does). */
    if (strncasecmp(auth, "Bearer ", 7) != 0 || hd_auth_token(h->db, auth + 7, &c->who, &e) < 0)
      c->who = (struct hd_principal){ .role = HD_ROLE_NONE, .name = "anonymous", .fail = HD_AUTH_BAD };
  } else if (!portal) {
    hd_auth_peer(cr.uid, cr.gid, h->admin_gid, &c->who);
  }
}

static void respond(h2o_req_t *req, struct hd_call *c);

static void wait_dispose(void *p)
{
  struct waiter *wt = p;
  if (h2o_timeout_is_linked(&wt->entry))
    h2o_timeout_unlink(&wt->entry);
}

static void wait_poll(h2o_timeout_entry_t *entry)
{
  struct waiter *wt = (struct waiter *) ((char *) entry - offsetof(struct waiter, entry));
  char path[64];
  snprintf(path, sizeof path, "/1.0/operations/%lld", (long long) wt->op);
  struct hd_call c = { .db = wt->h->db, .who = wt->who, .method = "GET", .path = path, .source = "" };
  hd_api_handle(&c);
  const char *st = json_string_value(json_object_get(c.result, "status"));
  bool pending = st && (strcmp(st, "pending") == 0 || strcmp(st, "running") == 0);
  if (pending && h2o_now(wt->h->ctx.loop) < wt->deadline) {
    hd_call_clear(&c);
    h2o_timeout_link(wt->h->ctx.loop, &poll_timeout, &wt->entry);
    return;
  }
  respond(wt->req, &c);
  hd_call_clear(&c);
}

static void park(struct hd_http *h, h2o_req_t *req, const struct hd_call *c)
{
  struct waiter *wt = h2o_mem_alloc_shared(&req->pool, sizeof *wt, wait_dispose);
  *wt = (struct waiter){ .entry = { .cb = wait_poll }, .req = req, .h = h, .who = c->who, .op = c->wait_op,
                         .deadline = h2o_now(h->ctx.loop) + (uint64_t) c->wait_ms };
  h2o_timeout_link(h->ctx.loop, &poll_timeout, &wt->entry);
}

/* A login handed to the login threads (hostd/login-queue.c).  This lives
 * in the request's pool: if the client goes away first, disposing of the
 * pool cancels the job (whose answer then goes nowhere); once the answer
 * is here, `job` is cleared so a later dispose leaves the freed job alone. */
struct parked_login {
  h2o_req_t *req;
  struct hd_login_job *job;
};

static void login_dispose(void *p)
{
  struct parked_login *pl = p;
  if (pl->job)
    hd_login_job_cancel(pl->job);
}

static void login_done(struct hd_call *c, void *arg)
{
  struct parked_login *pl = arg;
  pl->job = NULL;
  respond(pl->req, c);
}

/* The one call that costs a scrypt, and that nothing else in its request
 * refused already (those answer at once, on the loop). */
static bool slow_login(const struct hd_call *c)
{
  return !c->refuse_status && !c->raw && strcmp(c->method, "POST") == 0 &&
         (strcmp(c->path, "/1.0/auth/login") == 0 || strcmp(c->path, "/1.0/auth/login/") == 0);
}

static void login_park(struct hd_http *h, h2o_req_t *req, struct hd_call *c, json_t **body)
{
  struct parked_login *pl = h2o_mem_alloc_shared(&req->pool, sizeof *pl, login_dispose);
  *pl = (struct parked_login){ .req = req };
  if ((pl->job = hd_login_queue_submit(h->logins, c, body, pl)))
    return;
  /* A full queue: refused at once, not queued without end.  Not audited:
   * under a flood that write would stall the loop this queue keeps free. */
  hd_login_refuse(c, false);
  respond(req, c);
}

/* /events?stream=1: JSON lines as events happen, polled every 250 ms; a
 * bare newline every 15 s keeps proxies from closing an idle stream.  One
 * chunk in flight at a time (h2o calls proceed when it may send more). */
struct stream {
  h2o_generator_t super;
  h2o_timeout_entry_t timer;
  h2o_req_t *req;
  struct hd_http *h;
  struct hd_principal who;
  int64_t last;
  uint64_t quiet_since;
  bool sending, stopped;
  char *chunk;
};
static h2o_timeout_t stream_timeout;

static void stream_send(struct stream *st, json_t *events)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    char *line = json_dumps(ev, JSON_COMPACT);
    fprintf(f, "%s\n", line ? line : "{}");
    free(line);
  }
  if (!json_array_size(events))
    fputc('\n', f);
  fclose(f);
  free(st->chunk);
  st->chunk = text;
  st->sending = true;
  st->quiet_since = h2o_now(st->h->ctx.loop);
  h2o_iovec_t buf = h2o_iovec_init(text, len);
  h2o_send(st->req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void stream_tick(h2o_timeout_entry_t *entry)
{
  struct stream *st = (struct stream *) ((char *) entry - offsetof(struct stream, timer));
  if (st->stopped)
    return;
  if (!st->sending) {
    int64_t last;
    json_t *events = hd_events_since(st->h->db, &st->who, st->last, 100, &last);
    st->last = last;
    if (json_array_size(events) || h2o_now(st->h->ctx.loop) - st->quiet_since > 15000)
      stream_send(st, events);
    json_decref(events);
  }
  h2o_timeout_link(st->h->ctx.loop, &stream_timeout, &st->timer);
}

static void stream_proceed(h2o_generator_t *g, h2o_req_t *req)
{
  ((struct stream *) g)->sending = false;
}

static void stream_stop(h2o_generator_t *g, h2o_req_t *req)
{
  struct stream *st = (struct stream *) g;
  st->stopped = true;
  if (h2o_timeout_is_linked(&st->timer))
    h2o_timeout_unlink(&st->timer);
}

static void stream_dispose(void *p)
{
  struct stream *st = p;
  if (h2o_timeout_is_linked(&st->timer))
    h2o_timeout_unlink(&st->timer);
  free(st->chunk);
}

static void stream_start(struct hd_http *h, h2o_req_t *req, struct hd_call *c)
{
  struct stream *st = h2o_mem_alloc_shared(&req->pool, sizeof *st, stream_dispose);
  *st = (struct stream){ .super = { stream_proceed, stream_stop }, .timer = { .cb = stream_tick }, .req = req, .h = h,
                         .who = c->who, .last = c->stream_since < 0 ? 0 : c->stream_since };
  req->res.status = 200;
  req->res.reason = "OK";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/x-ndjson"));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
  h2o_start_response(req, &st->super);
  /* What the caller asked for so far, then what comes. */
  stream_send(st, json_object_get(c->result, "events"));
  h2o_timeout_link(h->ctx.loop, &stream_timeout, &st->timer);
}

/* Every second: reap exec runtimes whose sessions ended. */
static h2o_timeout_t reap_timeout;
static h2o_loop_t *reap_loop;

static void on_reap(h2o_timeout_entry_t *entry)
{
  hd_exec_reap();
  h2o_timeout_link(reap_loop, &reap_timeout, entry);
}

void hd_http_set_logins(struct hd_http *h, const char *db_path, unsigned queue)
{
  snprintf(h->db_path, sizeof h->db_path, "%s", db_path);
  h->login_depth = queue;
}

void hd_http_set_exec(struct hd_http *h, const char *sbx, const char *sbx_root, const char *runtime_dir)
{
  h->exec = (struct hd_exec_env){ sbx, sbx_root, runtime_dir };
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
  struct hd_http *h = ((struct api_handler *) self)->h;
  char source[64];
  struct hd_call c = { .db = h->db };
  principal(h, req, &c, source, sizeof source);
  c.source = source;
  c.method = h2o_strdup(&req->pool, req->method.base, req->method.len).base;
  c.path = h2o_strdup(&req->pool, req->path_normalized.base, req->path_normalized.len).base;
  if (req->query_at != SIZE_MAX)
    c.query = h2o_strdup(&req->pool, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1).base;
  c.if_match = header(req, H2O_TOKEN_IF_MATCH);
  c.if_none_match = header(req, H2O_TOKEN_IF_NONE_MATCH);
  ssize_t csrf = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-csrf-token"), -1);
  if (csrf >= 0)
    c.csrf = h2o_strdup(&req->pool, req->headers.entries[csrf].value.base, req->headers.entries[csrf].value.len).base;
  json_t *body = NULL;
  char msg[256];
  if (req->entity.base && req->entity.len > 0) {
    const char *ct = header(req, H2O_TOKEN_CONTENT_TYPE);
    json_error_t je;
    if (ct && strncmp(ct, "application/octet-stream", 24) == 0) {
      c.raw = req->entity.base;   /* a file's bytes: the route decides */
      c.raw_len = req->entity.len;
    } else if (!ct || strncmp(ct, "application/json", 16) != 0) {
      c.refuse_status = 415;
      c.refuse_msg = "the body must be application/json";
    } else if (!(body = json_loadb(req->entity.base, req->entity.len, JSON_REJECT_DUPLICATES, &je))) {
      snprintf(msg, sizeof msg, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
      c.refuse_status = 400;
      c.refuse_msg = msg;
    }
  }
  c.body = body;
  if (h->logins && slow_login(&c)) {
    login_park(h, req, &c, &body);
    goto done;
  }
  hd_api_handle(&c);
  if (c.wait_op && c.wait_ms > 0)
    park(h, req, &c);
  else if (c.stream_since && c.status == 200)
    stream_start(h, req, &c);
  else if (c.exec.container && c.status == 101) {
    hd_api_audit(&c);
    hd_exec_ws(req, h->ctx.loop, &h->exec, &c);
  }
  else
    respond(req, &c);
done:
  hd_call_clear(&c);
  json_decref(body);
  return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
  struct hd_http *h = listener->data;
  if (err)
    return;
  h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
  if (sock)
    h2o_accept(&h->accept_ctx, sock);
}

static void on_signal(h2o_socket_t *sock, const char *err)
{
  struct hd_http *h = sock->data;
  h2o_buffer_consume(&sock->input, sock->input->size);
  h->stop = true;
}

/* A stale socket (nobody listening) is removed; a live one is an error. */
static int claim_path(const char *path, sh_error *e)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s >= 0 && connect(s, (struct sockaddr *) &a, sizeof a) == 0)
    return sh_err(e, EADDRINUSE, "listen", path, "another sandhostd is serving this socket");
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return sh_err(e, EEXIST, "listen", path, "exists and is not a socket");
    if (unlink(path) < 0)
      return sh_errno(e, "remove stale socket", path);
  }
  return 0;
}

/* A listening unix socket at path, 0660 to group gid (-1: 0600 to root). */
static int listen_unix(const char *socket_path, gid_t gid, sh_error *e)
{
  if (strlen(socket_path) >= sizeof ((struct sockaddr_un *) 0)->sun_path)
    return sh_err(e, ENAMETOOLONG, "listen", socket_path, "a unix socket path is at most 107 characters");
  int r = claim_path(socket_path, e);
  if (r < 0)
    return r;
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", socket_path);
  /* Created 0600, then opened to the group: never a window where
   * anyone else could connect. */
  mode_t old = umask(0177);
  r = fd < 0 ? -1 : bind(fd, (struct sockaddr *) &a, sizeof a);
  umask(old);
  if (r < 0)
    return sh_errno(e, "bind", socket_path);
  if (gid != (gid_t) -1 && (chown(socket_path, 0, gid) < 0 || chmod(socket_path, 0660) < 0)) {
    r = sh_errno(e, "open socket to its group", socket_path);
    unlink(socket_path);
    return r;
  }
  if (listen(fd, 512) < 0) {
    r = sh_errno(e, "listen", socket_path);
    unlink(socket_path);
    return r;
  }
  return steal_fd(fd);
}

int hd_http_new(const char *socket_path, gid_t admin_gid, const char *portal_path, gid_t portal_gid, uint32_t max_body,
                sqlite3 *db, struct hd_http **out, sh_error *e)
{
  if (strcmp(socket_path, portal_path) == 0)
    return sh_err(e, EINVAL, "listen", portal_path, "the portal's socket must not be the admin socket");
  _cleanup_close_ int fd = listen_unix(socket_path, admin_gid, e);
  if (fd < 0)
    return fd;
  _cleanup_close_ int pfd = listen_unix(portal_path, portal_gid, e);
  int r;
  if (pfd < 0) {
    unlink(socket_path);
    return pfd;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  _cleanup_close_ int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  struct hd_http *h = sfd < 0 ? NULL : calloc(1, sizeof *h);
  if (!h) {
    r = sfd < 0 ? sh_errno(e, "signalfd", socket_path) : sh_err(e, ENOMEM, "listen", socket_path, NULL);
    unlink(socket_path);
    unlink(portal_path);
    return r;
  }
  h->db = db;
  h->admin_gid = admin_gid;
  snprintf(h->path, sizeof h->path, "%s", socket_path);
  snprintf(h->portal_path, sizeof h->portal_path, "%s", portal_path);
  h2o_config_init(&h->config);
  h->config.max_request_entity_size = max_body;
  h2o_hostconf_t *host = h2o_config_register_host(&h->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
  struct api_handler *ah = (struct api_handler *) h2o_create_handler(pc, sizeof *ah);
  ah->super.on_req = on_req;
  ah->h = h;
  h2o_context_init(&h->ctx, h2o_evloop_create(), &h->config);
  h2o_timeout_init(h->ctx.loop, &poll_timeout, 10);
  h2o_timeout_init(h->ctx.loop, &stream_timeout, 250);
  h2o_timeout_init(h->ctx.loop, &reap_timeout, 1000);
  reap_loop = h->ctx.loop;
  h->reaper.cb = on_reap;
  h2o_timeout_link(h->ctx.loop, &reap_timeout, &h->reaper);
  h->accept_ctx.ctx = &h->ctx;
  h->accept_ctx.hosts = h->config.hosts;
  h->listener = h2o_evloop_socket_create(h->ctx.loop, steal_fd(fd), H2O_SOCKET_FLAG_DONT_READ);
  h->listener->data = h;
  h2o_socket_read_start(h->listener, on_accept);
  h->portal_listener = h2o_evloop_socket_create(h->ctx.loop, steal_fd(pfd), H2O_SOCKET_FLAG_DONT_READ);
  h->portal_listener->data = h;
  h2o_socket_read_start(h->portal_listener, on_accept);
  h->signals = h2o_evloop_socket_create(h->ctx.loop, steal_fd(sfd), 0);
  h->signals->data = h;
  h2o_socket_read_start(h->signals, on_signal);
  *out = h;
  return 0;
}

int hd_http_run(struct hd_http *h, sh_error *e)
{
  int r = 0;
  if (h->db_path[0] &&
      (r = hd_login_queue_start(&h->ctx, h->db_path, LOGIN_THREADS, h->login_depth, login_done, &h->logins, e)) < 0)
    return r;
  while (!h->stop && r == 0)
    if (h2o_evloop_run(h->ctx.loop, INT32_MAX) != 0 && errno != EINTR)
      r = sh_errno(e, "serve", h->path);
  /* No new connections; the logins running finish and are answered. */
  h2o_socket_read_stop(h->listener);
  h2o_socket_read_stop(h->portal_listener);
  hd_login_queue_stop(h->logins);
  h->logins = NULL;
  return r;
}

void hd_http_free(struct hd_http *h)
{
  if (!h)
    return;
  h2o_socket_read_stop(h->listener);
  h2o_socket_close(h->listener);
  h2o_socket_read_stop(h->portal_listener);
  h2o_socket_close(h->portal_listener);
  h2o_socket_read_stop(h->signals);
  h2o_socket_close(h->signals);
  unlink(h->path);
  unlink(h->portal_path);
  /* h2o's context and loop are left to process exit: h2o 2.2 has no clean
   * way to dispose of a loop with connections still open. */
  free(h);
}
