/* The database schema as a list of migrations (hostd/schema.c). */
#pragma once

/* How many migrations there are: the latest user_version. */
int hd_schema_count(void);
/* The SQL taking user_version `from` to from + 1; NULL past the end. */
const char *hd_schema_migration(int from);
