/*
 * Signing identities: picking the key backend (the table), loading the signer, and "sign this
 * digest" with the check that the certificate's key verifies every signature.
 */
#include "keys.h"

#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "port.h"

extern const drv_key_backend drv_key_backend_command;
extern const drv_key_backend drv_key_backend_pkcs12;
extern const drv_key_backend drv_key_backend_pkcs11;
extern const drv_key_backend drv_key_backend_file;

/* The key-backend table, in order: the first backend that claims the spec holds the key. A new
 * key store is its own file plus a row here. */
static const drv_key_backend *const key_backends[] = {
    &drv_key_backend_command,
    &drv_key_backend_pkcs12,
    &drv_key_backend_pkcs11,
    &drv_key_backend_file,
};

void drv_key_spec_from_params(drv_key_spec *spec, const drvsign_params *p)
{
    memset(spec, 0, sizeof *spec);
    spec->pfx = p->pfx;
    spec->cert = p->cert;
    spec->key = p->key;
    spec->pkcs11_module = p->pkcs11_module;
    spec->command = p->signer_command;
    spec->command_argv = p->signer_argv;
    spec->command_argc = p->signer_argc;
    spec->command_timeout = p->signer_timeout;
}

/* --add-cert: more certificates for the signature's set. */
static int add_extra_certs(drv_signer *s, const drvsign_params *p, drvsign_diag *diag)
{
    for (size_t i = 0; i < p->add_cert_count; i++) {
        STACK_OF(X509) *more;
        int rc;
        if (drv_load_certs(p->add_certs[i], &more, diag) != 0)
            return -1;
        rc = drv_certs_move(s->extra, more);
        if (rc != 0)
            drv_error(diag, p->add_certs[i], "out of memory");
        sk_X509_pop_free(more, X509_free);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int drv_signer_load_certs(drv_signer *s, const drvsign_params *p, drvsign_diag *diag)
{
    memset(s, 0, sizeof *s);
    s->extra = sk_X509_new_null();
    if (s->extra == NULL || p->cert == NULL || drv_load_chain_no_key(s, p->cert, diag) != 0 ||
        add_extra_certs(s, p, diag) != 0) {
        drv_signer_free(s);
        return -1;
    }
    return 0;
}

int drv_signer_load(drv_signer *s, const drvsign_params *p, drvsign_diag *diag)
{
    char *password = NULL;
    drv_key_spec spec;
    int rc = -1;

    memset(s, 0, sizeof *s);
    drv_key_spec_from_params(&spec, p);
    s->extra = sk_X509_new_null();
    if (s->extra == NULL) {
        drv_error(diag, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < sizeof key_backends / sizeof key_backends[0] && !s->backend; i++)
        if (key_backends[i]->claims(&spec))
            s->backend = key_backends[i];
    if (s->backend == NULL) {
        drv_error(diag, NULL, "no signing identity: give a PKCS#12 file, a certificate with its "
                              "key, or a certificate chain with a signer command");
        goto done;
    }
    if (drv_read_secret(p->password_env, p->password_file, &password, diag) != 0)
        goto done;
    if (s->backend->load(s, &spec, password, diag) != 0)
        goto done;
    if (add_extra_certs(s, p, diag) != 0)
        goto done;
    if (s->key != NULL && !X509_check_private_key(s->cert, s->key)) {
        ERR_clear_error();
        drv_error(diag, p->pfx ? p->pfx : p->cert, "the certificate does not match the private key");
        goto done;
    }
    rc = 0;
done:
    drv_free_secret(password);
    if (rc != 0)
        drv_signer_free(s);
    return rc;
}

void drv_signer_free(drv_signer *s)
{
    EVP_PKEY_free(s->key);
    X509_free(s->cert);
    sk_X509_pop_free(s->extra, X509_free);
    /* after the key: it may belong to the token's provider or engine */
    if (s->backend != NULL && s->backend->free_state != NULL && s->state != NULL)
        s->backend->free_state(s->state);
    memset(s, 0, sizeof *s);
}

int drv_evp_sign_digest(const drv_signer *s, const EVP_MD *md, const unsigned char *digest,
                        size_t digest_len, const unsigned char *data, size_t data_len,
                        unsigned char **sig, size_t *sig_len, const char *where,
                        drvsign_diag *diag)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(s->key, NULL);
    int rc = -1;

    (void)data, (void)data_len; /* OpenSSL signs the digest itself */
    *sig = NULL;
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0)
        goto done;
    if (EVP_PKEY_is_a(s->key, "RSA") && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
        goto done;
    if (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
        goto done;
    if (EVP_PKEY_sign(ctx, NULL, sig_len, digest, digest_len) <= 0)
        goto done;
    *sig = OPENSSL_malloc(*sig_len);
    if (*sig == NULL || EVP_PKEY_sign(ctx, *sig, sig_len, digest, digest_len) <= 0)
        goto done;
    rc = 0;
done:
    if (rc != 0) {
        OPENSSL_free(*sig);
        *sig = NULL;
        drv_ssl_error(diag, where, "the signing key refused to sign");
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int drv_signer_sign_digest(const drv_signer *s, const EVP_MD *md, const unsigned char *digest,
                           size_t digest_len, const unsigned char *data, size_t data_len,
                           unsigned char **sig, size_t *sig_len, const char *where,
                           drvsign_diag *diag)
{
    if (s->backend->sign_digest(s, md, digest, digest_len, data, data_len, sig, sig_len, where,
                                diag) != 0)
        return -1;
    /* a token or a remote service can answer with another key's signature: never attach it */
    if (drv_signature_accept(s->cert, md, digest, digest_len, sig, sig_len,
                             s->backend->source, where, diag) != 0) {
        OPENSSL_free(*sig);
        *sig = NULL;
        return -1;
    }
    return 0;
}

/* Raw r||s (each half the size of the group order) as a DER ECDSA-Sig-Value. */
static int ecdsa_raw_to_der(const unsigned char *raw, size_t len, unsigned char **der,
                            size_t *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)(len / 2), NULL), *sv = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
    int n = -1;
    *der = NULL;
    if (es != NULL && r != NULL && sv != NULL && ECDSA_SIG_set0(es, r, sv)) {
        r = sv = NULL;
        n = i2d_ECDSA_SIG(es, der);
    }
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return -1;
    *der_len = (size_t)n;
    return 0;
}

/* Is sig exactly one DER ECDSA-Sig-Value? */
static int is_ecdsa_der(const unsigned char *sig, size_t len)
{
    const unsigned char *p = sig;
    ECDSA_SIG *es;
    unsigned char *again = NULL;
    int n, same;
    if (len > LONG_MAX || (es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL) {
        ERR_clear_error();
        return 0;
    }
    n = i2d_ECDSA_SIG(es, &again);
    same = n > 0 && (size_t)n == len && (size_t)(p - sig) == len && memcmp(again, sig, len) == 0;
    OPENSSL_free(again);
    ECDSA_SIG_free(es);
    return same;
}

int drv_signature_accept(X509 *cert, const EVP_MD *md, const unsigned char *digest,
                         size_t digest_len, unsigned char **sig, size_t *sig_len,
                         const char *from, const char *where, drvsign_diag *diag)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    EVP_PKEY_CTX *ctx = NULL;
    int rc = -1, bits = pub ? EVP_PKEY_get_bits(pub) : 0;

    if (pub == NULL) {
        drv_ssl_error(diag, where, "cannot read the certificate's public key");
        return -1;
    }
    if (*sig_len == 0) {
        drv_error(diag, where, "%s returned no signature", from);
        return -1;
    }
    if (EVP_PKEY_is_a(pub, "RSA")) {
        size_t want = (size_t)EVP_PKEY_get_size(pub);
        if (*sig_len != want) {
            drv_error(diag, where, "%s returned %zu bytes, but an RSA-%d signature is %zu bytes "
                                   "(truncated, base64 or another key's?)",
                      from, *sig_len, bits, want);
            return -1;
        }
    } else if (EVP_PKEY_is_a(pub, "EC")) {
        /* the group order's size: P-256 gives 32-byte r and s */
        size_t half = (size_t)(bits + 7) / 8;
        if (!is_ecdsa_der(*sig, *sig_len)) {
            unsigned char *der;
            size_t der_len;
            if (*sig_len != 2 * half) {
                drv_error(diag, where, "%s returned %zu bytes, which is neither a DER ECDSA "
                                       "signature nor a raw r||s of %zu bytes for this %d-bit key",
                          from, *sig_len, 2 * half, bits);
                return -1;
            }
            if (ecdsa_raw_to_der(*sig, *sig_len, &der, &der_len) != 0) {
                drv_ssl_error(diag, where, "cannot encode the ECDSA signature");
                return -1;
            }
            OPENSSL_free(*sig);
            *sig = der;
            *sig_len = der_len;
        }
    }
    ctx = EVP_PKEY_CTX_new(pub, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0 ||
        (EVP_PKEY_is_a(pub, "RSA") && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) ||
        EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) {
        drv_ssl_error(diag, where, "cannot check the signature");
        goto done;
    }
    if (EVP_PKEY_verify(ctx, *sig, *sig_len, digest, digest_len) != 1) {
        ERR_clear_error();
        drv_error(diag, where, "%s returned a signature that the certificate's public key does "
                               "not verify (another key, another digest, or not PKCS#1 v1.5/ECDSA "
                               "over the %s digest); nothing was signed",
                  from, OBJ_nid2sn(EVP_MD_get_type(md)));
        goto done;
    }
    rc = 0;
done:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

