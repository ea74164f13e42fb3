/* Device rules become a BPF_PROG_TYPE_CGROUP_DEVICE program, generated from
 * the rule table and attached to the container's cgroup2 leaf.  This works on
 * pure v2 and on hybrid hosts alike. */
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

static size_t rule_len(const struct sbx_dev_rule *r)
{
  return (r->type != 'a') + ((r->access & ACC_ALL) != ACC_ALL) * 3 + (r->major >= 0) +
         (r->minor >= 0) + 2;
}

int sbx_cgroup_dev_build(const struct sbx_dev_rule *rules, size_t n, struct bpf_insn **out,
                         size_t *n_out)
{
  size_t total = 6 + 2;
  for (size_t i = 0; i < n; i++)
    total += rule_len(&rules[i]);
  struct bpf_insn *p = calloc(total, sizeof *p);
  if (!p)
    return -ENOMEM;
  size_t k = 0;
  /* r2 = device type, r3 = requested access, r4 = major, r5 = minor */
  p[k++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
  p[k++] = ALU32_IMM(BPF_AND, BPF_REG_2, 0xFFFF);
  p[k++] = LDX_W(BPF_REG_3, BPF_REG_1, 0);
  p[k++] = ALU32_IMM(BPF_RSH, BPF_REG_3, 16);
  p[k++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
  p[k++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
  /* OCI semantics: the last matching rule wins, so test rules last to first. */
  for (size_t i = n; i-- > 0;) {
    const struct sbx_dev_rule *r = &rules[i];
    size_t len = rule_len(r), start = k;
    /* Each failed test jumps past this rule's "return verdict". */
    if (r->type != 'a') {
      p[k] = JNE_IMM(BPF_REG_2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
      p[k].off = (short) (start + len - k - 1);
      k++;
    }
    if ((r->access & ACC_ALL) != ACC_ALL) {
      p[k++] = MOV64_REG(BPF_REG_1, BPF_REG_3);
      p[k++] = ALU32_IMM(BPF_AND, BPF_REG_1, (int) (~r->access & ACC_ALL));
      p[k] = JNE_IMM(BPF_REG_1, 0, 0);
      p[k].off = (short) (start + len - k - 1);
      k++;
    }
    if (r->major >= 0) {
      p[k] = JNE_IMM(BPF_REG_4, (int) r->major, 0);
      p[k].off = (short) (start + len - k - 1);
      k++;
    }
    if (r->minor >= 0) {
      p[k] = JNE_IMM(BPF_REG_5, (int) r->minor, 0);
      p[k].off = (short) (start + len - k - 1);
      k++;
    }
    p[k++] = MOV64_IMM(BPF_REG_0, r->allow ? 1 : 0);
    p[k++] = EXIT();
    /* A rule that matches everything ends the program: the verifier rejects
     * unreachable code, and earlier rules could never win anyway. */
    if (len == 2) {
      *out = p;
      *n_out = k;
      return 0;
    }
  }
  p[k++] = MOV64_IMM(BPF_REG_0, 0);
  p[k++] = EXIT();
  *out = p;
  *n_out = k;
  return 0;
}

/* libbpf talks on stderr by default; its words belong in our debug log. */
static int libbpf_to_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  sh_debug("libbpf: %s", msg);
  return 0;
}

int sbx_cgroup_dev_attach(const char *unified_leaf, const struct sbx_dev_rule *rules, size_t n,
                          sh_error *e)
{
  libbpf_set_print(libbpf_to_log);
  _cleanup_free_ struct bpf_insn *insns = NULL;
  size_t count = 0;
  if (sbx_cgroup_dev_build(rules, n, &insns, &count) < 0)
    return sh_err(e, ENOMEM, "build device program", unified_leaf, NULL);
  /* No program name: libbpf would otherwise probe the kernel for name support
   * with an extra program load on every start. */
  char log[4096] = "";
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof log, .log_level = 0);
  _cleanup_close_ int prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, NULL, "GPL",
                                           insns, count, &opts);
  if (prog < 0) {
    /* Retry with the verifier log so the error says why. */
    opts.log_level = 1;
    prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, NULL, "GPL", insns, count, &opts);
    return sh_err(e, errno ? errno : EINVAL, "load device program", unified_leaf, "%.300s", log);
  }
  _cleanup_close_ int cg = open(unified_leaf, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (cg < 0)
    return sh_errno(e, "open cgroup", unified_leaf);
  /* ALLOW_MULTI: the parents' device programs keep applying too. */
  if (bpf_prog_attach(prog, cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) < 0)
    return sh_errno(e, "attach device program", unified_leaf);
  return 0;
}
