/*
 * Authenticode signing: the signed attributes, the SignedData around a signature made
 * elsewhere (drv_signer_sign_digest), and the DER it is stored as.
 */
#include "authenticode.h"

#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* ---- helpers ---- */

int drv_oid_is(const ASN1_OBJECT *obj, const char *dotted)
{
    char buf[80];
    return obj != NULL && OBJ_obj2txt(buf, sizeof buf, obj, 1) > 0 && strcmp(buf, dotted) == 0;
}

/* The content octets of a DER TLV: what messageDigest covers (reference 2.9 / 4.3). */
static int content_octets(const unsigned char *der, size_t len, const unsigned char **body,
                          size_t *body_len)
{
    const unsigned char *p = der;
    long n;
    int tag, cls;
    if (len > LONG_MAX)
        return -1;
    if (ASN1_get_object(&p, &n, &tag, &cls, (long)len) & 0x80)
        return -1;
    if ((size_t)(p - der) + (size_t)n != len)
        return -1;
    *body = p;
    *body_len = (size_t)n;
    return 0;
}

int drv_ac_content_octets(const unsigned char *der, size_t len, const unsigned char **body,
                          size_t *body_len)
{
    return content_octets(der, len, body, body_len);
}

int drv_ac_add_attr(STACK_OF(X509_ATTRIBUTE) **attrs, const char *oid, int asn1_type,
                    const void *data, int len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    X509_ATTRIBUTE *attr = NULL;
    int ok = 0;
    if (obj != NULL)
        attr = X509_ATTRIBUTE_create_by_OBJ(NULL, obj, asn1_type, data, len);
    if (attr != NULL && X509at_add1_attr(attrs, attr) != NULL)
        ok = 1;
    X509_ATTRIBUTE_free(attr);
    ASN1_OBJECT_free(obj);
    return ok ? 0 : -1;
}

const EVP_MD *drv_digest_by_name(const char *name, drvsign_diag *diag)
{
    if (name == NULL || strcmp(name, "sha256") == 0)
        return EVP_sha256();
    if (strcmp(name, "sha1") == 0)
        return EVP_sha1();
    if (strcmp(name, "sha384") == 0)
        return EVP_sha384();
    if (strcmp(name, "sha512") == 0)
        return EVP_sha512();
    drv_error(diag, NULL, "unknown digest '%s' (use sha256 or sha1)", name);
    return NULL;
}

int drv_digest_set_update(void *set, uint64_t off, const unsigned char *p, size_t n)
{
    const drv_digest_set *d = set;
    (void)off;
    for (size_t i = 0; i < d->count; i++)
        if (!EVP_DigestUpdate(d->ctx[i], p, n))
            return -1;
    return 0;
}

/* ---- building ---- */

const ASN1_OCTET_STRING *drv_ac_message_digest(PKCS7_SIGNER_INFO *si)
{
    ASN1_TYPE *t = PKCS7_get_signed_attribute(si, NID_pkcs9_messageDigest);
    return t != NULL && t->type == V_ASN1_OCTET_STRING ? t->value.octet_string : NULL;
}

static PKCS7 *content_info(const char *content_oid, const unsigned char *der, size_t len)
{
    PKCS7 *inner = PKCS7_new();
    ASN1_STRING *seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);

    if (inner == NULL || seq == NULL || len > INT_MAX || !ASN1_STRING_set(seq, der, (int)len))
        goto fail;
    inner->type = OBJ_txt2obj(content_oid, 1);
    inner->d.other = ASN1_TYPE_new();
    if (inner->type == NULL || inner->d.other == NULL)
        goto fail;
    ASN1_TYPE_set(inner->d.other, V_ASN1_SEQUENCE, seq);
    return inner;
fail:
    ASN1_STRING_free(seq);
    PKCS7_free(inner);
    return NULL;
}

int drv_ac_unsigned(const char *content_oid, const unsigned char *content_der, size_t content_len,
                    unsigned char **der, size_t *der_len)
{
    PKCS7 *p7 = PKCS7_new();
    int rc = -1;
    *der = NULL;
    if (p7 == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed))
        goto done;
    PKCS7_free(p7->d.sign->contents);
    p7->d.sign->contents = content_info(content_oid, content_der, content_len);
    if (p7->d.sign->contents != NULL)
        rc = drv_ac_to_der(p7, der, der_len);
done:
    PKCS7_free(p7);
    return rc;
}

static int der_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/*
 * Windows rejects catalogs whose certificate SET is not in DER order (KB4580358), and OpenSSL
 * keeps insertion order, so sort here: by encoding, without duplicates.
 */
int drv_ac_set_sorted_certs(PKCS7 *p7, X509 *const *certs, size_t count)
{
    unsigned char **enc = OPENSSL_zalloc(sizeof *enc * (count ? count : 1));
    int *len = OPENSSL_zalloc(sizeof *len * (count ? count : 1));
    size_t *order = OPENSSL_zalloc(sizeof *order * (count ? count : 1));
    int rc = -1;

    if (enc == NULL || len == NULL || order == NULL)
        goto done;
    for (size_t i = 0; i < count; i++) {
        len[i] = i2d_X509(certs[i], &enc[i]);
        if (len[i] <= 0)
            goto done;
        order[i] = i;
    }
    for (size_t i = 1; i < count; i++) /* insertion sort: a handful of certificates */
        for (size_t j = i; j > 0; j--) {
            size_t a = order[j - 1], b = order[j];
            if (der_cmp(enc[a], (size_t)len[a], enc[b], (size_t)len[b]) <= 0)
                break;
            order[j - 1] = b;
            order[j] = a;
        }
    sk_X509_pop_free(p7->d.sign->cert, X509_free);
    p7->d.sign->cert = sk_X509_new_null();
    if (p7->d.sign->cert == NULL)
        goto done;
    for (size_t i = 0; i < count; i++) {
        size_t k = order[i];
        if (i > 0 && der_cmp(enc[order[i - 1]], (size_t)len[order[i - 1]], enc[k],
                             (size_t)len[k]) == 0)
            continue;
        if (!X509_up_ref(certs[k]))
            goto done;
        if (!sk_X509_push(p7->d.sign->cert, certs[k])) {
            X509_free(certs[k]);
            goto done;
        }
    }
    rc = 0;
done:
    for (size_t i = 0; enc != NULL && i < count; i++)
        OPENSSL_free(enc[i]);
    OPENSSL_free(enc);
    OPENSSL_free(len);
    OPENSSL_free(order);
    return rc;
}

static int add_opus_info(PKCS7_SIGNER_INFO *si, const char *description, const char *url)
{
    unsigned char *der;
    int n, rc = -1;
    if (drv_ac_opus_info(description, url, &der, &n) == 0)
        rc = drv_ac_add_attr(&si->auth_attr, DRV_OID_SPC_SP_OPUS_INFO, V_ASN1_SEQUENCE, der, n);
    OPENSSL_free(der);
    return rc;
}

static int add_statement_type(PKCS7_SIGNER_INFO *si)
{
    unsigned char *der;
    int n, rc = -1;
    if (drv_ac_statement_type(&der, &n) == 0)
        rc = drv_ac_add_attr(&si->auth_attr, DRV_OID_SPC_STATEMENT_TYPE, V_ASN1_SEQUENCE, der, n);
    OPENSSL_free(der);
    return rc;
}

int drv_ac_signed_attrs(X509 *cert, const drv_sign_opts *opts, const char *content_oid,
                        const unsigned char *content_der, size_t content_len,
                        unsigned char **attrs_der, size_t *attrs_len, unsigned char *to_sign,
                        unsigned *to_sign_len, drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = PKCS7_SIGNER_INFO_new();
    ASN1_OBJECT *ctype = OBJ_txt2obj(content_oid, 1);
    const unsigned char *body;
    size_t body_len;
    unsigned char md_buf[EVP_MAX_MD_SIZE];
    unsigned int md_len;
    int n, rc = -1;

    *attrs_der = NULL;
    if (si == NULL || ctype == NULL)
        goto ssl_fail;
    if (content_octets(content_der, content_len, &body, &body_len) != 0) {
        drv_error(diag, opts->where, "internal error: content to sign is not one DER value");
        goto done;
    }
    /* The certificate's public key decides the algorithms; the private key may live anywhere
     * and is used only through drv_signer_sign_digest. */
    if (!PKCS7_SIGNER_INFO_set(si, cert, X509_get0_pubkey(cert), opts->md))
        goto ssl_fail;
    if (!PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT, ctype))
        goto ssl_fail;
    ctype = NULL;
    if (add_statement_type(si) != 0 || add_opus_info(si, opts->description, opts->url) != 0)
        goto ssl_fail;
    if (!EVP_Digest(body, body_len, md_buf, &md_len, opts->md, NULL) ||
        drv_ac_add_attr(&si->auth_attr, "1.2.840.113549.1.9.4", V_ASN1_OCTET_STRING, md_buf,
                     (int)md_len) != 0)
        goto ssl_fail;
    if (opts->signing_time && !PKCS7_add0_attrib_signing_time(si, NULL))
        goto ssl_fail;
    /* The DER of the attribute SET is what gets signed, exactly as PKCS#7 defines. */
    n = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, attrs_der, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
    if (n <= 0 || !EVP_Digest(*attrs_der, (size_t)n, to_sign, to_sign_len, opts->md, NULL))
        goto ssl_fail;
    *attrs_len = (size_t)n;
    rc = 0;
    goto done;
ssl_fail:
    drv_ssl_error(diag, opts->where, "cannot build the signed attributes");
done:
    if (rc != 0) {
        OPENSSL_free(*attrs_der);
        *attrs_der = NULL;
    }
    ASN1_OBJECT_free(ctype);
    PKCS7_SIGNER_INFO_free(si);
    return rc;
}

/* Do the signed attributes name this content (contentType) and its digest (messageDigest)? */
static int attrs_cover(PKCS7_SIGNER_INFO *si, const EVP_MD *md, const char *content_oid,
                       const unsigned char *content_der, size_t content_len)
{
    ASN1_TYPE *ctype = PKCS7_get_signed_attribute(si, NID_pkcs9_contentType);
    const ASN1_OCTET_STRING *claimed = drv_ac_message_digest(si);
    const unsigned char *body;
    size_t body_len;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl;
    return ctype != NULL && ctype->type == V_ASN1_OBJECT &&
           drv_oid_is(ctype->value.object, content_oid) && claimed != NULL &&
           content_octets(content_der, content_len, &body, &body_len) == 0 &&
           EVP_Digest(body, body_len, d, &dl, md, NULL) &&
           (unsigned)ASN1_STRING_length(claimed) == dl &&
           memcmp(ASN1_STRING_get0_data(claimed), d, dl) == 0;
}

int drv_ac_assemble(X509 *cert, STACK_OF(X509) *extra, const EVP_MD *md, const char *content_oid,
                    const unsigned char *content_der, size_t content_len,
                    const unsigned char *attrs_der, size_t attrs_len, const unsigned char *sig,
                    size_t sig_len, const char *where, PKCS7 **out, drvsign_diag *diag)
{
    PKCS7 *p7 = PKCS7_new();
    PKCS7_SIGNER_INFO *si = PKCS7_SIGNER_INFO_new();
    const unsigned char *p = attrs_der;
    size_t cert_count = 0;
    X509 **certs = NULL;
    int rc = -1;

    *out = NULL;
    if (p7 == NULL || si == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed) ||
        attrs_len > LONG_MAX || sig_len > INT_MAX ||
        !PKCS7_SIGNER_INFO_set(si, cert, X509_get0_pubkey(cert), md))
        goto ssl_fail;
    sk_X509_ATTRIBUTE_pop_free(si->auth_attr, X509_ATTRIBUTE_free);
    si->auth_attr = (STACK_OF(X509_ATTRIBUTE) *)ASN1_item_d2i(NULL, &p, (long)attrs_len,
                                                              ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
    if (si->auth_attr == NULL || p != attrs_der + attrs_len) {
        drv_ssl_error(diag, where, "the signed attributes are not a DER attribute set");
        goto done;
    }
    if (!attrs_cover(si, md, content_oid, content_der, content_len)) {
        drv_error(diag, where, "the signed attributes are for other content (their "
                               "messageDigest or contentType does not match this file)");
        goto done;
    }
    if (!ASN1_STRING_set(si->enc_digest, sig, (int)sig_len))
        goto ssl_fail;
    /* The signer info holds the public key only to choose algorithms; it must not linger. */
    EVP_PKEY_free(si->pkey);
    si->pkey = NULL;
    if (!PKCS7_add_signer(p7, si))
        goto ssl_fail;
    si = NULL;
    PKCS7_free(p7->d.sign->contents);
    p7->d.sign->contents = content_info(content_oid, content_der, content_len);
    if (p7->d.sign->contents == NULL)
        goto ssl_fail;
    certs = OPENSSL_zalloc(sizeof *certs * (size_t)(sk_X509_num(extra) + 1));
    if (certs == NULL)
        goto ssl_fail;
    certs[cert_count++] = cert;
    for (int i = 0; i < sk_X509_num(extra); i++)
        certs[cert_count++] = sk_X509_value(extra, i);
    if (drv_ac_set_sorted_certs(p7, certs, cert_count) != 0)
        goto ssl_fail;
    *out = p7;
    p7 = NULL;
    rc = 0;
    goto done;
ssl_fail:
    drv_ssl_error(diag, where, "cannot build the signature");
done:
    OPENSSL_free(certs);
    PKCS7_SIGNER_INFO_free(si);
    PKCS7_free(p7);
    return rc;
}

int drv_ac_sign(const drv_signer *signer, const drv_sign_opts *opts, const char *content_oid,
                const unsigned char *content_der, size_t content_len, PKCS7 **out,
                drvsign_diag *diag)
{
    unsigned char *attrs = NULL, *sig = NULL, to_sign[EVP_MAX_MD_SIZE];
    size_t attrs_len, sig_len;
    unsigned to_sign_len;
    int rc = -1;

    *out = NULL;
    if (drv_ac_signed_attrs(signer->cert, opts, content_oid, content_der, content_len, &attrs,
                            &attrs_len, to_sign, &to_sign_len, diag) != 0)
        return -1;
    if (drv_signer_sign_digest(signer, opts->md, to_sign, to_sign_len, attrs, attrs_len, &sig,
                               &sig_len, opts->where, diag) == 0 &&
        drv_ac_assemble(signer->cert, signer->extra, opts->md, content_oid, content_der,
                        content_len, attrs, attrs_len, sig, sig_len, opts->where, out,
                        diag) == 0)
        rc = 0;
    OPENSSL_free(sig);
    OPENSSL_free(attrs);
    return rc;
}

int drv_ac_to_der(const PKCS7 *p7, unsigned char **der, size_t *der_len)
{
    int n;
    *der = NULL;
    n = i2d_PKCS7((PKCS7 *)p7, der);
    if (n <= 0)
        return -1;
    *der_len = (size_t)n;
    return 0;
}

PKCS7 *drv_ac_from_der(const unsigned char *der, size_t der_len)
{
    const unsigned char *p = der;
    if (der_len > LONG_MAX)
        return NULL;
    return d2i_PKCS7(NULL, &p, (long)der_len);
}
