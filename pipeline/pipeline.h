/*
 * The package pipeline: the front end the CMake module drives, one step per build rule, all
 * read from one manifest (manifest.h) that the module writes. It is not part of libdrvsign:
 * it calls the library's operations (drvsign_sign, drvsign_catalog, drvsign_cab, ...) as any
 * front end would. Steps:
 *
 *   plan            (configure time) stamp the INF in memory, lay the package out, print it
 *   stamp OUT       StampInf: DriverVer, $ARCH$, $KMDFVERSION$, $UMDFVERSION$
 *   stage NAME      copy one file into the package; boot-start binaries are signed on the way
 *   catalog         Inf2Cat into the work directory (unsigned)
 *   sign-catalog    sign (or, with signing off, copy) the catalogs into the package
 *   cab             the submission cabinet, signed        archive    the zip/tar archive
 *   summary         where everything is, and drvsign verify --package
 *   resign DIR      (install time) re-sign an installed package with production credentials
 *
 * Secrets never appear here: credentials are file paths or pkcs11: URIs from the manifest or
 * the environment, and passwords come from DRVSIGN_PASSWORD_FILE or DRVSIGN_PASSWORD.
 */
#ifndef DRVSIGN_PIPELINE_H
#define DRVSIGN_PIPELINE_H

#include <stdio.h>

#include "drvsign/drvsign.h"

/* Run one step of the pipeline from manifest_path; arg as the step needs it. */
drvsign_status drvsign_pipeline_step(const char *manifest_path, const char *step, const char *arg,
                                     FILE *report, drvsign_diag *diag);

#endif
