/* GET /1.0/metrics: Prometheus text for whoever asks, within what they may
 * read: per container state and usage (cgroup), per tenant totals, and the
 * daemon's health. */
#pragma once

#include "api.h"

void hd_metrics(struct hd_call *c);
