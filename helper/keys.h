/*
 * Signing identities: a private key and its certificate chain, from a PKCS#12 file or from
 * certificate and key files. The key only ever sees a finished digest (drv_signer_sign_digest),
 * so keys that live on a token or a remote HSM fit behind the same interface.
 */
#ifndef DRVSIGN_KEYS_H
#define DRVSIGN_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "diag.h"

typedef struct drv_token drv_token;

typedef struct drv_signer {
    EVP_PKEY *key;
    X509 *cert;            /* the signing certificate */
    STACK_OF(X509) *extra; /* chain and --add-cert certificates, without the signing one */
    drv_token *token;      /* the PKCS#11 session behind key, when it lives on a token */
} drv_signer;

/*
 * Load from params (pfx, or cert + key, plus add_certs). The key and the certificate may be
 * RFC 7512 pkcs11: URIs: they load through OpenSSL 3's pkcs11 provider (OSSL_STORE) when it is
 * installed, otherwise through libp11's engine; DRVSIGN_PKCS11_BACKEND=provider|engine picks
 * one. The PIN is the password (--pin-env/--pin-file). Returns 0, or -1 after reporting.
 */
int drv_signer_load(drv_signer *signer, const drvsign_params *params, drvsign_diag *diag);
void drv_signer_free(drv_signer *signer);

/* Sign a digest made with md: PKCS#1 v1.5 for RSA, ECDSA for EC keys. *sig is OPENSSL_malloc'd. */
int drv_signer_sign_digest(const drv_signer *signer, const EVP_MD *md, const unsigned char *digest,
                           size_t digest_len, unsigned char **sig, size_t *sig_len,
                           drvsign_diag *diag);

/*
 * The secret named by an environment variable or a file (first line, without the line end).
 * *secret is NULL when neither is given. Free it with drv_free_secret.
 */
int drv_read_secret(const char *env_name, const char *file, char **secret, drvsign_diag *diag);

/* Every certificate in a PEM or DER file (PEM may hold several). */
int drv_load_certs(const char *path, STACK_OF(X509) **certs, drvsign_diag *diag);

#endif
