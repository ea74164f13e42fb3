/* sandhost exec: the websocket client of GET /1.0/containers/{id}/exec.
 * A plain unix-socket connection; the upgrade request written here, the
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
#include <openssl/evp.h>
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

/* All of it, to a socket (never SIGPIPE: a lost server is an exit code)
 * or to stdout (a reader gone is SIGPIPE, as for any filter). */
static int write_all(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == ENOTSOCK)
      k = write(fd, p, n);
    if (k < 0 && errno == EAGAIN) {
      poll(&(struct pollfd){ fd, POLLOUT, 0 }, 1, -1);
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
static bool read_more(int fd, uint8_t *buf, size_t cap, size_t *have)
{
  for (;;) {
    ssize_t n = recv(fd, buf + *have, cap - *have, 0);
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
static int handshake(int fd, const struct cli_exec *x, const struct winsize *ws, uint8_t *buf, size_t cap, size_t *have,
                     size_t *used, long *status, json_t **reply)
{
  unsigned char raw[16];
  char key[32], want[29], path[128 + 3 * CLI_EXEC_COMMAND_MAX], req[sizeof path + 512];
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
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: sandhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                   path, key, x->token ? "Authorization: Bearer " : "", x->token ?: "", x->token ? "\r\n" : "");
  if (n < 0 || (size_t) n >= sizeof req) {
    fprintf(stderr, "sandhost: exec: the token is too long\n");
    return CLI_EXEC_USAGE;
  }
  int r = write_all(fd, req, (size_t) n);
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
    if (!read_more(fd, buf, cap, have))
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
      if (!read_more(fd, buf, cap, have))
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
  int fd;
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
    n = recv(s->fd, buf, len, 0);
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
    n = send(s->fd, data, len, MSG_NOSIGNAL);
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
    int r = write_all(STDOUT_FILENO, arg->msg, arg->msg_length);
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
      { s->fd, (short) ((wslay_event_want_read(ctx) ? POLLIN : 0) | (wslay_event_want_write(ctx) ? POLLOUT : 0)), 0 },
      { in_open && room ? STDIN_FILENO : -1, POLLIN, 0 },
      { sigfd, POLLIN, 0 },
    };
    if (poll(p, SH_ARRAY_SIZE(p), -1) < 0) {
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

/* The local side: SIGPIPE ignored (a reader of stdout that leaves ends the
 * session, not the process); with a terminal, raw mode and the signals that
 * matter (resize, and those that end us) read from a signalfd, so that every
 * way out goes through term_leave. */
struct term {
  bool raw;
  struct termios saved;
  sigset_t old_mask;
  struct sigaction old_pipe;
  int sigfd;
};

static int term_enter(struct term *t, bool tty)
{
  *t = (struct term){ .sigfd = -1 };
  sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, &t->old_pipe);
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
  sigaction(SIGPIPE, &t->old_pipe, NULL);
}

int cli_exec(const struct cli_exec *x, long *status, json_t **reply)
{
  *status = 0;
  *reply = NULL;
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
  _cleanup_close_ int fd = api_connect(x->sock);
  if (fd < 0)
    return CLI_EXEC_CONNECTION;
  uint8_t buf[16384];
  size_t have = 0, used = 0;
  int rc = handshake(fd, x, &ws, buf, sizeof buf, &have, &used, status, reply);
  if (rc)
    return rc;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct session s = { .fd = fd, .pre = buf + used, .pre_len = have - used, .exit_code = NO_EXIT };
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
