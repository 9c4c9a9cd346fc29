/* The key-file backend: a private key file and a certificate (chain) file. */
#include "keys.h"

static int file_claims(const drv_key_spec *spec)
{
    return spec->cert != NULL && spec->key != NULL;
}

static int file_load(drv_signer *s, const drv_key_spec *spec, const char *secret,
                     drvsign_diag *diag)
{
    s->key = drv_load_key_file(spec->key, secret, diag);
    return s->key != NULL && drv_load_chain_for_key(s, spec->cert, diag) == 0 ? 0 : -1;
}

const drv_key_backend drv_key_backend_file = {"file", "the key", file_claims, file_load,
                                              drv_evp_sign_digest, NULL};
