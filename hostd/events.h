/* Events: what happened (operations ending, containers changing state), in
 * order, for whoever may see them.  GET /1.0/events?since=N lists them;
 * with stream=1 the connection stays open and each new event follows as a
 * JSON line (hostd/http.c). */
#pragma once

#include <jansson.h>
#include <sqlite3.h>
#include "api.h"

/* Record an event (tenant 0: the provider's). */
void hd_event_emit(sqlite3 *db, int64_t tenant, const char *type, json_t *body);
/* Events after id `since` that who may see, at most limit; *last gets the
 * id to continue from. */
json_t *hd_events_since(sqlite3 *db, const struct hd_principal *who, int64_t since, int limit, int64_t *last);
/* Drop events older than a week. */
void hd_events_prune(sqlite3 *db);
void hd_events(struct hd_call *c);
