/* A diagnostics sink for unit tests that keeps the first error lines, to check them exactly. */
#ifndef DRVSIGN_UNIT_CAPTURE_H
#define DRVSIGN_UNIT_CAPTURE_H
#include <stdio.h>

#include "drvsign/drvsign.h"

static char errors[8][512];
static unsigned n_errors;

static void capture(void *ctx, int is_error, const char *line)
{
    (void)ctx;
    if (is_error && n_errors < 8)
        snprintf(errors[n_errors++], sizeof errors[0], "%s", line);
}
#endif
