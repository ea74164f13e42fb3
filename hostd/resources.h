/* Database-backed API resources (plans, tenants, images, users, tokens),
 * described by tables of columns and served by one set of handlers. */
#pragma once

#include "api.h"

struct hd_resource;
extern const struct hd_resource hd_res_plans, hd_res_tenants, hd_res_images, hd_res_users, hd_res_tokens, hd_res_containers;

void hd_res_list(struct hd_call *c, const struct hd_resource *r);
void hd_res_get(struct hd_call *c, const struct hd_resource *r);
void hd_res_create(struct hd_call *c, const struct hd_resource *r);
void hd_res_patch(struct hd_call *c, const struct hd_resource *r);
void hd_res_delete(struct hd_call *c, const struct hd_resource *r);
/* Read one row as the API shows it (checking access as load does): the
 * object, or NULL with the call failed. */
json_t *hd_res_load(struct hd_call *c, const struct hd_resource *r, enum hd_access access, int64_t *tenant);
/* Names of everything (plans, tenants, containers, snapshots...). */
#define HD_NAME_RULE "1 to 63 of a-z, 0-9, '-', '_', '.', starting with a letter or digit"
bool hd_name_valid(const char *name);
/* POST /1.0/users/{id}/tokens: a new API token, its secret shown once. */
void hd_token_post(struct hd_call *c);
