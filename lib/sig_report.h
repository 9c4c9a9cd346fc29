/*
 * The parts of a signature report that inspect and verify share: who signed with which digest,
 * and the timestamp, in text and in JSON. verify adds its verdicts around them.
 */
#ifndef DRVSIGN_SIG_REPORT_H
#define DRVSIGN_SIG_REPORT_H

#include <stdio.h>

#include "authenticode.h"

/* "  signature 2 (nested): <verdict, >sha256, signer "...", issuer "..."<suffix>\n";
 * verdict (e.g. "valid") and suffix may be NULL. */
void drv_report_sig_line(FILE *out, size_t index, int nested, const char *verdict,
                         const drv_sig_check *c, const char *suffix);
/* "    timestamp <time> (<kind>) by "<tsa>"<suffix>\n", when the signature has one. */
void drv_report_ts_line(FILE *out, const drv_sig_check *c, const char *suffix);
/* JSON members: "digest": ..., "signer": ..., "issuer": ... */
void drv_report_json_signer(FILE *out, const drv_sig_check *c);
/* JSON: "timestamp": {"kind": ..., "time": ..., "tsa": ...  (left open for more members). */
void drv_report_json_ts_open(FILE *out, const drv_sig_check *c);

#endif
