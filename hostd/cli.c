/* sandhost: the command line over sandhostd's API (libcurl on the unix
 * socket, or over HTTPS through the portal with --url; exec's websocket in
 * cli-exec.c).  Changes wait for their operation and report how it ended. */
#include "cleanup.h"
#include "cli-exec.h"
#include "jsonutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sock = "/run/sandhost/sandhostd.sock", *token;
static bool as_json;   /* --json: the API's JSON instead of tables and messages */
static bool sock_given;                /* --socket: $SANDHOST_URL does not apply */
static const char *url_opt, *cacert;   /* --url, --cacert as given */
static struct cli_remote remote;       /* remote.url set: every call goes there, not to sock */

/* The base URL's parts, https://HOST[:PORT][/] and nothing else: 0, or 2
 * (said why). */
static int parse_url(const char *u)
{
  CURLU *h = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
  const char *bad = NULL;
  CURLUcode e = h ? curl_url_set(h, CURLUPART_URL, u, 0) : CURLUE_OUT_OF_MEMORY;
  if (e)
    bad = curl_url_strerror(e);
  else if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) || strcmp(scheme, "https") != 0)
    bad = "not https (the token must not travel in the clear)";
  else if (curl_url_get(h, CURLUPART_HOST, &host, 0) || curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
           strlen(host) >= sizeof remote.host || strlen(port) >= sizeof remote.port)
    bad = "no usable host and port";
  else if ((curl_url_get(h, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") != 0) ||
           curl_url_get(h, CURLUPART_QUERY, &extra, 0) != CURLUE_NO_QUERY ||
           curl_url_get(h, CURLUPART_FRAGMENT, &extra, 0) != CURLUE_NO_FRAGMENT ||
           curl_url_get(h, CURLUPART_USER, &extra, 0) != CURLUE_NO_USER)
    bad = "no path, query, fragment or user";
  if (!bad) {
    remote.url = u;
    snprintf(remote.host, sizeof remote.host, "%s", host);
    snprintf(remote.port, sizeof remote.port, "%s", port);
  } else {
    fprintf(stderr, "sandhost: --url %s: %s (https://HOST[:PORT])\n", u, bad);
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_free(extra);
  curl_url_cleanup(h);
  return bad ? 2 : 0;
}

/* Where the calls go, once the options are read: --url (or $SANDHOST_URL
 * unless --socket was given) means the portal over HTTPS, with a token
 * checked here, before any request.  -1 to go on, or 2 (said why). */
static int endpoint_setup(void)
{
  const char *u = url_opt ?: sock_given ? NULL : getenv("SANDHOST_URL");
  if (!u || !*u)
    return -1;
  if (url_opt && sock_given) {
    fprintf(stderr, "sandhost: --url and --socket: give one of them\n");
    return 2;
  }
  if (parse_url(u))
    return 2;
  if (!token || !*token) {
    fprintf(stderr, "sandhost: %s: needs a token (--token or $SANDHOST_TOKEN: an API token made in the portal)\n", u);
    return 2;
  }
  if (token[strcspn(token, "\r\n")]) {
    fprintf(stderr, "sandhost: the token has a line break in it\n");
    return 2;
  }
  const char *ca = cacert ?: getenv("SANDHOST_CACERT");
  remote.cacert = ca && *ca ? ca : NULL;
  if (remote.cacert && access(remote.cacert, R_OK) < 0) {
    fprintf(stderr, "sandhost: --cacert %s: %s\n", remote.cacert, strerror(errno));
    return 2;
  }
  return -1;
}

struct buf {
  char *p;
  size_t n;
};

static size_t on_data(char *d, size_t size, size_t n, void *u)
{
  struct buf *b = u;
  char *p = realloc(b->p, b->n + size * n + 1);
  if (!p)
    return 0;
  memcpy(p + b->n, d, size * n);
  b->n += size * n;
  p[b->n] = 0;
  b->p = p;
  return size * n;
}

/* One call: the status (0 when sandhostd cannot be reached), the reply in *out. */
/* One request; the reply's bytes in *b (malloc'd, NUL-terminated). */
static long perform(const char *method, const char *path, json_t *body, struct buf *b)
{
  CURL *c = curl_easy_init();
  char url[1024], auth[200], err[CURL_ERROR_SIZE] = "";
  if (remote.url)
    snprintf(url, sizeof url, "https://%s:%s%s", remote.host, remote.port, path);
  else
    snprintf(url, sizeof url, "http://sandhost%s", path);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
  }
  _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  if (!remote.url)
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
  else {
    if (remote.cacert)
      curl_easy_setopt(c, CURLOPT_CAINFO, remote.cacert);
    /* Across a network: a bounded connect, and a dead peer noticed while
     * waiting on a long answer (an operation's wait). */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, (long) CLI_KEEPALIVE_IDLE_S);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, (long) CLI_KEEPALIVE_INTERVAL_S);
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (text)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  long status = 0;
  CURLcode rc = curl_easy_perform(c);
  long verify = 0;
  if (rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  else if (!remote.url)
    fprintf(stderr, "sandhost: %s: %s\n", sock, curl_easy_strerror(rc));
  else if (rc == CURLE_PEER_FAILED_VERIFICATION)
    cli_tls_failed(&remote, curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify) ? 0 : verify,
                   err[0] ? err : curl_easy_strerror(rc));
  else
    fprintf(stderr, "sandhost: %s: %s\n", remote.url, err[0] ? err : curl_easy_strerror(rc));
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

static long call(const char *method, const char *path, json_t *body, json_t **out)
{
  struct buf b = {0};
  long status = perform(method, path, body, &b);
  json_error_t je;
  *out = b.p ? json_loads(b.p, 0, &je) : NULL;
  free(b.p);
  return status;
}

/* An error reply as "sandhost: message (code, field)"; true if it was one. */
static bool failed(long status, json_t *r)
{
  if (status >= 200 && status < 300)
    return false;
  json_t *e = json_object_get(r, "error");
  const char *field = json_string_value(json_object_get(e, "field"));
  if (e)
    fprintf(stderr, "sandhost: %s (%s%s%s)\n", json_string_value(json_object_get(e, "message")),
            json_string_value(json_object_get(e, "code")), field ? ", field " : "", field ? field : "");
  else if (status)
    fprintf(stderr, "sandhost: HTTP %ld\n", status);
  return true;
}

/* --ssh-key FILE: the files' lines, in order, in the body's
 * ssh_authorized_keys; where each file starts there, so a refusal of line
 * N is told as that file's line. */
enum { SSH_KEYS_MAX = 16 * 1024, SSH_KEY_FILES_MAX = 32 };
static struct { const char *file; int first; } key_files[SSH_KEY_FILES_MAX];
static int n_key_files, key_lines;

/* 0, or 2 (said why, naming the file). */
static int add_ssh_key(json_t *body, const char *file)
{
  const char *had = json_string_value(json_object_get(body, "ssh_authorized_keys")) ?: "";
  size_t had_len = strlen(had);
  if (n_key_files == SSH_KEY_FILES_MAX) {
    fprintf(stderr, "sandhost: --ssh-key %s: at most %d files\n", file, SSH_KEY_FILES_MAX);
    return 2;
  }
  bool in = strcmp(file, "-") == 0;
  FILE *f = in ? stdin : fopen(file, "re");
  _cleanup_free_ char *text = f ? malloc(had_len + SSH_KEYS_MAX + 3) : NULL;
  size_t n = text ? fread(text + had_len, 1, SSH_KEYS_MAX + 1, f) : 0;
  int err = !f ? errno : !text ? ENOMEM : ferror(f) ? EIO : 0;
  if (f && !in)
    fclose(f);
  const char *why = err ? strerror(err) : had_len + n > SSH_KEYS_MAX ? "more than 16 KiB of keys in all (what sandhostd takes)"
                  : memchr(text + had_len, 0, n) ? "not text (a NUL byte)" : !n ? "empty" : NULL;
  if (why) {
    fprintf(stderr, "sandhost: --ssh-key %s: %s\n", in ? "- (stdin)" : file, why);
    return 2;
  }
  memcpy(text, had, had_len);
  if (text[had_len + n - 1] != '\n')
    text[had_len + n++] = '\n';
  text[had_len + n] = 0;
  key_files[n_key_files].file = in ? "- (stdin)" : file;
  key_files[n_key_files++].first = key_lines + 1;
  for (size_t i = had_len; i < had_len + n; i++)
    key_lines += text[i] == '\n';
  json_object_set_new(body, "ssh_authorized_keys", json_string(text));
  return 0;
}

/* A refusal of the keys' line N, told as the file's own line: true if it
 * was one. */
static bool ssh_key_failed(json_t *r)
{
  json_t *e = json_object_get(r, "error");
  const char *msg = json_string_value(json_object_get(e, "message")) ?: "", *at = strstr(msg, ": line ");
  int line, off = 0;
  if (!n_key_files || strcmp(json_string_value(json_object_get(e, "field")) ?: "", "ssh_authorized_keys") != 0 || !at ||
      sscanf(at, ": line %d: %n", &line, &off) != 1 || !off)
    return false;
  int i = n_key_files - 1;
  while (i > 0 && key_files[i].first > line)
    i--;
  fprintf(stderr, "sandhost: --ssh-key %s: line %d: %s\n", key_files[i].file, line - key_files[i].first + 1, at + off);
  return true;
}

static void print_json(json_t *r)
{
  _cleanup_free_ char *t = json_dumps(r, JSON_INDENT(2) | JSON_SORT_KEYS);
  if (t)
    puts(t);
}

/* Wait for the operation in a 202 reply; 0 when it succeeded. */
static int follow(json_t *r)
{
  json_int_t op = json_integer_value(json_object_get(json_object_get(r, "operation"), "id"));
  char path[96];
  for (;;) {
    snprintf(path, sizeof path, "/1.0/operations/%" JSON_INTEGER_FORMAT "/wait?timeout=60", op);
    json_t *o = NULL;
    long st = call("GET", path, NULL, &o);
    if (failed(st, o)) {
      json_decref(o);
      return 1;
    }
    const char *s = json_string_value(json_object_get(o, "status"));
    if (s && strcmp(s, "pending") != 0 && strcmp(s, "running") != 0) {
      int rc = strcmp(s, "success") != 0;
      if (as_json)
        print_json(o);
      if (rc)
        fprintf(stderr, "sandhost: operation %" JSON_INTEGER_FORMAT " (%s): %s: %s\n", op,
                json_string_value(json_object_get(o, "kind")), s, json_string_value(json_object_get(o, "error")) ?: "");
      json_decref(o);
      return rc;
    }
    json_decref(o);
  }
}

/* A container's id from its id or its (unique) name: 0 when there is no
 * such container (said why), -1 when sandhostd cannot be reached. */
static json_int_t container_id(const char *ref)
{
  char *end;
  long long v = strtoll(ref, &end, 10);
  if (!*end && v > 0)
    return v;
  json_t *r = NULL;
  long st = call("GET", "/1.0/containers", NULL, &r);
  if (failed(st, r)) {
    json_decref(r);
    return st ? 0 : -1;
  }
  json_int_t id = 0;
  int n = 0;
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(r, "containers"), i, c)
    if (strcmp(json_string_value(json_object_get(c, "name")) ?: "", ref) == 0) {
      id = json_integer_value(json_object_get(c, "id"));
      n++;
    }
  json_decref(r);
  if (n != 1)
    fprintf(stderr, "sandhost: %s: %s\n", ref, n ? "several containers have this name (give the id)" : "no such container");
  return n == 1 ? id : 0;
}


/* Lists as aligned columns. */
static void table(json_t *list, const char *const *cols)
{
  for (const char *const *c = cols; *c; c++)
    printf("%-16s", *c);
  putchar('\n');
  size_t i;
  json_t *o;
  json_array_foreach(list, i, o) {
    for (const char *const *c = cols; *c; c++) {
      json_t *v = json_object_get(o, *c);
      if (json_is_string(v))
        printf("%-16s", json_string_value(v));
      else if (json_is_integer(v))
        printf("%-16" JSON_INTEGER_FORMAT, json_integer_value(v));
      else
        printf("%-16s", "-");
    }
    putchar('\n');
  }
}

static const struct {
  const char *cmd, *path, *key;
  const char *cols[8];
} lists[] = {
  { "list", "/1.0/containers", "containers", { "id", "name", "tenant_id", "state", "memory_mib", "pid", "last_exit", NULL } },
  { "tenants", "/1.0/tenants", "tenants", { "id", "name", "plan_id", NULL } },
  { "plans", "/1.0/plans", "plans", { "id", "name", "cpu_millis", "memory_mib", "disk_mib", "max_containers", NULL } },
  { "users", "/1.0/users", "users", { "id", "name", "role", "tenant_id", NULL } },
  { "images", "/1.0/images", "images", { "id", "name", "description", NULL } },
  { "operations", "/1.0/operations", "operations", { "id", "kind", "container_id", "status", "error", NULL } },
  { "tokens", "/1.0/tokens", "tokens", { "id", "name", "user_id", "last_used_at", NULL } },
};

static void usage(FILE *f)
{
  fprintf(f, "usage: sandhost [--socket PATH | --url https://HOST:PORT [--cacert FILE]] [--token TOKEN] [--json]\n"
             "                COMMAND ...\n"
             "  (the token may also come from $SANDHOST_TOKEN; root needs none on the socket)\n"
             "  --url: every command through the portal over HTTPS, with an API token made there\n"
             "  (also $SANDHOST_URL, unless --socket); the server's certificate is verified\n"
             "  against the system's CAs, or --cacert FILE (also $SANDHOST_CACERT), e.g. a copy\n"
             "  of a self-signed portal's cert.pem\n"
             "  info                                  the server, and who you are to it\n"
             "  list | tenants | plans | users | images | operations | tokens\n"
             "  show NAME|ID                          one container, as JSON\n"
             "  create NAME [--tenant ID] [--image IMG] [--memory MIB] [--cpu MILLIS] [--disk MIB]\n"
             "         [--ssh-key FILE]...            FILE's OpenSSH public keys (- for stdin) in its\n"
             "                                        root's /root/.ssh/authorized_keys\n"
             "  start | stop | restart NAME|ID [--timeout S]\n"
             "  delete NAME|ID\n"
             "  audit [--tenant ID] [--container NAME|ID] [--probe] [--format text|json|html]\n"
             "                                        the security audit: declared beside the kernel\n"
             "                                        (--probe: and the probe's report from inside);\n"
             "                                        exits 3 when it has a high finding\n"
             "  audit-log [LIMIT] [--search WORDS] [--failed] [--tenant ID]\n"
             "                                        who changed what, newest first; entries\n"
             "                                        with every word, refused ones only\n"
             "  api METHOD PATH [JSON]                any call; prints the reply\n"
             "  exec [-t] [--env K=V]... [--cwd DIR] NAME|ID [--] [CMD [ARG...]]\n"
             "                                        CMD (default a shell) in the running container;\n"
             "                                        -t: on a terminal (stdin must be one), else stdin\n"
             "                                        to EOF in, stdout and stderr together out\n"
             "Changes wait for their operation; the exit status says how it ended.\n"
             "--json prints the API's JSON (lists, and the operation a change ended with).\n"
             "exec exits with the command's status, or %d bad arguments, %d refused by the API\n"
             "  (no such container, not running), %d a broken websocket session or no exit\n"
             "  status, %d sandhostd unreachable or the connection lost, 141 stdout's reader left;\n"
             "  with -t, a SIGINT/SIGTERM/SIGHUP/SIGQUIT ends it with 128 + the signal.\n",
          CLI_EXEC_USAGE, CLI_EXEC_REFUSED, CLI_EXEC_PROTOCOL, CLI_EXEC_CONNECTION);
}

enum { AUDIT_HIGH = 3 };

/* sandhost audit: the report as the API renders it; exit 3 on a high finding. */
static int audit_main(int argc, char **argv)
{
  char path[256] = "/1.0/audit/report?format=text";
  const char *format = "text";
  size_t n = strlen(path);
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--probe") == 0) {
      n += (size_t) snprintf(path + n, sizeof path - n, "&probe=1");
      continue;
    }
    if (strcmp(argv[i], "--format") == 0 && v && (!strcmp(v, "text") || !strcmp(v, "json") || !strcmp(v, "html"))) {
      format = v;
    } else if (strcmp(argv[i], "--tenant") == 0 && v && atoll(v) > 0) {
      n += (size_t) snprintf(path + n, sizeof path - n, "&tenant=%lld", atoll(v));
    } else if (strcmp(argv[i], "--container") == 0 && v) {
      json_int_t id = container_id(v);
      if (id <= 0)
        return 1;
      n += (size_t) snprintf(path + n, sizeof path - n, "&container=%" JSON_INTEGER_FORMAT, id);
    } else {
      fprintf(stderr, "sandhost audit: %s: expected --tenant ID, --container NAME|ID, --probe or --format text|json|html\n", argv[i]);
      return 2;
    }
    i++;
  }
  /* The JSON decides the exit status; the asked format is what is printed. */
  memcpy(path + strlen("/1.0/audit/report?format="), "json", 4);
  json_t *r = NULL;
  long st = call("GET", path, NULL, &r);
  if (failed(st, r)) {
    json_decref(r);
    return 1;
  }
  int rc = json_integer_value(json_object_get(json_object_get(r, "summary"), "high")) > 0 ? AUDIT_HIGH : 0;
  if (strcmp(format, "json") == 0) {
    print_json(r);
  } else {
    memcpy(path + strlen("/1.0/audit/report?format="), format, 4);
    struct buf b = {0};
    st = perform("GET", path, NULL, &b);
    if (st != 200 || !b.p)
      rc = 1;
    else
      fputs(b.p, stdout);
    free(b.p);
  }
  json_decref(r);
  return rc;
}

/* sandhost exec: argv[0] is "exec".  Its options come before the container
 * (-t is --tty here, not --token), everything after it is the command. */
static int exec_main(int argc, char **argv)
{
  static const struct option opts[] = {
    { "tty", no_argument, NULL, 't' }, { "env", required_argument, NULL, 'e' }, { "cwd", required_argument, NULL, 'C' },
    { "socket", required_argument, NULL, 's' }, { "token", required_argument, NULL, 'T' },
    { "url", required_argument, NULL, 'u' }, { "cacert", required_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' }, { 0 },
  };
  _cleanup_free_ char **env = calloc((size_t) argc, sizeof *env);
  int n_env = 0, o;
  const char *cwd = NULL;
  bool tty = false;
  optind = 0;
  while (env && (o = getopt_long(argc, argv, "+te:h", opts, NULL)) != -1)
    switch (o) {
    case 't': tty = true; break;
    case 'e': env[n_env++] = optarg; break;
    case 'C': cwd = optarg; break;
    case 's': sock = optarg; sock_given = true; break;
    case 'T': token = optarg; break;
    case 'u': url_opt = optarg; break;
    case 'a': cacert = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return CLI_EXEC_USAGE;
    }
  if (!env || optind >= argc) {
    usage(stderr);
    return CLI_EXEC_USAGE;
  }
  if (endpoint_setup() >= 0)
    return CLI_EXEC_USAGE;
  const char *ref = argv[optind++];
  if (optind < argc && strcmp(argv[optind], "--") == 0)
    optind++;
  char command[CLI_EXEC_COMMAND_MAX + 1];
  const char *bad = NULL;
  int r = cli_exec_command(command, sizeof command, argv + optind, argc - optind, env, n_env, cwd, &bad);
  if (r == -EINVAL)
    fprintf(stderr, "sandhost: --env %s: NAME=VALUE, NAME of letters, digits and _ (not first a digit)\n", bad);
  else if (r < 0)
    fprintf(stderr, "sandhost: exec: the command is longer than sandhostd takes (%d bytes, quoted)\n", CLI_EXEC_COMMAND_MAX);
  if (r < 0)
    return CLI_EXEC_USAGE;
  json_int_t id = container_id(ref);
  if (id <= 0)
    return id < 0 ? CLI_EXEC_CONNECTION : CLI_EXEC_REFUSED;
  long st;
  _cleanup_json_ json_t *reply = NULL;
  struct cli_exec x = { .sock = sock, .token = token, .remote = remote.url ? &remote : NULL, .container = id,
                        .command = command, .tty = tty };
  int rc = cli_exec(&x, &st, &reply);
  if (rc == CLI_EXEC_REFUSED)
    failed(st, reply);
  return rc;
}

/* audit-log's path: LIMIT (or 100), and --tenant, --search (sandhostd
 * looks for each word in every entry) and --failed from body.  NULL, said
 * why, for a LIMIT that is no number. */
static char *audit_query(const char *limit, json_t *body)
{
  char *end = NULL;
  long v = limit ? strtol(limit, &end, 10) : 100;
  if (limit && (*end || v < 1 || v > 1000)) {
    fprintf(stderr, "sandhost: audit-log: LIMIT: a number from 1 to 1000\n");
    return NULL;
  }
  char *path = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&path, &len);
  if (!f)
    return NULL;
  fprintf(f, "/1.0/audit?limit=%ld", v);
  json_int_t tenant = json_integer_value(json_object_get(body, "tenant_id"));
  if (tenant)
    fprintf(f, "&tenant=%" JSON_INTEGER_FORMAT, tenant);
  const char *words = json_string_value(json_object_get(body, "q"));
  char *q = words ? curl_easy_escape(NULL, words, 0) : NULL;
  if (q)
    fprintf(f, "&q=%s", q);
  curl_free(q);
  if (json_is_true(json_object_get(body, "failed")))
    fputs("&failed=1", f);
  return fclose(f) == 0 ? path : (free(path), NULL);
}

/* The options before COMMAND (stopping there: "+") or, for COMMAND's own
 * argv, anywhere among its arguments (getopt permutes): -1 to go on, or the
 * exit status for help and errors. */
static int global_opts(int argc, char **argv, const char *optstring, json_t *body)
{
  static const struct option opts[] = {
    { "socket", required_argument, NULL, 's' }, { "token", required_argument, NULL, 't' },
    { "tenant", required_argument, NULL, 'T' }, { "image", required_argument, NULL, 'i' },
    { "memory", required_argument, NULL, 'm' }, { "cpu", required_argument, NULL, 'c' },
    { "disk", required_argument, NULL, 'd' }, { "timeout", required_argument, NULL, 'w' },
    { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
    { "url", required_argument, NULL, 'u' }, { "cacert", required_argument, NULL, 'a' },
    { "ssh-key", required_argument, NULL, 'k' }, { "search", required_argument, NULL, 'S' },
    { "failed", no_argument, NULL, 'F' }, { 0 },
  };
  static const struct { int opt; const char *key, *name; } sizes[] = {
    { 'T', "tenant_id", "tenant" }, { 'm', "memory_mib", "memory" }, { 'c', "cpu_millis", "cpu" },
    { 'd', "disk_mib", "disk" }, { 'w', "timeout", "timeout" },
  };
  int o;
  optind = 0;
  while ((o = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
    bool done = false;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
      if (o == sizes[i].opt) {
        char *end;
        long long v = strtoll(optarg, &end, 10);
        if (*end || v < 0) {
          fprintf(stderr, "sandhost: --%s: a number\n", sizes[i].name);
          return 2;
        }
        json_object_set_new(body, sizes[i].key, json_integer(v));
        done = true;
      }
    if (done)
      continue;
    switch (o) {
    case 's': sock = optarg; sock_given = true; break;
    case 't': token = optarg; break;
    case 'u': url_opt = optarg; break;
    case 'a': cacert = optarg; break;
    case 'i': json_object_set_new(body, "image", json_string(optarg)); break;
    case 'j': as_json = true; break;
    case 'S': json_object_set_new(body, "q", json_string(optarg)); break;
    case 'F': json_object_set_new(body, "failed", json_true()); break;
    case 'k':
      if (add_ssh_key(body, optarg))
        return 2;
      break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  return -1;
}

int main(int argc, char **argv)
{
  token = getenv("SANDHOST_TOKEN");
  _cleanup_json_ json_t *body = json_object();
  /* Options up to COMMAND; then COMMAND's own argv (exec's, or options
   * anywhere among the arguments of the others). */
  int o = global_opts(argc, argv, "+s:t:h", body);
  if (o >= 0)
    return o;
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  argc -= optind;
  argv += optind;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (strcmp(argv[0], "exec") == 0 || strcmp(argv[0], "audit") == 0) {
    /* (exec reads --socket, --token and --url of its own first) */
    o = argv[0][0] == 'e' ? exec_main(argc, argv) : (o = endpoint_setup()) >= 0 ? o : audit_main(argc, argv);
    curl_global_cleanup();
    return o;
  }
  if ((o = global_opts(argc, argv, "s:t:h", body)) >= 0 || (o = endpoint_setup()) >= 0)
    return o;
  const char *cmd = argv[0], *arg = optind < argc ? argv[optind] : NULL;
  char **rest = argv + optind + 1;
  int n_rest = argc - optind - 1;
  json_t *r = NULL;
  long st;
  int rc = 0;
  char path[128];
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
    if (strcmp(cmd, lists[i].cmd) == 0) {
      st = call("GET", lists[i].path, NULL, &r);
      if (failed(st, r))
        rc = 1;
      else if (as_json)
        print_json(r);
      else
        table(json_object_get(r, lists[i].key), lists[i].cols);
      json_decref(r);
      return rc;
    }
  if (strcmp(cmd, "info") == 0) {
    st = call("GET", "/1.0", NULL, &r);
    rc = failed(st, r);
    if (!rc)
      print_json(r);
  } else if (strcmp(cmd, "audit-log") == 0) {
    _cleanup_free_ char *q = audit_query(arg, body);
    st = q ? call("GET", q, NULL, &r) : 0;
    rc = !q || failed(st, r);
    if (!rc)
      print_json(r);
  } else if (strcmp(cmd, "create") == 0 && arg) {
    json_object_set_new(body, "name", json_string(arg));
    st = call("POST", "/1.0/containers", body, &r);
    rc = (st == 400 && ssh_key_failed(r)) || failed(st, r) ? 1 : follow(r);
    if (!rc && !as_json)
      printf("%s created\n", arg);
  } else if ((strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0) && arg) {
    json_int_t id = container_id(arg);
    if (id <= 0)
      return 1;
    json_object_set_new(body, "action", json_string(cmd));
    snprintf(path, sizeof path, "/1.0/containers/%" JSON_INTEGER_FORMAT "/state", id);
    st = call("PUT", path, body, &r);
    rc = failed(st, r) ? 1 : follow(r);
  } else if ((strcmp(cmd, "delete") == 0 || strcmp(cmd, "show") == 0) && arg) {
    json_int_t id = container_id(arg);
    if (id <= 0)
      return 1;
    snprintf(path, sizeof path, "/1.0/containers/%" JSON_INTEGER_FORMAT, id);
    st = call(cmd[0] == 'd' ? "DELETE" : "GET", path, NULL, &r);
    rc = failed(st, r) ? 1 : cmd[0] == 'd' ? follow(r) : (print_json(r), 0);
  } else if (strcmp(cmd, "api") == 0 && arg && n_rest >= 1) {
    const char *p = rest[0];
    json_error_t je;
    _cleanup_json_ json_t *b = NULL;
    if (n_rest >= 2 && !(b = json_loads(rest[1], 0, &je))) {
      fprintf(stderr, "sandhost: the JSON body: line %d, column %d: %s\n", je.line, je.column, je.text);
      return 2;
    }
    st = call(arg, p, b, &r);
    rc = failed(st, r);
    if (r && !rc)
      print_json(r);
  } else {
    usage(stderr);
    return 2;
  }
  json_decref(r);
  curl_global_cleanup();
  return rc;
}
