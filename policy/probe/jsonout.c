/* Bytes to JSON strings, with the few rules that make them safe to print. */
#include "jsonout.h"

#include <stdlib.h>
#include <string.h>

size_t probe_utf8_seq(const unsigned char *s, size_t n)
{
  if (n == 0)
    return 0;
  unsigned char c = s[0];
  size_t len;
  unsigned cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0; /* a continuation byte, 0xc0/0xc1 (always overlong) or 0xf5.. */
  }
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
    return 0; /* overlong */
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return 0; /* surrogates are not characters; nothing lies past U+10FFFF */
  return len;
}

json_t *probe_json_bytes(const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *) s;
  size_t bad = 0;
  for (size_t i = 0; i < n;) {
    size_t k = probe_utf8_seq(u + i, n - i);
    if (k == 0) {
      bad++;
      k = 1;
    }
    i += k;
  }
  if (bad == 0)
    return json_stringn(s, n);

  static const char hex[] = "0123456789abcdef";
  char *buf = malloc(n + bad * 3 + 1);
  if (!buf)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t k = probe_utf8_seq(u + i, n - i);
    if (k == 0) {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[u[i] >> 4];
      buf[o++] = hex[u[i] & 0xf];
      i++;
      continue;
    }
    memcpy(buf + o, s + i, k);
    o += k;
    i += k;
  }
  json_t *j = json_stringn(buf, o);
  free(buf);
  return j;
}

json_t *probe_json_str(const char *s)
{
  return s ? probe_json_bytes(s, strlen(s)) : json_null();
}

void probe_set(json_t *obj, const char *key, json_t *v)
{
  if (v)
    json_object_set_new(obj, key, v);
}

void probe_append(json_t *arr, json_t *v)
{
  if (v)
    json_array_append_new(arr, v);
}
