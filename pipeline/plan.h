/* The package's layout, from the stamped INF: which catalogs, which files where. */
#ifndef DRVSIGN_PIPELINE_PLAN_H
#define DRVSIGN_PIPELINE_PLAN_H

#include <stdio.h>

#include "manifest.h"

/* The StampInf settings the manifest gives. */
drvsign_params plan_stamp_params(const manifest *m);
/* The stamped INF's file name (malloc'd; NULL when out of memory). */
char *plan_inf_name(const manifest *m);
/* Stamp the INF into work/plan and lay the package out from it (drvsign_plan); files need not
 * exist. *pl is set either way: free it with drvsign_plan_free. */
int plan_make(const manifest *m, drvsign_package_plan *pl, drvsign_diag *diag);
/* The file that provides name: a file entry (build time) or a provides entry (configure time). */
const char *plan_provider(const manifest *m, const char *name, int configure);
/* The plan step: the layout as CMake code for the module to evaluate (bracket arguments, so any
 * name survives): _drvsign_plan_inf, and the lists _drvsign_plan_catalogs, _drvsign_plan_sources
 * and _drvsign_plan_rels (a file's name in the INF and its path in the package, pairwise). */
int plan_print(const manifest *m, FILE *report, drvsign_diag *diag);

#endif
