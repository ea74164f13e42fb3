/* sandhost-probe's pure parts: how bytes become JSON strings, and the
 * parsers of uid_map, capability sets, mountinfo, /proc/self/cgroup,
 * /proc/PID/status, kallsyms and --connect targets; the syscall table's
 * shape.  Nothing here touches the machine. */
#include "caps.h"
#include "cgroup.h"
#include "ids.h"
#include "jsonout.h"
#include "kfiles.h"
#include "mounts.h"
#include "net.h"
#include "procfile.h"
#include "result.h"
#include "syscalls.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The JSON text jansson writes for a string made by probe_json_bytes. */
static char *dumped(const char *s, size_t n)
{
  json_t *j = probe_json_bytes(s, n);
  if (!j)
    return NULL;
  char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
  json_decref(j);
  return text;
}

static void check_dump(const char *s, size_t n, const char *want, const char *what)
{
  char *got = dumped(s, n);
  is_str(got, want, "json: %s", what);
  free(got);
}

static void test_utf8(void)
{
  static const struct { const char *bytes; size_t n, want; const char *what; } seqs[] = {
    {"A", 1, 1, "ASCII"},
    {"\xc3\xa9", 2, 2, "U+00E9 in two bytes"},
    {"\xe2\x82\xac", 3, 3, "U+20AC in three bytes"},
    {"\xf0\x9f\x98\x80", 4, 4, "U+1F600 in four bytes"},
    {"\x80", 1, 0, "a stray continuation byte"},
    {"\xc0\xaf", 2, 0, "an overlong '/' (0xc0 0xaf)"},
    {"\xe0\x80\xaf", 3, 0, "an overlong '/' in three bytes"},
    {"\xed\xa0\x80", 3, 0, "a UTF-16 surrogate (U+D800)"},
    {"\xf4\x90\x80\x80", 4, 0, "past U+10FFFF"},
    {"\xe2\x82", 2, 0, "a sequence cut short"},
    {"\xc3\x28", 2, 0, "a lead byte without its continuation"},
    {"\xff", 1, 0, "0xff"},
  };
  for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
    is_int(probe_utf8_seq((const unsigned char *) seqs[i].bytes, seqs[i].n), seqs[i].want, "utf8: %s",
           seqs[i].what);
}

static void test_json_escaping(void)
{
  check_dump("plain", 5, "\"plain\"", "plain text stays");
  check_dump("a\"b\\c", 5, "\"a\\\"b\\\\c\"", "quote and backslash are escaped");
  check_dump("tab\there\nnl", 11, "\"tab\\there\\nnl\"", "tab and newline are escaped");
  check_dump("\x01\x1f", 2, "\"\\u0001\\u001F\"", "other control characters become \\u00XX");
  check_dump("a\0b", 3, "\"a\\u0000b\"", "an embedded NUL is kept as \\u0000");
  check_dump("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"", "valid UTF-8 is kept as it is");
  check_dump("x\xffy", 3, "\"x\\\\xffy\"", "an invalid byte becomes the text \\xff");
  check_dump("\xc0\xaf/", 3, "\"\\\\xc0\\\\xaf/\"", "each byte of an overlong form becomes \\xNN");
  check_dump("\xed\xa0\x80", 3, "\"\\\\xed\\\\xa0\\\\x80\"", "a surrogate's bytes become \\xNN");
  check_dump("\xe2\x82", 2, "\"\\\\xe2\\\\x82\"", "a sequence cut short by the end");
  check_dump("", 0, "\"\"", "the empty string");

  json_t *n = probe_json_str(NULL);
  ok(json_is_null(n), "json: a NULL C string is JSON null");
  json_decref(n);

  /* Whatever the bytes, the document jansson writes parses again. */
  char all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (char) i;
  char *text = dumped(all, sizeof all);
  json_error_t je;
  json_t *back = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je) : NULL;
  ok(back && json_is_string(back), "json: all 256 byte values make a string that parses back");
  if (back)
    is_int(json_string_length(back), 128 + 128 * 4, "json: 128 ASCII bytes plus 128 escaped ones");
  json_decref(back);
  free(text);
}

static void test_id_map(void)
{
  json_t *m = probe_parse_id_map("         0     100000      65536\n");
  ok(m && json_array_size(m) == 1, "uid_map: one line, one entry");
  json_t *e = json_array_get(m, 0);
  is_int(json_integer_value(json_object_get(e, "inside")), 0, "uid_map: inside 0");
  is_int(json_integer_value(json_object_get(e, "outside")), 100000, "uid_map: outside 100000");
  is_int(json_integer_value(json_object_get(e, "count")), 65536, "uid_map: count 65536");
  json_decref(m);

  m = probe_parse_id_map("0 0 4294967295\n");
  is_int(json_integer_value(json_object_get(json_array_get(m, 0), "count")), 4294967295LL,
         "uid_map: the initial namespace's full range");
  json_decref(m);

  m = probe_parse_id_map("0 1000 1\n1 100000 65536\n");
  is_int(json_array_size(m), 2, "uid_map: two lines, two entries");
  is_int(json_integer_value(json_object_get(json_array_get(m, 1), "outside")), 100000,
         "uid_map: the second line's outside id");
  json_decref(m);

  m = probe_parse_id_map("");
  ok(m && json_array_size(m) == 0, "uid_map: an empty map (no mapping written yet)");
  json_decref(m);

  ok(probe_parse_id_map("0 100000\n") == NULL, "uid_map: two numbers are not a line");
  ok(probe_parse_id_map("0 100000 65536 7\n") == NULL, "uid_map: four numbers are not a line");
  ok(probe_parse_id_map("0 -1 65536\n") == NULL, "uid_map: a negative id is refused");
  ok(probe_parse_id_map("0 4294967296 1\n") == NULL, "uid_map: an id past 32 bits is refused");
}

static void test_caps(void)
{
  uint64_t v = 0;
  ok(probe_parse_capset("00000000a80425fb", &v) && v == 0xa80425fbULL, "caps: Docker's default set parses");
  ok(probe_parse_capset("000001ffffffffff", &v) && v == 0x1ffffffffffULL, "caps: a full set of 41 parses");
  ok(!probe_parse_capset("", &v), "caps: empty is refused");
  ok(!probe_parse_capset("00000000a80425fbX", &v), "caps: a stray character is refused");
  ok(!probe_parse_capset("10000000000000000", &v), "caps: 17 digits are refused");

  json_t *names = probe_cap_names((1ULL << 0) | (1ULL << 21) | (1ULL << 40) | (1ULL << 62));
  is_int(json_array_size(names), 4, "caps: four bits, four names");
  is_str(json_string_value(json_array_get(names, 0)), "CAP_CHOWN", "caps: bit 0 is CAP_CHOWN");
  is_str(json_string_value(json_array_get(names, 1)), "CAP_SYS_ADMIN", "caps: bit 21 is CAP_SYS_ADMIN");
  is_str(json_string_value(json_array_get(names, 2)), "CAP_CHECKPOINT_RESTORE",
         "caps: bit 40 is CAP_CHECKPOINT_RESTORE");
  is_str(json_string_value(json_array_get(names, 3)), "CAP_62", "caps: an unknown bit is CAP_<number>");
  json_decref(names);
  names = probe_cap_names(0);
  ok(json_is_array(names) && json_array_size(names) == 0, "caps: the empty set has no names");
  json_decref(names);
}

static void test_status(void)
{
  const char *status = "Name:\tsh\nUmask:\t0022\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n"
                       "Seccomp:\t2\nSeccomp_filters:\t1\n";
  char buf[64];
  ok(probe_status_field(status, "Seccomp", buf, sizeof buf) && !strcmp(buf, "2"),
     "status: Seccomp is 2, not Seccomp_filters's value");
  ok(probe_status_field(status, "Seccomp_filters", buf, sizeof buf) && !strcmp(buf, "1"),
     "status: Seccomp_filters");
  ok(probe_status_field(status, "CapEff", buf, sizeof buf) && !strcmp(buf, "00000000a80425fb"),
     "status: CapEff without its tab");
  ok(!probe_status_field(status, "CapAmb", buf, sizeof buf), "status: an absent key");
  ok(!probe_status_field(status, "Cap", buf, sizeof buf), "status: a prefix of a key is not the key");
}

static void test_mountinfo(void)
{
  struct sh_mountinfo m;
  char l1[] = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n";
  ok(sh_mountinfo_parse(l1, &m), "mountinfo: the proc(5) example parses");
  is_int(m.id, 36, "mountinfo: mount id");
  is_int(m.parent, 35, "mountinfo: parent id");
  ok(m.major == 98 && m.minor == 0, "mountinfo: major:minor 98:0");
  is_str(m.root, "/mnt1", "mountinfo: root");
  is_str(m.mount_point, "/mnt2", "mountinfo: mount point");
  is_str(m.options, "rw,noatime", "mountinfo: mount options");
  is_str(m.optional, "master:1", "mountinfo: optional fields");
  is_str(m.fstype, "ext3", "mountinfo: filesystem type");
  is_str(m.source, "/dev/root", "mountinfo: source");
  is_str(m.super_options, "rw,errors=continue", "mountinfo: super options");

  char l2[] = "25 1 0:22 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro";
  ok(sh_mountinfo_parse(l2, &m), "mountinfo: a line without optional fields");
  is_str(m.optional, "", "mountinfo: no optional fields is the empty string");
  is_str(m.fstype, "sysfs", "mountinfo: fstype right after the separator");
  ok(sh_has_option(m.options, "ro"), "mountinfo: ro is among the options");
  ok(!sh_has_option(m.options, "rw"), "mountinfo: rw is not");
  ok(!sh_has_option(m.options, "no"), "mountinfo: a prefix of an option is not the option");

  char l3[] = "40 25 0:50 /a\\040b /mnt/with\\040space\\011tab rw shared:3 master:4 - tmpfs my\\134src rw";
  ok(sh_mountinfo_parse(l3, &m), "mountinfo: octal escapes and two optional fields");
  is_str(m.root, "/a b", "mountinfo: \\040 in the root is a space");
  is_str(m.mount_point, "/mnt/with space\ttab", "mountinfo: \\040 and \\011 in the mount point");
  is_str(m.source, "my\\src", "mountinfo: \\134 is a backslash");
  is_str(m.optional, "shared:3 master:4", "mountinfo: both optional fields, as written");

  char bad1[] = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw";
  ok(!sh_mountinfo_parse(bad1, &m), "mountinfo: no separator is malformed");
  char bad2[] = "36 35 980 / / rw - ext3 /dev/root rw";
  ok(!sh_mountinfo_parse(bad2, &m), "mountinfo: a device without a colon is malformed");
  char bad3[] = "x 35 98:0 / / rw - ext3 /dev/root rw";
  ok(!sh_mountinfo_parse(bad3, &m), "mountinfo: a mount id that is not a number");
  char bad4[] = "36 35 98:0 / / rw - ext3";
  ok(!sh_mountinfo_parse(bad4, &m), "mountinfo: fields missing after the separator");

  /* Which mount a path is on: the longest mount point above it, the last
   * of several on the same point. */
  char t1[] = "1 0 0:1 / / rw - overlay overlay rw", t2[] = "2 1 0:2 / /proc rw - proc proc rw",
       t3[] = "3 2 0:3 / /proc/sys ro - proc proc rw", t4[] = "4 1 0:4 / /proc ro - tmpfs tmpfs rw",
       t5[] = "5 1 0:5 / /procfoo rw - tmpfs tmpfs rw";
  struct sh_mountinfo v[5];
  ok(sh_mountinfo_parse(t1, &v[0]) && sh_mountinfo_parse(t2, &v[1]) &&
     sh_mountinfo_parse(t3, &v[2]) && sh_mountinfo_parse(t4, &v[3]) &&
     sh_mountinfo_parse(t5, &v[4]), "mountinfo: a table of five mounts parses");
  struct probe_mounts ms = { NULL, v, 5 };
  const struct sh_mountinfo *c = probe_mount_covering(&ms, "/proc/sys/kernel/core_pattern");
  ok(c && c->id == 3, "covering: /proc/sys/kernel/core_pattern is on /proc/sys");
  c = probe_mount_covering(&ms, "/proc/self/status");
  ok(c && c->id == 4, "covering: of two mounts on /proc, the later one is on top");
  c = probe_mount_covering(&ms, "/procfoo/x");
  ok(c && c->id == 5, "covering: /procfoo is not under /proc");
  c = probe_mount_covering(&ms, "/etc/passwd");
  ok(c && c->id == 1, "covering: anything else is on /");
}

static void test_cgroup_line(void)
{
  struct probe_cgroup_line l;
  char a[] = "0::/sandhost/t1/c2\n";
  ok(probe_parse_cgroup_line(a, &l), "cgroup: a v2 line parses");
  ok(l.hierarchy == 0 && !strcmp(l.controllers, "") && !strcmp(l.path, "/sandhost/t1/c2"),
     "cgroup: hierarchy 0, no controllers, the path");
  char b[] = "4:cpu,cpuacct:/";
  ok(probe_parse_cgroup_line(b, &l) && l.hierarchy == 4 && !strcmp(l.controllers, "cpu,cpuacct") &&
     !strcmp(l.path, "/"), "cgroup: a v1 line with two controllers");
  char c[] = "9:name=systemd:/user.slice/a:b";
  ok(probe_parse_cgroup_line(c, &l) && !strcmp(l.path, "/user.slice/a:b"),
     "cgroup: a colon inside the path stays in the path");
  char d[] = "garbage";
  ok(!probe_parse_cgroup_line(d, &l), "cgroup: a line without fields is refused");
  char e[] = "x::/";
  ok(!probe_parse_cgroup_line(e, &l), "cgroup: a hierarchy that is not a number is refused");
}

static void test_kallsyms(void)
{
  is_int(probe_kallsyms_zeroed("0000000000000000 T _text\n0000000000000000 t do_one_initcall\n"), 1,
         "kallsyms: all-zero addresses are hidden (kptr_restrict)");
  is_int(probe_kallsyms_zeroed("0000000000000000 A fixed_percpu_data\nffffffff81000000 T _text\n"), 0,
         "kallsyms: one real address is enough to leak");
  is_int(probe_kallsyms_zeroed(""), -1, "kallsyms: nothing read, nothing known");
}

static void test_targets(void)
{
  struct probe_target t;
  ok(probe_parse_target("tcp:10.0.0.1:80", &t) && t.type == SOCK_STREAM && t.addr.ss_family == AF_INET &&
     ntohs(((struct sockaddr_in *) &t.addr)->sin_port) == 80, "target: tcp:10.0.0.1:80");
  ok(probe_parse_target("udp:[fd00::1]:53", &t) && t.type == SOCK_DGRAM && t.addr.ss_family == AF_INET6 &&
     ntohs(((struct sockaddr_in6 *) &t.addr)->sin6_port) == 53, "target: udp:[fd00::1]:53");
  ok(!probe_parse_target("icmp:10.0.0.1:80", &t), "target: an unknown protocol");
  ok(!probe_parse_target("tcp:example.com:80", &t), "target: names are not resolved");
  ok(!probe_parse_target("tcp:fd00::1:80", &t), "target: IPv6 needs brackets");
  ok(!probe_parse_target("tcp:[10.0.0.1]:80", &t), "target: IPv4 in brackets is refused");
  ok(!probe_parse_target("tcp:10.0.0.1:0", &t), "target: port 0");
  ok(!probe_parse_target("tcp:10.0.0.1:65536", &t), "target: port 65536");
  ok(!probe_parse_target("tcp:10.0.0.1:", &t), "target: no port");
  ok(!probe_parse_target("tcp:10.0.0.1:8x", &t), "target: a port with trailing junk");
}

static void test_names(void)
{
  is_str(probe_errno_name(EPERM), "EPERM", "names: EPERM");
  is_str(probe_errno_name(ENOSYS), "ENOSYS", "names: ENOSYS");
  is_str(probe_errno_name(4000), "E4000", "names: an errno glibc has no name for");
  is_str(probe_signal_name(31), "SIGSYS", "names: signal 31 is SIGSYS");
  is_str(probe_result_name(0), "ok", "names: a result >= 0 is ok");
  is_str(probe_result_name(-EAFNOSUPPORT), "EAFNOSUPPORT", "names: a negative result is its errno");
}

static void test_syscall_table(void)
{
  bool unique = true, shapes = true;
  for (size_t i = 0; i < probe_syscall_count; i++) {
    const struct probe_syscall_check *c = &probe_syscall_checks[i];
    for (size_t k = 0; k < i; k++)
      if (!strcmp(c->name, probe_syscall_checks[k].name)) {
        diag("%s twice", c->name);
        unique = false;
      }
    if (c->nargs > 6 || (c->known >> c->nargs) != 0 || !c->syscall || c->nr < 0) {
      diag("%s: nargs %u, known 0x%x, nr %ld", c->name, c->nargs, c->known, c->nr);
      shapes = false;
    }
  }
  ok(unique, "table: check names are unique");
  ok(shapes, "table: at most 6 arguments, only those marked known, a syscall number each");
  const char *arg = "x";
  const struct probe_syscall_check *c = probe_syscall_find("keyctl", &arg);
  ok(c && !strcmp(c->syscall, "keyctl") && arg == NULL, "table: find keyctl, no argument");
  c = probe_syscall_find("mount-blockdev=/dev/loop7", &arg);
  ok(c && arg && !strcmp(arg, "/dev/loop7"), "table: mount-blockdev takes an argument");
  ok(probe_syscall_find("keyctl=1", &arg) == NULL, "table: keyctl takes none");
  ok(probe_syscall_find("keyct", &arg) == NULL, "table: a prefix is not a name");
}

int main(void)
{
  test_utf8();
  test_json_escaping();
  test_id_map();
  test_caps();
  test_status();
  test_mountinfo();
  test_cgroup_line();
  test_kallsyms();
  test_targets();
  test_names();
  test_syscall_table();
  return tap_done();
}
