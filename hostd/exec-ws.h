/* exec over a websocket: a command in a running container, its terminal
 * (or pipes) carried as binary messages each way.  Text messages are
 * control: {"resize": [cols, rows]} from the client; {"exit": code} from
 * the server before it closes. */
#pragma once

#include <h2o.h>
#include "api.h"

struct hd_exec_env {
  const char *sbx, *sbx_root, *runtime_dir;
};

/* Upgrade req (the call passed hd_container_exec's checks) and run the
 * command through `sbx exec`; on failure, answer with an error. */
void hd_exec_ws(h2o_req_t *req, h2o_loop_t *loop, const struct hd_exec_env *env, const struct hd_call *c);
/* Reap exec runtimes whose session ended (called from a timer). */
void hd_exec_reap(void);
