/* The PKCS#12 key backend: key, certificate and chain from one .pfx/.p12 file. */
#include "keys.h"

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "port.h"

#define MAX_PFX_FILE (4u << 20)

static PKCS12 *read_pfx(const char *path, drvsign_diag *diag)
{
    unsigned char *data;
    size_t len;
    const unsigned char *p;
    PKCS12 *p12;

    if (drv_read_small_file(path, MAX_PFX_FILE, &data, &len, diag) != 0)
        return NULL;
    p = data;
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    free(data);
    if (p12 == NULL)
        drv_ssl_error(diag, path, "not a PKCS#12 file");
    return p12;
}

/* PKCS12_parse itself tries both "no password" and the empty one, as Windows writes either. */
static int parse_pfx(PKCS12 *p12, const char *password, EVP_PKEY **key, X509 **cert,
                     STACK_OF(X509) **ca)
{
    return PKCS12_parse(p12, password != NULL ? password : "", key, cert, ca);
}

static int load_pfx(drv_signer *s, const char *path, const char *password, drvsign_diag *diag)
{
    PKCS12 *p12 = read_pfx(path, diag);
    STACK_OF(X509) *ca = NULL;
    int ok, rc = -1;

    if (p12 == NULL)
        goto done;
    if (password != NULL && *password != '\0' && PKCS12_mac_present(p12) &&
        !PKCS12_verify_mac(p12, password, -1)) {
        drv_error(diag, path, "wrong password for PKCS#12 file");
        goto done;
    }
    ok = parse_pfx(p12, password, &s->key, &s->cert, &ca);
    if (!ok) {
        /* PFX files exported by older Windows use RC2/3DES, which OpenSSL 3 keeps in its
         * legacy provider; load it only when it is needed. */
        OSSL_PROVIDER *legacy = OSSL_PROVIDER_load(NULL, "legacy");
        OSSL_PROVIDER *deflt = OSSL_PROVIDER_load(NULL, "default");
        ERR_clear_error();
        if (legacy != NULL)
            ok = parse_pfx(p12, password, &s->key, &s->cert, &ca);
        OSSL_PROVIDER_unload(legacy);
        OSSL_PROVIDER_unload(deflt);
    }
    if (!ok || s->key == NULL || s->cert == NULL) {
        if (password == NULL)
            drv_ssl_error(diag, path,
                          "cannot read the key and certificate from the PKCS#12 file (if it has "
                          "a password, give it with %s or %s)",
                          drv_param(diag, DRVSIGN_PARAM_PASSWORD_ENV),
                          drv_param(diag, DRVSIGN_PARAM_PASSWORD_FILE));
        else
            drv_ssl_error(diag, path, "cannot read the key and certificate from the PKCS#12 file");
        goto done;
    }
    if (drv_certs_move(s->extra, ca) != 0) {
        drv_error(diag, path, "out of memory");
        goto done;
    }
    rc = 0;
done:
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return rc;
}

static int pfx_claims(const drv_key_spec *spec)
{
    return spec->pfx != NULL;
}

static int pfx_load(drv_signer *s, const drv_key_spec *spec, const char *secret,
                    drvsign_diag *diag)
{
    return load_pfx(s, spec->pfx, secret, diag);
}

const drv_key_backend drv_key_backend_pkcs12 = {"pkcs12", "the key", pfx_claims, pfx_load,
                                                drv_evp_sign_digest, NULL};
