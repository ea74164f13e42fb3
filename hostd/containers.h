/* Container lifecycle and operations endpoints (hostd/containers.c). */
#pragma once

#include "api.h"
#include "config.h"

/* The host id range containers' ranges come from. */
void hd_containers_init(const struct hd_config *cfg);
void hd_container_create(struct hd_call *c);        /* POST /1.0/containers */
void hd_container_state(struct hd_call *c);         /* PUT /1.0/containers/#/state */
void hd_container_delete(struct hd_call *c);        /* DELETE /1.0/containers/# */
void hd_container_logs(struct hd_call *c);         /* GET /1.0/containers/#/logs */
void hd_container_exec(struct hd_call *c);         /* GET /1.0/containers/#/exec (websocket) */         /* GET /1.0/containers/#/logs */
void hd_policy_get(struct hd_call *c);             /* GET /1.0/containers/#/policy */
void hd_policy_put(struct hd_call *c);             /* PUT /1.0/containers/#/policy */
void hd_snapshot_list(struct hd_call *c);          /* GET /1.0/containers/#/snapshots */
void hd_snapshot_create(struct hd_call *c);        /* POST /1.0/containers/#/snapshots */
void hd_snapshot_restore(struct hd_call *c);       /* POST /1.0/containers/#/snapshots/#/restore */
void hd_snapshot_delete(struct hd_call *c);        /* DELETE /1.0/containers/#/snapshots/# */
void hd_operation_get(struct hd_call *c);           /* GET /1.0/operations/#[/wait] */
void hd_operation_list(struct hd_call *c);          /* GET /1.0/operations */
