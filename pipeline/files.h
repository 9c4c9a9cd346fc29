/* The pipeline's paths and names: small string work of its own, beside the files it has the
 * library make (drvsign_make_dirs, drvsign_copy_file). */
#ifndef DRVSIGN_PIPELINE_FILES_H
#define DRVSIGN_PIPELINE_FILES_H

#include "drvsign/drvsign.h"

/* dir/name, malloc'd; NULL when out of memory. */
char *path_join(const char *dir, const char *name);
/* What follows the last separator. */
const char *base_name(const char *path);
/* A malloc'd copy; NULL when out of memory. */
char *str_copy(const char *s);
/* Create the directory that path goes in, and its parents. */
int make_parent_dirs(const char *path, drvsign_diag *diag);

#endif
