/* Operations: long work journaled in the database and run, step by step,
 * by a pool of worker threads (config `workers`).  Each step is idempotent and records its progress,
 * so an operation interrupted by a crash is finished at the next start; a
 * failed step runs the compensations of the steps before it. */
#pragma once

#include <jansson.h>
#include <sqlite3.h>
#include "error.h"
#include "host.h"

struct hd_worker;

/* The kinds of operation, for the API's checks. */
bool hd_op_kind_known(const char *kind);

/* Queue an operation inside the caller's transaction; the worker starts it
 * once the transaction commits and hd_worker_kick is called. */
int hd_op_queue(sqlite3 *db, int64_t tenant, int64_t container, const char *kind, json_t *args, int64_t *id, sh_error *e);
/* Whether a container has an operation pending or running (its id, or 0). */
int64_t hd_op_busy(sqlite3 *db, int64_t container);
/* An operation as the API shows it; NULL if there is none. */
json_t *hd_op_json(sqlite3 *db, int64_t id, int64_t *tenant);

/* Start the workers and the supervisor (each opens its own database
 * connection); they first take up operations a crash interrupted. */
int hd_worker_start(struct hd_host *h, sh_error *e);
/* New work was committed. */
void hd_worker_kick(void);
/* Let the operations running finish, then stop the workers. */
void hd_worker_stop(void);
