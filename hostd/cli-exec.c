/* sandhost exec: the websocket client of GET /1.0/containers/{id}/exec.
 * A plain unix-socket connection, or TLS over TCP to the portal (--url:
 * OpenSSL, the server's name or address verified, the Origin the portal
 * wants); the upgrade request written here, the
 * answer read with picohttpparser (from libh2o-evloop); then wslay frames
 * stdin (binary), resizes and end of input (text) one way, and the
 * command's bytes (binary) and exit code (text, {"exit": N}) the other. */
#include "cli-exec.h"

#include "cleanup.h"
#include "jsonutil.h"
#include "phr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define NO_EXIT INT_MIN
#define HANDSHAKE_TIMEOUT_S 60   /* the server waits up to 5 s for the runtime before it answers */
#define MAX_QUEUED (1 << 20)     /* stdin waits while this much is queued for the socket */

/* ---- the command line for /bin/sh -c ---- */

static int put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
  if (*o + n >= len)
    return -E2BIG;
  memcpy(buf + *o, s, n);
  *o += n;
  buf[*o] = 0;
  return 0;
}

static int put_str(char *buf, size_t len, size_t *o, const char *s)
{
  return put(buf, len, o, s, strlen(s));
}

/* One word in single quotes, its own quotes as '\''. */
static int put_quoted(char *buf, size_t len, size_t *o, const char *w)
{
  int r = put_str(buf, len, o, "'");
  for (const char *p = w; r == 0 && *p; p++)
    r = *p == '\'' ? put_str(buf, len, o, "'\\''") : put(buf, len, o, p, 1);
  return r < 0 ? r : put_str(buf, len, o, "'");
}

static bool env_name_ok(const char *kv)
{
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv || (*kv >= '0' && *kv <= '9'))
    return false;
  return strspn(kv, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == (size_t) (eq - kv);
}

int cli_exec_command(char *buf, size_t len, char *const *argv, int n, char *const *env, int n_env, const char *cwd,
                     const char **bad)
{
  size_t o = 0;
  int r = 0;
  buf[0] = 0;
  if (cwd && ((r = put_str(buf, len, &o, "cd -- ")) < 0 || (r = put_quoted(buf, len, &o, cwd)) < 0 ||
              (r = put_str(buf, len, &o, " && ")) < 0))
    return r;
  for (int i = 0; i < n_env; i++) {
    if (!env_name_ok(env[i])) {
      *bad = env[i];
      return -EINVAL;
    }
    if ((r = put_str(buf, len, &o, "export ")) < 0 || (r = put_quoted(buf, len, &o, env[i])) < 0 ||
        (r = put_str(buf, len, &o, " && ")) < 0)
      return r;
  }
  if (n == 0 && o == 0)
    return 0;   /* the server's own shell */
  /* exec: the command is the session's process, its status the exit code. */
  if ((r = put_str(buf, len, &o, n ? "exec" : "exec /bin/sh")) < 0)
    return r;
  for (int i = 0; i < n; i++)
    if ((r = put_str(buf, len, &o, " ")) < 0 || (r = put_quoted(buf, len, &o, argv[i])) < 0)
      return r;
  return 0;
}

/* ---- the handshake ---- */

static void url_encode(char *out, size_t len, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = strlen(out);
  for (; *s && o + 4 < len; s++) {
    unsigned char ch = (unsigned char) *s;
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
      out[o++] = (char) ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  out[o] = 0;
}

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC 6455 GUID)). */
static int accept_value(const char *key, char out[29])
{
  char in[64];
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  int n = snprintf(in, sizeof in, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  if (!EVP_Digest(in, (size_t) n, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
    return -EIO;
  EVP_EncodeBlock((unsigned char *) out, md, 20);
  return 0;
}

static const char *header(const struct phr_header *h, size_t n, const char *name, size_t *len)
{
  for (size_t i = 0; i < n; i++)
    if (h[i].name && h[i].name_len == strlen(name) && strncasecmp(h[i].name, name, h[i].name_len) == 0) {
      *len = h[i].value_len;
      return h[i].value;
    }
  return NULL;
}

/* ---- the transport: the unix socket's fd, or TLS over TCP ---- */

struct conn {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;   /* NULL: bytes straight on fd */
};

static void conn_close(struct conn *c)
{
  if (c->ssl)
    SSL_shutdown(c->ssl);   /* close_notify, once, not waited for */
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
  sh_closep(&c->fd);
}

/* SSL_*_ex's failure as recv/send say it: 0 the peer closed, -1 with errno
 * (EAGAIN to wait for the socket, EIO for a TLS error, said on stderr). */
static ssize_t tls_result(struct conn *c, int r)
{
  switch (SSL_get_error(c->ssl, r)) {
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    errno = EAGAIN;
    return -1;
  case SSL_ERROR_SYSCALL:
    if (errno == 0)
      return 0;   /* (SSL_OP_IGNORE_UNEXPECTED_EOF: a close without close_notify) */
    return -1;
  default: {
    char e[256];
    ERR_error_string_n(ERR_get_error(), e, sizeof e);
    fprintf(stderr, "sandhost: exec: TLS: %s\n", e);
    errno = EIO;
    return -1;
  }
  }
}

static ssize_t conn_recv(struct conn *c, void *buf, size_t n)
{
  if (!c->ssl)
    return recv(c->fd, buf, n, 0);
  size_t got;
  ERR_clear_error();
  errno = 0;
  int r = SSL_read_ex(c->ssl, buf, n, &got);
  return r == 1 ? (ssize_t) got : tls_result(c, r);
}

/* (A stdout that is no socket: write(2), so that a reader gone is SIGPIPE.) */
static ssize_t conn_send(struct conn *c, const void *buf, size_t n)
{
  if (c->ssl) {
    size_t put;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write_ex(c->ssl, buf, n, &put);
    return r == 1 ? (ssize_t) put : tls_result(c, r);
  }
  ssize_t k = send(c->fd, buf, n, MSG_NOSIGNAL);
  if (k < 0 && errno == ENOTSOCK)
    k = write(c->fd, buf, n);
  return k;
}

/* Decrypted bytes that OpenSSL holds and poll(2) cannot see. */
static bool conn_buffered(const struct conn *c)
{
  return c->ssl && SSL_pending(c->ssl) > 0;
}

/* All of it, to a connection (never SIGPIPE: a lost server is an exit code)
 * or to stdout (a reader gone is SIGPIPE, as for any filter). */
static int write_all(struct conn *c, const void *buf, size_t n)
{
  const char *p = buf;
  while (n) {
    ssize_t k = conn_send(c, p, n);
    if (k < 0 && errno == EAGAIN) {
      poll(&(struct pollfd){ c->fd, POLLOUT, 0 }, 1, -1);
      continue;
    }
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    p += k;
    n -= (size_t) k;
  }
  return 0;
}

static const int verify_chain_errors[] = {
  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
};

void cli_tls_failed(const struct cli_remote *r, long verify, const char *detail)
{
  /* (X509_V_ERR_UNSPECIFIED tells nothing: curl leaves it when its own
   * host name check failed, which the detail says.) */
  if (verify == X509_V_OK || verify == X509_V_ERR_UNSPECIFIED) {
    fprintf(stderr, "sandhost: %s: certificate verify failed: %s\n", r->url, detail);
    return;
  }
  const char *hint = "";
  for (size_t i = 0; i < SH_ARRAY_SIZE(verify_chain_errors); i++)
    if (verify == verify_chain_errors[i])
      hint = r->cacert ? " (not signed by --cacert's certificate)" : " (give --cacert)";
  fprintf(stderr, "sandhost: %s: certificate verify failed: %s%s\n", r->url, X509_verify_cert_error_string(verify), hint);
}

/* A session can sit quiet for hours: keepalive probes after a minute's
 * silence end it within two more minutes when the far end is gone
 * (a rebooted host, a dropped NAT mapping) instead of hanging for ever. */
void cli_tcp_keepalive(int fd)
{
  int on = 1, idle = CLI_KEEPALIVE_IDLE_S, intvl = CLI_KEEPALIVE_INTERVAL_S, cnt = CLI_KEEPALIVE_PROBES;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* The portal's host without an IPv6 address's brackets. */
static void bare_host(const struct cli_remote *r, char *out, size_t len)
{
  size_t n = strlen(r->host);
  if (n >= 2 && r->host[0] == '[' && r->host[n - 1] == ']')
    snprintf(out, len, "%.*s", (int) (n - 2), r->host + 1);
  else
    snprintf(out, len, "%s", r->host);
}

/* TCP to the first of the host's addresses that answers; the fd, or -errno
 * (said why). */
static int tcp_connect(const struct cli_remote *r, const char *host)
{
  struct addrinfo *ai, hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
  int e = getaddrinfo(host, r->port, &hints, &ai);
  if (e) {
    fprintf(stderr, "sandhost: %s: %s: %s\n", r->url, host, gai_strerror(e));
    return -EHOSTUNREACH;
  }
  int err = ECONNREFUSED;
  /* SO_SNDTIMEO bounds connect(2) too. */
  struct timeval tv = { .tv_sec = HANDSHAKE_TIMEOUT_S };
  for (struct addrinfo *a = ai; a; a = a->ai_next) {
    _cleanup_close_ int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      freeaddrinfo(ai);
      cli_tcp_keepalive(fd);
      return steal_fd(fd);
    }
    err = errno;
  }
  freeaddrinfo(ai);
  fprintf(stderr, "sandhost: %s: connect: %s\n", r->url, strerror(err));
  return -err;
}

/* TLS 1.2 or later to the portal, its certificate verified against --cacert
 * or the system's CAs and for the URL's name or address (SNI for a name). */
static int tls_connect(struct conn *c, const struct cli_remote *r)
{
  char host[256];
  bare_host(r, host, sizeof host);
  if ((c->fd = tcp_connect(r, host)) < 0)
    return c->fd;
  static const unsigned char alpn[] = "\x08http/1.1";   /* a websocket upgrade is HTTP/1.1 */
  ERR_clear_error();
  if (!(c->ctx = SSL_CTX_new(TLS_client_method())) || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) ||
      !(r->cacert ? SSL_CTX_load_verify_locations(c->ctx, r->cacert, NULL) : SSL_CTX_set_default_verify_paths(c->ctx)) ||
      SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof alpn - 1) != 0 || !(c->ssl = SSL_new(c->ctx)) ||
      !SSL_set_fd(c->ssl, c->fd)) {
    char e[256];
    ERR_error_string_n(ERR_get_error(), e, sizeof e);
    fprintf(stderr, "sandhost: %s: setting up TLS%s%s: %s\n", r->url, r->cacert ? " with --cacert " : "",
            r->cacert ?: "", e);
    return -EIO;
  }
  SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
  SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
  /* An address is matched against the certificate's IP names and sent
   * without SNI (RFC 6066 has none for addresses); a name both ways. */
  if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) &&
      (!SSL_set_tlsext_host_name(c->ssl, host) || !SSL_set1_host(c->ssl, host))) {
    fprintf(stderr, "sandhost: %s: %s: not a host name TLS can verify\n", r->url, host);
    return -EINVAL;
  }
  ERR_clear_error();
  errno = 0;
  int k = SSL_connect(c->ssl);
  if (k == 1)
    return 0;
  long v = SSL_get_verify_result(c->ssl);
  if (v != X509_V_OK) {
    cli_tls_failed(r, v, NULL);
    return -EIO;
  }
  char e[256] = "the connection closed during it";
  if (ERR_peek_error())
    ERR_error_string_n(ERR_get_error(), e, sizeof e);
  else if (errno)
    snprintf(e, sizeof e, "%s", strerror(errno));
  fprintf(stderr, "sandhost: %s: TLS handshake: %s\n", r->url, e);
  return -EIO;
}

static int api_connect(const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path) {
    fprintf(stderr, "sandhost: %s: the socket path is too long\n", path);
    return -ENAMETOOLONG;
  }
  strcpy(a.sun_path, path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof a) < 0) {
    int r = -errno;
    fprintf(stderr, "sandhost: %s: %s\n", path, strerror(errno));
    return r;
  }
  struct timeval tv = { .tv_sec = HANDSHAKE_TIMEOUT_S };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return steal_fd(fd);
}

/* Reads more of the answer into buf; false (said why) when none came. */
static bool read_more(struct conn *c, uint8_t *buf, size_t cap, size_t *have)
{
  for (;;) {
    ssize_t n = conn_recv(c, buf + *have, cap - *have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n > 0) {
      *have += (size_t) n;
      return true;
    }
    if (n == 0)
      fprintf(stderr, "sandhost: exec: sandhostd closed the connection before it answered\n");
    else if (errno == EAGAIN)
      fprintf(stderr, "sandhost: exec: no answer from sandhostd within %d s\n", HANDSHAKE_TIMEOUT_S);
    else
      fprintf(stderr, "sandhost: exec: reading the answer: %s\n", strerror(errno));
    return false;
  }
}

/* The upgrade: 0 with the answer's head (used bytes) and the first frames
 * after it in buf, or the exit status to leave with. */
static int handshake(struct conn *c, const struct cli_exec *x, const struct winsize *ws, uint8_t *buf, size_t cap, size_t *have,
                     size_t *used, long *status, json_t **reply)
{
  unsigned char raw[16];
  char key[32], want[29], path[128 + 3 * CLI_EXEC_COMMAND_MAX], req[sizeof path + 1024], host[600];
  if (getrandom(raw, sizeof raw, 0) != sizeof raw) {
    fprintf(stderr, "sandhost: exec: getrandom: %s\n", strerror(errno));
    return CLI_EXEC_CONNECTION;
  }
  EVP_EncodeBlock((unsigned char *) key, raw, sizeof raw);
  if (accept_value(key, want) < 0) {
    fprintf(stderr, "sandhost: exec: SHA-1 is not available\n");
    return CLI_EXEC_CONNECTION;
  }
  snprintf(path, sizeof path, "/1.0/containers/%" PRId64 "/exec?tty=%d", x->container, x->tty);
  if (ws->ws_col && ws->ws_row)
    snprintf(path + strlen(path), sizeof path - strlen(path), "&cols=%u&rows=%u", ws->ws_col > 1000 ? 1000 : ws->ws_col,
             ws->ws_row > 1000 ? 1000 : ws->ws_row);
  if (x->command[0]) {
    strcat(path, "&command=");
    url_encode(path, sizeof path, x->command);
  }
  /* The portal takes a websocket only with an Origin of https://<Host>. */
  if (x->remote)
    snprintf(host, sizeof host, "%s:%s\r\nOrigin: https://%s:%s", x->remote->host, x->remote->port, x->remote->host,
             x->remote->port);
  else
    snprintf(host, sizeof host, "sandhost");
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                   path, host, key, x->token ? "Authorization: Bearer " : "", x->token ?: "", x->token ? "\r\n" : "");
  if (n < 0 || (size_t) n >= sizeof req) {
    fprintf(stderr, "sandhost: exec: the token is too long\n");
    return CLI_EXEC_USAGE;
  }
  int r = write_all(c, req, (size_t) n);
  if (r < 0) {
    fprintf(stderr, "sandhost: exec: sending the request: %s\n", strerror(-r));
    return CLI_EXEC_CONNECTION;
  }

  struct phr_header h[32];
  size_t nh = 0, msg_len, vlen;
  const char *msg, *v;
  int minor, st, head = -2;
  *have = 0;
  while (head == -2) {
    size_t last = *have;
    if (*have == cap) {
      fprintf(stderr, "sandhost: exec: the answer's head is longer than %zu bytes\n", cap);
      return CLI_EXEC_PROTOCOL;
    }
    if (!read_more(c, buf, cap, have))
      return CLI_EXEC_CONNECTION;
    nh = SH_ARRAY_SIZE(h);
    head = phr_parse_response((const char *) buf, *have, &minor, &st, &msg, &msg_len, h, &nh, last);
  }
  if (head < 0) {
    fprintf(stderr, "sandhost: exec: a malformed HTTP answer\n");
    return CLI_EXEC_PROTOCOL;
  }
  *used = (size_t) head;
  if (st != 101) {
    /* A refusal: its JSON body, as long as Content-Length says. */
    size_t body = 0;
    if ((v = header(h, nh, "content-length", &vlen)))
      body = strtoul(v, NULL, 10);
    if (body > cap - *used)
      body = cap - *used;
    while (*have - *used < body)
      if (!read_more(c, buf, cap, have))
        break;
    json_error_t je;
    *status = st;
    *reply = json_loadb((const char *) buf + *used, *have - *used < body ? *have - *used : body, 0, &je);
    return CLI_EXEC_REFUSED;
  }
  char conn[64] = "";
  if ((v = header(h, nh, "connection", &vlen)))
    snprintf(conn, sizeof conn, "%.*s", (int) vlen, v);
  if (!(v = header(h, nh, "upgrade", &vlen)) || vlen != 9 || strncasecmp(v, "websocket", 9) != 0 ||
      !strcasestr(conn, "upgrade")) {
    fprintf(stderr, "sandhost: exec: the 101 answer does not upgrade to a websocket\n");
    return CLI_EXEC_PROTOCOL;
  }
  if (!(v = header(h, nh, "sec-websocket-accept", &vlen)) || vlen != strlen(want) || memcmp(v, want, vlen) != 0) {
    fprintf(stderr, "sandhost: exec: Sec-WebSocket-Accept does not match the key sent\n");
    return CLI_EXEC_PROTOCOL;
  }
  return 0;
}

/* ---- the session ---- */

struct session {
  struct conn *conn;
  const uint8_t *pre;   /* read along with the answer's head: the first frames */
  size_t pre_len;
  int exit_code;        /* {"exit": N}, NO_EXIT until it came */
  int stop;             /* non-zero: leave now with this status */
};

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *u)
{
  struct session *s = u;
  if (s->pre_len) {
    size_t n = len < s->pre_len ? len : s->pre_len;
    memcpy(buf, s->pre, n);
    s->pre += n;
    s->pre_len -= n;
    return (ssize_t) n;
  }
  ssize_t n;
  do
    n = conn_recv(s->conn, buf, len);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    return n;
  wslay_event_set_error(ctx, n < 0 && errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *u)
{
  struct session *s = u;
  ssize_t n;
  do
    n = conn_send(s->conn, data, len);
  while (n < 0 && errno == EINTR);
  if (n >= 0)
    return n;
  wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *u)
{
  if (getrandom(buf, len, 0) != (ssize_t) len) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return 0;
}


static void ws_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *u)
{
  struct session *s = u;
  if (arg->opcode == WSLAY_BINARY_FRAME && !s->stop) {
    int r = write_all(&(struct conn){ .fd = STDOUT_FILENO }, arg->msg, arg->msg_length);
    if (r == -EPIPE)
      s->stop = 128 + SIGPIPE;   /* as a shell sees a writer whose reader left */
    else if (r < 0) {
      fprintf(stderr, "sandhost: exec: stdout: %s\n", strerror(-r));
      s->stop = CLI_EXEC_CONNECTION;
    }
  } else if (arg->opcode == WSLAY_TEXT_FRAME) {
    json_error_t je;
    _cleanup_json_ json_t *j = json_loadb((const char *) arg->msg, arg->msg_length, 0, &je);
    json_t *code = json_object_get(j, "exit");
    if (json_is_integer(code))
      s->exit_code = (int) json_integer_value(code);
  }
}

static void queue(wslay_event_context_ptr ctx, uint8_t opcode, const void *p, size_t n)
{
  struct wslay_event_msg m = { opcode, p, n };
  wslay_event_queue_msg(ctx, &m);   /* wslay copies it */
}

static void send_size(wslay_event_context_ptr ctx)
{
  struct winsize ws;
  char msg[48];
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
    int n = snprintf(msg, sizeof msg, "{\"resize\":[%u,%u]}", ws.ws_col, ws.ws_row);
    queue(ctx, WSLAY_TEXT_FRAME, msg, (size_t) n);
  }
}

/* Until the server closed the session (or a signal, or stdout gone): the
 * exit status to leave with. */
static int run(struct session *s, wslay_event_context_ptr ctx, bool tty, int sigfd)
{
  bool in_open = true;
  int r = s->pre_len ? wslay_event_recv(ctx) : 0;
  while (r == 0 && !s->stop && (wslay_event_want_read(ctx) || wslay_event_want_write(ctx))) {
    bool room = wslay_event_get_queued_msg_length(ctx) < MAX_QUEUED && !wslay_event_get_close_sent(ctx);
    struct pollfd p[3] = {
      { s->conn->fd, (short) ((wslay_event_want_read(ctx) ? POLLIN : 0) | (wslay_event_want_write(ctx) ? POLLOUT : 0)), 0 },
      { in_open && room ? STDIN_FILENO : -1, POLLIN, 0 },
      { sigfd, POLLIN, 0 },
    };
    bool buffered = wslay_event_want_read(ctx) && conn_buffered(s->conn);
    if (poll(p, SH_ARRAY_SIZE(p), buffered ? 0 : -1) < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "sandhost: exec: poll: %s\n", strerror(errno));
      return CLI_EXEC_CONNECTION;
    }
    struct signalfd_siginfo si;
    /* Signals first: a resize goes out ahead of input read in the same round. */
    if (p[2].revents & POLLIN && read(sigfd, &si, sizeof si) == sizeof si) {
      if (si.ssi_signo != SIGWINCH)
        return 128 + (int) si.ssi_signo;
      send_size(ctx);
    }
    if (p[1].revents) {
      uint8_t b[65536];
      ssize_t n = read(STDIN_FILENO, b, sizeof b);
      if (n > 0) {
        queue(ctx, WSLAY_BINARY_FRAME, b, (size_t) n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        in_open = false;
        if (!tty)   /* pipes: the command sees its stdin end (a terminal takes ^D) */
          queue(ctx, WSLAY_TEXT_FRAME, "{\"eof\":true}", 12);
      }
    }
    if (buffered)
      p[0].revents |= POLLIN;
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
      r = wslay_event_recv(ctx);
    if (r == 0 && wslay_event_want_write(ctx))
      r = wslay_event_send(ctx);
  }
  if (s->stop)
    return s->stop;
  if (s->exit_code != NO_EXIT && s->exit_code >= 0)
    return s->exit_code > 255 ? 255 : s->exit_code;
  if (s->exit_code != NO_EXIT)
    fprintf(stderr, "sandhost: exec: sandhostd could not tell the command's exit status\n");
  else if (wslay_event_get_status_code_sent(ctx) == WSLAY_CODE_PROTOCOL_ERROR)
    fprintf(stderr, "sandhost: exec: a malformed websocket frame from sandhostd\n");
  else if (wslay_event_get_close_received(ctx))
    fprintf(stderr, "sandhost: exec: sandhostd ended the session without an exit status (close code %u)\n",
            wslay_event_get_status_code_received(ctx));
  else {
    fprintf(stderr, "sandhost: exec: the connection to sandhostd was lost\n");
    return CLI_EXEC_CONNECTION;
  }
  return CLI_EXEC_PROTOCOL;
}

/* The local side with a terminal: raw mode and the signals that matter
 * (resize, and those that end us) read from a signalfd, so that every way
 * out goes through term_leave. */
struct term {
  bool raw;
  struct termios saved;
  sigset_t old_mask;
  int sigfd;
};

static int term_enter(struct term *t, bool tty)
{
  *t = (struct term){ .sigfd = -1 };
  sigprocmask(SIG_SETMASK, NULL, &t->old_mask);
  if (!tty)
    return 0;
  sigset_t set;
  sigemptyset(&set);
  for (const int *sig = (const int[]){ SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, 0 }; *sig; sig++)
    sigaddset(&set, *sig);
  sigprocmask(SIG_BLOCK, &set, NULL);
  t->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (t->sigfd < 0 || tcgetattr(STDIN_FILENO, &t->saved) < 0)
    return -errno;
  struct termios raw = t->saved;
  cfmakeraw(&raw);
  if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
    return -errno;
  t->raw = true;
  return 0;
}

static void term_leave(struct term *t)
{
  if (t->raw)
    tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
  if (t->sigfd >= 0)
    close(t->sigfd);
  sigprocmask(SIG_SETMASK, &t->old_mask, NULL);
}

static int exec_session(const struct cli_exec *x, long *status, json_t **reply)
{
  if (x->token && x->token[strcspn(x->token, "\r\n")]) {
    fprintf(stderr, "sandhost: the token has a line break in it\n");
    return CLI_EXEC_USAGE;
  }
  struct winsize ws = { 0 };
  if (x->tty) {
    if (!isatty(STDIN_FILENO)) {
      fprintf(stderr, "sandhost: exec -t: stdin is not a terminal\n");
      return CLI_EXEC_USAGE;
    }
    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
  }
  _cleanup_(conn_close) struct conn c = { .fd = -1 };
  if (x->remote ? tls_connect(&c, x->remote) < 0 : (c.fd = api_connect(x->sock)) < 0)
    return CLI_EXEC_CONNECTION;
  uint8_t buf[16384];
  size_t have = 0, used = 0;
  int rc = handshake(&c, x, &ws, buf, sizeof buf, &have, &used, status, reply);
  if (rc)
    return rc;
  fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  struct session s = { .conn = &c, .pre = buf + used, .pre_len = have - used, .exit_code = NO_EXIT };
  const struct wslay_event_callbacks cb = { .recv_callback = ws_recv, .send_callback = ws_send,
                                            .genmask_callback = ws_genmask, .on_msg_recv_callback = ws_message };
  wslay_event_context_ptr ctx;
  if (wslay_event_context_client_init(&ctx, &cb, &s) != 0) {
    fprintf(stderr, "sandhost: exec: out of memory\n");
    return CLI_EXEC_CONNECTION;
  }
  struct term t;
  int r = term_enter(&t, x->tty);
  if (r < 0) {
    fprintf(stderr, "sandhost: exec: the terminal: %s\n", strerror(-r));
    rc = CLI_EXEC_CONNECTION;
  } else {
    rc = run(&s, ctx, x->tty, t.sigfd);
  }
  term_leave(&t);
  wslay_event_context_free(ctx);
  return rc;
}

/* SIGPIPE ignored throughout: a reader of stdout that leaves ends the
 * session, not the process, and OpenSSL writes to the socket with write(2)
 * (from the handshake to the close_notify), where a lost server must be an
 * exit status too. */
int cli_exec(const struct cli_exec *x, long *status, json_t **reply)
{
  *status = 0;
  *reply = NULL;
  struct sigaction old_pipe;
  sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, &old_pipe);
  int rc = exec_session(x, status, reply);
  sigaction(SIGPIPE, &old_pipe, NULL);
  return rc;
}
