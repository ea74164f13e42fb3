/* mountinfo lines (proc(5)): shared by the storage code and the probe,
 * which compiles this file into its own static binary. */
#include "mountinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "\040" (space), "\011" (tab), "\012" (newline), "\134" (backslash). */
static void unescape(char *s)
{
  char *o = s;
  for (char *p = s; *p;) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
        p[3] <= '7') {
      *o++ = (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
      p += 4;
    } else {
      *o++ = *p++;
    }
  }
  *o = '\0';
}

/* The next space-separated field; NULL at the end of the line. */
static char *field(char **p)
{
  while (**p == ' ')
    (*p)++;
  if (!**p)
    return NULL;
  char *start = *p;
  while (**p && **p != ' ')
    (*p)++;
  if (**p)
    *(*p)++ = '\0';
  return start;
}

static bool parse_int(const char *s, int *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > 0x7fffffff)
    return false;
  *out = (int) v;
  return true;
}

bool sh_mountinfo_parse(char *line, struct sh_mountinfo *m)
{
  char *p = line;
  line[strcspn(line, "\n")] = '\0';
  char *id = field(&p), *parent = field(&p), *dev = field(&p);
  m->root = field(&p);
  m->mount_point = field(&p);
  m->options = field(&p);
  if (!id || !parent || !dev || !m->options || !parse_int(id, &m->id) || !parse_int(parent, &m->parent))
    return false;
  char *colon = strchr(dev, ':'), *end;
  if (!colon)
    return false;
  *colon = '\0';
  m->major = (unsigned) strtoul(dev, &end, 10);
  if (end == dev || *end)
    return false;
  m->minor = (unsigned) strtoul(colon + 1, &end, 10);
  if (end == colon + 1 || *end)
    return false;
  /* Optional fields ("shared:1 master:2"), up to the "-" separator. */
  while (*p == ' ')
    p++;
  if (p[0] == '-' && (p[1] == ' ' || p[1] == '\0')) {
    m->optional = "";
    p++;
  } else {
    char *sep = strstr(p, " - ");
    if (!sep)
      return false;
    *sep = '\0';
    m->optional = p;
    p = sep + 2;
  }
  m->fstype = field(&p);
  m->source = field(&p);
  m->super_options = field(&p);
  if (!m->fstype || !m->source || !m->super_options)
    return false;
  unescape(m->root);
  unescape(m->mount_point);
  unescape(m->source);
  return true;
}

bool sh_has_option(const char *opts, const char *opt)
{
  size_t n = strlen(opt);
  for (const char *p = opts; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t) (comma - p) : strlen(p);
    if (len == n && !strncmp(p, opt, n))
      return true;
    p = comma ? comma + 1 : NULL;
  }
  return false;
}
