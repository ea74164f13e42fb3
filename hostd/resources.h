/* Database-backed API resources (plans, tenants, images, users, tokens),
 * described by tables of columns and served by one set of handlers. */
#pragma once

#include "api.h"

struct hd_resource;
extern const struct hd_resource hd_res_plans, hd_res_tenants, hd_res_images, hd_res_users, hd_res_tokens;

void hd_res_list(struct hd_call *c, const struct hd_resource *r);
void hd_res_get(struct hd_call *c, const struct hd_resource *r);
void hd_res_create(struct hd_call *c, const struct hd_resource *r);
void hd_res_patch(struct hd_call *c, const struct hd_resource *r);
void hd_res_delete(struct hd_call *c, const struct hd_resource *r);
/* POST /1.0/users/{id}/tokens: a new API token, its secret shown once. */
void hd_token_post(struct hd_call *c);
