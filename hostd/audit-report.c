/* The audit report for people: text for a terminal, a self-contained HTML
 * page for a security team (no script, every value escaped), and the API
 * route that serves all three. */
#include "audit.h"

#include "cleanup.h"
#include "db.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *str(json_t *o, const char *k)
{
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
  return (long long) json_integer_value(json_object_get(o, k));
}

/* What both forms start from: the stream the page is written to, and the
 * report's summary, host and time. */
struct page {
  FILE *f;
  char *out;
  size_t len;
  json_t *sum, *host;
  char when[64];
};

static bool page_open(json_t *r, struct page *pg)
{
  *pg = (struct page){ .sum = json_object_get(r, "summary"), .host = json_object_get(r, "host") };
  time_t at = (time_t) num(r, "generated_at");
  strftime(pg->when, sizeof pg->when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&at));
  return (pg->f = open_memstream(&pg->out, &pg->len)) != NULL;
}

/* ---- text ---- */

char *hd_audit_text(json_t *r)
{
  struct page pg;
  if (!page_open(r, &pg))
    return NULL;
  FILE *f = pg.f;
  json_t *sum = pg.sum, *host = pg.host;
  const char *when = pg.when;
  fprintf(f, "Sandhost security audit, %s\n", when);
  fprintf(f, "host: kernel %s, SELinux %s, cgroups %s\n", str(host, "kernel"), str(host, "selinux"), str(host, "cgroups"));
  fprintf(f, "%lld tenant(s), %lld container(s): %lld high, %lld medium, %lld low, %lld info finding(s)\n\n", num(sum, "tenants"),
          num(sum, "containers"), num(sum, "high"), num(sum, "medium"), num(sum, "low"), num(sum, "info"));
  size_t i;
  json_t *fd;
  json_array_foreach(json_object_get(r, "findings"), i, fd)
    fprintf(f, "%-6s %-6s %-12s %s\n       fix: %s\n", str(fd, "severity"), str(fd, "scope"), str(fd, "check"), str(fd, "detail"),
            str(fd, "fix"));
  size_t t, k;
  json_t *tn, *ct;
  json_array_foreach(json_object_get(r, "tenants"), t, tn) {
    fprintf(f, "\ntenant %lld %s (plan %s)\n", num(tn, "id"), str(tn, "name"), str(tn, "plan"));
    json_array_foreach(json_object_get(tn, "containers"), k, ct) {
      json_t *d = json_object_get(ct, "declared"), *a = json_object_get(ct, "actual");
      fprintf(f, "  c%lld %-20s %-8s idmap %s -> %s; seccomp %s -> mode %s; label %s -> %s\n", num(ct, "id"), str(ct, "name"),
              str(ct, "state"), str(d, "idmap"), json_object_size(a) ? str(a, "uid_map") : "-", str(d, "seccomp"),
              json_object_size(a) ? str(a, "seccomp") : "-", str(d, "label")[0] ? str(d, "label") : "(none)",
              json_object_size(a) ? str(a, "label") : "-");
    }
  }
  fclose(f);
  return pg.out;
}

/* ---- HTML ---- */

static void esc(FILE *f, const char *s)
{
  for (; s && *s; s++)
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
}

/* A JSON value as text for a table cell (strings bare, the rest compact). */
static void cell(FILE *f, json_t *v)
{
  if (!v) {
    fputs("&ndash;", f);
    return;
  }
  if (json_is_string(v)) {
    esc(f, json_string_value(v));
    return;
  }
  _cleanup_free_ char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  esc(f, t);
}

char *hd_audit_html(json_t *r)
{
  struct page pg;
  if (!page_open(r, &pg))
    return NULL;
  FILE *f = pg.f;
  json_t *sum = pg.sum, *host = pg.host;
  const char *when = pg.when;
  fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Sandhost security audit</title>\n<style>\n"
        "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}\n"
        "h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}table{border-collapse:collapse;width:100%;margin:.5rem 0}\n"
        "th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}\n"
        "td.v{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}\n"
        ".high{background:#ffebe9}.medium{background:#fff8c5}.low{background:#ddf4ff}.info{background:#f6f8fa}\n"
        ".badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;margin-right:.4rem;font-weight:600}\n"
        "</style></head><body>\n<h1>Sandhost security audit</h1>\n<p>", f);
  esc(f, when);
  fputs(" &middot; kernel ", f);
  esc(f, str(host, "kernel"));
  fputs(" &middot; SELinux ", f);
  esc(f, str(host, "selinux"));
  fputs(" &middot; cgroups ", f);
  esc(f, str(host, "cgroups"));
  fprintf(f, "</p>\n<h2>Summary</h2>\n<p>%lld tenant(s), %lld container(s).</p>\n<p>", num(sum, "tenants"), num(sum, "containers"));
  static const char *const sevs[] = { "high", "medium", "low", "info" };
  for (size_t s = 0; s < 4; s++)
    fprintf(f, "<span class=\"badge %s\">%lld %s</span>", sevs[s], num(sum, sevs[s]), sevs[s]);
  fputs("</p>\n<h2>Findings</h2>\n", f);
  json_t *finds = json_object_get(r, "findings");
  if (!json_array_size(finds))
    fputs("<p>None: everything declared is in force.</p>\n", f);
  else
    fputs("<table><tr><th>severity</th><th>where</th><th>check</th><th>what</th><th>fix</th></tr>\n", f);
  /* Most severe first. */
  for (size_t s = 0; s < 4; s++) {
    size_t i;
    json_t *fd;
    json_array_foreach(finds, i, fd) {
      if (strcmp(str(fd, "severity"), sevs[s]) != 0)
        continue;
      fprintf(f, "<tr class=\"%s\"><td>%s</td><td>", sevs[s], sevs[s]);
      esc(f, str(fd, "scope"));
      fputs("</td><td>", f);
      esc(f, str(fd, "check"));
      fputs("</td><td>", f);
      esc(f, str(fd, "detail"));
      fputs("</td><td>", f);
      esc(f, str(fd, "fix"));
      fputs("</td></tr>\n", f);
    }
  }
  if (json_array_size(finds))
    fputs("</table>\n", f);
  size_t t, k;
  json_t *tn, *ct;
  json_array_foreach(json_object_get(r, "tenants"), t, tn) {
    fprintf(f, "<h2>Tenant %lld: ", num(tn, "id"));
    esc(f, str(tn, "name"));
    fputs(" <small>(plan ", f);
    esc(f, str(tn, "plan"));
    fputs(")</small></h2>\n", f);
    json_array_foreach(json_object_get(tn, "containers"), k, ct) {
      fprintf(f, "<h3>c%lld ", num(ct, "id"));
      esc(f, str(ct, "name"));
      fputs(" &middot; ", f);
      esc(f, str(ct, "state"));
      fputs("</h3>\n<table><tr><th>declared</th><th>value</th></tr>\n", f);
      const char *key;
      json_t *v;
      json_object_foreach(json_object_get(ct, "declared"), key, v) {
        fputs("<tr><td>", f);
        esc(f, key);
        fputs("</td><td class=\"v\">", f);
        cell(f, v);
        fputs("</td></tr>\n", f);
      }
      fputs("</table>\n", f);
      json_t *act = json_object_get(ct, "actual");
      if (json_object_size(act)) {
        fputs("<table><tr><th>in the kernel</th><th>value</th></tr>\n", f);
        json_object_foreach(act, key, v) {
          fputs("<tr><td>", f);
          esc(f, key);
          fputs("</td><td class=\"v\">", f);
          cell(f, v);
          fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
      }
    }
  }
  fputs("</body></html>\n", f);
  fclose(f);
  return pg.out;
}

/* ---- the route ---- */

void hd_audit_get(struct hd_call *c)
{
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  if (!everyone && c->who.role != HD_ROLE_OWNER) {
    hd_api_fail(c, 403, NULL, "role %s may not read the security audit", hd_role_name(c->who.role));
    return;
  }
  long long tenant = everyone ? 0 : c->who.tenant_id, container = 0;
  const char *format = "json";
  bool probe = false;
  for (const char *q = c->query; q && *q;) {
    size_t n = strcspn(q, "&");
    long long v;
    if (sscanf(q, "tenant=%lld", &v) == 1 && v > 0) {
      if (!everyone && v != c->who.tenant_id) {
        hd_api_fail(c, 404, "tenant", "tenant: there is no tenant %lld", v);
        return;
      }
      tenant = v;
    } else if (sscanf(q, "container=%lld", &v) == 1 && v > 0) {
      container = v;
    } else if (n == 7 && strncmp(q, "probe=1", n) == 0) {
      probe = true;
    } else if (n == 11 && strncmp(q, "format=json", n) == 0) {
      format = "json";
    } else if (n == 11 && strncmp(q, "format=text", n) == 0) {
      format = "text";
    } else if (n == 11 && strncmp(q, "format=html", n) == 0) {
      format = "html";
    } else {
      hd_api_fail(c, 400, NULL, "unknown query parameter \"%.*s\" (tenant, container, probe=1, format=json|text|html)", (int) n, q);
      return;
    }
    q += n + (q[n] == '&');
  }
  if (container) {
    /* A container outside the caller's reach is not there. */
    _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT tenant_id FROM containers WHERE id = ?", "i", (int64_t) container);
    int64_t owner = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    if (!owner || (tenant && owner != tenant)) {
      hd_api_fail(c, 404, "container", "container: there is no container %lld", container);
      return;
    }
  }
  sh_error e = {0};
  json_t *r = hd_audit_report(NULL, c->db, tenant, container, probe, &e);
  if (!r) {
    hd_api_fail(c, 500, NULL, "audit: %s", e.msg);
    return;
  }
  c->status = 200;
  if (strcmp(format, "json") == 0) {
    c->result = r;
    return;
  }
  c->text = strcmp(format, "text") == 0 ? hd_audit_text(r) : hd_audit_html(r);
  c->content_type = strcmp(format, "text") == 0 ? "text/plain; charset=utf-8" : "text/html; charset=utf-8";
  json_decref(r);
  if (!c->text)
    hd_api_fail(c, 500, NULL, "audit: cannot render the report");
}
