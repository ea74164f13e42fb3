/* SSH public keys for a new container.  The check is what sshd would
 * choke on, said at create time: a line that is not "<type> <base64>
 * [comment]", a type sshd does not know, data that is not base64 or is a
 * key of another type.  Options ("from=...", "command=...") are refused:
 * they are the tenant's to add inside the container. */
#include "sshkeys.h"

#include "cleanup.h"
#include "digest.h"
#include "tree.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_types[] = {
  "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
};

static bool known_type(const char *s, size_t len)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(key_types); i++)
    if (strlen(key_types[i]) == len && memcmp(key_types[i], s, len) == 0)
      return true;
  return false;
}

/* The key's data: base64 of a blob that starts with its type, as an SSH
 * string (a 4-byte big-endian length, then the name). */
static const char *data_problem(const char *type, size_t type_len, const char *b64, size_t len)
{
  _cleanup_free_ uint8_t *blob = NULL;
  ssize_t n = sh_unbase64(b64, len, &blob);
  if (n < 0)
    return "its data is not base64";
  uint32_t named = n >= 4 ? (uint32_t) blob[0] << 24 | (uint32_t) blob[1] << 16 | (uint32_t) blob[2] << 8 | blob[3] : 0;
  /* (and something after the name: a key, not its type alone) */
  if (named != type_len || (size_t) n <= 4 + type_len || memcmp(blob + 4, type, type_len) != 0)
    return "its data is not a key of the type it names";
  return NULL;
}

/* One line (without its end): NULL when it passes, else why not; *key
 * whether it is a key (not empty, not a comment). */
static const char *line_problem(const char *s, size_t len, bool *key)
{
  size_t i = strspn(s, " \t");
  *key = false;
  if (i >= len || s[i] == '#')
    return NULL;
  *key = true;
  const char *type = s + i;
  size_t type_len = strcspn(type, " \t");
  if (type_len > len - i)
    type_len = len - i;
  if (!known_type(type, type_len)) {
    if (memmem(s, len, "PRIVATE KEY", 11))
      return "a private key: give the public one (the .pub file)";
    return "not \"<type> <base64> [comment]\" with a known type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521,"
           " sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com); options before the key are not taken";
  }
  const char *b64 = type + type_len + strspn(type + type_len, " \t");
  size_t b64_len = strcspn(b64, " \t");
  if (b64 >= s + len || b64_len == 0)
    return "the key's data is missing after its type";
  if (b64 + b64_len > s + len)
    b64_len = (size_t) (s + len - b64);
  return data_problem(type, type_len, b64, b64_len);
}

int hd_ssh_keys_check(const char *text, char **normal, int *n, sh_error *e)
{
  size_t total = strlen(text);
  *n = 0;
  if (total > HD_SSH_KEYS_MAX)
    return sh_err(e, EINVAL, "check SSH keys", NULL, "%zu bytes: at most %d (16 KiB)", total, HD_SSH_KEYS_MAX);
  _cleanup_free_ char *out = malloc(total + 2);
  if (!out)
    return sh_err(e, ENOMEM, "check SSH keys", NULL, NULL);
  size_t o = 0;
  int line = 0;
  for (const char *s = text; *s;) {
    size_t len = strcspn(s, "\n");
    const char *next = s + len + (s[len] == '\n');
    line++;
    if (len && s[len - 1] == '\r')
      len--;
    if (memchr(s, '\r', len))
      return sh_err(e, EINVAL, "check SSH keys", NULL, "line %d: a carriage return inside the line", line);
    bool key;
    const char *why = line_problem(s, len, &key);
    if (why)
      return sh_err(e, EINVAL, "check SSH keys", NULL, "line %d: %s", line, why);
    *n += key;
    memcpy(out + o, s, len);
    o += len;
    out[o++] = '\n';
    s = next;
  }
  out[o] = 0;
  *normal = steal_ptr(out);
  return 0;
}

int hd_ssh_keys_install(int root, int64_t host_start, const char *text, sh_error *e)
{
  const struct hd_tree_entry entries[] = {
    { .path = "/root", .mode = 0700, .dir = true, .keep = true },
    { .path = "/root/.ssh", .mode = 0700, .dir = true },
    { .path = "/root/.ssh/authorized_keys", .mode = 0600, .data = text, .len = strlen(text) },
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(entries); i++) {
    bool existed;
    struct stat st;
    int r = hd_tree_put(root, host_start, &entries[i], &existed, &st, e);
    if (r < 0)
      return r;
  }
  return 0;
}
