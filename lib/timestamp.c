#include "timestamp.h"

#include "authenticode.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "port.h"

/* A timestamp reply is a few KB; a server sending more is not a TSA. */
#define MAX_REPLY (1u << 20)
#define OID_MS_TIMESTAMP_REQUEST "1.3.6.1.4.1.311.3.2.1"

/* ---- HTTP ---- */

typedef struct tls_info {
    SSL_CTX *ctx;
    const char *host;
} tls_info;

/* OSSL_HTTP_transfer calls this around the connection: wrap it in TLS for https URLs, with the
 * server name checked against its certificate. */
static BIO *tls_wrap(BIO *bio, void *arg, int connect, int detail)
{
    tls_info *t = arg;
    if (connect && detail) {
        BIO *sbio = BIO_new_ssl(t->ctx, 1);
        SSL *ssl = NULL;
        if (sbio == NULL || BIO_get_ssl(sbio, &ssl) <= 0 || ssl == NULL ||
            !SSL_set_tlsext_host_name(ssl, t->host) || !SSL_set1_host(ssl, t->host)) {
            BIO_free(sbio);
            return NULL;
        }
        return BIO_push(sbio, bio);
    }
    if (!connect && t->ctx != NULL) {
        /* unwrap: hand back the plain connection, free the TLS layer */
        BIO *inner;
        ERR_set_mark();
        BIO_ssl_shutdown(bio);
        inner = BIO_pop(bio);
        BIO_free(bio);
        ERR_pop_to_mark();
        return inner;
    }
    return bio;
}

/* What went wrong with one HTTP exchange, in a user's words. The most telling error in the
 * queue wins: an HTTP status, then a failed connection, then a timeout, else the first cause. */
static int http_problem(char *out, size_t size, int timeout)
{
    static const int telling[] = {HTTP_R_RECEIVED_ERROR,
                                  HTTP_R_MISSING_ASN1_ENCODING,
                                  HTTP_R_ERROR_PARSING_ASN1_LENGTH,
                                  HTTP_R_INCONSISTENT_CONTENT_LENGTH, /* text that looks like */
                                  HTTP_R_ASN1_LEN_EXCEEDS_MAX_RESP_LEN, /* an ASN.1 header */
                                  HTTP_R_CONNECT_FAILURE,
                                  HTTP_R_RETRY_TIMEOUT};
    unsigned long code, first = 0, best = 0;
    const char *data, *first_data = NULL, *best_data = NULL;
    int flags, best_rank = 99, timed_out = 0;

    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *text = (flags & ERR_TXT_STRING) ? data : NULL;
        if (ERR_GET_LIB(code) == ERR_LIB_BIO && ERR_GET_REASON(code) == BIO_R_TRANSFER_TIMEOUT)
            timed_out = 1; /* connected, but the reply did not come in time */
        if (first == 0) {
            first = code;
            first_data = text;
        }
        for (int r = 0; r < (int)(sizeof telling / sizeof telling[0]); r++)
            if (ERR_GET_LIB(code) == ERR_LIB_HTTP && ERR_GET_REASON(code) == telling[r] &&
                r < best_rank) {
                best = code;
                best_data = text;
                best_rank = r;
            }
    }
    if (best == 0 && first == 0) {
        snprintf(out, size, "no reply");
        return 0;
    }
    if (best != 0) {
        int status = 0;
        switch (ERR_GET_REASON(best)) {
        case HTTP_R_RECEIVED_ERROR:
            if (best_data != NULL && sscanf(best_data, "code=%d", &status) == 1)
                snprintf(out, size, "HTTP %d", status);
            else
                snprintf(out, size, "HTTP error");
            break;
        case HTTP_R_MISSING_ASN1_ENCODING:
        case HTTP_R_ERROR_PARSING_ASN1_LENGTH:
        case HTTP_R_INCONSISTENT_CONTENT_LENGTH:
        case HTTP_R_ASN1_LEN_EXCEEDS_MAX_RESP_LEN:
            snprintf(out, size, "reply is not DER");
            return HTTP_R_MISSING_ASN1_ENCODING;
        case HTTP_R_CONNECT_FAILURE:
            snprintf(out, size, "cannot connect%s%s", best_data ? ": " : "", best_data ? best_data : "");
            break;
        default:
            snprintf(out, size, "no reply within %d s", timeout);
            break;
        }
        return ERR_GET_REASON(best);
    }
    if (timed_out) {
        snprintf(out, size, "no reply within %d s", timeout);
        return 0;
    }
    {
        const char *reason = ERR_reason_error_string(first);
        snprintf(out, size, "%s%s%s", reason ? reason : "network error", first_data ? ": " : "",
                 first_data ? first_data : "");
        /* OpenSSL retries a refused connection until the timeout, then says so */
        if (reason != NULL && strstr(reason, "connect timeout") != NULL)
            snprintf(out, size, "cannot connect within %d s", timeout);
    }
    return 0;
}

/* Why a connection failed, from the system error OpenSSL queued: refused, unreachable and the
 * rest told apart (the rest in the system's words). */
static void connect_problem(const char *what, const char *host, const char *port, char *out,
                            size_t size)
{
    unsigned long code, sys = 0;
    const char *cause;

    while ((code = ERR_get_error()) != 0)
        if (ERR_SYSTEM_ERROR(code))
            sys = code; /* the last one: the last address tried */
    switch (sys ? ERR_GET_REASON(sys) : 0) {
#ifdef ECONNREFUSED
    case ECONNREFUSED:
        cause = "connection refused (nothing listens on that port)";
        break;
#endif
#ifdef EHOSTUNREACH
    case EHOSTUNREACH:
        cause = "host unreachable";
        break;
#endif
#ifdef ENETUNREACH
    case ENETUNREACH:
        cause = "network unreachable";
        break;
#endif
#ifdef ETIMEDOUT
    case ETIMEDOUT:
        cause = "no answer (timed out)";
        break;
#endif
    default:
        cause = sys ? ERR_reason_error_string(sys) : NULL;
        if (cause == NULL)
            cause = "network error";
        break;
    }
    snprintf(out, size, "cannot connect to %s%s:%s: %s", what, host, port, cause);
}

/*
 * The TCP connection, made here in one attempt so that a failure says what it was: the name
 * does not resolve, the connection is refused or unreachable, or nothing answers within the
 * timeout. (OpenSSL's own connect retries a refused connection until the timeout has passed.)
 * what is "" for the server, "the proxy " for a proxy. Returns a connected BIO, or NULL.
 */
static BIO *http_connect(const char *what, const char *host, const char *port, time_t deadline,
                         int timeout, char *problem, size_t psize)
{
    BIO_ADDRINFO *addrs = NULL;
    BIO *conn;

    ERR_clear_error();
    /* family 0 and socket type 0: any (AF_UNSPEC is 0 everywhere) */
    if (!BIO_lookup_ex(host, port, BIO_LOOKUP_CLIENT, 0, 0, 0, &addrs)) {
        const char *data = NULL;
        int flags = 0;
        unsigned long code = ERR_peek_last_error_data(&data, &flags);
        snprintf(problem, psize, "cannot resolve %s%s%s%s", what, host,
                 code && (flags & ERR_TXT_STRING) && data && *data ? ": " : " (DNS)",
                 code && (flags & ERR_TXT_STRING) && data && *data ? data : "");
        ERR_clear_error();
        return NULL;
    }
    BIO_ADDRINFO_free(addrs);
    conn = BIO_new_connect(host);
    if (conn == NULL || BIO_set_conn_port(conn, port) <= 0 || BIO_set_nbio(conn, 1) <= 0) {
        snprintf(problem, psize, "out of memory");
        BIO_free_all(conn);
        return NULL;
    }
    for (;;) {
        int rv = BIO_do_connect(conn);
        if (rv > 0)
            return conn;
        if (!BIO_should_retry(conn)) {
            connect_problem(what, host, port, problem, psize);
            break;
        }
        if (BIO_wait(conn, deadline, 100) <= 0) {
            snprintf(problem, psize, "cannot connect to %s%s:%s within %d s (no answer)", what, host,
                     port, timeout);
            break;
        }
    }
    BIO_free_all(conn);
    ERR_clear_error();
    return NULL;
}

/* A proxy from the environment for this server (http_proxy, https_proxy, no_proxy), checked by
 * connecting to it; OpenSSL then talks through it. Returns 0, or -1 with the problem. */
static int proxy_reachable(const char *host, int use_ssl, time_t deadline, int timeout,
                           int *proxied, char *problem, size_t psize)
{
    const char *proxy = OSSL_HTTP_adapt_proxy(NULL, NULL, host, use_ssl);
    char *phost = NULL, *pport = NULL;
    BIO *conn;

    *proxied = proxy != NULL;
    if (proxy == NULL)
        return 0;
    if (!OSSL_HTTP_parse_url(proxy, NULL, NULL, &phost, &pport, NULL, NULL, NULL, NULL)) {
        snprintf(problem, psize, "the proxy '%s' (http_proxy/https_proxy) is not a URL", proxy);
        ERR_clear_error();
        return -1;
    }
    conn = http_connect("the proxy ", phost, pport, deadline, timeout, problem, psize);
    BIO_free_all(conn);
    OPENSSL_free(phost);
    OPENSSL_free(pport);
    return conn != NULL ? 0 : -1;
}

/* POST body; the reply into *reply. expect_der: the reply is one DER value (RFC 3161), which
 * lets OpenSSL read it whole and report HTTP errors exactly. Returns 0, -1, or -2 when the
 * server answered something that is not DER although DER was expected. */
static int http_post(const char *url, const char *content_type, const unsigned char *body,
                     size_t len, int expect_der, const drv_ts_opts *o, unsigned char **reply,
                     size_t *reply_len, char *problem, size_t psize)
{
    char *host = NULL, *port = NULL, *path = NULL;
    int use_ssl = 0, rc = -1, proxied = 0, left;
    tls_info tls = {NULL, NULL};
    BIO *req = NULL, *rsp = NULL, *conn = NULL;
    time_t deadline = time(NULL) + (o->timeout > 0 ? o->timeout : 30);

    *reply = NULL;
    *reply_len = 0;
    ERR_clear_error();
    if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, &port, NULL, &path, NULL, NULL)) {
        snprintf(problem, psize, "not an http:// or https:// URL");
        goto done;
    }
    if (use_ssl) {
        tls.ctx = SSL_CTX_new(TLS_client_method());
        tls.host = host;
        if (tls.ctx == NULL ||
            !(o->ca_file ? SSL_CTX_load_verify_locations(tls.ctx, o->ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(tls.ctx))) {
            snprintf(problem, psize, "cannot load the CA certificates for HTTPS");
            goto done;
        }
        SSL_CTX_set_verify(tls.ctx, SSL_VERIFY_PEER, NULL);
    }
    req = BIO_new_mem_buf(body, (int)len);
    if (req == NULL)
        goto done;
    if (proxy_reachable(host, use_ssl, deadline, o->timeout, &proxied, problem, psize) != 0)
        goto done;
    if (!proxied && (conn = http_connect("", host, port, deadline, o->timeout, problem, psize)) == NULL)
        goto done;
    left = (int)(deadline - time(NULL));
    /* with conn, OpenSSL uses that connection; without (a proxy), proxy and no_proxy NULL take
     * http_proxy, https_proxy and no_proxy from the environment */
    rsp = OSSL_HTTP_transfer(NULL, host, port, path, use_ssl, NULL, NULL, conn, NULL,
                             use_ssl ? tls_wrap : NULL, &tls, 0, NULL, content_type, req, NULL,
                             expect_der, MAX_REPLY, left > 0 ? left : 1, 0);
    if (rsp == NULL) {
        int why = http_problem(problem, psize, o->timeout);
        if (why == HTTP_R_MISSING_ASN1_ENCODING || why == HTTP_R_ERROR_PARSING_ASN1_LENGTH)
            rc = -2;
        goto done;
    }
    {
        /* A DER reply arrives whole in a memory BIO; any other is streamed from the
         * non-blocking connection, which may have no data yet: wait for it, up to the timeout. */
        unsigned char *buf = malloc(MAX_REPLY);
        size_t used = 0;
        if (buf == NULL)
            goto done;
        while (used < MAX_REPLY) {
            int n = BIO_read(rsp, buf + used, (int)(MAX_REPLY - used));
            if (n > 0) {
                used += (size_t)n;
                continue;
            }
            /* a memory BIO (DER replies) "retries" when empty: that is its end */
            if (expect_der || !BIO_should_retry(rsp))
                break; /* end of the reply */
            if (BIO_wait(rsp, deadline, 100) <= 0) {
                snprintf(problem, psize, "no complete reply within %d s", o->timeout);
                free(buf);
                goto done;
            }
        }
        *reply = buf;
        *reply_len = used;
    }
    rc = 0;
done:
    BIO_free(rsp);
    BIO_free_all(conn); /* after the reply, which may be read from it */
    BIO_free(req);
    SSL_CTX_free(tls.ctx);
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    ERR_clear_error();
    return rc;
}

int drv_eku_lists(X509 *x, const char *dotted)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    char buf[80];
    int found = 0;
    for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++)
        if (OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku, i), 1) > 0 &&
            strcmp(buf, dotted) == 0)
            found = 1;
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return found;
}

/*
 * The TSA's certificate must be for time stamping: its extended key usage lists timeStamping.
 * Windows does not require the extension to be critical (Microsoft's own TSA certificates
 * mark it non-critical), so neither does drvsign; OpenSSL's timestamp purpose would.
 */
static int tsa_signature_ok(PKCS7 *p7, BIO *content, char *problem, size_t psize)
{
    STACK_OF(X509) *signers;
    int ok;

    ERR_clear_error();
    if (PKCS7_verify(p7, NULL, NULL, content, NULL, PKCS7_NOVERIFY | PKCS7_NOCHAIN) != 1) {
        snprintf(problem, psize, "the reply's signature does not verify");
        return 0;
    }
    signers = PKCS7_get0_signers(p7, NULL, 0);
    ok = signers != NULL && sk_X509_num(signers) == 1 &&
         drv_eku_lists(sk_X509_value(signers, 0), DRV_OID_KP_TIMESTAMPING);
    if (!ok)
        snprintf(problem, psize, "the reply is signed by a certificate that is not a "
                                 "time-stamping certificate (extended key usage timeStamping)");
    sk_X509_free(signers);
    ERR_clear_error();
    return ok;
}

/* ---- RFC 3161 ---- */

static int looks_textual(const unsigned char *p, size_t n)
{
    size_t printable = 0;
    for (size_t i = 0; i < n && i < 256; i++)
        printable += (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\r' || p[i] == '\n';
    return n > 0 && printable == (n < 256 ? n : 256);
}

int drv_ts_token_read(const unsigned char *der, size_t len, size_t *used,
                      CMS_ContentInfo **cms_out, TS_TST_INFO **tst_out, X509 **tsa_out,
                      char *problem, size_t psize)
{
    const unsigned char *p = der;
    CMS_ContentInfo *cms = NULL;
    TS_TST_INFO *tst = NULL;
    STACK_OF(X509) *signers = NULL;
    ASN1_OCTET_STRING **content;
    int signer_count;

    *cms_out = NULL;
    *tst_out = NULL;
    *tsa_out = NULL;
    if (len > LONG_MAX || (cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL ||
        OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
        OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_id_smime_ct_TSTInfo ||
        (content = CMS_get0_content(cms)) == NULL || *content == NULL)
        goto not_token;
    if (used != NULL)
        *used = (size_t)(p - der);
    p = ASN1_STRING_get0_data(*content);
    tst = d2i_TS_TST_INFO(NULL, &p, ASN1_STRING_length(*content));
    if (tst == NULL)
        goto not_token;
    signer_count = sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms));
    if (signer_count != 1) {
        snprintf(problem, psize, "the token has %d signers, not one", signer_count);
        goto fail;
    }
    /* the signature over TSTInfo and the signed attributes; chains are the caller's */
    if (CMS_verify(cms, NULL, NULL, NULL, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1 ||
        (signers = CMS_get0_signers(cms)) == NULL || sk_X509_num(signers) != 1) {
        snprintf(problem, psize, "the token's signature does not verify");
        goto fail;
    }
    *tsa_out = sk_X509_value(signers, 0);
    sk_X509_free(signers);
    *cms_out = cms;
    *tst_out = tst;
    ERR_clear_error();
    return 0;
not_token:
    snprintf(problem, psize, "not an RFC 3161 token");
fail:
    sk_X509_free(signers);
    TS_TST_INFO_free(tst);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return -1;
}

int drv_ts_rfc3161_reply(const unsigned char *reply, size_t reply_len,
                         const unsigned char *imprint, unsigned imprint_len,
                         const ASN1_INTEGER *nonce, const EVP_MD *md, unsigned char **token,
                         size_t *token_len, char *problem, size_t psize)
{
    size_t used;
    const unsigned char *p;
    TS_STATUS_INFO *status = NULL;
    CMS_ContentInfo *cms = NULL;
    TS_TST_INFO *tst = NULL;
    X509 *tsa;
    long len;
    int tag, cls, rc = -1;

    /* TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }, read by
     * hand: OpenSSL's TS_RESP takes the token as PKCS#7, which cannot hold the attribute
     * certificates Microsoft's TSA puts in it, and the token is kept as the TSA sent it. */
    p = reply;
    if (reply_len > LONG_MAX || (ASN1_get_object(&p, &len, &tag, &cls, (long)reply_len) & 0x80) ||
        tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL ||
        (status = d2i_TS_STATUS_INFO(NULL, &p, (long)(reply_len - (size_t)(p - reply)))) == NULL) {
        snprintf(problem, psize, "%s",
                 looks_textual(reply, reply_len)
                     ? "reply is not a TimeStampResp: this looks like a legacy Authenticode "
                       "server"
                     : "reply is not a TimeStampResp");
        if (looks_textual(reply, reply_len))
            rc = -2;
        goto done;
    }
    {
        long st = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status));
        if (st != 0 && st != 1) {
            snprintf(problem, psize, "the server refused (PKIStatus %ld)", st);
            goto done;
        }
    }
    if ((size_t)(p - reply) >= reply_len) {
        snprintf(problem, psize, "the reply carries no token");
        goto done;
    }
    if (drv_ts_token_read(p, reply_len - (size_t)(p - reply), &used, &cms, &tst, &tsa, problem,
                          psize) != 0)
        goto done;
    if (TS_TST_INFO_get_nonce(tst) == NULL || ASN1_INTEGER_cmp(TS_TST_INFO_get_nonce(tst), nonce) != 0) {
        snprintf(problem, psize, "nonce mismatch");
        goto done;
    }
    {
        TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
        const ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(mi);
        const ASN1_OBJECT *alg;
        X509_ALGOR_get0(&alg, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
        if (OBJ_obj2nid(alg) != EVP_MD_get_type(md) ||
            (unsigned)ASN1_STRING_length(msg) != imprint_len ||
            memcmp(ASN1_STRING_get0_data(msg), imprint, imprint_len) != 0) {
            snprintf(problem, psize, "message imprint mismatch");
            goto done;
        }
    }
    if (!drv_eku_lists(tsa, DRV_OID_KP_TIMESTAMPING)) {
        snprintf(problem, psize, "the reply is signed by a certificate that is not a "
                                 "time-stamping certificate (extended key usage timeStamping)");
        goto done;
    }
    *token = OPENSSL_malloc(used);
    if (*token == NULL)
        goto done;
    memcpy(*token, p, used);
    *token_len = used;
    rc = 0;
done:
    TS_STATUS_INFO_free(status);
    TS_TST_INFO_free(tst);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return rc;
}

/* A reply parser's -2 (the server is of the other kind): the fix, in the front end's name for
 * the other kind's parameter, goes after the problem. */
static int other_kind_hint(int rc, const char *other, char *problem, size_t psize)
{
    size_t used = strlen(problem);
    if (rc != -2)
        return rc;
    if (used + 1 < psize)
        snprintf(problem + used, psize - used, "; use %s", other);
    return -1;
}

static int rfc3161_once(const char *url, const unsigned char *body, size_t body_len,
                        const unsigned char *imprint, unsigned imprint_len,
                        const ASN1_INTEGER *nonce, const drv_ts_opts *o, unsigned char **token,
                        size_t *token_len, char *problem, size_t psize)
{
    unsigned char *reply = NULL;
    size_t reply_len;
    int rc;
    int posted = http_post(url, "application/timestamp-query", body, body_len, 1, o, &reply,
                           &reply_len, problem, psize);
    if (posted == -2)
        snprintf(problem, psize,
                 "reply is not a TimeStampResp (not even DER): if this is a "
                 "legacy Authenticode server, use %s",
                 o->legacy_name);
    if (posted != 0)
        return -1;
    rc = drv_ts_rfc3161_reply(reply, reply_len, imprint, imprint_len, nonce, o->md, token,
                              token_len, problem, psize);
    free(reply);
    return other_kind_hint(rc, o->legacy_name, problem, psize);
}

/* Rounds over the URLs: each failure one line, success ends it. */
typedef int (*attempt_fn)(const char *url, void *ctx, char *problem, size_t psize);

static int with_failover(const char *const *urls, size_t count, const drv_ts_opts *o,
                         const char *where, const char *kind, attempt_fn fn, void *ctx,
                         drvsign_diag *diag)
{
    int rounds = o->retries > 0 ? o->retries : 1;
    for (int r = 0; r < rounds; r++) {
        for (size_t u = 0; u < count; u++) {
            char problem[256] = "";
            if (fn(urls[u], ctx, problem, sizeof problem) == 0)
                return 0;
            drv_warn(diag, where, "%s timestamp from %s failed (round %d of %d): %s", kind, urls[u],
                     r + 1, rounds, problem);
        }
        if (r + 1 < rounds && o->wait > 0)
            drv_sleep(o->wait);
    }
    drv_error(diag, where, "no %s timestamp server answered correctly in %d round%s over %zu URL%s; "
                           "the file is left unchanged",
              kind, rounds, rounds == 1 ? "" : "s", count, count == 1 ? "" : "s");
    return -1;
}

typedef struct rfc_ctx {
    const unsigned char *body;
    size_t body_len;
    unsigned char imprint[EVP_MAX_MD_SIZE];
    unsigned imprint_len;
    ASN1_INTEGER *nonce;
    const drv_ts_opts *o;
    unsigned char **token;
    size_t *token_len;
} rfc_ctx;

static int rfc_attempt(const char *url, void *arg, char *problem, size_t psize)
{
    rfc_ctx *c = arg;
    return rfc3161_once(url, c->body, c->body_len, c->imprint, c->imprint_len, c->nonce, c->o,
                        c->token, c->token_len, problem, psize);
}

int drv_ts_rfc3161(const unsigned char *signature, size_t len, const drv_ts_opts *o,
                   const char *where, unsigned char **token, size_t *token_len,
                   drvsign_diag *diag)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    BIGNUM *bn = NULL;
    unsigned char nonce_bytes[8], *body = NULL;
    rfc_ctx c = {0};
    int n, rc = -1;

    if (req == NULL || mi == NULL || alg == NULL)
        goto fail;
    if (!EVP_Digest(signature, len, c.imprint, &c.imprint_len, o->md, NULL) ||
        !X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(o->md)), V_ASN1_NULL, NULL) ||
        !TS_MSG_IMPRINT_set_algo(mi, alg) || !TS_MSG_IMPRINT_set_msg(mi, c.imprint, (int)c.imprint_len) ||
        !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi) || !TS_REQ_set_cert_req(req, 1))
        goto fail;
    /* a random 64-bit nonce ties the reply to this request */
    if (RAND_bytes(nonce_bytes, sizeof nonce_bytes) != 1 ||
        (bn = BN_bin2bn(nonce_bytes, sizeof nonce_bytes, NULL)) == NULL ||
        (c.nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || !TS_REQ_set_nonce(req, c.nonce))
        goto fail;
    n = i2d_TS_REQ(req, &body);
    if (n <= 0)
        goto fail;
    c.body = body;
    c.body_len = (size_t)n;
    c.o = o;
    c.token = token;
    c.token_len = token_len;
    rc = with_failover(o->urls, o->url_count, o, where, "RFC 3161", rfc_attempt, &c, diag);
    goto done;
fail:
    drv_ssl_error(diag, where, "cannot build the timestamp request");
done:
    OPENSSL_free(body);
    ASN1_INTEGER_free(c.nonce);
    BN_free(bn);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    return rc;
}

/* ---- legacy Authenticode (signtool /t) ---- */

typedef struct {
    ASN1_OBJECT *type;
    ASN1_OCTET_STRING *signature;
} MS_TS_BLOB;

ASN1_SEQUENCE(MS_TS_BLOB) = {
    ASN1_SIMPLE(MS_TS_BLOB, type, ASN1_OBJECT),
    ASN1_EXP(MS_TS_BLOB, signature, ASN1_OCTET_STRING, 0),
} static_ASN1_SEQUENCE_END(MS_TS_BLOB)

typedef struct {
    ASN1_OBJECT *type;
    MS_TS_BLOB *blob;
} MS_TS_REQUEST;

ASN1_SEQUENCE(MS_TS_REQUEST) = {
    ASN1_SIMPLE(MS_TS_REQUEST, type, ASN1_OBJECT),
    ASN1_SIMPLE(MS_TS_REQUEST, blob, MS_TS_BLOB),
} static_ASN1_SEQUENCE_END(MS_TS_REQUEST)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(MS_TS_REQUEST)

typedef struct legacy_ctx {
    const char *b64;
    const unsigned char *signature;
    size_t len;
    const drv_ts_opts *o;
    PKCS7_SIGNER_INFO **counter;
    STACK_OF(X509) **certs;
} legacy_ctx;

int drv_ts_legacy_reply(unsigned char *reply, size_t reply_len, const unsigned char *signature,
                        size_t len, PKCS7_SIGNER_INFO **counter, STACK_OF(X509) **certs,
                        char *problem, size_t psize)
{
    unsigned char *der = NULL;
    size_t k = 0;
    const unsigned char *p;
    PKCS7 *p7 = NULL;
    PKCS7_SIGNER_INFO *si;
    int rc = -1, n;

    *counter = NULL;
    *certs = NULL;
    if (reply_len > INT_MAX || len > INT_MAX) {
        snprintf(problem, psize, "reply is too large");
        return -1;
    }
    /* the reply is base64, with line breaks */
    for (size_t i = 0; i < reply_len; i++)
        if (reply[i] != '\r' && reply[i] != '\n' && reply[i] != ' ')
            reply[k++] = reply[i];
    der = malloc(k / 4 * 3 + 3);
    n = der && k % 4 == 0 && k > 0 ? EVP_DecodeBlock(der, reply, (int)k) : -1;
    if (n <= 0) {
        snprintf(problem, psize, "reply is not a base64 PKCS#7 (an RFC 3161 server?)");
        rc = -2;
        goto done;
    }
    p = der;
    p7 = d2i_PKCS7(NULL, &p, n);
    if (p7 == NULL || !PKCS7_type_is_signed(p7) ||
        sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) != 1) {
        snprintf(problem, psize, "reply is not a PKCS#7 SignedData with one signer");
        goto done;
    }
    si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    /* the counter-signature must cover our signature value */
    {
        BIO *content = BIO_new_mem_buf(signature, (int)len);
        int ok = content != NULL;
        if (ok && PKCS7_get_detached(p7) == 0) {
            /* content is embedded: it must be our signature */
            ASN1_OCTET_STRING *os = p7->d.sign->contents->d.data;
            ok = PKCS7_type_is_data(p7->d.sign->contents) && os != NULL &&
                 (size_t)ASN1_STRING_length(os) == len &&
                 memcmp(ASN1_STRING_get0_data(os), signature, len) == 0;
            BIO_free(content);
            content = NULL;
            if (!ok) {
                snprintf(problem, psize, "the counter-signature covers other data");
                goto done;
            }
        }
        ok = tsa_signature_ok(p7, content, problem, psize);
        BIO_free(content);
        if (!ok)
            goto done;
    }
    *counter = ASN1_item_dup(ASN1_ITEM_rptr(PKCS7_SIGNER_INFO), si);
    *certs = X509_chain_up_ref(p7->d.sign->cert);
    if (*counter == NULL || *certs == NULL) {
        PKCS7_SIGNER_INFO_free(*counter);
        sk_X509_pop_free(*certs, X509_free);
        *counter = NULL;
        *certs = NULL;
        goto done;
    }
    rc = 0;
done:
    PKCS7_free(p7);
    free(der);
    return rc;
}

static int legacy_attempt(const char *url, void *arg, char *problem, size_t psize)
{
    legacy_ctx *c = arg;
    unsigned char *reply = NULL;
    size_t reply_len;
    int rc;

    if (http_post(url, "application/octet-stream", (const unsigned char *)c->b64, strlen(c->b64), 0,
                  c->o, &reply, &reply_len, problem, psize) != 0)
        return -1;
    rc = drv_ts_legacy_reply(reply, reply_len, c->signature, c->len, c->counter, c->certs,
                             problem, psize);
    free(reply);
    return other_kind_hint(rc, c->o->rfc3161_name, problem, psize);
}

int drv_ts_legacy(const unsigned char *signature, size_t len, const drv_ts_opts *o,
                  const char *where, PKCS7_SIGNER_INFO **counter, STACK_OF(X509) **certs,
                  drvsign_diag *diag)
{
    MS_TS_REQUEST *req = MS_TS_REQUEST_new();
    unsigned char *der = NULL;
    char *b64 = NULL;
    legacy_ctx c = {0};
    int n, rc = -1;

    *counter = NULL;
    *certs = NULL;
    if (req == NULL || len > INT_MAX)
        goto fail;
    ASN1_OBJECT_free(req->type);
    req->type = OBJ_txt2obj(OID_MS_TIMESTAMP_REQUEST, 1);
    ASN1_OBJECT_free(req->blob->type);
    req->blob->type = OBJ_nid2obj(NID_pkcs7_data);
    if (req->type == NULL || !ASN1_OCTET_STRING_set(req->blob->signature, signature, (int)len))
        goto fail;
    n = ASN1_item_i2d((ASN1_VALUE *)req, &der, ASN1_ITEM_rptr(MS_TS_REQUEST));
    b64 = n > 0 ? malloc((size_t)n / 3 * 4 + 8) : NULL;
    if (b64 == NULL)
        goto fail;
    EVP_EncodeBlock((unsigned char *)b64, der, n);
    c.b64 = b64;
    c.signature = signature;
    c.len = len;
    c.o = o;
    c.counter = counter;
    c.certs = certs;
    rc = with_failover(o->legacy_urls, o->legacy_count, o, where, "legacy", legacy_attempt, &c,
                       diag);
    goto done;
fail:
    drv_ssl_error(diag, where, "cannot build the legacy timestamp request");
done:
    free(b64);
    OPENSSL_free(der);
    MS_TS_REQUEST_free(req);
    return rc;
}

/* The timestamp settings (checked by drvsign_check_params before); 0 when none were asked for,
 * -1 after an error. */
int drv_ts_opts_from(const drvsign_params *p, drv_ts_opts *o, drvsign_diag *diag)
{
    memset(o, 0, sizeof *o);
    if (p->timestamp_url_count == 0 && p->timestamp_legacy_count == 0)
        return 0;
    o->urls = p->timestamp_urls;
    o->url_count = p->timestamp_url_count;
    o->legacy_urls = p->timestamp_legacy_urls;
    o->legacy_count = p->timestamp_legacy_count;
    o->md = drv_digest_by_name(p->timestamp_digest, diag);
    o->retries = p->timestamp_retries > 0 ? p->timestamp_retries : 3;
    o->wait = p->timestamp_wait >= 0 ? p->timestamp_wait : 10;
    o->timeout = p->timestamp_timeout > 0 ? p->timestamp_timeout : 30;
    o->ca_file = p->timestamp_ca_file;
    o->rfc3161_name = drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_URLS);
    o->legacy_name = drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_LEGACY_URLS);
    return o->md != NULL ? 1 : -1;
}
