/*
 * The problems found in one INF, each reported once: the package analysis runs once per /os
 * target, and a problem every target runs into is still one line (file:line, or file alone).
 */
#ifndef DRVSIGN_INF_PROBLEMS_H
#define DRVSIGN_INF_PROBLEMS_H

#include "diag.h"
#include "strmap.h"

typedef struct drv_inf_problems {
    const char *path; /* the INF the problems name */
    drvsign_diag *diag;
    drv_strmap reported;
    int failed; /* set by the first problem, even one reported before */
} drv_inf_problems;

void drv_inf_problems_init(drv_inf_problems *p, const char *path, drvsign_diag *diag);
/* One problem at line (0: the INF as a whole); dropped when the same one was reported. */
void drv_inf_problem(drv_inf_problems *p, unsigned line, const char *fmt, ...) DRV_PRINTF(3, 4);
void drv_inf_problems_free(drv_inf_problems *p);

#endif
