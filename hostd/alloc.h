/* Unique per-container resources, allocated first-fit inside the caller's
 * transaction.  The schema's UNIQUE constraints are the guarantee; these
 * only find the first free one. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>
#include "error.h"

#define HD_IDMAP_SIZE 65536

/* The host id range containers' ranges come from (e.g. a subuid entry). */
struct hd_id_range {
  uint32_t start, count;
};

/* A 65,536-id range for the container from host ids [start, start+count):
 * first-fit over slots; ENOSPC when all are taken. */
int hd_alloc_idmap(sqlite3 *db, int64_t container_id, const struct hd_id_range *host, uint32_t *host_start,
                   sh_error *e);
/* An SELinux category pair c1 < c2 < 1024 no other container has. */
int hd_alloc_mcs(sqlite3 *db, int64_t container_id, int *c1, int *c2, sh_error *e);
