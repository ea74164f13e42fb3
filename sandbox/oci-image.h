/* OCI image layout import: index.json -> manifest -> config and layers,
 * every blob's sha256 checked before it is used, layers applied in order
 * with whiteouts and opaque directories. */
#pragma once

#include <jansson.h>
#include "archive-io.h"
#include "error.h"

struct sh_oci_import_result {
  char manifest_digest[72]; /* "sha256:<64 hex>" of the chosen manifest */
  char architecture[32];    /* from the config, e.g. "amd64" */
  json_t *config;           /* the image config blob (caller frees), or NULL */
  struct sh_extract_stats stats;
};

/* layout is a directory holding an OCI image layout, or a tar archive of
 * one (plain or compressed).  ref selects a manifest by its
 * "org.opencontainers.image.ref.name" annotation; NULL takes the only one,
 * or the one for this machine's platform in an image index.  The tree is
 * built below rootfd (which should be empty). */
int sh_oci_import(const char *layout, const char *ref, int rootfd,
                  const struct sh_extract_limits *lim, struct sh_oci_import_result *r,
                  sh_error *e);

/* This machine's architecture in OCI terms: "amd64", "arm64", ... */
const char *sh_oci_arch(void);
