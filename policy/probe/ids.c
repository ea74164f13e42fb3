/* Ids and id maps. */
#include "ids.h"
#include "jsonout.h"
#include "procfile.h"
#include "result.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool parse_u32(const char **p, uint32_t *out)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
  if (**p < '0' || **p > '9')
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(*p, &end, 10);
  if (errno || v > UINT32_MAX)
    return false;
  *p = end;
  *out = (uint32_t) v;
  return true;
}

json_t *probe_parse_id_map(const char *text)
{
  json_t *arr = json_array();
  for (const char *p = text; arr && *p;) {
    uint32_t inside, outside, count;
    if (*p == '\n') {
      p++;
      continue;
    }
    if (!parse_u32(&p, &inside) || !parse_u32(&p, &outside) || !parse_u32(&p, &count)) {
      json_decref(arr);
      return NULL;
    }
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p && *p != '\n') {
      json_decref(arr);
      return NULL;
    }
    probe_append(arr, json_pack("{s:I, s:I, s:I}", "inside", (json_int_t) inside, "outside",
                                (json_int_t) outside, "count", (json_int_t) count));
  }
  return arr;
}

/* The map as parsed, or {"error": ...} when it cannot be read or parsed. */
static json_t *map_json(const char *path)
{
  char *text = NULL;
  int r = probe_read_file(path, 64 * 1024, &text, NULL);
  if (r < 0)
    return json_pack("{s:s}", "error", probe_errno_name(-r));
  json_t *m = probe_parse_id_map(text);
  if (!m)
    m = json_pack("{s:s, s:o}", "error", "unparsable", "text", probe_json_str(text));
  free(text);
  return m;
}

static json_t *groups_json(void)
{
  gid_t groups[256];
  int n = getgroups((int) (sizeof groups / sizeof groups[0]), groups);
  if (n < 0)
    return json_string(probe_errno_name(errno));
  json_t *arr = json_array();
  for (int i = 0; i < n; i++)
    probe_append(arr, json_integer(groups[i]));
  return arr;
}

/* The kernel gives the initial user namespace this fixed inode number
 * (PROC_USER_INIT_INO in include/linux/proc_ns.h). */
#define INIT_USER_NS_INO 0xEFFFFFFDUL

bool probe_in_initial_userns(void)
{
  struct stat st;
  if (stat("/proc/self/ns/user", &st) < 0)
    return true; /* cannot tell: assume the case that could hurt */
  return st.st_ino == INIT_USER_NS_INO;
}

json_t *probe_section_ids(void)
{
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "uid", (json_int_t) ruid, "euid",
                        (json_int_t) euid, "suid", (json_int_t) suid, "gid", (json_int_t) rgid,
                        "egid", (json_int_t) egid, "sgid", (json_int_t) sgid, "groups", groups_json());
  if (!o)
    return NULL;
  probe_set(o, "uid_map", map_json("/proc/self/uid_map"));
  probe_set(o, "gid_map", map_json("/proc/self/gid_map"));
  char *text = NULL;
  int r = probe_read_file("/proc/self/setgroups", 64, &text, NULL);
  if (r == 0) {
    text[strcspn(text, "\n")] = '\0';
    probe_set(o, "setgroups", probe_json_str(text));
    free(text);
  } else {
    probe_set(o, "setgroups", json_string(probe_errno_name(-r)));
  }
  struct stat st;
  if (stat("/proc/self/ns/user", &st) == 0)
    probe_set(o, "user_ns_inode", json_integer((json_int_t) st.st_ino));
  probe_set(o, "initial_user_ns", json_boolean(probe_in_initial_userns()));
  return o;
}
