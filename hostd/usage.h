/* GET /1.0/usage: what each container of a tenant used over a period, for
 * billing, as JSON or CSV (?format=csv), from the samples the worker takes. */
#pragma once

#include "api.h"

void hd_usage(struct hd_call *c);
