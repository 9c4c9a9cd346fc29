/*
 * Authenticode's own ASN.1 structures (MS Authenticode_PE.docx names) as OpenSSL templates,
 * and their encoders and decoders: SpcIndirectDataContent, SpcPeImageData with the page-hash
 * tables, SpcLink, SpcSpOpusInfo, SpcStatementType.
 */
#include "authenticode.h"

#include <limits.h>
#include <string.h>

#include <openssl/asn1t.h>
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

ASN1_BMPSTRING *drv_ac_bmp(const char *text)
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
    link->value.file->value.unicode = drv_ac_bmp(text);
    if (link->value.file->value.unicode == NULL) {
        SPC_LINK_free(link);
        return NULL;
    }
    return link;
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

int drv_ac_opus_info(const char *description, const char *url, unsigned char **der, int *len)
{
    SPC_SP_OPUS_INFO *opus = SPC_SP_OPUS_INFO_new();
    int rc = -1;

    *der = NULL;

    if (opus == NULL)
        goto done;
    if (description != NULL) {
        opus->program_name = SPC_STRING_new();
        if (opus->program_name == NULL)
            goto done;
        opus->program_name->type = 0;
        opus->program_name->value.unicode = drv_ac_bmp(description);
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
    *len = ASN1_item_i2d((ASN1_VALUE *)opus, der, ASN1_ITEM_rptr(SPC_SP_OPUS_INFO));
    if (*len > 0)
        rc = 0;
done:
    if (rc != 0) {
        OPENSSL_free(*der);
        *der = NULL;
    }
    SPC_SP_OPUS_INFO_free(opus);
    return rc;
}

int drv_ac_statement_type(unsigned char **der, int *len)
{
    SPC_STATEMENT_TYPE *st = sk_ASN1_OBJECT_new_null();
    ASN1_OBJECT *individual = OBJ_txt2obj(DRV_OID_SPC_INDIVIDUAL, 1);
    int rc = -1;

    *der = NULL;

    if (st == NULL || individual == NULL || !sk_ASN1_OBJECT_push(st, individual))
        goto done;
    individual = NULL;
    *len = ASN1_item_i2d((ASN1_VALUE *)st, der, ASN1_ITEM_rptr(SPC_STATEMENT_TYPE));
    if (*len > 0)
        rc = 0;
done:
    if (rc != 0) {
        OPENSSL_free(*der);
        *der = NULL;
    }
    ASN1_OBJECT_free(individual);
    sk_ASN1_OBJECT_pop_free(st, ASN1_OBJECT_free);
    return rc;
}

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
