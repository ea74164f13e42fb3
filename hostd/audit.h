/* The security audit: for every container in scope, what the database and
 * its configuration declare beside what the kernel actually holds (idmap,
 * label, seccomp, capabilities, cgroup limits, the BPF programs on its
 * cgroup and their map entries, its nft anti-spoofing elements), and
 * host-wide proofs (id ranges disjoint and never host root, MCS pairs
 * unique, nft ports as the database says, SELinux mode, kernel features).
 * Every mismatch is a finding with a severity and a fix hint. */
#pragma once

#include <jansson.h>
#include <sqlite3.h>
#include "api.h"
#include "error.h"
#include "host.h"

void hd_audit_init(struct hd_host *h);
/* The report (docs/policy.md, "The audit"): tenant and container narrow
 * it (0: everything); with probe, sandhost-probe runs inside each running
 * container in scope and its report joins the kernel's facts. */
json_t *hd_audit_report(struct hd_host *h, sqlite3 *db, int64_t tenant, int64_t container, bool probe, sh_error *e);
/* The report as text or a self-contained HTML page (malloc'd). */
char *hd_audit_text(json_t *report);
char *hd_audit_html(json_t *report);
/* GET /1.0/audit/report[?tenant=T][&container=C][&format=json|text|html]:
 * admins and auditors everything, a tenant's owner their tenant. */
void hd_audit_get(struct hd_call *c);
/* Said once at start: SELinux's state on this host. */
void hd_audit_log_host(void);
