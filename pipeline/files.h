/* The pipeline's file operations over the library's platform layer. */
#ifndef DRVSIGN_PIPELINE_FILES_H
#define DRVSIGN_PIPELINE_FILES_H

#include "drvsign/drvsign.h"

/* Create dir and its parents. */
int make_dirs(const char *dir, drvsign_diag *diag);
/* Create the directory that path goes in, and its parents. */
int make_parent_dirs(const char *path, drvsign_diag *diag);
/* Copy from into to, atomically (to keeps from's permissions). */
int copy_file(const char *from, const char *to, drvsign_diag *diag);

#endif
