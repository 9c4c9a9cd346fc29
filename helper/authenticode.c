#include "authenticode.h"

#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

/* ---- ASN.1 templates (MS Authenticode_PE.docx names) ---- */

typedef struct {
    ASN1_OBJECT *type;
    ASN1_TYPE *value;
} SPC_ATTR_VALUE;

ASN1_SEQUENCE(SPC_ATTR_VALUE) = {
    ASN1_SIMPLE(SPC_ATTR_VALUE, type, ASN1_OBJECT),
    ASN1_OPT(SPC_ATTR_VALUE, value, ASN1_ANY),
} static_ASN1_SEQUENCE_END(SPC_ATTR_VALUE)

typedef struct {
    X509_ALGOR *algorithm;
    ASN1_OCTET_STRING *digest;
} SPC_DIGEST_INFO;

ASN1_SEQUENCE(SPC_DIGEST_INFO) = {
    ASN1_SIMPLE(SPC_DIGEST_INFO, algorithm, X509_ALGOR),
    ASN1_SIMPLE(SPC_DIGEST_INFO, digest, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(SPC_DIGEST_INFO)

typedef struct {
    SPC_ATTR_VALUE *data;
    SPC_DIGEST_INFO *message_digest;
} SPC_INDIRECT_DATA;

ASN1_SEQUENCE(SPC_INDIRECT_DATA) = {
    ASN1_SIMPLE(SPC_INDIRECT_DATA, data, SPC_ATTR_VALUE),
    ASN1_SIMPLE(SPC_INDIRECT_DATA, message_digest, SPC_DIGEST_INFO),
} static_ASN1_SEQUENCE_END(SPC_INDIRECT_DATA)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(SPC_INDIRECT_DATA)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(SPC_INDIRECT_DATA)

typedef struct {
    int type;
    union {
        ASN1_BMPSTRING *unicode;
        ASN1_IA5STRING *ascii;
    } value;
} SPC_STRING;

ASN1_CHOICE(SPC_STRING) = {
    ASN1_IMP(SPC_STRING, value.unicode, ASN1_BMPSTRING, 0),
    ASN1_IMP(SPC_STRING, value.ascii, ASN1_IA5STRING, 1),
} static_ASN1_CHOICE_END(SPC_STRING)
#define SPC_STRING_new() ((SPC_STRING *)ASN1_item_new(ASN1_ITEM_rptr(SPC_STRING)))

typedef struct {
    ASN1_OCTET_STRING *class_id;
    ASN1_OCTET_STRING *serialized_data;
} SPC_SERIALIZED_OBJECT;

ASN1_SEQUENCE(SPC_SERIALIZED_OBJECT) = {
    ASN1_SIMPLE(SPC_SERIALIZED_OBJECT, class_id, ASN1_OCTET_STRING),
    ASN1_SIMPLE(SPC_SERIALIZED_OBJECT, serialized_data, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(SPC_SERIALIZED_OBJECT)
#define SPC_SERIALIZED_OBJECT_new()                                                               \
    ((SPC_SERIALIZED_OBJECT *)ASN1_item_new(ASN1_ITEM_rptr(SPC_SERIALIZED_OBJECT)))

typedef struct {
    int type;
    union {
        ASN1_IA5STRING *url;
        SPC_SERIALIZED_OBJECT *moniker;
        SPC_STRING *file;
    } value;
} SPC_LINK;

ASN1_CHOICE(SPC_LINK) = {
    ASN1_IMP(SPC_LINK, value.url, ASN1_IA5STRING, 0),
    ASN1_IMP(SPC_LINK, value.moniker, SPC_SERIALIZED_OBJECT, 1),
    ASN1_EXP(SPC_LINK, value.file, SPC_STRING, 2),
} static_ASN1_CHOICE_END(SPC_LINK)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(SPC_LINK)

typedef struct {
    ASN1_BIT_STRING *flags;
    SPC_LINK *file;
} SPC_PE_IMAGE_DATA;

ASN1_SEQUENCE(SPC_PE_IMAGE_DATA) = {
    ASN1_SIMPLE(SPC_PE_IMAGE_DATA, flags, ASN1_BIT_STRING),
    ASN1_EXP_OPT(SPC_PE_IMAGE_DATA, file, SPC_LINK, 0),
} static_ASN1_SEQUENCE_END(SPC_PE_IMAGE_DATA)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(SPC_PE_IMAGE_DATA)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(SPC_PE_IMAGE_DATA)

typedef struct {
    SPC_STRING *program_name;
    SPC_LINK *more_info;
} SPC_SP_OPUS_INFO;

ASN1_SEQUENCE(SPC_SP_OPUS_INFO) = {
    ASN1_EXP_OPT(SPC_SP_OPUS_INFO, program_name, SPC_STRING, 0),
    ASN1_EXP_OPT(SPC_SP_OPUS_INFO, more_info, SPC_LINK, 1),
} static_ASN1_SEQUENCE_END(SPC_SP_OPUS_INFO)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(SPC_SP_OPUS_INFO)

DEFINE_STACK_OF(ASN1_OCTET_STRING)

/* Page hashes: SET OF SEQUENCE { OID (V1 or V2), SET OF OCTET STRING (the table) } */
typedef struct {
    ASN1_OBJECT *type;
    STACK_OF(ASN1_OCTET_STRING) *tables;
} PAGE_HASH_ATTR;

ASN1_SEQUENCE(PAGE_HASH_ATTR) = {
    ASN1_SIMPLE(PAGE_HASH_ATTR, type, ASN1_OBJECT),
    ASN1_SET_OF(PAGE_HASH_ATTR, tables, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(PAGE_HASH_ATTR)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(PAGE_HASH_ATTR)

DEFINE_STACK_OF(PAGE_HASH_ATTR)
typedef STACK_OF(PAGE_HASH_ATTR) PAGE_HASH_ATTRS;

ASN1_ITEM_TEMPLATE(PAGE_HASH_ATTRS) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, PAGE_HASH_ATTRS, PAGE_HASH_ATTR)
static_ASN1_ITEM_TEMPLATE_END(PAGE_HASH_ATTRS)

/* SEQUENCE OF OID, for SpcStatementType */
typedef STACK_OF(ASN1_OBJECT) SPC_STATEMENT_TYPE;
ASN1_ITEM_TEMPLATE(SPC_STATEMENT_TYPE) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, SPC_STATEMENT_TYPE, ASN1_OBJECT)
static_ASN1_ITEM_TEMPLATE_END(SPC_STATEMENT_TYPE)

static const unsigned char page_hash_class_id[16] = {0xa6, 0xb5, 0x86, 0xd5, 0xb4, 0xa1,
                                                     0x24, 0x66, 0xae, 0x05, 0xa2, 0x17,
                                                     0xda, 0x8e, 0x60, 0xd6};

/* ---- helpers ---- */

int drv_oid_is(const ASN1_OBJECT *obj, const char *dotted)
{
    char buf[80];
    return obj != NULL && OBJ_obj2txt(buf, sizeof buf, obj, 1) > 0 && strcmp(buf, dotted) == 0;
}

/* BMPString (UTF-16BE) from UTF-8 text. */
static ASN1_BMPSTRING *bmp_from_utf8(const char *text)
{
    ASN1_STRING *s = NULL;
    if (ASN1_mbstring_copy(&s, (const unsigned char *)text, -1, MBSTRING_UTF8, B_ASN1_BMPSTRING) <
        0)
        return NULL;
    return s;
}

/* SpcLink file[2] { unicode text }: "<<<Obsolete>>>" in signatures, "" in catalog members
 * (as makecat and Partner Center write them). */
static SPC_LINK *file_link(const char *text)
{
    SPC_LINK *link = SPC_LINK_new();
    if (link == NULL)
        return NULL;
    link->type = 2;
    link->value.file = SPC_STRING_new();
    if (link->value.file == NULL) {
        SPC_LINK_free(link);
        return NULL;
    }
    link->value.file->type = 0;
    link->value.file->value.unicode = bmp_from_utf8(text);
    if (link->value.file->value.unicode == NULL) {
        SPC_LINK_free(link);
        return NULL;
    }
    return link;
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

static int add_attr_der(STACK_OF(X509_ATTRIBUTE) **attrs, const char *oid, int asn1_type,
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

/* ---- building ---- */

const ASN1_OCTET_STRING *drv_ac_message_digest(PKCS7_SIGNER_INFO *si)
{
    ASN1_TYPE *t = PKCS7_get_signed_attribute(si, NID_pkcs9_messageDigest);
    return t != NULL && t->type == V_ASN1_OCTET_STRING ? t->value.octet_string : NULL;
}

int drv_ac_pe_image_data(int page_hash_v2, const unsigned char *table, size_t table_len,
                         int catalog_flags, unsigned char **der, size_t *der_len)
{
    SPC_PE_IMAGE_DATA *pe = SPC_PE_IMAGE_DATA_new();
    PAGE_HASH_ATTRS *attrs = NULL;
    PAGE_HASH_ATTR *attr = NULL;
    ASN1_OCTET_STRING *os = NULL;
    unsigned char *ser = NULL;
    int ser_len, n, rc = -1;

    *der = NULL;
    if (pe == NULL)
        goto done;
    /* signtool writes an empty flags BIT STRING (03 01 00); catalogs set includeResources and
     * includeImportAddressTable (03 02 05 a0) */
    if (catalog_flags && (!ASN1_BIT_STRING_set_bit(pe->flags, 0, 1) ||
                          !ASN1_BIT_STRING_set_bit(pe->flags, 2, 1)))
        goto done;
    if (table == NULL) {
        pe->file = file_link(catalog_flags ? "" : "<<<Obsolete>>>");
        if (pe->file == NULL)
            goto done;
    } else {
        attrs = sk_PAGE_HASH_ATTR_new_null();
        attr = PAGE_HASH_ATTR_new();
        os = ASN1_OCTET_STRING_new();
        if (attrs == NULL || attr == NULL || os == NULL || table_len > INT_MAX ||
            !ASN1_OCTET_STRING_set(os, table, (int)table_len))
            goto done;
        ASN1_OBJECT_free(attr->type);
        attr->type = OBJ_txt2obj(page_hash_v2 ? DRV_OID_PAGE_HASHES_V2 : DRV_OID_PAGE_HASHES_V1, 1);
        if (attr->type == NULL || !sk_ASN1_OCTET_STRING_push(attr->tables, os))
            goto done;
        os = NULL;
        if (!sk_PAGE_HASH_ATTR_push(attrs, attr))
            goto done;
        attr = NULL;
        ser_len = ASN1_item_i2d((ASN1_VALUE *)attrs, &ser, ASN1_ITEM_rptr(PAGE_HASH_ATTRS));
        if (ser_len <= 0)
            goto done;
        pe->file = SPC_LINK_new();
        if (pe->file == NULL)
            goto done;
        pe->file->type = 1;
        pe->file->value.moniker = SPC_SERIALIZED_OBJECT_new();
        if (pe->file->value.moniker == NULL ||
            !ASN1_OCTET_STRING_set(pe->file->value.moniker->class_id, page_hash_class_id,
                                   sizeof page_hash_class_id) ||
            !ASN1_OCTET_STRING_set(pe->file->value.moniker->serialized_data, ser, ser_len))
            goto done;
    }
    n = i2d_SPC_PE_IMAGE_DATA(pe, der);
    if (n <= 0)
        goto done;
    *der_len = (size_t)n;
    rc = 0;
done:
    OPENSSL_free(ser);
    ASN1_OCTET_STRING_free(os);
    PAGE_HASH_ATTR_free(attr);
    sk_PAGE_HASH_ATTR_pop_free(attrs, PAGE_HASH_ATTR_free);
    SPC_PE_IMAGE_DATA_free(pe);
    return rc;
}

int drv_ac_pe_page_hashes(const unsigned char *der, size_t der_len, int *v2,
                          unsigned char **table, size_t *table_len)
{
    const unsigned char *p = der;
    SPC_PE_IMAGE_DATA *pe = der_len > LONG_MAX ? NULL : d2i_SPC_PE_IMAGE_DATA(NULL, &p, (long)der_len);
    PAGE_HASH_ATTRS *attrs = NULL;
    int rc = -1;

    *table = NULL;
    *table_len = 0;
    if (pe == NULL)
        return -1;
    if (pe->file == NULL || pe->file->type != 1) {
        rc = 0; /* a plain link: no page hashes */
        goto done;
    }
    {
        SPC_SERIALIZED_OBJECT *m = pe->file->value.moniker;
        const unsigned char *q;
        if (ASN1_STRING_length(m->class_id) != 16 ||
            memcmp(ASN1_STRING_get0_data(m->class_id), page_hash_class_id, 16) != 0) {
            rc = 0;
            goto done;
        }
        q = ASN1_STRING_get0_data(m->serialized_data);
        attrs = (PAGE_HASH_ATTRS *)ASN1_item_d2i(NULL, &q, ASN1_STRING_length(m->serialized_data),
                                                 ASN1_ITEM_rptr(PAGE_HASH_ATTRS));
    }
    if (attrs == NULL || sk_PAGE_HASH_ATTR_num(attrs) != 1)
        goto done;
    {
        PAGE_HASH_ATTR *a = sk_PAGE_HASH_ATTR_value(attrs, 0);
        ASN1_OCTET_STRING *t;
        if (drv_oid_is(a->type, DRV_OID_PAGE_HASHES_V1))
            *v2 = 0;
        else if (drv_oid_is(a->type, DRV_OID_PAGE_HASHES_V2))
            *v2 = 1;
        else
            goto done;
        if (sk_ASN1_OCTET_STRING_num(a->tables) != 1)
            goto done;
        t = sk_ASN1_OCTET_STRING_value(a->tables, 0);
        *table_len = (size_t)ASN1_STRING_length(t);
        *table = OPENSSL_memdup(ASN1_STRING_get0_data(t), *table_len ? *table_len : 1);
        if (*table == NULL)
            goto done;
    }
    rc = 0;
done:
    sk_PAGE_HASH_ATTR_pop_free(attrs, PAGE_HASH_ATTR_free);
    SPC_PE_IMAGE_DATA_free(pe);
    return rc;
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

int drv_ac_file_link(int catalog_member, unsigned char **der, size_t *der_len)
{
    SPC_LINK *link = file_link(catalog_member ? "" : "<<<Obsolete>>>");
    int n;
    *der = NULL;
    if (link == NULL)
        return -1;
    n = ASN1_item_i2d((ASN1_VALUE *)link, der, ASN1_ITEM_rptr(SPC_LINK));
    ASN1_item_free((ASN1_VALUE *)link, ASN1_ITEM_rptr(SPC_LINK));
    if (n <= 0)
        return -1;
    *der_len = (size_t)n;
    return 0;
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

int drv_ac_indirect_data(const char *type_oid, const unsigned char *value_der, size_t value_len,
                         const EVP_MD *md, const unsigned char *digest, size_t digest_len,
                         unsigned char **der, size_t *der_len)
{
    SPC_INDIRECT_DATA *id = SPC_INDIRECT_DATA_new();
    const unsigned char *p = value_der;
    int n, rc = -1;

    *der = NULL;
    if (id == NULL || value_len > LONG_MAX || digest_len > INT_MAX)
        goto done;
    ASN1_OBJECT_free(id->data->type);
    id->data->type = OBJ_txt2obj(type_oid, 1);
    if (id->data->type == NULL)
        goto done;
    if (value_der != NULL) {
        id->data->value = d2i_ASN1_TYPE(NULL, &p, (long)value_len);
        if (id->data->value == NULL)
            goto done;
    }
    /* AlgorithmIdentifier with explicit NULL parameters, as Windows writes them */
    if (!X509_ALGOR_set0(id->message_digest->algorithm, OBJ_nid2obj(EVP_MD_get_type(md)),
                         V_ASN1_NULL, NULL) ||
        !ASN1_OCTET_STRING_set(id->message_digest->digest, digest, (int)digest_len))
        goto done;
    n = i2d_SPC_INDIRECT_DATA(id, der);
    if (n <= 0)
        goto done;
    *der_len = (size_t)n;
    rc = 0;
done:
    SPC_INDIRECT_DATA_free(id);
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
static int set_sorted_certs(PKCS7 *p7, X509 *const *certs, size_t count)
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
    SPC_SP_OPUS_INFO *opus = SPC_SP_OPUS_INFO_new();
    unsigned char *der = NULL;
    int n, rc = -1;

    if (opus == NULL)
        goto done;
    if (description != NULL) {
        opus->program_name = SPC_STRING_new();
        if (opus->program_name == NULL)
            goto done;
        opus->program_name->type = 0;
        opus->program_name->value.unicode = bmp_from_utf8(description);
        if (opus->program_name->value.unicode == NULL)
            goto done;
    }
    if (url != NULL) {
        opus->more_info = SPC_LINK_new();
        if (opus->more_info == NULL)
            goto done;
        opus->more_info->type = 0;
        opus->more_info->value.url = ASN1_IA5STRING_new();
        if (opus->more_info->value.url == NULL ||
            !ASN1_STRING_set(opus->more_info->value.url, url, -1))
            goto done;
    }
    n = ASN1_item_i2d((ASN1_VALUE *)opus, &der, ASN1_ITEM_rptr(SPC_SP_OPUS_INFO));
    if (n <= 0)
        goto done;
    rc = add_attr_der(&si->auth_attr, DRV_OID_SPC_SP_OPUS_INFO, V_ASN1_SEQUENCE, der, n);
done:
    OPENSSL_free(der);
    SPC_SP_OPUS_INFO_free(opus);
    return rc;
}

static int add_statement_type(PKCS7_SIGNER_INFO *si)
{
    SPC_STATEMENT_TYPE *st = sk_ASN1_OBJECT_new_null();
    ASN1_OBJECT *individual = OBJ_txt2obj(DRV_OID_SPC_INDIVIDUAL, 1);
    unsigned char *der = NULL;
    int n, rc = -1;

    if (st == NULL || individual == NULL || !sk_ASN1_OBJECT_push(st, individual))
        goto done;
    individual = NULL;
    n = ASN1_item_i2d((ASN1_VALUE *)st, &der, ASN1_ITEM_rptr(SPC_STATEMENT_TYPE));
    if (n > 0)
        rc = add_attr_der(&si->auth_attr, DRV_OID_SPC_STATEMENT_TYPE, V_ASN1_SEQUENCE, der, n);
done:
    OPENSSL_free(der);
    ASN1_OBJECT_free(individual);
    sk_ASN1_OBJECT_pop_free(st, ASN1_OBJECT_free);
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
        add_attr_der(&si->auth_attr, "1.2.840.113549.1.9.4", V_ASN1_OCTET_STRING, md_buf,
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
    if (set_sorted_certs(p7, certs, cert_count) != 0)
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

int drv_ac_add_nested(PKCS7 *primary, const PKCS7 *nested, drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(primary->d.sign->signer_info, 0);
    unsigned char *der = NULL;
    int len = i2d_PKCS7((PKCS7 *)nested, &der);
    int rc = -1;

    if (si == NULL || len <= 0)
        goto done;
    /* signtool keeps every nested signature as one more value of a single attribute */
    for (int i = 0; i < X509at_get_attr_count(si->unauth_attr); i++) {
        X509_ATTRIBUTE *a = X509at_get_attr(si->unauth_attr, i);
        if (drv_oid_is(X509_ATTRIBUTE_get0_object(a), DRV_OID_SPC_NESTED_SIGNATURE)) {
            rc = X509_ATTRIBUTE_set1_data(a, V_ASN1_SEQUENCE, der, len) ? 0 : -1;
            goto done;
        }
    }
    rc = add_attr_der(&si->unauth_attr, DRV_OID_SPC_NESTED_SIGNATURE, V_ASN1_SEQUENCE, der, len);
done:
    if (rc != 0)
        drv_ssl_error(diag, NULL, "cannot add the nested signature");
    OPENSSL_free(der);
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

/* ---- parsing ---- */

int drv_ac_parse_indirect(const unsigned char *der, size_t len, drv_indirect *out)
{
    const unsigned char *p = der;
    /* a long is 32 bits on Windows */
    SPC_INDIRECT_DATA *id = len > LONG_MAX ? NULL : d2i_SPC_INDIRECT_DATA(NULL, &p, (long)len);
    const ASN1_OBJECT *alg;
    int n, rc = -1;

    memset(out, 0, sizeof *out);
    if (id == NULL)
        return -1;
    if (OBJ_obj2txt(out->data_type, sizeof out->data_type, id->data->type, 1) <= 0)
        goto done;
    if (id->data->value != NULL) {
        n = i2d_ASN1_TYPE(id->data->value, &out->data_value);
        if (n <= 0)
            goto done;
        out->data_value_len = (size_t)n;
    }
    X509_ALGOR_get0(&alg, NULL, NULL, id->message_digest->algorithm);
    out->md = EVP_get_digestbyobj(alg);
    n = ASN1_STRING_length(id->message_digest->digest);
    if (out->md == NULL || n <= 0 || n > DRV_MAX_DIGEST || n != EVP_MD_get_size(out->md))
        goto done;
    memcpy(out->digest, ASN1_STRING_get0_data(id->message_digest->digest), (size_t)n);
    out->digest_len = (size_t)n;
    rc = 0;
done:
    if (rc != 0) {
        OPENSSL_free(out->data_value);
        out->data_value = NULL;
    }
    SPC_INDIRECT_DATA_free(id);
    return rc;
}

static int sig_from_p7(PKCS7 *p7, int nested, drv_sig *sig)
{
    PKCS7 *inner;
    memset(sig, 0, sizeof *sig);
    sig->p7 = p7;
    sig->nested = nested;
    if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL ||
        sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) != 1)
        return -1;
    inner = p7->d.sign->contents;
    if (inner == NULL || inner->type == NULL || PKCS7_type_is_data(inner) ||
        inner->d.other == NULL || inner->d.other->type != V_ASN1_SEQUENCE)
        return -1;
    if (OBJ_obj2txt(sig->content_type, sizeof sig->content_type, inner->type, 1) <= 0)
        return -1;
    sig->content = ASN1_STRING_get0_data(inner->d.other->value.sequence);
    sig->content_len = (size_t)ASN1_STRING_length(inner->d.other->value.sequence);
    if (strcmp(sig->content_type, DRV_OID_SPC_INDIRECT_DATA) == 0 &&
        drv_ac_parse_indirect(sig->content, sig->content_len, &sig->indirect) != 0)
        return -1;
    return 0;
}

void drv_ac_free_all(drv_sig *sigs, size_t count)
{
    for (size_t i = 0; sigs != NULL && i < count; i++) {
        PKCS7_free(sigs[i].p7);
        OPENSSL_free(sigs[i].indirect.data_value);
    }
    OPENSSL_free(sigs);
}

/* Steps through the values of si's SpcNestedSignature attributes, each the DER of one more
 * SignedData; start with both indexes at 0.  NULL when there are no more. */
static ASN1_STRING *next_nested_signature(PKCS7_SIGNER_INFO *si, int *attr_index,
                                          int *value_index)
{
    for (; *attr_index < X509at_get_attr_count(si->unauth_attr);
         (*attr_index)++, *value_index = 0) {
        X509_ATTRIBUTE *a = X509at_get_attr(si->unauth_attr, *attr_index);
        if (!drv_oid_is(X509_ATTRIBUTE_get0_object(a), DRV_OID_SPC_NESTED_SIGNATURE))
            continue;
        while (*value_index < X509_ATTRIBUTE_count(a)) {
            ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, (*value_index)++);
            if (t != NULL && t->type == V_ASN1_SEQUENCE)
                return t->value.sequence;
        }
    }
    return NULL;
}

/* Nested signatures are bounded: a signature that claims thousands is hostile input. */
#define MAX_SIGNATURES 16

int drv_ac_parse_all(const unsigned char *der, size_t der_len, drv_sig **sigs_out,
                     size_t *count_out, const char *where, drvsign_diag *diag)
{
    drv_sig *sigs = OPENSSL_zalloc(sizeof *sigs * MAX_SIGNATURES);
    size_t count = 0;
    PKCS7 *p7 = drv_ac_from_der(der, der_len);
    PKCS7_SIGNER_INFO *si;
    ASN1_STRING *nested;
    int attr_index = 0, value_index = 0;

    *sigs_out = NULL;
    *count_out = 0;
    if (sigs == NULL)
        goto fail;
    if (p7 == NULL || sig_from_p7(p7, 0, &sigs[count]) != 0) {
        drv_ssl_error(diag, where, "the signature is not a valid Authenticode PKCS#7 SignedData");
        PKCS7_free(p7);
        goto fail;
    }
    count++;
    si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    while ((nested = next_nested_signature(si, &attr_index, &value_index)) != NULL) {
        PKCS7 *n;
        if (count == MAX_SIGNATURES) {
            drv_error(diag, where, "more than %d nested signatures", MAX_SIGNATURES - 1);
            goto fail;
        }
        n = drv_ac_from_der(ASN1_STRING_get0_data(nested), (size_t)ASN1_STRING_length(nested));
        if (n == NULL || sig_from_p7(n, 1, &sigs[count]) != 0) {
            drv_ssl_error(diag, where, "nested signature %zu is not a valid PKCS#7 SignedData",
                          count);
            PKCS7_free(n);
            goto fail;
        }
        count++;
    }
    *sigs_out = sigs;
    *count_out = count;
    return 0;
fail:
    drv_ac_free_all(sigs, count);
    return -1;
}

/* ---- timestamps ---- */

#define OID_COUNTER_SIGNATURE "1.2.840.113549.1.9.6"

static void drop_attr(STACK_OF(X509_ATTRIBUTE) *attrs, const char *oid)
{
    for (int i = X509at_get_attr_count(attrs) - 1; i >= 0; i--)
        if (drv_oid_is(X509_ATTRIBUTE_get0_object(X509at_get_attr(attrs, i)), oid))
            X509_ATTRIBUTE_free(X509at_delete_attr(attrs, i));
}

static int stamp_signer(PKCS7 *p7, const drv_ts_opts *o, const char *where, drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    const unsigned char *sig = ASN1_STRING_get0_data(si->enc_digest);
    size_t sig_len = (size_t)ASN1_STRING_length(si->enc_digest);
    int rc = -1;

    drop_attr(si->unauth_attr, DRV_OID_RFC3161_TOKEN);
    drop_attr(si->unauth_attr, OID_COUNTER_SIGNATURE);
    if (o->url_count > 0) {
        unsigned char *token = NULL;
        size_t token_len;
        if (drv_ts_rfc3161(sig, sig_len, o, where, &token, &token_len, diag) != 0)
            return -1;
        rc = add_attr_der(&si->unauth_attr, DRV_OID_RFC3161_TOKEN, V_ASN1_SEQUENCE, token,
                          (int)token_len);
        OPENSSL_free(token);
    } else {
        PKCS7_SIGNER_INFO *counter = NULL;
        STACK_OF(X509) *certs = NULL;
        unsigned char *der = NULL;
        int n;
        if (drv_ts_legacy(sig, sig_len, o, where, &counter, &certs, diag) != 0)
            return -1;
        n = i2d_PKCS7_SIGNER_INFO(counter, &der);
        if (n > 0 &&
            add_attr_der(&si->unauth_attr, OID_COUNTER_SIGNATURE, V_ASN1_SEQUENCE, der, n) == 0) {
            /* the TSA's certificates join the outer set, which must stay DER-sorted */
            size_t total = (size_t)sk_X509_num(p7->d.sign->cert) + (size_t)sk_X509_num(certs);
            X509 **all = OPENSSL_zalloc(sizeof *all * (total ? total : 1));
            size_t k = 0;
            if (all != NULL) {
                for (int i = 0; i < sk_X509_num(p7->d.sign->cert); i++)
                    all[k++] = sk_X509_value(p7->d.sign->cert, i);
                for (int i = 0; i < sk_X509_num(certs); i++)
                    all[k++] = sk_X509_value(certs, i);
                /* hold our references while the old stack is replaced */
                for (size_t i = 0; i < k; i++)
                    X509_up_ref(all[i]);
                rc = set_sorted_certs(p7, all, k);
                for (size_t i = 0; i < k; i++)
                    X509_free(all[i]);
                OPENSSL_free(all);
            }
        }
        OPENSSL_free(der);
        PKCS7_SIGNER_INFO_free(counter);
        sk_X509_pop_free(certs, X509_free);
    }
    if (rc != 0)
        drv_ssl_error(diag, where, "cannot attach the timestamp");
    return rc;
}

int drv_ac_timestamp(PKCS7 *p7, const drv_ts_opts *o, int nested, const char *where,
                     drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    ASN1_STRING *inner_der;
    int attr_index = 0, value_index = 0, nth = 0;
    if (si == NULL || stamp_signer(p7, o, where, diag) != 0)
        return -1;
    if (!nested)
        return 0;
    while ((inner_der = next_nested_signature(si, &attr_index, &value_index)) != NULL) {
        PKCS7 *inner = drv_ac_from_der(ASN1_STRING_get0_data(inner_der),
                                       (size_t)ASN1_STRING_length(inner_der));
        unsigned char *der = NULL;
        int n;
        nth++;
        if (inner == NULL || !PKCS7_type_is_signed(inner) ||
            stamp_signer(inner, o, where, diag) != 0 || (n = i2d_PKCS7(inner, &der)) <= 0 ||
            !ASN1_STRING_set(inner_der, der, n)) {
            PKCS7_free(inner);
            OPENSSL_free(der);
            if (diag->errors == 0)
                drv_error(diag, where, "cannot timestamp nested signature %d", nth);
            return -1;
        }
        OPENSSL_free(der);
        PKCS7_free(inner);
    }
    return 0;
}
