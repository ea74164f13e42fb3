/* A container's files through the API (hostd/files.c): read, written and
 * removed in its volume's tree as the container sees it, running or not. */
#pragma once

#include "api.h"
#include "host.h"

/* The host whose pool holds the volumes.  Without one (unit tests) the
 * routes still check access and parameters, then answer 503. */
void hd_files_init(struct hd_host *h);
void hd_file_get(struct hd_call *c);      /* GET /1.0/containers/#/files?path=P[&stat=1] */
void hd_file_put(struct hd_call *c);      /* PUT /1.0/containers/#/files?path=P[&uid=&gid=&mode=&type=] */
void hd_file_delete(struct hd_call *c);   /* DELETE /1.0/containers/#/files?path=P */
