/* sandhost-probe: what a container can really do, seen from inside.
 *
 * A static binary, bind-mounted read-only into a container and run there
 * as the container's root.  It prints one JSON document (docs/policy.md,
 * "The probe", describes every field) and exits 0 whenever it could print
 * it: what it finds is data, not an error.  Exit 2 is a usage error, 1 a
 * document that could not be written. */
#include "sandhost-config.h"
#include "abilities.h"
#include "caps.h"
#include "cgroup.h"
#include "devices.h"
#include "ids.h"
#include "jsonout.h"
#include "kfiles.h"
#include "lsm.h"
#include "mounts.h"
#include "net.h"
#include "seccomp-mode.h"
#include "syscalls.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TARGETS 64

struct run {
  struct probe_target targets[MAX_TARGETS];
  size_t n_targets;
  unsigned timeout_ms;
};

static void add_ids(json_t *root, const struct run *r) { probe_set(root, "ids", probe_section_ids()); }
static void add_caps(json_t *root, const struct run *r)
{
  probe_set(root, "capabilities", probe_section_capabilities());
}
static void add_seccomp(json_t *root, const struct run *r) { probe_section_seccomp(root); }
static void add_syscalls(json_t *root, const struct run *r)
{
  probe_set(root, "syscalls", probe_section_syscalls());
}
static void add_lsm(json_t *root, const struct run *r) { probe_set(root, "lsm", probe_section_lsm()); }
static void add_mounts(json_t *root, const struct run *r) { probe_set(root, "mounts", probe_section_mounts()); }
static void add_devices(json_t *root, const struct run *r)
{
  probe_set(root, "devices", probe_section_devices());
}
static void add_cgroup(json_t *root, const struct run *r) { probe_set(root, "cgroup", probe_section_cgroup()); }
static void add_kernel(json_t *root, const struct run *r)
{
  probe_set(root, "kernel_files", probe_section_kernel_files());
}
static void add_network(json_t *root, const struct run *r)
{
  probe_set(root, "network", probe_section_network(r->targets, r->n_targets, r->timeout_ms));
}
static void add_abilities(json_t *root, const struct run *r)
{
  probe_set(root, "abilities", probe_section_abilities());
}

/* In report order; --only names these. */
static const struct section {
  const char *name;
  void (*add)(json_t *root, const struct run *r);
} sections[] = {
  {"ids", add_ids},         {"capabilities", add_caps}, {"seccomp", add_seccomp},
  {"syscalls", add_syscalls}, {"lsm", add_lsm},        {"mounts", add_mounts},
  {"devices", add_devices}, {"cgroup", add_cgroup},    {"kernel_files", add_kernel},
  {"network", add_network}, {"abilities", add_abilities},
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static int usage(FILE *f)
{
  fputs("usage: sandhost-probe [--only SECTION[,SECTION...]] [--connect tcp|udp:HOST:PORT]...\n"
        "                      [--timeout MS] [--pretty]\n"
        "sections: ids capabilities seccomp syscalls lsm mounts devices cgroup kernel_files\n"
        "          network abilities (all by default)\n"
        "HOST is a numeric IPv4 address or an IPv6 address in brackets.\n",
        f);
  return f == stderr ? 2 : 0;
}

/* Marks the sections named in a comma-separated list; false on an unknown name. */
static bool select_sections(const char *list, bool *on)
{
  char *dup = strdup(list), *save = NULL;
  bool ok = dup != NULL;
  for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t && ok; t = strtok_r(NULL, ",", &save)) {
    ok = false;
    for (size_t i = 0; i < N_SECTIONS; i++)
      if (!strcmp(sections[i].name, t))
        on[i] = ok = true;
    if (!ok)
      fprintf(stderr, "sandhost-probe: unknown section '%s'\n", t);
  }
  free(dup);
  return ok;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"only", required_argument, NULL, 'o'}, {"connect", required_argument, NULL, 'c'},
    {"timeout", required_argument, NULL, 't'}, {"pretty", no_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
  };
  static struct run run = { .timeout_ms = DEFAULT_TIMEOUT_MS };
  bool on[N_SECTIONS] = { false }, only = false, pretty = false;
  int c;

  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'o':
      if (!select_sections(optarg, on))
        return 2;
      only = true;
      break;
    case 'c':
      if (run.n_targets == MAX_TARGETS || !probe_parse_target(optarg, &run.targets[run.n_targets])) {
        fprintf(stderr, "sandhost-probe: bad --connect '%s' (tcp|udp:HOST:PORT, at most %d)\n", optarg,
                MAX_TARGETS);
        return 2;
      }
      run.n_targets++;
      break;
    case 't': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (end == optarg || *end || v < 1 || v > 60000) {
        fprintf(stderr, "sandhost-probe: --timeout takes 1 to 60000 milliseconds\n");
        return 2;
      }
      run.timeout_ms = (unsigned) v;
      break;
    }
    case 'p': pretty = true; break;
    case 'h': return usage(stdout);
    case 'V': printf("sandhost-probe %s\n", SANDHOST_VERSION); return 0;
    default: return usage(stderr);
    }
  }
  if (optind != argc)
    return usage(stderr);

  json_t *root = json_object(), *ran = json_array();
  json_t *meta = json_pack("{s:s, s:s, s:I, s:I, s:o}", "version", SANDHOST_VERSION, "arch",
                           probe_arch_name(PROBE_ARCH_NATIVE), "pid", (json_int_t) getpid(),
                           "timeout_ms", (json_int_t) run.timeout_ms, "sections", ran);
  if (!root || !meta) {
    fprintf(stderr, "sandhost-probe: out of memory\n");
    return 1;
  }
  struct utsname u;
  if (uname(&u) == 0)
    probe_set(meta, "kernel", probe_json_str(u.release));
  probe_set(root, "probe", meta);
  for (size_t i = 0; i < N_SECTIONS; i++) {
    if (only && !on[i])
      continue;
    probe_append(ran, json_string(sections[i].name));
    sections[i].add(root, &run);
  }

  char *text = json_dumps(root, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER : JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (!text || puts(text) == EOF || fflush(stdout) == EOF) {
    fprintf(stderr, "sandhost-probe: could not write the report\n");
    return 1;
  }
  free(text);
  return 0;
}
