/* sandhost exec: a websocket client (wslay) for
 * GET /1.0/containers/{id}/exec on sandhostd's unix socket, or through the
 * portal over HTTPS (--url: TLS with OpenSSL over TCP). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of `sandhost exec` other than the command's own. */
enum {
  CLI_EXEC_USAGE = 2,         /* bad arguments */
  CLI_EXEC_REFUSED = 125,     /* the API said no: no such container, not running, not yours */
  CLI_EXEC_PROTOCOL = 254,    /* the answer was no valid websocket session, or no exit code came */
  CLI_EXEC_CONNECTION = 255,  /* sandhostd unreachable, or the connection lost mid-session */
};

/* The longest command the server takes (hd_call's exec.command, less its NUL). */
#define CLI_EXEC_COMMAND_MAX 1023

/* A portal's base URL, https://HOST:PORT, in the parts that matter. */
struct cli_remote {
  const char *url;          /* as given, for messages */
  char host[256];           /* as in the URL: an IPv6 address in brackets */
  char port[8];
  const char *cacert;       /* PEM file to verify the server with; NULL: the system's CAs */
};

struct cli_exec {
  const char *sock, *token;  /* token NULL: the socket's peer credentials */
  const struct cli_remote *remote;   /* non-NULL: through the portal, not sock */
  int64_t container;
  const char *command;       /* for /bin/sh -c; "" for the server's shell */
  bool tty;                  /* stdin is a terminal, put in raw mode for the session */
};

/* argv (n of them; none: a shell), env ("K=V", n_env of them) and cwd (or
 * NULL) as one /bin/sh -c command, each word quoted, into buf.  0, -EINVAL
 * with *bad the entry at fault (a bad variable name), or -E2BIG. */
int cli_exec_command(char *buf, size_t len, char *const *argv, int n, char *const *env, int n_env, const char *cwd,
                     const char **bad);

/* One session: the exit status to leave with (the command's own, or one of
 * the above, its reason on stderr).  A refusal (any answer but 101) gives
 * CLI_EXEC_REFUSED with the HTTP status in *status and the JSON reply (or
 * NULL) in *reply, for the caller to print like any other refusal. */
int cli_exec(const struct cli_exec *x, long *status, json_t **reply);

/* r's server's certificate did not verify: says so on stderr, naming the URL
 * and the reason (verify: the X509_V_ERR_* it failed with, or 0 and detail's
 * words), with a hint when --cacert would help.  For curl's and exec's. */
void cli_tls_failed(const struct cli_remote *r, long verify, const char *detail);

/* TCP keepalive on a connection to the portal: probes after
 * CLI_KEEPALIVE_IDLE_S quiet seconds, every CLI_KEEPALIVE_INTERVAL_S, the
 * connection given up after CLI_KEEPALIVE_PROBES unanswered.  For exec's
 * socket and curl's (the values are the same for both). */
#define CLI_KEEPALIVE_IDLE_S 60
#define CLI_KEEPALIVE_INTERVAL_S 20
#define CLI_KEEPALIVE_PROBES 6
void cli_tcp_keepalive(int fd);
