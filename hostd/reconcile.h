/* At every start, before any operation runs: what the kernel and the pool
 * hold under sandhostd's derived names (c<id>) but the database does not
 * know is removed.  Interrupted operations are finished by the worker, and
 * running containers are adopted by it (hostd/ops.c). */
#pragma once

#include <sqlite3.h>
#include "error.h"
#include "host.h"

/* How many orphans were removed, or -errno. */
int hd_reconcile(struct hd_host *h, sqlite3 *db, sh_error *e);
