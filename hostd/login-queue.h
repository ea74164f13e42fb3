/* Logins off the event loop: POST /1.0/auth/login costs a scrypt (some
 * 50 ms, memory-hard), which on h2o's one thread would stall every other
 * request.  A few threads, each with a connection of its own, run those
 * calls (the whole hd_api_handle: session row and audit entry in one
 * transaction) and hand each answer back to the loop (h2o's multithread
 * messages on the context's queue).  docs/hostd.md "Logins". */
#pragma once

#include <h2o.h>
#include "api.h"

struct hd_login_queue;
struct hd_login_job;

/* Called on the loop thread with the finished call (status, result,
 * session header...); the job and the call are freed after it returns. */
typedef void (*hd_login_done_fn)(struct hd_call *c, void *arg);

/* Open `threads` connections to db_path and start a thread on each; at
 * most `depth` calls wait for a free thread.  Answers come through ctx's
 * multithread queue.  After any fork: threads do not follow one. */
int hd_login_queue_start(h2o_context_t *ctx, const char *db_path, unsigned threads, unsigned depth, hd_login_done_fn done,
                         struct hd_login_queue **out, sh_error *e);
/* Queue c (its inputs are copied; on success the job owns *body and sets
 * it to NULL); done(c, arg) answers it later.  NULL when `depth` calls
 * already wait, or the queue is stopping: the caller answers 503. */
struct hd_login_job *hd_login_queue_submit(struct hd_login_queue *q, const struct hd_call *c, json_t **body, void *arg);
/* The 503 for a login the queue cannot take (Retry-After: 1). */
void hd_login_refuse(struct hd_call *c, bool stopping);
/* Whoever asked went away (loop thread): done is not called; a call not
 * started yet is not run at all, one running completes as it would. */
void hd_login_job_cancel(struct hd_login_job *job);
/* Let the running calls finish, answer the waiting ones 503, join the
 * threads and deliver what is left through the loop (so each client gets
 * its answer); then free q.  Loop thread, with the loop no longer run
 * elsewhere. */
void hd_login_queue_stop(struct hd_login_queue *q);
