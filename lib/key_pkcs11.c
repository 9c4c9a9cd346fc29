/*
 * The PKCS#11 key backend: key (and certificate) on a token, named by RFC 7512 pkcs11: URIs,
 * through OpenSSL 3's pkcs11 provider (OSSL_STORE) when it is installed, otherwise through
 * libp11's engine; DRVSIGN_PKCS11_BACKEND=provider|engine picks one.
 */
/* libp11's engine is the fallback for machines without a PKCS#11 provider: its ENGINE API is
 * deprecated in OpenSSL 3, so this one file allows it. */
#undef OPENSSL_NO_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>

#include "port.h"

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

/* A configuration value that no path can end or expand: every byte that is not a letter or
 * a digit escaped (OpenSSL's configuration reader takes "\\c" as c for those). */
static char *conf_value(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            *o++ = '\\';
        *o++ = *s;
    }
    *o = 0;
    return out;
}

/* The provider path: pkcs11-provider behind OSSL_STORE, told its module through its own
 * configuration (pkcs11-module-path) in the library context, never the process environment.
 * Returns 1 loaded, 0 not installed, -1 failed (reported). */
static int token_provider(drv_token *t, const char *module, drvsign_diag *diag)
{
    static const char head[] = "openssl_conf = drvsign_init\n"
                               "[drvsign_init]\nproviders = drvsign_providers\n"
                               "[drvsign_providers]\npkcs11 = drvsign_pkcs11\n"
                               "default = drvsign_default\n"
                               "[drvsign_default]\nactivate = 1\n"
                               "[drvsign_pkcs11]\nactivate = 1\npkcs11-module-path = ";
    char *value = conf_value(module), *text = NULL;
    CONF *conf = NULL;
    BIO *bio = NULL;
    long bad_line = 0;
    int rc = -1;

    /* A library context of its own: modules such as SoftHSM use OpenSSL themselves, and in the
     * default context their calls would come back into the pkcs11 provider and deadlock. */
    t->libctx = OSSL_LIB_CTX_new();
    if (value == NULL || t->libctx == NULL ||
        (text = malloc(sizeof head + strlen(value) + 1)) == NULL) {
        drv_error(diag, NULL, "out of memory");
        goto done;
    }
    snprintf(text, sizeof head + strlen(value) + 1, "%s%s\n", head, value);
    if ((conf = NCONF_new_ex(t->libctx, NULL)) == NULL ||
        (bio = BIO_new_mem_buf(text, -1)) == NULL || NCONF_load_bio(conf, bio, &bad_line) <= 0) {
        drv_ssl_error(diag, module, "cannot configure the PKCS#11 provider for this module");
        goto done;
    }
    ERR_set_mark();
    if (CONF_modules_load(conf, NULL, 0) <= 0 ||
        (t->provider = OSSL_PROVIDER_load(t->libctx, "pkcs11")) == NULL) {
        ERR_pop_to_mark();
        OSSL_LIB_CTX_free(t->libctx);
        t->libctx = NULL;
        rc = 0;
        goto done;
    }
    ERR_pop_to_mark();
    t->default_provider = OSSL_PROVIDER_load(t->libctx, "default");
    rc = t->default_provider != NULL ? 1 : -1;
done:
    BIO_free(bio);
    NCONF_free(conf);
    free(text);
    free(value);
    return rc;
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

static drv_token *token_open(const drv_key_spec *p, const char *pin, drvsign_diag *diag)
{
    drv_token *t = calloc(1, sizeof *t);
    const char *module = p->pkcs11_module ? p->pkcs11_module : default_module();
    const char *backend = getenv("DRVSIGN_PKCS11_BACKEND");
    int rc = -1;

    if (t == NULL) {
        drv_error(diag, NULL, "out of memory");
        goto done;
    }
    if (module == NULL) {
        drv_error(diag, NULL, "no PKCS#11 module: give %s (the vendor's .so), or install p11-kit",
                  drv_param(diag, DRVSIGN_PARAM_PKCS11_MODULE));
        goto done;
    }
    if (!drv_file_exists(module)) {
        drv_error(diag, module, "cannot load the PKCS#11 module: no such file");
        goto done;
    }
    rc = 0;
    if (backend == NULL || strcmp(backend, "engine") != 0)
        rc = token_provider(t, module, diag);
    if (rc == 0 && backend != NULL && strcmp(backend, "provider") == 0) {
        drv_error(diag, NULL, "DRVSIGN_PKCS11_BACKEND=provider, but OpenSSL's pkcs11 provider "
                              "is not installed (Debian: pkcs11-provider)");
        rc = -1;
    } else if (rc == 0)
        rc = token_engine(t, module, pin, diag);
done:
    if (rc < 0) {
        token_free(t);
        return NULL;
    }
    return t;
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
    k = drv_store_load(t->libctx, pub, OSSL_STORE_INFO_PUBKEY, NULL);
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
        found = drv_store_load(t->libctx, uri, want_key ? OSSL_STORE_INFO_PKEY : OSSL_STORE_INFO_CERT,
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

static int token_claims(const drv_key_spec *p)
{
    return is_pkcs11(p->key) || is_pkcs11(p->cert);
}

/* The key stays on the token: only a digest ever goes to it. */
static int token_backend_load(drv_signer *s, const drv_key_spec *p, const char *secret,
                              drvsign_diag *diag)
{
    drv_token *t = token_open(p, secret, diag);
    if (t == NULL)
        return -1;
    s->state = t;
    s->key = is_pkcs11(p->key) ? token_load(t, p->key, 1, secret, diag)
                               : drv_load_key_file(p->key, secret, diag);
    if (s->key == NULL)
        return -1;
    if (is_pkcs11(p->cert)) {
        s->cert = token_load(t, p->cert, 0, secret, diag);
        return s->cert != NULL ? 0 : -1;
    }
    return drv_load_chain_for_key(s, p->cert, diag);
}

static void token_state_free(void *state)
{
    token_free(state);
}

const drv_key_backend drv_key_backend_pkcs11 = {"pkcs11", "the key", token_claims,
                                                token_backend_load, drv_evp_sign_digest,
                                                token_state_free};
