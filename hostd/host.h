/* What sandhostd provisions with: its configuration, the default storage
 * pool (with the busybox image), where bundles and runtime state live and
 * the runtime binary. */
#pragma once

#include <sqlite3.h>
#include "config.h"
#include "error.h"
#include "storage.h"

/* Where the probe appears inside every container. */
#define HD_PROBE_PATH "/.sandhost-probe"

struct hd_host {
  struct hd_config cfg;
  char db_path[300];
  char pool_dir[300];     /* <state>/pools/default */
  char bundles[300];      /* <state>/bundles: c<id>/config.json and rootfs/ */
  char sbx_root[300];     /* <runtime>/sbx: the runtime's state (tmpfs) */
  char sbx[300];          /* the runtime binary */
  char probe[300];        /* sandhost-probe, mounted into containers ("" when there is none) */
  sbx_pool *pool;
};

/* Paths from the configuration; creates the directories. */
int hd_host_paths(struct hd_host *h, sh_error *e);
/* First start makes the default pool and builds the busybox image; every
 * start opens the pool (mounting it) and records the pool's images. */
int hd_host_open_pool(struct hd_host *h, sqlite3 *db, sh_error *e);
void hd_host_close(struct hd_host *h);
/* Kernel object names derived from ids (design: "derived names"). */
void hd_container_ref(int64_t id, char out[24]);   /* "c<id>": volume, runtime id, bundle */
