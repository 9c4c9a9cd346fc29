/*
 * Key material from files: secrets (password or PIN), certificates and chains, private keys.
 * Every key backend reads through these.
 */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509v3.h>

#include "port.h"

#define MAX_SECRET_FILE 4096
#define MAX_CERT_FILE (4u << 20)

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

void *drv_store_load(OSSL_LIB_CTX *libctx, const char *uri, int type, const char *pin)
{
    UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(password_cb, 0);
    OSSL_STORE_CTX *store =
        ui ? OSSL_STORE_open_ex(uri, libctx, NULL, ui, (void *)pin, NULL, NULL, NULL) : NULL;
    void *found = NULL;
    if (store != NULL) {
        OSSL_STORE_expect(store, type);
        while (found == NULL && !OSSL_STORE_eof(store)) {
            OSSL_STORE_INFO *info = OSSL_STORE_load(store);
            if (info == NULL) {
                if (OSSL_STORE_error(store))
                    break;
                continue;
            }
            if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
                found = OSSL_STORE_INFO_get1_PKEY(info);
            else if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PUBKEY)
                found = OSSL_STORE_INFO_get1_PUBKEY(info);
            else if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_CERT)
                found = OSSL_STORE_INFO_get1_CERT(info);
            OSSL_STORE_INFO_free(info);
        }
        OSSL_STORE_close(store);
    }
    UI_destroy_method(ui);
    return found;
}

/* Keys through OSSL_STORE: PEM or DER, PKCS#1, PKCS#8 or encrypted PKCS#8, RSA or EC. */
EVP_PKEY *drv_load_key_file(const char *path, const char *password, drvsign_diag *diag)
{
    EVP_PKEY *key;
    /* OSSL_STORE opens the file itself and would block on a FIFO */
    if (drv_file_exists(path) && drv_check_regular(path, diag) != 0)
        return NULL;
    key = drv_store_load(NULL, path, OSSL_STORE_INFO_PKEY, password);
    if (key == NULL) {
        if (password == NULL)
            drv_ssl_error(diag, path,
                          "cannot load the private key; if it is encrypted, give its password "
                          "with %s or %s",
                          drv_param(diag, DRVSIGN_PARAM_PASSWORD_ENV),
                          drv_param(diag, DRVSIGN_PARAM_PASSWORD_FILE));
        else
            drv_ssl_error(diag, path, "cannot load the private key: wrong password or not a key");
    }
    ERR_clear_error();
    return key;
}

/* certs[leaf] becomes the signing certificate, the others its chain; certs is consumed. */
int drv_certs_move(STACK_OF(X509) *to, STACK_OF(X509) *from)
{
    while (sk_X509_num(from) > 0) {
        X509 *x = sk_X509_shift(from);
        if (!sk_X509_push(to, x)) {
            X509_free(x);
            return -1;
        }
    }
    return 0;
}

static int take_chain(drv_signer *s, STACK_OF(X509) *certs, int leaf)
{
    int rc;
    s->cert = sk_X509_delete(certs, leaf);
    rc = drv_certs_move(s->extra, certs);
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

int drv_load_chain_for_key(drv_signer *s, const char *path, drvsign_diag *diag)
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
    return take_chain(s, certs, leaf);
}

int drv_load_chain_no_key(drv_signer *s, const char *path, drvsign_diag *diag)
{
    STACK_OF(X509) *certs;
    int leaf = 0;

    if (drv_load_certs(path, &certs, diag) != 0)
        return -1;
    for (int i = sk_X509_num(certs) - 1; i >= 0; i--)
        if (X509_check_ca(sk_X509_value(certs, i)) == 0)
            leaf = i;
    return take_chain(s, certs, leaf);
}
