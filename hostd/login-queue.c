/* Logins on threads of their own (see login-queue.h).  A job carries
 * copies of everything its call reads, never the request's pool: the
 * request may be gone before the job ends.  Who owns what, when:
 *   waiting   the queue (under q->lock), until a thread takes it;
 *   running   that thread alone (the loop only ever sets `cancelled`);
 *   answered  the loop thread, from the message on, which frees it. */
#include "login-queue.h"

#include "cleanup.h"
#include "db.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_THREADS = 8 };

struct hd_login_job {
  h2o_multithread_message_t msg;   /* how the answer reaches the loop */
  struct hd_login_job *next;       /* (while waiting) */
  struct hd_call c;
  json_t *body;
  char *strings[7];                /* the call's inputs, owned */
  void *arg;
  atomic_bool cancelled;
};

struct login_thread {
  pthread_t tid;
  sqlite3 *db;
  struct hd_login_queue *q;
};

struct hd_login_queue {
  h2o_context_t *ctx;
  h2o_multithread_receiver_t receiver;
  hd_login_done_fn done;
  pthread_mutex_t lock;
  pthread_cond_t cond;             /* a job waits, or stop */
  struct hd_login_job *head, **tail;
  unsigned waiting, depth;
  bool stop;
  size_t outstanding;              /* loop thread: submitted, not yet delivered */
  size_t n;
  struct login_thread threads[MAX_THREADS];
};

static void job_free(struct hd_login_job *j)
{
  hd_call_clear(&j->c);
  json_decref(j->body);
  for (size_t i = 0; i < SH_ARRAY_SIZE(j->strings); i++)
    free(j->strings[i]);
  free(j);
}

/* On the loop thread: answer (unless nobody waits any more), then free. */
static void deliver(struct hd_login_queue *q, struct hd_login_job *j)
{
  q->outstanding--;
  if (!atomic_load(&j->cancelled))
    q->done(&j->c, j->arg);
  job_free(j);
}

static void on_answers(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
  struct hd_login_queue *q = H2O_STRUCT_FROM_MEMBER(struct hd_login_queue, receiver, r);
  while (!h2o_linklist_is_empty(messages)) {
    struct hd_login_job *j = H2O_STRUCT_FROM_MEMBER(struct hd_login_job, msg.link, messages->next);
    h2o_linklist_unlink(&j->msg.link);
    deliver(q, j);
  }
}

static void *login_main(void *arg)
{
  struct login_thread *t = arg;
  struct hd_login_queue *q = t->q;
  pthread_mutex_lock(&q->lock);
  for (;;) {
    while (!q->stop && !q->head)
      pthread_cond_wait(&q->cond, &q->lock);
    if (q->stop)
      break;
    struct hd_login_job *j = q->head;
    if (!(q->head = j->next))
      q->tail = &q->head;
    q->waiting--;
    pthread_mutex_unlock(&q->lock);
    /* The scrypt runs before the call's write transaction
     * (hd_login_prepare): the threads hash side by side, and each holds
     * the write lock only for its short transaction. */
    /* A login whose client left before it started is not run: it changes
     * nothing, and a flood of abandoned ones costs no scrypt. */
    if (!atomic_load(&j->cancelled)) {
      j->c.db = t->db;
      hd_api_handle(&j->c);
    }
    h2o_multithread_send_message(&q->receiver, &j->msg);
    pthread_mutex_lock(&q->lock);
  }
  pthread_mutex_unlock(&q->lock);
  return NULL;
}

void hd_login_refuse(struct hd_call *c, bool stopping)
{
  hd_api_fail(c, 503, NULL, "%s", stopping ? "sandhostd is stopping: log in again once it is back"
                                           : "logins are busy: try again in a second");
  c->retry_after = 1;
}

int hd_login_queue_start(h2o_context_t *ctx, const char *db_path, unsigned threads, unsigned depth, hd_login_done_fn done,
                         struct hd_login_queue **out, sh_error *e)
{
  struct hd_login_queue *q = calloc(1, sizeof *q);
  if (!q)
    return sh_err(e, ENOMEM, "start the login threads", db_path, NULL);
  *q = (struct hd_login_queue){ .ctx = ctx, .done = done, .depth = depth, .tail = &q->head };
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->cond, NULL);
  h2o_multithread_register_receiver(ctx->queue, &q->receiver, on_answers);
  if (threads > MAX_THREADS)
    threads = MAX_THREADS;
  int r = 0;
  /* Connections as the API's own: synchronous=FULL (no hd_db_relax), so a
   * session or a counted failure lasts exactly as well as any API change. */
  for (; q->n < threads && r == 0; q->n++) {
    struct login_thread *t = &q->threads[q->n];
    t->q = q;
    if ((r = hd_db_open(db_path, &t->db, e)) < 0)
      break;
    if ((r = -pthread_create(&t->tid, NULL, login_main, t)) < 0) {
      sqlite3_close(t->db);
      r = sh_err(e, -r, "start a login thread", db_path, NULL);
      break;
    }
  }
  if (r < 0) {
    hd_login_queue_stop(q);
    return r;
  }
  *out = q;
  return 0;
}

struct hd_login_job *hd_login_queue_submit(struct hd_login_queue *q, const struct hd_call *c, json_t **body, void *arg)
{
  struct hd_login_job *j = calloc(1, sizeof *j);
  if (!j)
    return NULL;
  const char *in[] = { c->method, c->path, c->query, c->if_match, c->if_none_match, c->source, c->csrf };
  _Static_assert(SH_ARRAY_SIZE(in) == SH_ARRAY_SIZE(j->strings), "every string input is copied");
  for (size_t i = 0; i < SH_ARRAY_SIZE(in); i++)
    if (in[i] && !(j->strings[i] = strdup(in[i]))) {
      job_free(j);
      return NULL;
    }
  j->c = (struct hd_call){ .who = c->who, .method = j->strings[0], .path = j->strings[1], .query = j->strings[2],
                           .if_match = j->strings[3], .if_none_match = j->strings[4], .source = j->strings[5],
                           .csrf = j->strings[6], .body = *body };
  j->arg = arg;
  pthread_mutex_lock(&q->lock);
  bool take = !q->stop && q->waiting < q->depth;
  if (take) {
    *q->tail = j;
    q->tail = &j->next;
    q->waiting++;
    pthread_cond_signal(&q->cond);
  }
  pthread_mutex_unlock(&q->lock);
  if (!take) {
    j->c.body = NULL;
    job_free(j);
    return NULL;
  }
  j->body = *body;
  *body = NULL;
  q->outstanding++;
  return j;
}

void hd_login_job_cancel(struct hd_login_job *job)
{
  atomic_store(&job->cancelled, true);
}

void hd_login_queue_stop(struct hd_login_queue *q)
{
  if (!q)
    return;
  pthread_mutex_lock(&q->lock);
  q->stop = true;
  struct hd_login_job *left = q->head;
  q->head = NULL;
  q->tail = &q->head;
  q->waiting = 0;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
  for (size_t i = 0; i < q->n; i++) {
    pthread_join(q->threads[i].tid, NULL);
    sqlite3_close(q->threads[i].db);
  }
  while (left) {
    struct hd_login_job *j = left;
    left = j->next;
    hd_login_refuse(&j->c, true);
    deliver(q, j);
  }
  /* The finished ones' answers are messages on the loop's queue: run the
   * loop until they are out (bounded: nothing else should hold them). */
  for (int i = 0; q->outstanding && i < 500; i++)
    h2o_evloop_run(q->ctx->loop, 10);
  if (q->outstanding) {
    sh_warn("stopping: %zu login answers never reached the event loop", q->outstanding);
    return;   /* their messages still point into q */
  }
  h2o_evloop_run(q->ctx->loop, 0);   /* the last answers' writes */
  h2o_multithread_unregister_receiver(q->ctx->queue, &q->receiver);
  pthread_mutex_destroy(&q->lock);
  pthread_cond_destroy(&q->cond);
  free(q);
}
