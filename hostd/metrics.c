/* Prometheus exposition (text format 0.0.4) from the database and the
 * containers' cgroups. */
#include "metrics.h"

#include "cgroup.h"
#include "cleanup.h"
#include "db.h"
#include "storage.h"
#include "tenant-cg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The metric families, in the order they are written. */
static const struct family {
  const char *name, *type, *help;
} families[] = {
  { "sandhost_container_state", "gauge", "1 for the container's current state" },
  { "sandhost_container_cpu_seconds_total", "counter", "CPU time of the container's cgroup" },
  { "sandhost_container_memory_bytes", "gauge", "memory in use by the container's cgroup" },
  { "sandhost_container_pids", "gauge", "tasks in the container's cgroup" },
  { "sandhost_container_io_read_bytes_total", "counter", "bytes read from block devices" },
  { "sandhost_container_io_write_bytes_total", "counter", "bytes written to block devices" },
  { "sandhost_container_restarts", "gauge", "restarts in a row by the restart policy" },
  { "sandhost_tenant_containers", "gauge", "containers of the tenant" },
  { "sandhost_tenant_memory_bytes", "gauge", "memory in use by the tenant's running containers" },
  { "sandhost_tenant_cpu_seconds_total", "counter", "CPU time of the tenant's running containers" },
  { "sandhost_operations", "gauge", "operations by status" },
  { "sandhost_host_cpus", "gauge", "CPUs online on the host" },
  { "sandhost_host_memory_bytes", "gauge", "the host's memory: total, and available to new work" },
  { "sandhost_host_load1", "gauge", "the host's load average over a minute" },
  { "sandhost_pool_bytes", "gauge", "the storage pool: size, used, available" },
  { "sandhost_pool_watermark_ratio", "gauge", "used share of the pool above which provisioning is refused" },
  { "sandhost_up", "gauge", "1: sandhostd answers" },
};
enum {
  F_STATE, F_CPU, F_MEM, F_PIDS, F_IOR, F_IOW, F_RESTARTS, F_T_COUNT, F_T_MEM, F_T_CPU, F_OPS,
  F_H_CPUS, F_H_MEM, F_H_LOAD, F_POOL, F_POOL_WM, F_UP, N_F
};

static struct hd_host *host;

void hd_metrics_init(struct hd_host *h)
{
  host = h;
}

struct out {
  bool skip[N_F];     /* families not asked for (?name=) */
  char *lines[N_F];
  size_t len[N_F];
  FILE *f[N_F];
};

static void put(struct out *o, int fam, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(struct out *o, int fam, const char *fmt, ...)
{
  if (o->skip[fam])
    return;
  if (!o->f[fam])
    o->f[fam] = open_memstream(&o->lines[fam], &o->len[fam]);
  va_list ap;
  va_start(ap, fmt);
  fputs(families[fam].name, o->f[fam]);
  vfprintf(o->f[fam], fmt, ap);
  fputc('\n', o->f[fam]);
  va_end(ap);
}

/* What the host has, for the provider's capacity page: cpus, memory and
 * load from /proc, the pool's space from the storage layer. */
static void host_capacity(struct out *o)
{
  put(o, F_H_CPUS, " %ld", sysconf(_SC_NPROCESSORS_ONLN));
  _cleanup_fclose_ FILE *m = fopen("/proc/meminfo", "re");
  char line[128];
  unsigned long long kb;
  while (m && fgets(line, sizeof line, m)) {
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
      put(o, F_H_MEM, "{kind=\"total\"} %llu", kb * 1024);
    else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
      put(o, F_H_MEM, "{kind=\"available\"} %llu", kb * 1024);
  }
  double load[1];
  if (getloadavg(load, 1) == 1)
    put(o, F_H_LOAD, " %.2f", load[0]);
  struct sbx_pool_space sp;
  sh_error e = {0};
  if (host && host->pool && sbx_pool_space(host->pool, &sp, &e) == 0) {
    put(o, F_POOL, "{kind=\"size\"} %" PRIu64, sp.size);
    put(o, F_POOL, "{kind=\"used\"} %" PRIu64, sp.used);
    put(o, F_POOL, "{kind=\"available\"} %" PRIu64, sp.avail);
    put(o, F_POOL_WM, " %.2f", sp.watermark / 100.0);
  }
  sh_error_clear(&e);
}

struct tenant_sum {
  int64_t id, containers;
  uint64_t memory, cpu_usec;
};

/* ?name=FAMILY (repeated): only those families, as a page that shows a
 * few of them asks (the container states alone are 7 lines a container). */
static bool families_asked(struct hd_call *c, struct out *o)
{
  char key[16], val[64];
  size_t len;
  bool any = false, asked[N_F] = { false };
  for (const char *q = c->query; hd_query_next(&q, key, sizeof key, val, sizeof val, &len);) {
    if (strcmp(key, "name") != 0) {
      hd_api_fail(c, 400, key, "%s: unknown query parameter (name=FAMILY, repeated)", key);
      return false;
    }
    int i = 0;
    while (i < N_F && strcmp(families[i].name, val) != 0)
      i++;
    if (i == N_F) {
      hd_api_fail(c, 400, "name", "name: there is no metric family \"%.60s\"", val);
      return false;
    }
    asked[i] = any = true;
  }
  for (int i = 0; any && i < N_F; i++)
    o->skip[i] = !asked[i];
  return true;
}

void hd_metrics(struct hd_call *c)
{
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  struct out o = {0};
  if (!families_asked(c, &o))
    return;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "SELECT c.id, c.name, c.tenant_id, t.name, c.state, c.restarts FROM containers c JOIN tenants t ON t.id = c.tenant_id"
    " WHERE ? OR c.tenant_id = ? ORDER BY c.tenant_id, c.id", "ii", (int64_t) everyone, c->who.tenant_id);
  struct tenant_sum *ts = NULL;
  size_t n_ts = 0;
  static const char *const states[] = { "creating", "stopped", "starting", "running", "stopping", "deleting", "error" };
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0), tid = sqlite3_column_int64(s, 2);
    const char *state = (const char *) sqlite3_column_text(s, 4);
    char labels[256];
    /* Names are [a-z0-9._-]: nothing to escape in a label value. */
    snprintf(labels, sizeof labels, "container=\"%s\",id=\"%" PRId64 "\",tenant=\"%s\"", sqlite3_column_text(s, 1), id,
             sqlite3_column_text(s, 3));
    if (!n_ts || ts[n_ts - 1].id != tid) {
      ts = realloc(ts, (n_ts + 1) * sizeof *ts);
      ts[n_ts++] = (struct tenant_sum){ .id = tid };
    }
    struct tenant_sum *t = &ts[n_ts - 1];
    t->containers++;
    for (size_t i = 0; i < SH_ARRAY_SIZE(states); i++)
      put(&o, F_STATE, "{%s,state=\"%s\"} %d", labels, states[i], strcmp(states[i], state) == 0);
    put(&o, F_RESTARTS, "{%s} %" PRId64, labels, (int64_t) sqlite3_column_int64(s, 5));
    if (strcmp(state, "running") != 0)
      continue;
    char path[64];
    hd_cgroup_path(tid, id, path, sizeof path);
    struct sbx_config cfg = { .cgroups_path = path };
    struct sbx_cgroup cg;
    struct sbx_cg_stats st;
    if (sbx_cgroup_resolve(&cfg, path, &cg, NULL) == 0 && sbx_cgroup_stats(&cg, &st, NULL) == 0) {
      put(&o, F_CPU, "{%s} %.6f", labels, (double) st.cpu_usec / 1e6);
      put(&o, F_MEM, "{%s} %" PRIu64, labels, st.memory_bytes);
      put(&o, F_PIDS, "{%s} %" PRIu64, labels, st.pids);
      put(&o, F_IOR, "{%s} %" PRIu64, labels, st.io_read_bytes);
      put(&o, F_IOW, "{%s} %" PRIu64, labels, st.io_write_bytes);
      t->memory += st.memory_bytes;
      t->cpu_usec += st.cpu_usec;
    }
    sbx_cgroup_clear(&cg);
  }
  for (size_t i = 0; i < n_ts; i++) {
    put(&o, F_T_COUNT, "{tenant_id=\"%" PRId64 "\"} %" PRId64, ts[i].id, ts[i].containers);
    put(&o, F_T_MEM, "{tenant_id=\"%" PRId64 "\"} %" PRIu64, ts[i].id, ts[i].memory);
    put(&o, F_T_CPU, "{tenant_id=\"%" PRId64 "\"} %.6f", ts[i].id, (double) ts[i].cpu_usec / 1e6);
  }
  free(ts);
  if (everyone) {
    _cleanup_stmt_ sqlite3_stmt *ops = hd_db_query(c->db, NULL, "SELECT status, count(*) FROM operations GROUP BY status", NULL);
    while (ops && sqlite3_step(ops) == SQLITE_ROW)
      put(&o, F_OPS, "{status=\"%s\"} %d", sqlite3_column_text(ops, 0), sqlite3_column_int(ops, 1));
    host_capacity(&o);
  }
  put(&o, F_UP, " 1");
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  for (int i = 0; i < N_F; i++) {
    if (!o.f[i])
      continue;
    fclose(o.f[i]);
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s", families[i].name, families[i].help, families[i].name, families[i].type,
            o.lines[i]);
    free(o.lines[i]);
  }
  fclose(f);
  c->status = 200;
  c->text = text;
  c->content_type = "text/plain; version=0.0.4";
}
