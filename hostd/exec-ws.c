/* exec sessions: `sbx exec` spawned with a console socket (a terminal) or
 * pipes, its output to the websocket, the websocket's input to it. */
#include "exec-ws.h"

#include "cleanup.h"
#include "jsonutil.h"
#include "log.h"
#include "rtspawn.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <h2o/websocket.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct session {
  h2o_websocket_conn_t *ws;
  h2o_socket_t *out;      /* the terminal's master, or the output pipe */
  int in;                 /* where the client's bytes go */
  pid_t pid;              /* sbx exec */
  bool ended;             /* its output closed: exit code, then close */
  bool eof;               /* the client ended its input: close `in` once written */
  bool exit_sent, closed;
  int ticks;              /* since the output closed */
  /* Input the command has not taken yet: the event loop never waits for a
   * command to read (a tenant's `exec cat < big` must not stall the API). */
  char *pend;
  size_t pend_off, pend_len;
  h2o_timeout_entry_t timer;
};

enum { TICK_MS = 10, EXIT_WAIT_TICKS = 500, MAX_PENDING = 8 << 20 };
static h2o_timeout_t tick;
static h2o_loop_t *tick_loop;

static void arm(struct session *s)
{
  if (!h2o_timeout_is_linked(&s->timer))
    h2o_timeout_link(tick_loop, &tick, &s->timer);
}

/* Runtimes whose sessions ended, to reap without blocking the loop. */
static pid_t zombies[64];

static void reap_later(pid_t pid)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(zombies); i++)
    if (!zombies[i]) {
      zombies[i] = pid;
      return;
    }
  waitpid(pid, NULL, 0);   /* no slot: rather block than leak */
}

void hd_exec_reap(void)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(zombies); i++)
    if (zombies[i] && waitpid(zombies[i], NULL, WNOHANG) != 0)
      zombies[i] = 0;
}

static void send_text(struct session *s, const char *text)
{
  struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *) text, strlen(text) };
  wslay_event_queue_msg(s->ws->ws_ctx, &m);
}

/* Write what input is pending; the end of input once it is all written. */
static void flush_input(struct session *s)
{
  while (s->in >= 0 && s->pend_len > s->pend_off) {
    ssize_t k = write(s->in, s->pend + s->pend_off, s->pend_len - s->pend_off);
    if (k < 0 && errno == EAGAIN)
      break;
    if (k <= 0) {   /* the command stopped reading for good */
      s->pend_off = s->pend_len;
      break;
    }
    s->pend_off += (size_t) k;
  }
  if (s->pend_off == s->pend_len)
    s->pend_off = s->pend_len = 0;
  if (s->in >= 0 && s->eof && !s->pend_len) {
    close(s->in);   /* end of input (pipes; a terminal takes ^D) */
    s->in = -1;
  }
}

/* The command's output closed: its exit code (waited for a tick at a time,
 * never blocking the loop), then, once every queued output frame went out
 * (wslay sends control frames ahead of queued messages and drops what is
 * queued after a close), the close. */
static void finish_step(struct session *s)
{
  if (!s->exit_sent) {
    int status, code = -1;
    pid_t w = s->pid ? waitpid(s->pid, &status, WNOHANG) : -1;
    if (w == s->pid && w > 0) {
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      s->pid = 0;
    } else if (s->pid && s->ticks++ < EXIT_WAIT_TICKS) {
      arm(s);
      return;
    }
    if (s->pid)
      reap_later(s->pid);
    s->pid = 0;
    char msg[32];
    snprintf(msg, sizeof msg, "{\"exit\":%d}", code);
    send_text(s, msg);
    s->exit_sent = true;
    h2o_websocket_proceed(s->ws);
  }
  if (wslay_event_get_queued_msg_count(s->ws->ws_ctx) > 0) {
    arm(s);
    return;
  }
  if (!s->closed) {
    s->closed = true;
    wslay_event_queue_close(s->ws->ws_ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
    h2o_websocket_proceed(s->ws);
  }
}

static void on_tick(h2o_timeout_entry_t *entry)
{
  struct session *s = H2O_STRUCT_FROM_MEMBER(struct session, timer, entry);
  flush_input(s);
  if (s->ended)
    finish_step(s);
  if (s->in >= 0 && s->pend_len)
    arm(s);
}

static void finish(struct session *s)
{
  if (s->ended)
    return;
  s->ended = true;
  finish_step(s);
}

static void on_output(h2o_socket_t *sock, const char *err)
{
  struct session *s = sock->data;
  if (err) {
    h2o_socket_read_stop(sock);
    finish(s);
    return;
  }
  if (sock->input->size) {
    struct wslay_event_msg m = { WSLAY_BINARY_FRAME, (const uint8_t *) sock->input->bytes, sock->input->size };
    wslay_event_queue_msg(s->ws->ws_ctx, &m);   /* wslay copies it */
    h2o_buffer_consume(&sock->input, sock->input->size);
    h2o_websocket_proceed(s->ws);
  }
}

static void end_session(struct session *s)
{
  if (s->out) {
    h2o_socket_read_stop(s->out);
    h2o_socket_close(s->out);   /* a terminal hangs up: the shell gets SIGHUP */
  }
  if (s->in >= 0)
    close(s->in);
  if (s->pid)
    reap_later(s->pid);
  if (h2o_timeout_is_linked(&s->timer))
    h2o_timeout_unlink(&s->timer);
  free(s->pend);
  free(s);
}

static void on_message(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg)
{
  struct session *s = conn->data;
  if (!arg) {
    end_session(s);
    h2o_websocket_close(conn);
    return;
  }
  if (wslay_is_ctrl_frame(arg->opcode) || s->ended)
    return;
  if (arg->opcode == WSLAY_TEXT_FRAME) {
    /* Control: {"resize": [cols, rows]}. */
    json_error_t je;
    _cleanup_json_ json_t *j = json_loadb((const char *) arg->msg, arg->msg_length, 0, &je);
    json_t *rs = json_object_get(j, "resize");
    if (json_is_true(json_object_get(j, "eof")) && s->in >= 0) {
      s->eof = true;
      flush_input(s);
    }
    if (json_array_size(rs) == 2) {
      struct winsize ws = { .ws_col = (unsigned short) json_integer_value(json_array_get(rs, 0)),
                            .ws_row = (unsigned short) json_integer_value(json_array_get(rs, 1)) };
      ioctl(s->in, TIOCSWINSZ, &ws);
    }
    return;
  }
  /* Input: kept until the command takes it, within a bound. */
  if (s->in < 0 || s->eof)
    return;
  if (s->pend_len + arg->msg_length > MAX_PENDING) {
    send_text(s, "{\"error\":\"input overflow: the command reads slower than its input comes (8 MiB pending)\"}");
    s->eof = true;
    s->pend_off = s->pend_len = 0;
    flush_input(s);
    h2o_websocket_proceed(s->ws);
    return;
  }
  char *np = realloc(s->pend, s->pend_len + arg->msg_length);
  if (!np)
    return;
  s->pend = np;
  memcpy(s->pend + s->pend_len, arg->msg, arg->msg_length);
  s->pend_len += arg->msg_length;
  flush_input(s);
  if (s->pend_len)
    arm(s);
}

static void fail(h2o_req_t *req, int status, const char *msg)
{
  char body[400];
  snprintf(body, sizeof body, "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}}\n", status,
           hd_api_code(status), msg);
  req->res.status = status;
  req->res.reason = status == 400 ? "Bad Request" : "Internal Server Error";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
  h2o_send_inline(req, body, strlen(body));
}

void hd_exec_ws(h2o_req_t *req, h2o_loop_t *loop, const struct hd_exec_env *env, const struct hd_call *c)
{
  const char *key = NULL;
  if (h2o_is_websocket_handshake(req, &key) != 0 || !key) {
    fail(req, 400, "exec is a websocket: send the upgrade handshake");
    return;
  }
  char ref[32], sockpath[300];
  snprintf(ref, sizeof ref, "c%" PRId64, c->exec.container);
  static unsigned seq;
  snprintf(sockpath, sizeof sockpath, "%s/exec-%d-%u.sock", env->runtime_dir, (int) getpid(), ++seq);
  /* argv: sbx --root R exec [-t --console-socket P -e TERM=...] ref sh [-c command] */
  const char *argv[20] = { env->sbx, "--root", env->sbx_root, "exec" };
  size_t n = 4;
  if (c->exec.tty) {
    argv[n++] = "-t";
    argv[n++] = "--console-socket";
    argv[n++] = sockpath;
    argv[n++] = "-e";
    argv[n++] = "TERM=xterm-256color";
  }
  argv[n++] = ref;
  argv[n++] = "/bin/sh";
  if (c->exec.command[0]) {
    argv[n++] = "-c";
    argv[n++] = c->exec.command;
  }
  argv[n] = NULL;

  _cleanup_close_ int lsock = -1, out = -1, in = -1;
  int pin[2] = { -1, -1 }, pout[2] = { -1, -1 };
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (c->exec.tty) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sockpath);
    lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* No umask dance: it is the whole process's, and the workers create
     * files meanwhile.  Connecting needs write permission, which only root
     * has whatever the umask left; 0600 right after. */
    int r = lsock < 0 ? -1 : bind(lsock, (struct sockaddr *) &a, sizeof a);
    if (r == 0)
      chmod(sockpath, 0600);
    if (r < 0 || listen(lsock, 1) < 0) {
      posix_spawn_file_actions_destroy(&fa);
      fail(req, 500, "cannot make the console socket");
      return;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  } else {
    if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0) {
      posix_spawn_file_actions_destroy(&fa);
      fail(req, 500, "cannot make pipes");
      return;
    }
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 2);
  }
  pid_t pid;
  int r = hd_spawn(&pid, argv, &fa);
  posix_spawn_file_actions_destroy(&fa);
  if (pin[0] >= 0) {
    close(pin[0]);
    close(pout[1]);
    in = pin[1];
    out = pout[0];
    fcntl(in, F_SETFL, O_NONBLOCK);
  }
  if (r != 0) {
    if (lsock >= 0)
      unlink(sockpath);
    fail(req, 500, "cannot run the runtime");
    return;
  }
  if (c->exec.tty) {
    /* The runtime connects and hands over the terminal's master. */
    int conn = -1, master = -1;
    if (poll(&(struct pollfd){ lsock, POLLIN, 0 }, 1, 5000) == 1 && (conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC)) >= 0)
      sbx_console_recv(conn, &master, NULL);
    if (conn >= 0)
      close(conn);
    unlink(sockpath);
    if (master < 0) {
      kill(pid, SIGKILL);
      reap_later(pid);
      fail(req, 500, "the runtime did not hand over a terminal");
      return;
    }
    struct winsize ws = { .ws_col = (unsigned short) c->exec.cols, .ws_row = (unsigned short) c->exec.rows };
    ioctl(master, TIOCSWINSZ, &ws);
    in = fcntl(master, F_DUPFD_CLOEXEC, 3);
    out = master;
  }
  struct session *s = calloc(1, sizeof *s);
  if (!s) {
    kill(pid, SIGKILL);
    reap_later(pid);
    fail(req, 500, "out of memory");
    return;
  }
  if (!tick_loop) {
    tick_loop = loop;
    h2o_timeout_init(loop, &tick, TICK_MS);
  }
  s->timer.cb = on_tick;
  s->pid = pid;
  s->in = steal_fd(in);
  s->out = h2o_evloop_socket_create(loop, steal_fd(out), 0);
  s->out->data = s;
  s->ws = h2o_upgrade_to_websocket(req, key, s, on_message);
  h2o_socket_read_start(s->out, on_output);
}
