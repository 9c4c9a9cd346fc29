/*
 * Judging one Authenticode signature the way WinVerifyTrust does: the signer's signature over
 * its attributes, its timestamp (an RFC 3161 token or a legacy counter-signature), and the
 * certificate chains of the signer and of the TSA under Windows' extended-key-usage rule.
 * The chains are built by OpenSSL's X509_verify_cert; only the usage check is Windows' own.
 * Nothing here reads the network: no AIA fetching, no CRLs, no OCSP.
 */
#include "authenticode.h"

#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/asn1t.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#define OID_COUNTER_SIGNATURE "1.2.840.113549.1.9.6"
/* szOID_KP_LIFETIME_SIGNING: the signature dies with the certificate, timestamp or not */
#define OID_LIFETIME_SIGNING "1.3.6.1.4.1.311.10.3.13"

/*
 * ESSCertID and ESSCertIDv2 (RFC 2634, RFC 5035) in one template: { [hashAlgorithm (v2 only,
 * DEFAULT sha256)], certHash, [issuerSerial] }, and SigningCertificate(V2) { certs, [policies] }.
 * Only the first ID is checked: it names the signer. The others may name certificates a
 * verifier never sees (Microsoft's tokens list an attribute certificate).
 */
typedef struct {
    X509_ALGOR *hash_alg;
    ASN1_OCTET_STRING *hash;
    ASN1_TYPE *issuer_serial;
} ESS_ID;

ASN1_SEQUENCE(ESS_ID) = {
    ASN1_OPT(ESS_ID, hash_alg, X509_ALGOR),
    ASN1_SIMPLE(ESS_ID, hash, ASN1_OCTET_STRING),
    ASN1_OPT(ESS_ID, issuer_serial, ASN1_ANY),
} static_ASN1_SEQUENCE_END(ESS_ID)

DEFINE_STACK_OF(ESS_ID)

typedef struct {
    STACK_OF(ESS_ID) *ids;
    ASN1_TYPE *policies;
} ESS_CERTS;

ASN1_SEQUENCE(ESS_CERTS) = {
    ASN1_SEQUENCE_OF(ESS_CERTS, ids, ESS_ID),
    ASN1_OPT(ESS_CERTS, policies, ASN1_ANY),
} static_ASN1_SEQUENCE_END(ESS_CERTS)

X509_STORE *drv_ac_trust_store(const char *ca_file, drvsign_diag *diag)
{
    X509_STORE *store = X509_STORE_new();
    if (store == NULL)
        return NULL;
    if (ca_file != NULL) {
        STACK_OF(X509) *roots;
        if (drv_load_certs(ca_file, &roots, diag) != 0) {
            X509_STORE_free(store);
            return NULL;
        }
        for (int i = 0; i < sk_X509_num(roots); i++)
            X509_STORE_add_cert(store, sk_X509_value(roots, i));
        sk_X509_pop_free(roots, X509_free);
    } else if (!X509_STORE_set_default_paths(store)) {
        drv_ssl_error(diag, NULL, "cannot load the system certificate store");
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

static void name_line(const X509_NAME *name, char *buf, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n;
    buf[0] = 0;
    if (b == NULL)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    n = BIO_read(b, buf, (int)size - 1);
    buf[n > 0 ? n : 0] = 0;
    BIO_free(b);
}

/* A certificate's common name (its whole name when it has none), for one-line messages. */
static void short_name(const X509_NAME *name, char *buf, size_t size)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    if (i < 0 || ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) < 0) {
        name_line(name, buf, size);
        return;
    }
    snprintf(buf, size, "%s", (const char *)utf8);
    OPENSSL_free(utf8);
}

static int64_t tm_to_epoch(const struct tm *tm)
{
    /* days from civil (proleptic Gregorian), so no timegm is needed */
    int64_t y = tm->tm_year + 1900L - (tm->tm_mon < 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (tm->tm_mon + (tm->tm_mon > 1 ? -2 : 10)) + 2) / 5 + tm->tm_mday - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
}

static int64_t now(void)
{
    return (int64_t)time(NULL);
}

static void epoch_text(int64_t t, char *text, size_t size)
{
    struct tm tm;
    ASN1_TIME *at = ASN1_TIME_adj(NULL, (time_t)t, 0, 0);
    text[0] = 0;
    if (at != NULL && ASN1_TIME_to_tm(at, &tm))
        snprintf(text, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASN1_TIME_free(at);
}

/* Seconds since the epoch of t (0 when unreadable), and t as ISO 8601 text. */
static int64_t asn1_time_epoch(const ASN1_TIME *t, char *text, size_t size)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    snprintf(text, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return tm_to_epoch(&tm);
}

/* ---- Windows' extended-key-usage rule ---- */

/*
 * CertGetCertificateChain's usage rule: the chain's effective usage is the intersection of
 * what each certificate allows. A certificate without the extension allows everything; one
 * with it allows what it lists (anyExtendedKeyUsage: everything), critical or not. So an
 * intermediate may carry a list of its own, as long as the usage is on it. The trust anchor
 * is trusted as configured (Windows keeps a root's usages in the store, not in the root).
 */
static int usage_allowed(X509 *x, int nid)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    int ok = 0;
    if (eku == NULL)
        return X509_get_ext_by_NID(x, NID_ext_key_usage, -1) < 0; /* absent: no restriction */
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        int n = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
        if (n == nid || n == NID_anyExtendedKeyUsage)
            ok = 1;
    }
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return ok;
}

/* The top of a chain that failed to reach a trusted root: its root, or what it stops at. */
static void untrusted_top(X509_STORE_CTX *ctx, X509 *leaf, const char *what, char *problem,
                          size_t psize, char *root, size_t rsize)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(ctx);
    X509 *top = chain != NULL && sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1)
                                                       : leaf;
    char subject[256], issuer[256];
    short_name(X509_get_subject_name(top), subject, sizeof subject);
    short_name(X509_get_issuer_name(top), issuer, sizeof issuer);
    if (X509_get_extension_flags(top) & EXFLAG_SS) {
        name_line(X509_get_subject_name(top), root, rsize);
        snprintf(problem, psize, "%s: it ends at the root \"%.150s\", which is not trusted", what,
                 subject);
    } else {
        name_line(X509_get_issuer_name(top), root, rsize);
        snprintf(problem, psize,
                 "%s: it ends at \"%.150s\", whose issuer \"%.150s\" is not a trusted root",
                 what, subject, issuer);
    }
    sk_X509_pop_free(chain, X509_free);
}

typedef struct chain_verdict {
    int ok;
    int untrusted_root; /* the chain is sound but ends at a root the store lacks */
    char root[256];     /* the root it ends at (trusted or not) */
} chain_verdict;

/*
 * Build and check leaf's chain to store at time when (0: now), then apply the usage rule for
 * usage_nid. what names the chain in the problem ("certificate chain", ...).
 */
static void verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, X509_STORE *store, int64_t when,
                         int usage_nid, const char *what, chain_verdict *v, char *problem,
                         size_t psize)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain;
    int n;

    memset(v, 0, sizeof *v);
    if (ctx == NULL || !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        snprintf(problem, psize, "%s: cannot set up chain verification", what);
        goto done;
    }
    if (when != 0)
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)when);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
        char subject[256] = "", at[80] = "";
        if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
            err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
            err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
            err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) {
            untrusted_top(ctx, leaf, what, problem, psize, v->root, sizeof v->root);
            v->untrusted_root = 1;
            goto done;
        }
        if (bad != NULL)
            short_name(X509_get_subject_name(bad), subject, sizeof subject);
        epoch_text(when != 0 ? when : now(), at, sizeof at);
        if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
            snprintf(problem, psize, "%s: %s: \"%.150s\" at %s", what,
                     X509_verify_cert_error_string(err), subject, at);
        else
            snprintf(problem, psize, "%s: %s (\"%.150s\")", what,
                     X509_verify_cert_error_string(err), subject);
        goto done;
    }
    chain = X509_STORE_CTX_get0_chain(ctx);
    n = sk_X509_num(chain);
    name_line(X509_get_subject_name(sk_X509_value(chain, n - 1)), v->root, sizeof v->root);
    for (int i = 0; i < n - 1; i++) {
        if (!usage_allowed(sk_X509_value(chain, i), usage_nid)) {
            char subject[256];
            short_name(X509_get_subject_name(sk_X509_value(chain, i)), subject, sizeof subject);
            snprintf(problem, psize,
                     "%s: \"%.150s\" is not valid for %s (its extended key usage lacks it)",
                     what, subject, usage_nid == NID_code_sign ? "code signing" : "time stamping");
            goto done;
        }
    }
    v->ok = 1;
done:
    X509_STORE_CTX_free(ctx);
}

/*
 * Does si's signature verify with key over its signed attributes? They are re-encoded in their
 * received order (PKCS7_ATTR_VERIFY) as the SET the signer signed.
 */
static int attrs_signature_ok(PKCS7_SIGNER_INFO *si, const EVP_MD *md, X509 *signer)
{
    unsigned char *attrs = NULL;
    int n = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs, ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int ok = n > 0 && mctx != NULL &&
             EVP_DigestVerifyInit(mctx, NULL, md, NULL, X509_get0_pubkey(signer)) == 1 &&
             EVP_DigestVerify(mctx, ASN1_STRING_get0_data(si->enc_digest),
                              (size_t)ASN1_STRING_length(si->enc_digest), attrs, (size_t)n) == 1;
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(attrs);
    return ok;
}

/* Digest the signature value with md and compare it with what a timestamp claims. */
static int imprint_matches(PKCS7_SIGNER_INFO *si, const EVP_MD *md, const ASN1_OCTET_STRING *claim)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl;
    return md != NULL && claim != NULL &&
           EVP_Digest(ASN1_STRING_get0_data(si->enc_digest),
                      (size_t)ASN1_STRING_length(si->enc_digest), d, &dl, md, NULL) &&
           (unsigned)ASN1_STRING_length(claim) == dl &&
           memcmp(ASN1_STRING_get0_data(claim), d, dl) == 0;
}

/* The TSA's chain, for time stamping, at the time it stamped. */
static int tsa_chain_ok(X509 *tsa, STACK_OF(X509) *untrusted, X509_STORE *store, int64_t when,
                        drv_sig_check *check)
{
    chain_verdict v;
    if (!drv_eku_lists(tsa, DRV_OID_KP_TIMESTAMPING)) {
        /* the Authenticode rule for the TSA itself: the usage must be listed, not implied */
        snprintf(check->ts_problem, sizeof check->ts_problem,
                 "timestamp: the TSA's certificate is not a time-stamping certificate (its "
                 "extended key usage does not list timeStamping)");
        return 0;
    }
    verify_chain(tsa, untrusted, store, when, NID_time_stamp, "timestamp: the TSA's certificate chain",
                 &v, check->ts_problem, sizeof check->ts_problem);
    snprintf(check->tsa_root, sizeof check->tsa_root, "%s", v.root);
    check->tsa_root_untrusted = v.untrusted_root;
    check->tsa_eku_critical = X509_get_ext_by_NID(tsa, NID_ext_key_usage, -1) >= 0 &&
                              X509_EXTENSION_get_critical(X509_get_ext(
                                  tsa, X509_get_ext_by_NID(tsa, NID_ext_key_usage, -1)));
    return v.ok;
}

/*
 * Does the token's signing-certificate attribute (v2, else v1) name tsa as its first
 * certificate? 1 yes, 0 no or malformed, -1 when the token has neither attribute.
 */
static int ess_names_signer(CMS_SignerInfo *si, X509 *tsa)
{
    static const int nids[2] = {NID_id_smime_aa_signingCertificateV2,
                                NID_id_smime_aa_signingCertificate};
    for (int v = 0; v < 2; v++) {
        ASN1_STRING *s = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nids[v]), -3, V_ASN1_SEQUENCE);
        const unsigned char *p;
        ESS_CERTS *certs;
        ESS_ID *id;
        const EVP_MD *md;
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dl;
        int ok;
        if (s == NULL)
            continue;
        p = ASN1_STRING_get0_data(s);
        certs = (ESS_CERTS *)ASN1_item_d2i(NULL, &p, ASN1_STRING_length(s),
                                           ASN1_ITEM_rptr(ESS_CERTS));
        id = certs != NULL && sk_ESS_ID_num(certs->ids) > 0 ? sk_ESS_ID_value(certs->ids, 0) : NULL;
        if (v == 1)
            md = id != NULL && id->hash_alg == NULL ? EVP_sha1() : NULL;
        else if (id != NULL && id->hash_alg != NULL) {
            const ASN1_OBJECT *alg;
            X509_ALGOR_get0(&alg, NULL, NULL, id->hash_alg);
            md = EVP_get_digestbyobj(alg);
        } else
            md = EVP_sha256();
        ok = md != NULL && X509_digest(tsa, md, d, &dl) &&
             (unsigned)ASN1_STRING_length(id->hash) == dl &&
             memcmp(ASN1_STRING_get0_data(id->hash), d, dl) == 0;
        ASN1_item_free((ASN1_VALUE *)certs, ASN1_ITEM_rptr(ESS_CERTS));
        return ok;
    }
    return -1;
}

/*
 * An RFC 3161 token (1.3.6.1.4.1.311.3.3.1): a CMS SignedData, of any version and with
 * certificates of any kind and order, read with OpenSSL's CMS code (which also takes BER).
 * Returns the time it vouches for, 0 when the token is not valid.
 */
static int64_t check_rfc3161(const drv_sig *sig, PKCS7_SIGNER_INFO *si, ASN1_TYPE *t,
                             X509_STORE *store, drv_sig_check *check)
{
    CMS_ContentInfo *cms = NULL;
    TS_TST_INFO *tst = NULL;
    STACK_OF(X509) *certs = NULL, *chain_certs = NULL;
    X509 *tsa;
    char why[256];
    int64_t when = 0, stamped;

    check->ts_kind = "rfc3161";
    if (t == NULL || t->type != V_ASN1_SEQUENCE ||
        drv_ts_token_read(ASN1_STRING_get0_data(t->value.sequence),
                          (size_t)ASN1_STRING_length(t->value.sequence), NULL, &cms, &tst, &tsa,
                          why, sizeof why) != 0) {
        snprintf(check->ts_problem, sizeof check->ts_problem, "timestamp: %s",
                 t == NULL || t->type != V_ASN1_SEQUENCE ? "not an RFC 3161 token" : why);
        goto done;
    }
    {
        TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
        const ASN1_OBJECT *alg;
        X509_ALGOR_get0(&alg, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
        check->ts_digest = OBJ_nid2sn(OBJ_obj2nid(alg));
        if (!imprint_matches(si, EVP_get_digestbyobj(alg), TS_MSG_IMPRINT_get_msg(mi))) {
            snprintf(check->ts_problem, sizeof check->ts_problem,
                     "timestamp: the token is for another signature");
            goto done;
        }
    }
    stamped = asn1_time_epoch(TS_TST_INFO_get_time(tst), check->ts_time, sizeof check->ts_time);
    if (stamped == 0) {
        snprintf(check->ts_problem, sizeof check->ts_problem, "timestamp: the token's time is unreadable");
        goto done;
    }
    name_line(X509_get_subject_name(tsa), check->tsa, sizeof check->tsa);
    /* RFC 3161/5816: ESSCertID(v2) names the TSA's certificate, so it cannot be swapped */
    if (ess_names_signer(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0), tsa) == 0) {
        snprintf(check->ts_problem, sizeof check->ts_problem,
                 "timestamp: the token's signing-certificate attribute does not name its signer");
        goto done;
    }
    certs = CMS_get1_certs(cms);
    chain_certs = sk_X509_new_null();
    for (int i = 0; chain_certs != NULL && certs != NULL && i < sk_X509_num(certs); i++)
        if (!sk_X509_push(chain_certs, sk_X509_value(certs, i)))
            goto done;
    /* the TSA's intermediates may sit in the token or in the outer signature */
    for (int i = 0; i < sk_X509_num(sig->p7->d.sign->cert); i++)
        if (chain_certs == NULL || !sk_X509_push(chain_certs, sk_X509_value(sig->p7->d.sign->cert, i)))
            goto done;
    if (tsa_chain_ok(tsa, chain_certs, store, stamped, check))
        when = stamped;
done:
    sk_X509_free(chain_certs);
    sk_X509_pop_free(certs, X509_free);
    TS_TST_INFO_free(tst);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return when;
}

/*
 * A legacy Authenticode counter-signature (1.2.840.113549.1.9.6): a SignerInfo of the TSA
 * whose messageDigest is the digest of the signature value, with its certificates in the
 * outer set. Returns the signingTime it vouches for, 0 when it is not valid.
 */
static int64_t check_counter_signature(const drv_sig *sig, PKCS7_SIGNER_INFO *si, ASN1_TYPE *t,
                                       X509_STORE *store, drv_sig_check *check)
{
    PKCS7_SIGNER_INFO *cs = NULL;
    X509 *tsa;
    const unsigned char *p;
    const EVP_MD *md;
    const ASN1_OBJECT *alg;
    ASN1_TYPE *st;
    int64_t when = 0, stamped;

    check->ts_kind = "legacy";
    if (t == NULL || t->type != V_ASN1_SEQUENCE)
        goto bad;
    p = ASN1_STRING_get0_data(t->value.sequence);
    cs = d2i_PKCS7_SIGNER_INFO(NULL, &p, ASN1_STRING_length(t->value.sequence));
    if (cs == NULL || cs->issuer_and_serial == NULL)
        goto bad;
    tsa = X509_find_by_issuer_and_serial(sig->p7->d.sign->cert, cs->issuer_and_serial->issuer,
                                         cs->issuer_and_serial->serial);
    X509_ALGOR_get0(&alg, NULL, NULL, cs->digest_alg);
    md = EVP_get_digestbyobj(alg);
    check->ts_digest = md != NULL ? EVP_MD_get0_name(md) : "unknown";
    if (tsa == NULL) {
        snprintf(check->ts_problem, sizeof check->ts_problem,
                 "timestamp: the counter-signer's certificate is not in the signature");
        goto done;
    }
    name_line(X509_get_subject_name(tsa), check->tsa, sizeof check->tsa);
    if (!imprint_matches(si, md, drv_ac_message_digest(cs))) {
        snprintf(check->ts_problem, sizeof check->ts_problem,
                 "timestamp: the counter-signature is for another signature");
        goto done;
    }
    if (!attrs_signature_ok(cs, md, tsa)) {
        snprintf(check->ts_problem, sizeof check->ts_problem,
                 "timestamp: the counter-signature does not verify");
        goto done;
    }
    st = PKCS7_get_signed_attribute(cs, NID_pkcs9_signingTime);
    if (st == NULL || (st->type != V_ASN1_UTCTIME && st->type != V_ASN1_GENERALIZEDTIME) ||
        (stamped = asn1_time_epoch(st->value.utctime, check->ts_time, sizeof check->ts_time)) ==
            0) {
        snprintf(check->ts_problem, sizeof check->ts_problem, "timestamp: no signing time");
        goto done;
    }
    if (tsa_chain_ok(tsa, sig->p7->d.sign->cert, store, stamped, check))
        when = stamped;
    goto done;
bad:
    snprintf(check->ts_problem, sizeof check->ts_problem, "timestamp: malformed counter-signature");
done:
    PKCS7_SIGNER_INFO_free(cs);
    ERR_clear_error();
    return when;
}

void drv_ac_check(const drv_sig *sig, X509_STORE *store, int64_t time, drv_sig_check *check)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(sig->p7->d.sign->signer_info, 0);
    STACK_OF(X509) *certs = sig->p7->d.sign->cert;
    X509 *signer = NULL;
    const EVP_MD *md;
    const ASN1_OBJECT *md_obj;
    const ASN1_OCTET_STRING *claimed;
    ASN1_TYPE *ctype;
    const unsigned char *body;
    size_t body_len;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len;
    chain_verdict v;

    memset(check, 0, sizeof *check);
    X509_ALGOR_get0(&md_obj, NULL, NULL, si->digest_alg);
    md = EVP_get_digestbyobj(md_obj);
    check->digest_name = md ? EVP_MD_get0_name(md) : "unknown";
    if (si->issuer_and_serial != NULL)
        signer = X509_find_by_issuer_and_serial(certs, si->issuer_and_serial->issuer,
                                                si->issuer_and_serial->serial);
    if (signer == NULL) {
        snprintf(check->problem, sizeof check->problem,
                 "the signing certificate is not in the signature");
        return;
    }
    name_line(X509_get_subject_name(signer), check->signer, sizeof check->signer);
    name_line(X509_get_issuer_name(signer), check->issuer, sizeof check->issuer);
    if (md == NULL) {
        snprintf(check->problem, sizeof check->problem, "unsupported digest algorithm");
        return;
    }
    ctype = PKCS7_get_signed_attribute(si, NID_pkcs9_contentType);
    if (ctype == NULL || ctype->type != V_ASN1_OBJECT ||
        !drv_oid_is(ctype->value.object, sig->content_type)) {
        snprintf(check->problem, sizeof check->problem,
                 "the signed contentType does not match the signed content");
        return;
    }
    claimed = drv_ac_message_digest(si);
    if (claimed == NULL ||
        drv_ac_content_octets(sig->content, sig->content_len, &body, &body_len) != 0 ||
        !EVP_Digest(body, body_len, digest, &digest_len, md, NULL) ||
        (unsigned)ASN1_STRING_length(claimed) != digest_len ||
        memcmp(ASN1_STRING_get0_data(claimed), digest, digest_len) != 0) {
        snprintf(check->problem, sizeof check->problem,
                 "the digest of the signed content does not match its messageDigest: the "
                 "content changed after signing");
        return;
    }
    if (!attrs_signature_ok(si, md, signer)) {
        snprintf(check->problem, sizeof check->problem,
                 "the signature does not verify with the signing certificate's key");
        goto done;
    }
    check->signature_ok = 1;
    check->lifetime_signing = drv_eku_lists(signer, OID_LIFETIME_SIGNING);
    check->chain_time = time;
    check->chain_time_source = time != 0 ? "given" : "now";
    /* A valid timestamp says when the signature existed: the chain is judged then, so a
     * certificate that has expired since still verifies, unless the caller fixed a time or the
     * certificate asks for lifetime signing. */
    for (int i = 0; i < X509at_get_attr_count(si->unauth_attr); i++) {
        X509_ATTRIBUTE *a = X509at_get_attr(si->unauth_attr, i);
        const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);
        int64_t when;
        if (drv_oid_is(obj, DRV_OID_RFC3161_TOKEN))
            when = check_rfc3161(sig, si, X509_ATTRIBUTE_get0_type(a, 0), store, check);
        else if (drv_oid_is(obj, OID_COUNTER_SIGNATURE))
            when = check_counter_signature(sig, si, X509_ATTRIBUTE_get0_type(a, 0), store, check);
        else
            continue;
        if (when == 0)
            break; /* a broken timestamp fails the signature; the chain is judged now */
        check->ts_ok = 1;
        if (time == 0 && !check->lifetime_signing) {
            check->chain_time = when;
            check->chain_time_source = "timestamp";
        }
        break;
    }
    verify_chain(signer, certs, store, check->chain_time, NID_code_sign, "certificate chain", &v,
                 check->chain_problem, sizeof check->chain_problem);
    snprintf(check->root, sizeof check->root, "%s", v.root);
    check->root_untrusted = v.untrusted_root;
    if (!v.ok)
        goto done;
    if ((X509_get_extension_flags(signer) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE)) {
        snprintf(check->chain_problem, sizeof check->chain_problem,
                 "certificate chain: the signing certificate's key usage excludes digital "
                 "signatures");
        goto done;
    }
    check->chain_ok = 1;
done:
    if (check->signature_ok)
        epoch_text(check->chain_time != 0 ? check->chain_time : now(),
                   check->chain_time_text, sizeof check->chain_time_text);
    ERR_clear_error();
}
