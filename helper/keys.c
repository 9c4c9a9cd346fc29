/* libp11's engine is the fallback for machines without a PKCS#11 provider: its ENGINE API is
 * deprecated in OpenSSL 3, so this one file allows it. */
#undef OPENSSL_NO_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#include "keys.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509v3.h>

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

static void *store_load(OSSL_LIB_CTX *libctx, const char *uri, int type, const char *pin);

/* Keys through OSSL_STORE: PEM or DER, PKCS#1, PKCS#8 or encrypted PKCS#8, RSA or EC. */
static EVP_PKEY *load_key_file(const char *path, const char *password, drvsign_diag *diag)
{
    EVP_PKEY *key;
    /* OSSL_STORE opens the file itself and would block on a FIFO */
    if (drv_file_exists(path) && drv_check_regular(path, diag) != 0)
        return NULL;
    key = store_load(NULL, path, OSSL_STORE_INFO_PKEY, password);
    if (key == NULL) {
        if (password == NULL)
            drv_ssl_error(diag, path, "cannot load the private key; if it is encrypted, give its "
                                      "password with --password-env or --password-file");
        else
            drv_ssl_error(diag, path, "cannot load the private key: wrong password or not a key");
    }
    ERR_clear_error();
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

/* certs[leaf] becomes the signing certificate, the others its chain; certs is consumed. */
static int take_chain(drv_signer *s, STACK_OF(X509) *certs, int leaf)
{
    s->cert = sk_X509_delete(certs, leaf);
    while (sk_X509_num(certs) > 0) {
        X509 *x = sk_X509_shift(certs);
        if (!sk_X509_push(s->extra, x)) {
            X509_free(x);
            sk_X509_pop_free(certs, X509_free);
            return -1;
        }
    }
    sk_X509_free(certs);
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
    return take_chain(s, certs, leaf);
}

/* ---- PKCS#11 ---- */

typedef struct drv_token drv_token;

struct drv_token {
    OSSL_LIB_CTX *libctx; /* the provider path's own library context */
    OSSL_PROVIDER *provider, *default_provider;
    ENGINE *engine;
};

static int is_pkcs11(const char *s)
{
    return s != NULL && strncmp(s, "pkcs11:", 7) == 0;
}

static const char *default_module(void)
{
    static const char *const candidates[] = {
        "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
        "/usr/lib/i386-linux-gnu/p11-kit-proxy.so",   "/usr/lib64/p11-kit-proxy.so",
        "/usr/lib/p11-kit-proxy.so",                  "/usr/local/lib/p11-kit-proxy.so"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (drv_file_exists(candidates[i]))
            return candidates[i];
    return NULL;
}

static void token_free(drv_token *t)
{
    if (t == NULL)
        return;
    if (t->engine != NULL) {
        ENGINE_finish(t->engine);
        ENGINE_free(t->engine);
    }
    OSSL_PROVIDER_unload(t->provider);
    OSSL_PROVIDER_unload(t->default_provider);
    OSSL_LIB_CTX_free(t->libctx);
    free(t);
}

/* Why a token operation failed, in words that never include the PIN. */
static const char *token_reason(char *buf, size_t size)
{
    unsigned long code, first = 0;
    const char *data = NULL, *first_data = NULL;
    int flags, pin = 0;
    buf[0] = 0;
    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *reason = ERR_reason_error_string(code);
        if (first == 0) {
            first = code;
            first_data = (flags & ERR_TXT_STRING) ? data : NULL;
        }
        /* libp11 reports CKR_PIN_INCORRECT (0xA0) as "PIN incorrect" */
        if ((reason != NULL && strstr(reason, "PIN") != NULL) || ERR_GET_REASON(code) == 0xA0)
            pin = 1;
    }
    if (pin)
        snprintf(buf, size, "the token refused the PIN (wrong PIN?)");
    else if (first != 0)
        snprintf(buf, size, "%s%s%s",
                 ERR_reason_error_string(first) ? ERR_reason_error_string(first) : "error",
                 first_data ? ": " : "", first_data ? first_data : "");
    return buf;
}

/* The provider path: pkcs11-provider behind OSSL_STORE. Returns 1 loaded, 0 not installed,
 * -1 failed (reported). */
static int token_provider(drv_token *t, const char *module, drvsign_diag *diag)
{
    (void)diag;
#ifdef _WIN32
    _putenv_s("PKCS11_PROVIDER_MODULE", module);
#else
    setenv("PKCS11_PROVIDER_MODULE", module, 1); /* how pkcs11-provider finds its module */
#endif
    /* A library context of its own: modules such as SoftHSM use OpenSSL themselves, and in the
     * default context their calls would come back into the pkcs11 provider and deadlock. */
    t->libctx = OSSL_LIB_CTX_new();
    if (t->libctx == NULL)
        return -1;
    ERR_set_mark();
    t->provider = OSSL_PROVIDER_load(t->libctx, "pkcs11");
    ERR_pop_to_mark();
    if (t->provider == NULL) {
        OSSL_LIB_CTX_free(t->libctx);
        t->libctx = NULL;
        return 0;
    }
    t->default_provider = OSSL_PROVIDER_load(t->libctx, "default");
    return t->default_provider != NULL ? 1 : -1;
}

static int token_engine(drv_token *t, const char *module, const char *pin, drvsign_diag *diag)
{
    char why[256];
    ENGINE_load_builtin_engines();
    t->engine = ENGINE_by_id("pkcs11");
    if (t->engine == NULL) {
        drv_error(diag, NULL, "no PKCS#11 support: install pkcs11-provider (OpenSSL 3 provider) "
                              "or libengine-pkcs11-openssl (libp11)");
        ERR_clear_error();
        return -1;
    }
    ENGINE_ctrl_cmd_string(t->engine, "QUIET", NULL, 1); /* libp11 would print to stderr */
    if (!ENGINE_ctrl_cmd_string(t->engine, "MODULE_PATH", module, 0) ||
        (pin != NULL && !ENGINE_ctrl_cmd_string(t->engine, "PIN", pin, 0)) ||
        !ENGINE_init(t->engine)) {
        drv_error(diag, module, "cannot start the PKCS#11 engine with this module (%s)",
                  token_reason(why, sizeof why));
        ENGINE_free(t->engine);
        t->engine = NULL;
        return -1;
    }
    return 0;
}

static drv_token *token_open(const drvsign_params *p, const char *pin, drvsign_diag *diag)
{
    drv_token *t = calloc(1, sizeof *t);
    const char *module = p->pkcs11_module ? p->pkcs11_module : default_module();
    const char *backend = getenv("DRVSIGN_PKCS11_BACKEND");
    int rc = 0;

    if (t == NULL)
        return NULL;
    if (module == NULL) {
        drv_error(diag, NULL, "no PKCS#11 module: give --pkcs11-module PATH (the vendor's .so), "
                              "or install p11-kit");
        free(t);
        return NULL;
    }
    if (!drv_file_exists(module)) {
        drv_error(diag, module, "cannot load the PKCS#11 module: no such file");
        free(t);
        return NULL;
    }
    if (backend == NULL || strcmp(backend, "engine") != 0)
        rc = token_provider(t, module, diag);
    if (rc == 0 && backend != NULL && strcmp(backend, "provider") == 0) {
        drv_error(diag, NULL, "DRVSIGN_PKCS11_BACKEND=provider, but OpenSSL's pkcs11 provider "
                              "is not installed (Debian: pkcs11-provider)");
        rc = -1;
    } else if (rc == 0)
        rc = token_engine(t, module, pin, diag);
    if (rc < 0) {
        token_free(t);
        return NULL;
    }
    return t;
}

/* The first object of this type at uri (a file path or a pkcs11: URI), or NULL. */
static void *store_load(OSSL_LIB_CTX *libctx, const char *uri, int type, const char *pin)
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

/* pkcs11-provider finds nothing, silently, when the login fails. If the key's public half is
 * there (no login needed), the PIN was the problem. */
static int provider_pin_refused(drv_token *t, const char *uri)
{
    static const char priv[] = "type=private";
    size_t len = strlen(uri) + 16;
    char *pub = malloc(len);
    const char *type = strstr(uri, priv);
    EVP_PKEY *k;

    if (pub == NULL)
        return 0;
    if (type != NULL)
        snprintf(pub, len, "%.*stype=public%s", (int)(type - uri), uri, type + sizeof priv - 1);
    else
        snprintf(pub, len, "%s;type=public", uri);
    k = store_load(t->libctx, pub, OSSL_STORE_INFO_PUBKEY, NULL);
    free(pub);
    ERR_clear_error();
    EVP_PKEY_free(k);
    return k != NULL;
}

static void *token_load(drv_token *t, const char *uri, int want_key, const char *pin,
                        drvsign_diag *diag)
{
    char why[256];
    void *found = NULL;

    if (t->engine != NULL) {
        if (want_key)
            found = ENGINE_load_private_key(t->engine, uri, NULL, NULL);
        else {
            struct {
                const char *id;
                X509 *cert;
            } req = {uri, NULL};
            if (ENGINE_ctrl_cmd(t->engine, "LOAD_CERT_CTRL", 0, &req, NULL, 1))
                found = req.cert;
        }
    } else {
        found = store_load(t->libctx, uri, want_key ? OSSL_STORE_INFO_PKEY : OSSL_STORE_INFO_CERT,
                           pin);
        if (found == NULL && want_key && provider_pin_refused(t, uri)) {
            drv_error(diag, uri, "the token refused the PIN (wrong PIN?): its public key is "
                                 "there, the private key could not be reached");
            ERR_clear_error();
            return NULL;
        }
    }
    if (found == NULL) {
        token_reason(why, sizeof why);
        if (strstr(why, "PIN") != NULL)
            drv_error(diag, uri, "%s", why);
        else
            drv_error(diag, uri, "no %s matches this URI on the token (is the token present, "
                                 "and the object there?)%s%s%s",
                      want_key ? "private key" : "certificate", why[0] ? " (" : "", why,
                      why[0] ? ")" : "");
    }
    ERR_clear_error();
    return found;
}

/* ---- the key-backend table ---- */

static int pfx_claims(const drvsign_params *p)
{
    return p->pfx != NULL;
}

static int pfx_load(drv_signer *s, const drvsign_params *p, const char *secret,
                    drvsign_diag *diag)
{
    return load_pfx(s, p->pfx, secret, diag);
}

static int token_claims(const drvsign_params *p)
{
    return is_pkcs11(p->key) || is_pkcs11(p->cert);
}

/* The key stays on the token: only a digest ever goes to it. */
static int token_backend_load(drv_signer *s, const drvsign_params *p, const char *secret,
                              drvsign_diag *diag)
{
    drv_token *t = token_open(p, secret, diag);
    if (t == NULL)
        return -1;
    s->state = t;
    s->key = is_pkcs11(p->key) ? token_load(t, p->key, 1, secret, diag)
                               : load_key_file(p->key, secret, diag);
    if (s->key == NULL)
        return -1;
    if (is_pkcs11(p->cert)) {
        s->cert = token_load(t, p->cert, 0, secret, diag);
        return s->cert != NULL ? 0 : -1;
    }
    return load_cert_chain(s, p->cert, diag);
}

static void token_state_free(void *state)
{
    token_free(state);
}

static int file_claims(const drvsign_params *p)
{
    return p->cert != NULL && p->key != NULL;
}

static int file_load(drv_signer *s, const drvsign_params *p, const char *secret,
                     drvsign_diag *diag)
{
    s->key = load_key_file(p->key, secret, diag);
    return s->key != NULL && load_cert_chain(s, p->cert, diag) == 0 ? 0 : -1;
}

static const drv_key_backend backend_pfx = {"pkcs12", pfx_claims, pfx_load, drv_evp_sign_digest,
                                            NULL};
static const drv_key_backend backend_token = {"pkcs11", token_claims, token_backend_load,
                                              drv_evp_sign_digest, token_state_free};
static const drv_key_backend backend_file = {"file", file_claims, file_load, drv_evp_sign_digest,
                                             NULL};

/* In order: the first backend that claims the parameters holds the key. */
static const drv_key_backend *const key_backends[] = {&drv_key_backend_command, &backend_pfx,
                                                      &backend_token, &backend_file};

/* --add-cert: more certificates for the signature's set. */
static int add_extra_certs(drv_signer *s, const drvsign_params *p, drvsign_diag *diag)
{
    for (size_t i = 0; i < p->add_cert_count; i++) {
        STACK_OF(X509) *more;
        if (drv_load_certs(p->add_certs[i], &more, diag) != 0)
            return -1;
        while (sk_X509_num(more) > 0)
            if (!sk_X509_push(s->extra, sk_X509_shift(more)))
                return -1;
        sk_X509_free(more);
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
    int rc = -1;

    memset(s, 0, sizeof *s);
    s->extra = sk_X509_new_null();
    if (s->extra == NULL)
        return -1;
    for (size_t i = 0; i < sizeof key_backends / sizeof key_backends[0] && !s->backend; i++)
        if (key_backends[i]->claims(p))
            s->backend = key_backends[i];
    if (s->backend == NULL) {
        drv_error(diag, NULL, "no signing identity: give a PKCS#12 file, a certificate with its "
                              "key, or a certificate chain with a signer command");
        goto done;
    }
    if (drv_read_secret(p->password_env, p->password_file, &password, diag) != 0)
        goto done;
    if (s->backend->load(s, p, password, diag) != 0)
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
                             s->backend == &drv_key_backend_command ? "the signer command"
                                                                     : "the key",
                             where, diag) != 0) {
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
