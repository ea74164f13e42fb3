/* Usage for billing and graphs, from samples put straight in the table:
 * counters add their increases (a restart's reset counts from zero), the
 * increase into a period or bucket counts from the sample before it, and
 * step cuts the period into buckets. */
#include "tap.h"
#include "api-call.h"
#include "db.h"

#include <stdio.h>
#include <string.h>

static sqlite3 *db;

static void sample(int64_t container, int64_t at, int64_t cpu_usec, int64_t mem, int64_t net_in)
{
  hd_db_exec(db, NULL, "INSERT INTO usage_samples VALUES (?, 1, ?, ?, ?, 4096, ?, 0)", "iiiii", container, at, cpu_usec, mem, net_in);
}

static json_t *row(json_t *r, size_t i)
{
  return json_array_get(json_object_get(r, "usage"), i);
}

static long long num(json_t *o, const char *k)
{
  json_t *v = json_object_get(o, k);
  return json_is_real(v) ? (long long) (json_real_value(v) * 1000 + 0.5) : json_integer_value(v);
}

int main(void)
{
  sh_error e = {0};
  if (hd_db_open(":memory:", &db, &e) < 0)
    return 1;
  struct hd_principal root = { .role = HD_ROLE_ADMIN, .name = "root" };
  /* Container 7: a sample every 10 s from t=1000, cpu +1 s and net +100 each,
   * the counters reset (a restart) at t=1050. */
  int64_t cpu = 0, net = 0;
  for (int64_t t = 1000; t <= 1090; t += 10) {
    if (t == 1050)
      cpu = net = 0;
    cpu += 1000000, net += 100;
    sample(7, t, cpu, t, net);
  }
  sample(8, 1000, 5000000, 1, 0);
  json_t *r = NULL;
  is_int(api_call(db, &root, "GET", "/1.0/usage?from=1000&to=1090", NULL, NULL, NULL, &r), 200, "usage over the whole period");
  json_t *a = row(r, 0);
  is_int(num(a, "container_id"), 7, "container 7 first");
  is_int(num(a, "samples"), 10, "10 samples");
  is_int(num(a, "cpu_seconds"), 9000, "9 s of cpu (the first sample has nothing before it; the reset counts from 0)");
  is_int(num(a, "net_in_bytes"), 900, "900 bytes in");
  is_int(num(a, "memory_max_bytes"), 1090, "memory's maximum");
  ok(!json_object_get(a, "bucket_start"), "no bucket without step");
  json_decref(r);

  is_int(api_call(db, &root, "GET", "/1.0/usage?from=1030&to=1090", NULL, NULL, NULL, &r), 200, "a later period");
  is_int(num(row(r, 0), "cpu_seconds"), 7000, "counts the increase into its first sample from the sample before it (7 s, not 6)");
  json_decref(r);

  is_int(api_call(db, &root, "GET", "/1.0/usage?from=1000&to=1099&step=30&container=7", NULL, NULL, NULL, &r), 200,
         "step=30 for one container");
  is_int((long long) json_array_size(json_object_get(r, "usage")), 4, "4 buckets (1000, 1030, 1060, 1090)");
  long long want_start[] = { 1000, 1030, 1060, 1090 }, want_cpu[] = { 2000, 3000, 3000, 1000 }, want_n[] = { 3, 3, 3, 1 };
  for (size_t i = 0; i < 4; i++) {
    is_int(num(row(r, i), "bucket_start"), want_start[i], "bucket %zu starts at %lld", i, want_start[i]);
    is_int(num(row(r, i), "samples"), want_n[i], "with %lld samples", want_n[i]);
    is_int(num(row(r, i), "cpu_seconds"), want_cpu[i], "and %lld ms of cpu", want_cpu[i]);
  }
  json_decref(r);
  is_int(api_call(db, &root, "GET", "/1.0/usage?from=1000&to=1099&step=30&format=csv", NULL, NULL, NULL, &r), 200, "as CSV");
  is_int(api_call(db, &root, "GET", "/1.0/usage?from=1000&step=30", NULL, NULL, NULL, &r), 400, "step without to: 400");
  is_str(api_err_field(r), "to", "naming to");
  json_decref(r);
  is_int(api_call(db, &root, "GET", "/1.0/usage?from=1000&to=2000&step=0", NULL, NULL, NULL, &r), 400, "step 0: 400");
  is_str(api_err_field(r), "step", "naming step");
  json_decref(r);
  struct hd_principal other = { .role = HD_ROLE_OWNER, .tenant_id = 2, .user_id = 9, .name = "other" };
  is_int(api_call(db, &other, "GET", "/1.0/usage?container=7&from=0&to=5000&step=60", NULL, NULL, NULL, &r), 200,
         "another tenant asking for container 7");
  is_int((long long) json_array_size(json_object_get(r, "usage")), 0, "gets no rows");
  json_decref(r);
  sqlite3_close(db);
  return tap_done();
}
