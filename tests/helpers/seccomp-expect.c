/* seccomp-expect: what a seccomp profile says about the probe's syscall
 * checks, read from the profile's JSON the way sbx reads it (rules with
 * their argument conditions, conditions on one argument as alternatives,
 * an errnoRet of EPERM when none is given, the default action otherwise).
 *
 *   seccomp-expect PROFILE.json REPORT.json
 *       One line per check of a probe report's "syscalls" section:
 *       "CHECK<TAB>EXPECTED<TAB>GOT<TAB>WHY", EXPECTED being "allowed", an
 *       errno name or "SIGSYS" (a kill), WHY the deciding rule's comment or
 *       "defaultAction".  A check the profile cannot decide (a rule reads an
 *       argument the probe does not report, or two rules disagree) reads
 *       "CHECK<TAB>error<TAB>GOT<TAB>WHY".  The test compares the columns.
 *   seccomp-expect --coverage PROFILE.json...
 *       TAP: every syscall every deny rule names has a check in the probe's
 *       table that the rule decides: on this machine's own entry point, or
 *       for a call only its 32-bit x86 entry point has, there.
 *
 * Exit status: 0 when it ran (and, for --coverage, everything is covered),
 * 1 otherwise, 2 on a usage error. */
#include "result.h"
#include "syscalls.h"
#include "tap.h"

#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One call as the filter sees it. */
struct call {
  const char *name, *syscall, *arch;
  unsigned nargs;
  bool known[6];
  uint64_t args[6];
};

struct verdict {
  const char *expected; /* "allowed", "EPERM", ..., "SIGSYS", or "error" */
  const char *why;
};

enum match { NO_MATCH, MATCH, UNKNOWN_ARG };

static bool names_has(json_t *names, const char *name)
{
  size_t i;
  json_t *v;
  json_array_foreach(names, i, v)
    if (json_is_string(v) && !strcmp(json_string_value(v), name))
      return true;
  return false;
}

static bool compare(const char *op, uint64_t arg, uint64_t value, uint64_t two, bool *ok)
{
  *ok = true;
  if (!strcmp(op, "SCMP_CMP_MASKED_EQ")) return (arg & value) == two;
  if (!strcmp(op, "SCMP_CMP_EQ")) return arg == value;
  if (!strcmp(op, "SCMP_CMP_NE")) return arg != value;
  if (!strcmp(op, "SCMP_CMP_LT")) return arg < value;
  if (!strcmp(op, "SCMP_CMP_LE")) return arg <= value;
  if (!strcmp(op, "SCMP_CMP_GT")) return arg > value;
  if (!strcmp(op, "SCMP_CMP_GE")) return arg >= value;
  *ok = false;
  return false;
}

/* Conditions on different arguments must all hold; several on one
 * argument are alternatives (runc's reading, and sbx's). */
static enum match rule_matches(json_t *rule, const struct call *c)
{
  json_t *args = json_object_get(rule, "args");
  for (unsigned idx = 0; idx < 6; idx++) {
    bool any = false, hit = false;
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
      if (json_integer_value(json_object_get(a, "index")) != (json_int_t) idx)
        continue;
      any = true;
      if (idx >= c->nargs || !c->known[idx])
        return UNKNOWN_ARG;
      bool ok;
      uint64_t value = (uint64_t) json_integer_value(json_object_get(a, "value"));
      uint64_t two = (uint64_t) json_integer_value(json_object_get(a, "valueTwo"));
      const char *op = json_string_value(json_object_get(a, "op"));
      hit |= compare(op ? op : "", c->args[idx], value, two, &ok);
      if (!ok)
        return UNKNOWN_ARG;
    }
    if (any && !hit)
      return NO_MATCH;
  }
  return MATCH;
}

/* What an action does to the call: "allowed", an errno name, "SIGSYS". */
static const char *action_result(json_t *obj, const char *key, const char *errno_key)
{
  const char *a = json_string_value(json_object_get(obj, key));
  if (!a)
    return "error";
  if (!strcmp(a, "SCMP_ACT_ALLOW") || !strcmp(a, "SCMP_ACT_LOG"))
    return "allowed";
  if (!strncmp(a, "SCMP_ACT_KILL", 13) || !strcmp(a, "SCMP_ACT_TRAP"))
    return "SIGSYS";
  if (!strcmp(a, "SCMP_ACT_ERRNO")) {
    json_t *e = json_object_get(obj, errno_key);
    return probe_errno_name(e ? (int) json_integer_value(e) : EPERM);
  }
  return "error";
}

static struct verdict decide(json_t *profile, const struct call *c)
{
  struct verdict v = { NULL, NULL };
  size_t i;
  json_t *rule;
  json_array_foreach(json_object_get(profile, "syscalls"), i, rule) {
    if (!names_has(json_object_get(rule, "names"), c->syscall))
      continue;
    enum match m = rule_matches(rule, c);
    if (m == UNKNOWN_ARG)
      return (struct verdict) { "error", "a rule reads an argument the probe does not report" };
    if (m == NO_MATCH)
      continue;
    /* Copied: probe_errno_name's fallback buffer is static. */
    static char buf[2][32];
    static int k;
    const char *r = action_result(rule, "action", "errnoRet");
    snprintf(buf[k], sizeof buf[k], "%s", r);
    if (v.expected && strcmp(v.expected, buf[k]) != 0)
      return (struct verdict) { "error", "two rules disagree" };
    v.expected = buf[k];
    k ^= 1;
    const char *comment = json_string_value(json_object_get(rule, "comment"));
    v.why = comment ? comment : "a rule without a comment";
  }
  if (!v.expected)
    v = (struct verdict) { action_result(profile, "defaultAction", "defaultErrnoRet"), "defaultAction" };
  return v;
}

static json_t *load(const char *path)
{
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j)
    fprintf(stderr, "seccomp-expect: %s:%d: %s\n", path, je.line, je.text);
  return j;
}

static int report_mode(const char *profile_path, const char *report_path)
{
  json_t *profile = load(profile_path), *report = load(report_path);
  json_t *checks = report ? json_object_get(report, "syscalls") : NULL;
  if (!profile || !json_is_array(checks)) {
    if (report && !checks)
      fprintf(stderr, "seccomp-expect: %s has no syscalls section\n", report_path);
    return 1;
  }
  size_t i;
  json_t *o;
  json_array_foreach(checks, i, o) {
    struct call c = { json_string_value(json_object_get(o, "name")),
                      json_string_value(json_object_get(o, "syscall")),
                      json_string_value(json_object_get(o, "arch")) };
    json_t *args = json_object_get(o, "args");
    c.nargs = (unsigned) json_array_size(args) > 6 ? 6 : (unsigned) json_array_size(args);
    for (unsigned k = 0; k < c.nargs; k++) {
      json_t *a = json_array_get(args, k);
      c.known[k] = json_is_integer(a);
      c.args[k] = c.known[k] ? (uint64_t) json_integer_value(a) : 0;
    }
    const char *got = json_string_value(json_object_get(o, "result"));
    if (!c.name || !c.syscall || !got) {
      fprintf(stderr, "seccomp-expect: syscalls[%zu] lacks name, syscall or result\n", i);
      return 1;
    }
    struct verdict v = decide(profile, &c);
    printf("%s\t%s\t%s\t%s\n", c.name, v.expected, got, v.why);
  }
  json_decref(profile);
  json_decref(report);
  return 0;
}

/* ---- coverage ---------------------------------------------------------------- */

static struct call from_table(const struct probe_syscall_check *t)
{
  struct call c = { t->name, t->syscall, probe_arch_name(t->arch), t->nargs };
  for (unsigned k = 0; k < t->nargs && k < 6; k++) {
    c.known[k] = t->known & (1u << k);
    /* The filter sees a 32-bit call's arguments zero-extended. */
    c.args[k] = t->arch == PROBE_ARCH_X86 ? (uint32_t) t->args[k] : (uint64_t) t->args[k];
  }
  return c;
}

/* The entry point a name is checked on, or NULL when this machine runs it
 * on none the probe has (an ARM-only call on x86_64). */
static const char *arch_for(const char *name)
{
  uint32_t native = seccomp_arch_native();
  if (seccomp_syscall_resolve_name_arch(native, name) >= 0)
    return probe_arch_name(PROBE_ARCH_NATIVE);
  if (native == SCMP_ARCH_X86_64 && seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name) >= 0)
    return probe_arch_name(PROBE_ARCH_X86);
  return NULL;
}

static void coverage(const char *path)
{
  json_t *profile = load(path);
  if (!profile) {
    ok(false, "%s loads", path);
    return;
  }
  const char *def = action_result(profile, "defaultAction", "defaultErrnoRet");
  size_t i;
  json_t *rule;
  json_array_foreach(json_object_get(profile, "syscalls"), i, rule) {
    const char *comment = json_string_value(json_object_get(rule, "comment"));
    const char *action = action_result(rule, "action", "errnoRet");
    if (!strcmp(action, "allowed"))
      continue;
    ok(comment && *comment && !strchr(comment, '\n'), "%s: the deny rule syscalls[%zu] has a one-line reason",
        path, i);
    size_t k;
    json_t *n;
    json_array_foreach(json_object_get(rule, "names"), k, n) {
      const char *name = json_string_value(n);
      const char *arch = arch_for(name);
      if (!arch) {
        printf("# %s: %s has no entry point on this machine\n", path, name);
        continue;
      }
      const char *found = NULL;
      for (size_t t = 0; t < probe_syscall_count && !found; t++) {
        struct call c = from_table(&probe_syscall_checks[t]);
        if (!strcmp(c.syscall, name) && !strcmp(c.arch, arch) && rule_matches(rule, &c) == MATCH)
          found = c.name;
      }
      ok(found != NULL, "%s: a probe check meets syscalls[%zu] for %s (%s, %s)", path, i, name, arch,
          action);
      if (found)
        printf("#   by %s%s\n", found, !strcmp(action, def) ? " (the rule equals the default action)" : "");
    }
  }
  json_decref(profile);
}

int main(int argc, char **argv)
{
  if (argc >= 3 && !strcmp(argv[1], "--coverage")) {
    for (int i = 2; i < argc; i++)
      coverage(argv[i]);
    return tap_done();
  }
  if (argc == 3)
    return report_mode(argv[1], argv[2]);
  fprintf(stderr, "usage: seccomp-expect PROFILE.json REPORT.json | --coverage PROFILE.json...\n");
  return 2;
}
