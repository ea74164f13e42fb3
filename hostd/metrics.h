/* GET /1.0/metrics: Prometheus text for whoever asks, within what they may
 * read: per container state and usage (cgroup), per tenant totals, the
 * host's capacity (provider-wide readers) and the daemon's health. */
#pragma once

#include "api.h"
#include "host.h"

/* The host whose capacity (cpus, memory, the storage pool) admins and
 * auditors see too; NULL (tests): none. */
void hd_metrics_init(struct hd_host *h);
void hd_metrics(struct hd_call *c);
