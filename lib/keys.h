/*
 * Signing identities: a certificate chain and a key that can "sign this digest". Where the key
 * lives is a key backend: one file (key_file.c, key_pkcs12.c, key_pkcs11.c, key_command.c) and
 * one row in the table in keys.c. A backend sees only drv_key_spec, never the whole parameter
 * set; the key only ever sees a finished digest (drv_signer_sign_digest), and every signature
 * is checked against the certificate's public key before anything uses it.
 */
#ifndef DRVSIGN_KEYS_H
#define DRVSIGN_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "diag.h"

typedef struct drv_key_backend drv_key_backend;

/* Where the key and its certificate are: all that a backend is given. */
typedef struct drv_key_spec {
    const char *pfx;           /* PKCS#12 file */
    const char *cert;          /* certificate (chain) file, or a pkcs11: URI */
    const char *key;           /* private key file, or a pkcs11: URI */
    const char *pkcs11_module; /* NULL: the p11-kit proxy when there is one */
    const char *command;       /* an external signer's command line, or */
    const char *const *command_argv; /* its words */
    size_t command_argc;
    int command_timeout; /* seconds; 0 means the backend's default */
} drv_key_spec;

/* The signer part of the parameter model. */
void drv_key_spec_from_params(drv_key_spec *spec, const drvsign_params *params);

typedef struct drv_signer {
    EVP_PKEY *key;         /* the private key, when OpenSSL holds it (NULL for a command) */
    X509 *cert;            /* the signing certificate */
    STACK_OF(X509) *extra; /* chain and --add-cert certificates, without the signing one */
    const drv_key_backend *backend;
    void *state; /* the backend's own: the PKCS#11 session, the signer command */
} drv_signer;

/* One place a key can live. */
struct drv_key_backend {
    const char *name;
    const char *source; /* who signs, for messages: "the key", "the signer command" */
    /* Does this spec name a key of this backend? */
    int (*claims)(const drv_key_spec *spec);
    /* Fill key (if any), cert and extra; secret is the password or PIN (may be NULL). */
    int (*load)(drv_signer *signer, const drv_key_spec *spec, const char *secret,
                drvsign_diag *diag);
    /* The raw signature of digest (made with md over data, the signed attributes, for signers
     * that insist on hashing themselves), OPENSSL_malloc'd; where names the file, for messages. */
    int (*sign_digest)(const drv_signer *signer, const EVP_MD *md, const unsigned char *digest,
                       size_t digest_len, const unsigned char *data, size_t data_len,
                       unsigned char **sig, size_t *sig_len, const char *where,
                       drvsign_diag *diag);
    void (*free_state)(void *state);
};

/* Sign with signer->key through OpenSSL: what the file, PKCS#12 and PKCS#11 backends share. */
int drv_evp_sign_digest(const drv_signer *signer, const EVP_MD *md, const unsigned char *digest,
                        size_t digest_len, const unsigned char *data, size_t data_len,
                        unsigned char **sig, size_t *sig_len, const char *where,
                        drvsign_diag *diag);
/*
 * Accept a raw signature of digest only if the certificate's public key verifies it. ECDSA
 * signatures may be DER or raw r||s; *sig becomes DER (reallocated). RSA is PKCS#1 v1.5 of
 * exactly the modulus size. from names the source in messages ("the signer command").
 */
int drv_signature_accept(X509 *cert, const EVP_MD *md, const unsigned char *digest,
                         size_t digest_len, unsigned char **sig, size_t *sig_len,
                         const char *from, const char *where, drvsign_diag *diag);
/* Every certificate of a chain file, the signing one first: the first that is not a CA. */
int drv_load_chain_no_key(drv_signer *signer, const char *path, drvsign_diag *diag);
/* Every certificate of from appended to to (from ends empty). 0, or -1 out of memory. */
int drv_certs_move(STACK_OF(X509) *to, STACK_OF(X509) *from);
/* From a file that may hold a whole chain, the certificate of signer->key and its chain. */
int drv_load_chain_for_key(drv_signer *signer, const char *path, drvsign_diag *diag);
/* A private key file (PEM or DER, PKCS#1 or PKCS#8, encrypted with password or not). */
EVP_PKEY *drv_load_key_file(const char *path, const char *password, drvsign_diag *diag);
/* The first object of an OSSL_STORE_INFO type at uri (a file or a provider's URI), or NULL. */
void *drv_store_load(OSSL_LIB_CTX *libctx, const char *uri, int type, const char *pin);

/*
 * Load from params (pfx, or cert + key, plus add_certs). The key and the certificate may be
 * RFC 7512 pkcs11: URIs: they load through OpenSSL 3's pkcs11 provider (OSSL_STORE) when it is
 * installed, otherwise through libp11's engine; DRVSIGN_PKCS11_BACKEND=provider|engine picks
 * one. The PIN is the password (--pin-env/--pin-file). Returns 0, or -1 after reporting.
 */
int drv_signer_load(drv_signer *signer, const drvsign_params *params, drvsign_diag *diag);
/* Only the certificates (--cert chain and add_certs), for preparing a detached signature. */
int drv_signer_load_certs(drv_signer *signer, const drvsign_params *params, drvsign_diag *diag);
void drv_signer_free(drv_signer *signer);

/* Sign a digest made with md: PKCS#1 v1.5 for RSA, ECDSA (DER) for EC keys, through the
 * signer's backend, and checked against the certificate. *sig is OPENSSL_malloc'd. */
int drv_signer_sign_digest(const drv_signer *signer, const EVP_MD *md, const unsigned char *digest,
                           size_t digest_len, const unsigned char *data, size_t data_len,
                           unsigned char **sig, size_t *sig_len, const char *where,
                           drvsign_diag *diag);

/*
 * The secret named by an environment variable or a file (first line, without the line end).
 * *secret is NULL when neither is given. Free it with drv_free_secret.
 */
int drv_read_secret(const char *env_name, const char *file, char **secret, drvsign_diag *diag);

/* Every certificate in a PEM or DER file (PEM may hold several). */
int drv_load_certs(const char *path, STACK_OF(X509) **certs, drvsign_diag *diag);

#endif
