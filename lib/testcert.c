/*
 * drvsign_testcert: a test-signing identity like the one WDK test signing makes: a self-signed
 * test root, a code-signing leaf under it, signing.pfx for the signer and root.cer (DER) for
 * the test machine's Root and TrustedPublisher stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "keys.h"
#include "port.h"

#define DEFAULT_DAYS 3650
#define DEFAULT_SUBJECT "drvsign Test Certificate"

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return 0;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       int days, int is_ca)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509_NAME *name;
    int ok = 0;

    if (x == NULL || RAND_bytes(serial, sizeof serial) != 1)
        goto done;
    serial[0] &= 0x7f; /* positive */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (bn == NULL || !X509_set_version(x, 2) ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto done;
    /* a day of slack for test machines whose clocks run behind */
    if (X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL)
        goto done;
    name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) ||
        !X509_set_pubkey(x, key))
        goto done;
    if (add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") != 0)
        goto done;
    if (is_ca) {
        if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
            add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0)
            goto done;
    } else if (add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
               add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") != 0 ||
               add_ext(x, issuer, NID_ext_key_usage, "codeSigning") != 0 ||
               add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") != 0)
        goto done;
    if (!X509_sign(x, issuer_key, EVP_sha256()))
        goto done;
    ok = 1;
done:
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_file(const char *dir, const char *name, const unsigned char *data, size_t len,
                      int secret, drvsign_diag *diag)
{
    char *path = drv_path_join(dir, name);
    drv_atomic a;
    int rc = -1;
    if (path == NULL)
        return -1;
    if (drv_atomic_open(&a, path, NULL, diag) == 0) {
        if (secret)
            drv_make_private(a.fd);
        if (drv_atomic_write(&a, data, len, diag) == 0 && drv_atomic_commit(&a, diag) == 0)
            rc = 0;
        drv_atomic_abort(&a);
    }
    free(path);
    return rc;
}

static int write_der(const char *dir, const char *name, X509 *x, drvsign_diag *diag)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der), rc = -1;
    if (n > 0)
        rc = write_file(dir, name, der, (size_t)n, 0, diag);
    OPENSSL_free(der);
    return rc;
}

static int write_pem(const char *dir, const char *name, X509 *x, drvsign_diag *diag)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int rc = -1;
    if (b != NULL && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &data)) > 0)
        rc = write_file(dir, name, (unsigned char *)data, (size_t)n, 0, diag);
    BIO_free(b);
    return rc;
}

static int write_pfx(const char *dir, X509 *leaf, EVP_PKEY *key, X509 *root, const char *password,
                     drvsign_diag *diag)
{
    STACK_OF(X509) *ca = sk_X509_new_null();
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL;
    int n, rc = -1;

    if (ca == NULL || !sk_X509_push(ca, root))
        goto done;
    /* No password means no encryption and no MAC: the test key is as secret as the build tree. */
    p12 = password != NULL
              ? PKCS12_create(password, "drvsign test signing", key, leaf, ca, 0, 0, 0, 0, 0)
              : PKCS12_create(NULL, "drvsign test signing", key, leaf, ca, -1, -1, 0, -1, 0);
    if (p12 == NULL)
        goto done;
    n = i2d_PKCS12(p12, &der);
    if (n > 0)
        rc = write_file(dir, "signing.pfx", der, (size_t)n, 1, diag);
    if (der != NULL)
        drv_wipe(der, (size_t)n);
done:
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_free(ca);
    return rc;
}

static const char *const identity_files[] = {"root.cer", "root.pem", "signing.pfx", "signing.cer"};

drvsign_status drvsign_testcert(const drvsign_params *p, const char *dir, drvsign_diag *diag)
{
    const char *subject = p->subject ? p->subject : DEFAULT_SUBJECT;
    int days = p->days > 0 ? p->days : DEFAULT_DAYS;
    char root_cn[256];
    EVP_PKEY *root_key = NULL, *leaf_key = NULL;
    X509 *root = NULL, *leaf = NULL;
    char *password = NULL;
    drvsign_status rc = DRVSIGN_FAILED;

    if (drvsign_check_params(DRVSIGN_OP_TESTCERT, p, dir != NULL, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    for (size_t i = 0; i < sizeof identity_files / sizeof identity_files[0]; i++) {
        char *path = drv_path_join(dir, identity_files[i]);
        int exists = path != NULL && drv_file_exists(path);
        free(path);
        if (exists) {
            drv_error(diag, dir, "a test identity exists here already (%s); refusing to "
                                 "overwrite it", identity_files[i]);
            return DRVSIGN_FAILED;
        }
    }
    if (drv_read_secret(p->password_env, p->password_file, &password, diag) != 0 ||
        drv_mkdir(dir, diag) != 0)
        goto done;
    snprintf(root_cn, sizeof root_cn, "%s Root", subject);
    root_key = EVP_RSA_gen(3072);
    leaf_key = EVP_RSA_gen(2048);
    if (root_key == NULL || leaf_key == NULL ||
        (root = make_cert(root_cn, root_key, NULL, root_key, days, 1)) == NULL ||
        (leaf = make_cert(subject, leaf_key, root, root_key, days, 0)) == NULL) {
        drv_ssl_error(diag, dir, "cannot create the test certificates");
        goto done;
    }
    if (write_der(dir, "root.cer", root, diag) != 0 || write_pem(dir, "root.pem", root, diag) != 0 ||
        write_der(dir, "signing.cer", leaf, diag) != 0 ||
        write_pfx(dir, leaf, leaf_key, root, password, diag) != 0)
        goto done;
    rc = DRVSIGN_OK;
done:
    if (rc != DRVSIGN_OK) /* no half identity: none of these existed when we started */
        for (size_t i = 0; i < sizeof identity_files / sizeof identity_files[0]; i++) {
            char *path = drv_path_join(dir, identity_files[i]);
            if (path != NULL)
                remove(path);
            free(path);
        }
    drv_free_secret(password);
    X509_free(root);
    X509_free(leaf);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(leaf_key);
    return rc;
}
