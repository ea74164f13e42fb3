/* The REST API, independent of the HTTP library: a call comes in as method,
 * path, parsed body and principal, and goes out as a status and a JSON
 * document.  hostd/http.c carries calls over HTTP/1.1 (h2o); tests call
 * hd_api_handle directly too. */
#pragma once

#include <jansson.h>
#include <stdio.h>
#include <sqlite3.h>
#include "auth.h"

struct hd_call {
  /* in */
  sqlite3 *db;
  struct hd_principal who;
  const char *method;        /* "GET" */
  const char *path;          /* "/1.0/tenants/3", without the query */
  const char *query;         /* after '?', or NULL */
  json_t *body;              /* NULL when the request had none */
  const char *raw;           /* or an application/octet-stream body, as it came */
  size_t raw_len;            /* (routes that take one: a file's bytes) */
  const char *if_match;      /* the If-Match header, or NULL */
  const char *if_none_match; /* the If-None-Match header (lists), or NULL */
  const char *source;        /* where from, for the audit log */
  const char *csrf;          /* the X-CSRF-Token header, or NULL */
  int refuse_status;         /* the transport refused the request (bad body): */
  const char *refuse_msg;    /* answered and audited as such */
  /* out */
  int status;
  json_t *result;            /* owned by the call; an error document on failure */
  char *text;                /* or a text body (malloc'd, owned by the call)... */
  size_t text_len;           /* ...of this many bytes (0: up to its NUL; binary bodies set it)... */
  const char *content_type;  /* ...of this type */
  char detail[320];          /* what a change did, for the audit log (an error's message wins) */
  char etag[64];             /* set for single objects and lists */
  char location[96];         /* set for 201 Created and 202 Accepted */
  bool kick;                 /* new operations: wake the worker after commit */
  int64_t wait_op;           /* /wait: answer once this operation is done... */
  int wait_ms;               /* ...or this much later */
  int64_t stream_since;      /* /events?stream=1: follow events after this id (-1: from 0) */
  struct {                   /* /exec: the transport upgrades to a websocket and runs */
    int64_t container;       /* this container's */
    char command[1024];      /* command, through /bin/sh -c ("": a login shell) */
    bool tty;
    unsigned cols, rows;
  } exec;
  int64_t audit_tenant;      /* the tenant the object touched belongs to */
  bool set_session;          /* send the Sandhost-Session header (login, logout)... */
  char session_out[64];      /* ...with this value ("": the session is gone) */
  int retry_after;           /* > 0: the Retry-After header (a locked account) */
  /* Run after the call's transaction committed or rolled back: what must
   * last even when the call fails (a failed login counts). */
  void (*finally)(struct hd_call *c);
  int64_t failed_user;       /* (login: whose failure counts; -1: an unknown name's) */
  struct {                   /* login: the password checked before the transaction */
    bool checked, ok;        /* (the scrypt holds no write lock) against */
    char hash[160];          /* this stored hash ("": an unknown name) */
  } login;
  /* routing, filled by hd_api_handle */
  int64_t ids[4];
  int n_ids;
};

/* Route, authorize, run and audit one call.  Always fills status and result. */
void hd_api_handle(struct hd_call *c);
/* The one error shape: {"error": {"status", "code", "message", "field"?}}. */
void hd_api_fail(struct hd_call *c, int status, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* The same with a code of its own instead of the status's ("csrf"). */
void hd_api_fail_code(struct hd_call *c, int status, const char *code, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 5, 6)));
/* The stable code for an HTTP status ("not_found"). */
const char *hd_api_code(int status);
void hd_call_clear(struct hd_call *c);
/* Record a request in the audit log on its own (exec, which is a GET that
 * changes things). */
void hd_api_audit(struct hd_call *c);
/* The next key=value pair of a query string (*q moves past it; NULL or ""
 * at the end: false).  The key is cut to klen - 1 bytes; the value, with
 * %XX and '+' decoded, to vlen - 1, and *len says its decoded length (a
 * value with a NUL or cut short has strlen(val) != *len). */
bool hd_query_next(const char **q, char *key, size_t klen, char *val, size_t vlen, size_t *len);
/* Print the route table, "METHOD /1.0/path/{id}" a line (checked against
 * docs/api.yaml by a test). */
void hd_api_routes(FILE *f);
/* The same table, one route at a time ("#" stands for an id). */
size_t hd_api_route_count(void);
void hd_api_route_at(size_t i, const char **method, const char **pattern);
