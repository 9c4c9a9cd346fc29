/*
 * libFuzzer target: signing identities as `sign` loads them. The first byte picks the path:
 * 0 a certificate file (PEM chain or DER), 1 a PKCS#12 file, 2 one file that is both the key
 * (PEM or DER, PKCS#1 or PKCS#8, encrypted or not) and the certificate chain. The password is
 * the test PKI's, from an environment variable, as --password-env gives it.
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drvsign_diag diag = fuzz_diag();
    const char *path;
    int mode;

    if (size < 1)
        return 0;
    setenv("DRVSIGN_FUZZ_PASSWORD", "drvsign-test-password", 0);
    mode = data[0] % 3;
    path = fuzz_file(data + 1, size - 1, "keys");
    if (mode == 0) {
        STACK_OF(X509) *certs = NULL;
        if (drv_load_certs(path, &certs, &diag) == 0)
            sk_X509_pop_free(certs, X509_free);
    } else {
        drvsign_params p = {0};
        drv_signer signer;
        p.password_env = "DRVSIGN_FUZZ_PASSWORD";
        if (mode == 1)
            p.pfx = path;
        else
            p.cert = p.key = path;
        if (drv_signer_load(&signer, &p, &diag) == 0)
            drv_signer_free(&signer);
    }
    ERR_clear_error();
    return 0;
}
