/* How the probe spells an outcome: "ok", an errno name ("EPERM") or a
 * signal name ("SIGSYS"). */
#pragma once


/* "EPERM", or "E<number>" for a number glibc has no name for.  The
 * fallback lives in a static buffer: use the result before the next call. */
const char *probe_errno_name(int err);
/* "SIGSYS", or "SIG<number>" (static buffer, as above). */
const char *probe_signal_name(int sig);
/* "ok" when r >= 0, else the errno name of -r. */
const char *probe_result_name(long r);
