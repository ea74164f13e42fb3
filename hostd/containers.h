/* Container lifecycle and operations endpoints (hostd/containers.c). */
#pragma once

#include "api.h"
#include "config.h"
#include "host.h"

/* The configuration (the host id range containers' ranges come from) and
 * the host whose pool and cgroups live changes reach (NULL in unit tests:
 * changes that need them answer 503, others are recorded). */
void hd_containers_init(const struct hd_config *cfg, struct hd_host *h);
void hd_container_create(struct hd_call *c);        /* POST /1.0/containers */
void hd_container_state(struct hd_call *c);         /* PUT /1.0/containers/#/state */
void hd_container_delete(struct hd_call *c);        /* DELETE /1.0/containers/# */
void hd_container_patch(struct hd_call *c);         /* PATCH /1.0/containers/#: sizes live, restart policy */
void hd_container_clone(struct hd_call *c);         /* POST /1.0/containers/#/clone */
void hd_container_logs(struct hd_call *c);         /* GET /1.0/containers/#/logs */
void hd_container_exec(struct hd_call *c);         /* GET /1.0/containers/#/exec (websocket) */
void hd_policy_get(struct hd_call *c);             /* GET /1.0/containers/#/policy */
void hd_policy_put(struct hd_call *c);             /* PUT /1.0/containers/#/policy */
void hd_snapshot_list(struct hd_call *c);          /* GET /1.0/containers/#/snapshots */
void hd_snapshot_create(struct hd_call *c);        /* POST /1.0/containers/#/snapshots */
void hd_snapshot_restore(struct hd_call *c);       /* POST /1.0/containers/#/snapshots/#/restore */
void hd_snapshot_delete(struct hd_call *c);        /* DELETE /1.0/containers/#/snapshots/# */
void hd_operation_get(struct hd_call *c);           /* GET /1.0/operations/#[/wait] */
void hd_operation_list(struct hd_call *c);          /* GET /1.0/operations */
