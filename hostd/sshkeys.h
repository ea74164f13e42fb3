/* SSH public keys a new container gets (hostd/sshkeys.c): checked when the
 * create is asked for, written into its volume by the create operation. */
#pragma once

#include "error.h"

#include <stdint.h>

enum { HD_SSH_KEYS_MAX = 16 * 1024 };   /* bytes of key text, in all */

/* Whether text is lines of OpenSSH public keys, "<type> <base64> [comment]"
 * (no options before the key), of a known type, whose data decodes and
 * names that type; empty lines and "#" comments pass.  *normal (malloc'd)
 * is the text to write: line ends as LF, one at the end; *n the number of
 * keys.  -EINVAL with e->msg saying why, and from which line ("line 2:
 * ..."), never quoting a key. */
int hd_ssh_keys_check(const char *text, char **normal, int *n, sh_error *e);

/* /root/.ssh/authorized_keys (0600) holding text, in /root/.ssh (0700),
 * both the container's root's (ids 0:0), in the tree at root (hostd/tree.h)
 * whose ids start at host_start.  A missing /root is made (0700), one there
 * is left as it is; anything but a directory at /root/.ssh fails, naming
 * it.  Run again, it writes the same again. */
int hd_ssh_keys_install(int root, int64_t host_start, const char *text, sh_error *e);
