#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <openssl/ui.h>

#include "port.h"

#define MAX_SECRET_FILE 4096
#define MAX_CERT_FILE (4u << 20)
#define MAX_PFX_FILE (4u << 20)

int drv_read_secret(const char *env_name, const char *file, char **secret, drvsign_diag *diag)
{
    *secret = NULL;
    if (env_name != NULL && file != NULL) {
        drv_error(diag, NULL, "give the password either in an environment variable or in a file, "
                              "not both");
        return -1;
    }
    if (env_name != NULL) {
        const char *v = getenv(env_name);
        if (v == NULL) {
            drv_error(diag, NULL, "environment variable %s is not set", env_name);
            return -1;
        }
        *secret = drv_strdup(v);
    } else if (file != NULL) {
        unsigned char *data;
        size_t len;
        if (drv_read_small_file(file, MAX_SECRET_FILE, &data, &len, diag) != 0)
            return -1;
        len = strcspn((char *)data, "\r\n");
        data[len] = 0;
        *secret = drv_strdup((char *)data);
        drv_wipe(data, len);
        free(data);
    } else {
        return 0;
    }
    if (*secret == NULL) {
        drv_error(diag, NULL, "out of memory");
        return -1;
    }
    return 0;
}

int drv_load_certs(const char *path, STACK_OF(X509) **certs, drvsign_diag *diag)
{
    unsigned char *data;
    size_t len;
    BIO *bio = NULL;
    int rc = -1;

    *certs = sk_X509_new_null();
    if (*certs == NULL || drv_read_small_file(path, MAX_CERT_FILE, &data, &len, diag) != 0)
        return -1;
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL)
        goto done;
    if (len > 0 && data[0] == 0x30) {
        /* DER holds exactly one certificate */
        const unsigned char *p = data;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x == NULL || !sk_X509_push(*certs, x)) {
            X509_free(x);
            drv_ssl_error(diag, path, "not a DER certificate");
            goto done;
        }
    } else {
        X509 *x;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_push(*certs, x)) {
                X509_free(x);
                goto done;
            }
        }
        ERR_clear_error(); /* the loop ends on "no start line" */
        if (sk_X509_num(*certs) == 0) {
            drv_error(diag, path, "no certificate found (expected PEM or DER)");
            goto done;
        }
    }
    rc = 0;
done:
    BIO_free(bio);
    free(data);
    if (rc != 0) {
        sk_X509_pop_free(*certs, X509_free);
        *certs = NULL;
    }
    return rc;
}

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    const char *pw = u;
    size_t n;
    (void)rwflag;
    if (pw == NULL || size <= 0)
        return -1;
    n = strlen(pw);
    if (n > (size_t)size)
        n = (size_t)size;
    memcpy(buf, pw, n);
    return (int)n;
}

/* Keys through OSSL_STORE: PEM or DER, PKCS#1, PKCS#8 or encrypted PKCS#8, RSA or EC. */
static EVP_PKEY *load_key_file(const char *path, const char *password, drvsign_diag *diag)
{
    UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(password_cb, 0);
    OSSL_STORE_CTX *store;
    EVP_PKEY *key = NULL;

    if (ui == NULL)
        return NULL;
    store = OSSL_STORE_open(path, ui, (void *)password, NULL, NULL);
    if (store == NULL) {
        drv_ssl_error(diag, path, "cannot open key");
        UI_destroy_method(ui);
        return NULL;
    }
    OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY);
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info == NULL) {
            if (OSSL_STORE_error(store))
                break;
            continue;
        }
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    if (key == NULL) {
        if (password == NULL)
            drv_ssl_error(diag, path, "cannot load the private key; if it is encrypted, give its "
                                      "password with --password-env or --password-file");
        else
            drv_ssl_error(diag, path, "cannot load the private key: wrong password or not a key");
    }
    ERR_clear_error();
    OSSL_STORE_close(store);
    UI_destroy_method(ui);
    return key;
}

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
    int ok;

    if (p12 == NULL)
        return -1;
    if (password != NULL && *password != '\0' && PKCS12_mac_present(p12) &&
        !PKCS12_verify_mac(p12, password, -1)) {
        drv_error(diag, path, "wrong password for PKCS#12 file");
        PKCS12_free(p12);
        return -1;
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
    PKCS12_free(p12);
    if (!ok || s->key == NULL || s->cert == NULL) {
        sk_X509_pop_free(ca, X509_free);
        drv_ssl_error(diag, path, "cannot read the key and certificate from the PKCS#12 file%s",
                      password == NULL ? " (if it has a password, give it with --password-env "
                                         "or --password-file)"
                                       : "");
        return -1;
    }
    for (int i = 0; i < sk_X509_num(ca); i++)
        if (!sk_X509_push(s->extra, sk_X509_value(ca, i)))
            return -1;
    sk_X509_free(ca);
    return 0;
}

/* From a file that may hold a whole chain, pick the certificate that belongs to the key. */
static int load_cert_chain(drv_signer *s, const char *path, drvsign_diag *diag)
{
    STACK_OF(X509) *certs;
    int leaf = -1;

    if (drv_load_certs(path, &certs, diag) != 0)
        return -1;
    for (int i = 0; i < sk_X509_num(certs) && leaf < 0; i++)
        if (X509_check_private_key(sk_X509_value(certs, i), s->key))
            leaf = i;
    ERR_clear_error();
    if (leaf < 0) {
        drv_error(diag, path, "no certificate in this file matches the private key");
        sk_X509_pop_free(certs, X509_free);
        return -1;
    }
    s->cert = sk_X509_delete(certs, leaf);
    while (sk_X509_num(certs) > 0)
        if (!sk_X509_push(s->extra, sk_X509_shift(certs)))
            return -1;
    sk_X509_free(certs);
    return 0;
}

int drv_signer_load(drv_signer *s, const drvsign_params *p, drvsign_diag *diag)
{
    char *password = NULL;
    int rc = -1;

    memset(s, 0, sizeof *s);
    s->extra = sk_X509_new_null();
    if (s->extra == NULL)
        return -1;
    if (p->pfx == NULL && (p->cert == NULL || p->key == NULL)) {
        drv_error(diag, NULL, "no signing identity: give --pfx FILE, or --cert FILE and --key FILE");
        goto done;
    }
    if (drv_read_secret(p->password_env, p->password_file, &password, diag) != 0)
        goto done;
    if (p->pfx != NULL) {
        if (load_pfx(s, p->pfx, password, diag) != 0)
            goto done;
    } else {
        s->key = load_key_file(p->key, password, diag);
        if (s->key == NULL || load_cert_chain(s, p->cert, diag) != 0)
            goto done;
    }
    for (size_t i = 0; i < p->add_cert_count; i++) {
        STACK_OF(X509) *more;
        if (drv_load_certs(p->add_certs[i], &more, diag) != 0)
            goto done;
        while (sk_X509_num(more) > 0)
            sk_X509_push(s->extra, sk_X509_shift(more));
        sk_X509_free(more);
    }
    if (!X509_check_private_key(s->cert, s->key)) {
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
    memset(s, 0, sizeof *s);
}

int drv_signer_sign_digest(const drv_signer *s, const EVP_MD *md, const unsigned char *digest,
                           size_t digest_len, unsigned char **sig, size_t *sig_len,
                           drvsign_diag *diag)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(s->key, NULL);
    int rc = -1;

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
        drv_ssl_error(diag, NULL, "the signing key refused to sign");
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}
