/* Who signs: the build tree's test identity, or production credentials from the environment
 * (at build or install time) or the manifest (CMake cache variables); and signing a file with
 * stored signatures (SIGNATURES). */
#ifndef DRVSIGN_PIPELINE_SIGNER_H
#define DRVSIGN_PIPELINE_SIGNER_H

#include "manifest.h"

/* What the signer parameters point into; owned by the caller, freed with holder_free. */
typedef struct holder {
    list strings, add_certs, timestamps;
} holder;

void holder_free(holder *h);
int signer_params(const manifest *m, int production_keys, drvsign_params *p, holder *h,
                  drvsign_diag *diag);
/* Sign source into dest (rel: its path in the package, for SIGNATURES). */
int sign_file(const manifest *m, int production_keys, const char *source, const char *dest,
              const char *rel, int page_hashes, drvsign_diag *diag);

int signing(const manifest *m);
int production(const manifest *m);
int is_boot_start(const manifest *m, const char *name);

#endif
