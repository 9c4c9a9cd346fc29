/* The pipeline's words for the library's parameters (the CMake arguments and DRVSIGN_* variables
 * a user sets), and the configure-time check of everything the build will ask the library for. */
#ifndef DRVSIGN_PIPELINE_PARAMS_H
#define DRVSIGN_PIPELINE_PARAMS_H

#include "manifest.h"

/* A drvsign_diag param_name: the CMake argument or variable behind a parameter. */
const char *pipeline_param_name(void *ctx, drvsign_param id);

/* Run the library's validator on the parameters of every operation the build will run (the
 * catalog, the signer and its timestamps, the archive), so misuse is a configure error; each
 * problem one line. 0, or -1 after reporting them all. */
int pipeline_check_params(const manifest *m, drvsign_diag *diag);

#endif
