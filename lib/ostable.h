/*
 * Inf2Cat's /os identifiers (reference section 3.3) as data: architecture, NT version and
 * build (for matching TargetOSVersion decorations), client or server, and the strings a
 * catalog records: the OS attribute token and the member OSAttr version.
 */
#ifndef DRVSIGN_OSTABLE_H
#define DRVSIGN_OSTABLE_H

#include <stddef.h>

#include "diag.h"

typedef struct drv_os {
    const char *id;      /* the /os identifier, matched case-insensitively */
    const char *arch;    /* x86, amd64, ia64, arm, arm64 */
    const char *token;   /* catalog OS attribute token */
    const char *osattr;  /* member OSAttr version, written as "2:<osattr>" */
    unsigned major, minor, build;
    int server;
} drv_os;

const drv_os *drv_os_find(const char *id);
/* The whole table, for listing and for suggestions. */
const drv_os *drv_os_table(size_t *count);
/* Up to max ids closest to a mistyped one (edit distance), best first. */
size_t drv_os_suggest(const char *id, const char **out, size_t max);

/* Parse Inf2Cat /os lists ("10_X64,Server10_X64" or repeated); reports unknown ids with the
 * closest valid ones. *os is malloc'd. */
int drv_parse_os_list(const char *const *lists, size_t count, const drv_os ***os, size_t *n,
                      drvsign_diag *diag);

#endif
