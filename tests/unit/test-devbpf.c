/* sbx_cgroup_dev_build: build the cgroup-device program and run it in a tiny
 * interpreter of the opcodes it uses, against struct bpf_cgroup_dev_ctx. */
#include "cgroup.h"
#include "tap.h"

#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define RWM (R | W | M)
#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK

#define RULE(allow, type, major, minor, access) \
  ((struct sbx_dev_rule) { (allow), (type), (major), (minor), (access) })

struct prog {
  struct bpf_insn *insns;
  size_t n;
};

static struct prog build(const struct sbx_dev_rule *rules, size_t n)
{
  struct prog p = {0};
  if (sbx_cgroup_dev_build(rules, n, &p.insns, &p.n) < 0)
    p.insns = NULL;
  return p;
}

/* Runs the program; -1 for anything the interpreter does not know or a bad
 * memory access, -2 for running off the end or too many steps. */
static int64_t run(const struct prog *p, int type, unsigned access, uint32_t major, uint32_t minor)
{
  struct bpf_cgroup_dev_ctx ctx = { .access_type = (access << 16) | (unsigned) type, .major = major,
                                    .minor = minor };
  uint64_t reg[MAX_BPF_REG] = {0};
  const uint64_t ctx_addr = (uint64_t) (uintptr_t) &ctx;
  reg[BPF_REG_1] = ctx_addr;
  size_t pc = 0;
  for (int steps = 0; steps < 4096; steps++) {
    if (pc >= p->n)
      return -2;
    const struct bpf_insn *i = &p->insns[pc++];
    if (i->dst_reg >= MAX_BPF_REG || i->src_reg >= MAX_BPF_REG)
      return -1;
    uint64_t *dst = &reg[i->dst_reg];
    switch (i->code) {
    case BPF_LDX | BPF_W | BPF_MEM: {
      uint32_t v;
      if (reg[i->src_reg] != ctx_addr || i->off < 0 || i->off % 4 ||
          (size_t) i->off + 4 > sizeof ctx)
        return -1;
      memcpy(&v, (const char *) &ctx + i->off, 4);
      *dst = v;
      break;
    }
    case BPF_ALU | BPF_AND | BPF_K:
      *dst = (uint32_t) *dst & (uint32_t) i->imm;
      break;
    case BPF_ALU | BPF_RSH | BPF_K:
      if (i->imm < 0 || i->imm > 31)
        return -1;
      *dst = (uint32_t) *dst >> i->imm;
      break;
    case BPF_ALU64 | BPF_MOV | BPF_K:
      *dst = (uint64_t) (int64_t) i->imm;
      break;
    case BPF_ALU64 | BPF_MOV | BPF_X:
      *dst = reg[i->src_reg];
      break;
    case BPF_JMP | BPF_JNE | BPF_K:
      if (*dst != (uint64_t) (int64_t) i->imm)
        pc += (size_t) (ptrdiff_t) i->off;
      break;
    case BPF_JMP | BPF_EXIT:
      return (int64_t) reg[BPF_REG_0];
    default:
      return -1;
    }
  }
  return -2;
}

/* What the kernel's verifier would insist on: jumps land inside the program,
 * go forward, the last instruction exits, and nothing is unreachable. */
static bool well_formed(const struct prog *p, const char *what)
{
  bool jumps_ok = true, forward = true;
  bool *reach = calloc(p->n ? p->n : 1, sizeof *reach);
  if (!reach)
    return false;
  if (p->n)
    reach[0] = true;
  for (size_t pc = 0; pc < p->n; pc++) {
    const struct bpf_insn *i = &p->insns[pc];
    if (i->code == (BPF_JMP | BPF_EXIT))
      continue;
    if (reach[pc] && pc + 1 < p->n)
      reach[pc + 1] = true;
    if (i->code == (BPF_JMP | BPF_JNE | BPF_K)) {
      long target = (long) pc + 1 + i->off;
      if (target < 0 || (size_t) target >= p->n)
        jumps_ok = false;
      else if (reach[pc])
        reach[target] = true;
      if (i->off < 0)
        forward = false;
    }
  }
  bool all_reached = true;
  for (size_t pc = 0; pc < p->n; pc++)
    all_reached &= reach[pc];
  free(reach);
  bool last_exits = p->n && p->insns[p->n - 1].code == (BPF_JMP | BPF_EXIT);
  ok(jumps_ok, "%s: every jump target lies inside the program", what);
  ok(forward, "%s: every jump goes forward", what);
  ok(last_exits, "%s: the last instruction exits", what);
  ok(all_reached, "%s: every instruction is reachable", what);
  return jumps_ok && forward && last_exits && all_reached;
}

struct req {
  const char *what;
  int type;
  unsigned access;
  uint32_t major, minor;
  int64_t want;
};

static void check_reqs(const char *name, const struct sbx_dev_rule *rules, size_t n,
                       const struct req *reqs, size_t nreqs)
{
  struct prog p = build(rules, n);
  if (!ok(p.insns != NULL, "%s: program built", name))
    return;
  well_formed(&p, name);
  for (size_t i = 0; i < nreqs; i++)
    is_int(run(&p, reqs[i].type, reqs[i].access, reqs[i].major, reqs[i].minor), reqs[i].want,
           "%s: %s -> %s", name, reqs[i].what, reqs[i].want ? "allow" : "deny");
  free(p.insns);
}

static void test_allowlist(void)
{
  const struct sbx_dev_rule rules[] = {
    RULE(false, 'a', -1, -1, RWM),
    RULE(true, 'c', 1, 3, RWM),
    RULE(true, 'c', 136, -1, R | W),
  };
  const struct req reqs[] = {
    {"/dev/null c 1:3 read", CHR, R, 1, 3, 1},
    {"c 1:3 read+write", CHR, R | W, 1, 3, 1},
    {"c 1:3 mknod", CHR, M, 1, 3, 1},
    {"c 1:5 read", CHR, R, 1, 5, 0},
    {"c 136:7 write", CHR, W, 136, 7, 1},
    {"c 136:7 read+write", CHR, R | W, 136, 7, 1},
    {"c 136:7 mknod", CHR, M, 136, 7, 0},
    {"c 136:7 write+mknod", CHR, W | M, 136, 7, 0},
    {"b 8:0 read", BLK, R, 8, 0, 0},
    {"b 1:3 read (type matters)", BLK, R, 1, 3, 0},
    {"c 3:1 read (major/minor not swapped)", CHR, R, 3, 1, 0},
  };
  check_reqs("allowlist", rules, N(rules), reqs, N(reqs));
}

static void test_last_match_wins(void)
{
  const struct sbx_dev_rule rules[] = {
    RULE(true, 'a', -1, -1, RWM),
    RULE(false, 'c', 1, 3, W),
  };
  const struct req reqs[] = {
    {"c 1:3 write", CHR, W, 1, 3, 0},
    {"c 1:3 read", CHR, R, 1, 3, 1},
    {"c 1:3 read+write (deny rule covers only write)", CHR, R | W, 1, 3, 1},
    {"c 1:5 write", CHR, W, 1, 5, 1},
    {"b 8:0 read", BLK, R, 8, 0, 1},
  };
  check_reqs("later deny", rules, N(rules), reqs, N(reqs));

  const struct sbx_dev_rule rules2[] = {
    RULE(false, 'a', -1, -1, RWM),
    RULE(true, 'c', 1, 3, RWM),
    RULE(false, 'c', 1, -1, RWM),
  };
  const struct req reqs2[] = {
    {"c 1:3 read (denied by the later c 1:*)", CHR, R, 1, 3, 0},
    {"c 2:0 read", CHR, R, 2, 0, 0},
  };
  check_reqs("later deny of a major", rules2, N(rules2), reqs2, N(reqs2));

  const struct sbx_dev_rule rules3[] = {
    RULE(true, 'a', -1, -1, RWM),
    RULE(false, 'a', -1, -1, RWM),
  };
  const struct req reqs3[] = {
    {"c 1:3 read", CHR, R, 1, 3, 0},
    {"b 8:0 write", BLK, W, 8, 0, 0},
  };
  check_reqs("allow all then deny all", rules3, N(rules3), reqs3, N(reqs3));

  const struct sbx_dev_rule rules4[] = {
    RULE(false, 'a', -1, -1, RWM),
    RULE(true, 'b', 8, -1, R),
    RULE(true, 'c', -1, -1, M),
  };
  const struct req reqs4[] = {
    {"b 8:0 read", BLK, R, 8, 0, 1},
    {"b 8:16 read", BLK, R, 8, 16, 1},
    {"b 8:0 write", BLK, W, 8, 0, 0},
    {"c 8:0 read", CHR, R, 8, 0, 0},
    {"c 10:200 mknod", CHR, M, 10, 200, 1},
    {"b 10:200 mknod", BLK, M, 10, 200, 0},
  };
  check_reqs("block and wildcard rules", rules4, N(rules4), reqs4, N(reqs4));
}

static void test_edges(void)
{
  const struct req deny_all[] = {
    {"c 1:3 read", CHR, R, 1, 3, 0},
    {"b 8:0 write", BLK, W, 8, 0, 0},
    {"c 0:0 mknod", CHR, M, 0, 0, 0},
  };
  check_reqs("no rules", NULL, 0, deny_all, N(deny_all));

  const struct sbx_dev_rule allow_all[] = { RULE(true, 'a', -1, -1, RWM) };
  const struct req all[] = {
    {"c 1:3 read", CHR, R, 1, 3, 1},
    {"b 8:0 write", BLK, W, 8, 0, 1},
    {"c 4095:1048575 rwm", CHR, RWM, 4095, 1048575, 1},
  };
  check_reqs("allow all", allow_all, N(allow_all), all, N(all));
  struct prog p = build(allow_all, N(allow_all));
  is_int(p.n, 8, "allow all: 6 loads + mov + exit");
  free(p.insns);

  /* A deny-all after an allow-all: the allow can never win and is not emitted. */
  const struct sbx_dev_rule shadowed[] = { RULE(true, 'c', 1, 3, RWM), RULE(false, 'a', -1, -1, RWM) };
  p = build(shadowed, N(shadowed));
  is_int(p.n, 8, "rules before a match-all rule are not emitted");
  free(p.insns);
}

/* Reference semantics: the last matching rule decides; nothing matches -> deny. */
static int reference(const struct sbx_dev_rule *rules, size_t n, int type, unsigned access,
                     uint32_t major, uint32_t minor)
{
  for (size_t i = n; i-- > 0;) {
    const struct sbx_dev_rule *r = &rules[i];
    if (r->type != 'a' && (r->type == 'b' ? BLK : CHR) != type)
      continue;
    if (r->major >= 0 && (uint32_t) r->major != major)
      continue;
    if (r->minor >= 0 && (uint32_t) r->minor != minor)
      continue;
    if (access & ~r->access & RWM)
      continue;
    return r->allow;
  }
  return 0;
}

static void test_random(void)
{
  static const char types[] = "acb";
  unsigned seed = 12345;
  size_t mismatches = 0, malformed = 0, runs = 0;
  for (int round = 0; round < 300; round++) {
    struct sbx_dev_rule rules[8];
    size_t n = (size_t) (rand_r(&seed) % 9);
    for (size_t i = 0; i < n; i++) {
      rules[i] = RULE(rand_r(&seed) % 2, types[rand_r(&seed) % 3],
                      rand_r(&seed) % 3 ? rand_r(&seed) % 4 : -1,
                      rand_r(&seed) % 3 ? rand_r(&seed) % 4 : -1, (unsigned) (1 + rand_r(&seed) % 7));
      /* Keep match-all rules rare so the tests see long programs. */
      if (rules[i].type == 'a' && rules[i].access == RWM && rules[i].major < 0 && rules[i].minor < 0 &&
          rand_r(&seed) % 4)
        rules[i].major = 1;
    }
    struct prog p = build(rules, n);
    if (!p.insns) {
      mismatches++;
      continue;
    }
    for (size_t pc = 0; pc < p.n; pc++) {
      const struct bpf_insn *i = &p.insns[pc];
      if (i->code == (BPF_JMP | BPF_JNE | BPF_K) &&
          (i->off < 0 || pc + 1 + (size_t) i->off >= p.n))
        malformed++;
    }
    for (int type = BLK; type <= CHR; type++)
      for (unsigned access = 1; access <= RWM; access++)
        for (uint32_t major = 0; major < 4; major++)
          for (uint32_t minor = 0; minor < 4; minor++) {
            runs++;
            if (run(&p, type, access, major, minor) != reference(rules, n, type, access, major, minor))
              mismatches++;
          }
    free(p.insns);
  }
  is_int(malformed, 0, "random rule sets: no jump leaves the program");
  is_int(mismatches, 0, "random rule sets: program agrees with last-match-wins on %zu requests", runs);
}

int main(void)
{
  test_allowlist();
  test_last_match_wins();
  test_edges();
  test_random();
  return tap_done();
}
