/* Partner Center's rules for the package folders of a submission cabinet (reference 5.1). */
#ifndef DRVSIGN_SUBMISSION_RULES_H
#define DRVSIGN_SUBMISSION_RULES_H

#include <stddef.h>

#include "diag.h"

/* Under 40 characters, letters, digits, '.', '_' and '-' only; not "." or "..". */
int drv_pc_folder_name_ok(const char *name);
/* Ends in .inf (any case). */
int drv_pc_is_inf(const char *name);
/* The architectures an INF serves, as a bit mask over drv_inf_arches(): its [Manufacturer]
 * decorations, CatalogFile.NT<arch> keys and [DefaultInstall.NT<arch>] sections; x86 alone
 * when it decorates nothing; 0 when it cannot be read (the error goes to diag). */
unsigned drv_pc_inf_arches(const char *path, drvsign_diag *diag);
/* "x86, amd64": the architectures of mask, in table order. */
void drv_pc_arch_text(unsigned mask, char *out, size_t size);

#endif
