#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/x509v3.h>

#include "authenticode.h"
#include "port.h"
#include "text.h"

#define OID_CATALOG_LIST "1.3.6.1.4.1.311.12.1.1"
#define OID_CATALOG_MEMBER "1.3.6.1.4.1.311.12.1.2"
#define OID_CATALOG_MEMBER2 "1.3.6.1.4.1.311.12.1.3"
#define OID_CAT_NAMEVALUE "1.3.6.1.4.1.311.12.2.1"
#define OID_CAT_MEMBERINFO "1.3.6.1.4.1.311.12.2.2"
#define OID_CAT_MEMBERINFO2 "1.3.6.1.4.1.311.12.2.3"
/* CRYPTCAT_ATTR_AUTHENTICATED | NAMEASCII | DATAASCII: what Inf2Cat writes */
#define CAT_ATTR_FLAGS 0x10010001L
#define CAT_CERT_VERSION 512

/* ---- templates (MS-CAESO; reference 2.2 and 2.4) ---- */

typedef struct {
    ASN1_BMPSTRING *tag;
    ASN1_INTEGER *flags;
    ASN1_OCTET_STRING *value;
} CAT_NAMEVALUE;

ASN1_SEQUENCE(CAT_NAMEVALUE) = {
    ASN1_SIMPLE(CAT_NAMEVALUE, tag, ASN1_BMPSTRING),
    ASN1_SIMPLE(CAT_NAMEVALUE, flags, ASN1_INTEGER),
    ASN1_SIMPLE(CAT_NAMEVALUE, value, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(CAT_NAMEVALUE)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CAT_NAMEVALUE)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(CAT_NAMEVALUE)

typedef struct {
    ASN1_BMPSTRING *guid;
    ASN1_INTEGER *cert_version;
} CAT_MEMBERINFO;

ASN1_SEQUENCE(CAT_MEMBERINFO) = {
    ASN1_SIMPLE(CAT_MEMBERINFO, guid, ASN1_BMPSTRING),
    ASN1_SIMPLE(CAT_MEMBERINFO, cert_version, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(CAT_MEMBERINFO)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CAT_MEMBERINFO)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(CAT_MEMBERINFO)

typedef struct {
    ASN1_OCTET_STRING *identifier;
    STACK_OF(X509_ATTRIBUTE) *attributes;
} CTL_SUBJECT;

ASN1_SEQUENCE(CTL_SUBJECT) = {
    ASN1_SIMPLE(CTL_SUBJECT, identifier, ASN1_OCTET_STRING),
    ASN1_SET_OF_OPT(CTL_SUBJECT, attributes, X509_ATTRIBUTE),
} static_ASN1_SEQUENCE_END(CTL_SUBJECT)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CTL_SUBJECT)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(CTL_SUBJECT)

typedef struct {
    ASN1_INTEGER *version;
    STACK_OF(ASN1_OBJECT) *subject_usage;
    ASN1_OCTET_STRING *list_identifier;
    ASN1_INTEGER *sequence_number;
    ASN1_TIME *this_update;
    ASN1_TIME *next_update;
    X509_ALGOR *subject_algorithm;
    /* each an encoded CTL_SUBJECT (a SEQUENCE-typed ANY is written and read verbatim): a
     * catalog's members are encoded in parallel, and each one's tree freed at once */
    STACK_OF(ASN1_TYPE) *subjects;
    STACK_OF(X509_EXTENSION) *extensions;
} CTL;

ASN1_SEQUENCE(CTL) = {
    ASN1_OPT(CTL, version, ASN1_INTEGER),
    ASN1_SEQUENCE_OF(CTL, subject_usage, ASN1_OBJECT),
    ASN1_OPT(CTL, list_identifier, ASN1_OCTET_STRING),
    ASN1_OPT(CTL, sequence_number, ASN1_INTEGER),
    ASN1_SIMPLE(CTL, this_update, ASN1_TIME),
    ASN1_OPT(CTL, next_update, ASN1_TIME),
    ASN1_SIMPLE(CTL, subject_algorithm, X509_ALGOR),
    ASN1_SEQUENCE_OF_OPT(CTL, subjects, ASN1_ANY),
    ASN1_EXP_SEQUENCE_OF_OPT(CTL, extensions, X509_EXTENSION, 0),
} static_ASN1_SEQUENCE_END(CTL)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CTL)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(CTL)

/* ---- text ---- */

static char *utf8_of(const ASN1_STRING *s)
{
    unsigned char *u = NULL;
    char *copy;
    int n = ASN1_STRING_to_UTF8(&u, s);
    if (n < 0)
        return NULL;
    copy = malloc((size_t)n + 1);
    if (copy != NULL) {
        memcpy(copy, u, (size_t)n);
        copy[n] = 0;
    }
    OPENSSL_free(u);
    return copy;
}

/* ---- building ---- */

static int namevalue_der(const char *name, const char *value, unsigned char **der, int *len)
{
    CAT_NAMEVALUE *nv = CAT_NAMEVALUE_new();
    unsigned char *v = NULL;
    size_t value_len = strlen(value), vlen;
    int rc = -1;

    *der = NULL;
    /* the value with its NUL unit (as catalogs store it), 2n + 2 bytes at most, must fit a
     * DER length (an int) */
    if (nv == NULL || value_len > (INT_MAX - 2) / 2 ||
        (v = drv_utf16le_from_utf8(value, value_len, &vlen)) == NULL || vlen + 2 > INT_MAX)
        goto done;
    ASN1_BMPSTRING_free(nv->tag);
    nv->tag = drv_ac_bmp(name);
    if (nv->tag == NULL || !ASN1_INTEGER_set(nv->flags, CAT_ATTR_FLAGS) ||
        !ASN1_OCTET_STRING_set(nv->value, v, (int)(vlen + 2)))
        goto done;
    *len = i2d_CAT_NAMEVALUE(nv, der);
    rc = *len > 0 ? 0 : -1;
done:
    free(v);
    CAT_NAMEVALUE_free(nv);
    return rc;
}

/* Member attributes repeat CAT_NAMEVALUE (File, OSAttr), which X509at_add1_attr refuses as
 * duplicates; push onto the SET directly. */
static int add_attr(STACK_OF(X509_ATTRIBUTE) **attrs, const char *oid, int type,
                    const unsigned char *der, int len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    X509_ATTRIBUTE *a = obj ? X509_ATTRIBUTE_create_by_OBJ(NULL, obj, type, der, len) : NULL;
    int ok = a != NULL && (*attrs != NULL || (*attrs = sk_X509_ATTRIBUTE_new_null()) != NULL) &&
             sk_X509_ATTRIBUTE_push(*attrs, a);
    if (!ok)
        X509_ATTRIBUTE_free(a);
    ASN1_OBJECT_free(obj);
    return ok ? 0 : -1;
}

static int add_namevalue(STACK_OF(X509_ATTRIBUTE) **attrs, const char *name, const char *value)
{
    unsigned char *der;
    int len, rc;
    if (namevalue_der(name, value, &der, &len) != 0)
        return -1;
    rc = add_attr(attrs, OID_CAT_NAMEVALUE, V_ASN1_SEQUENCE, der, len);
    OPENSSL_free(der);
    return rc;
}

static int add_memberinfo(STACK_OF(X509_ATTRIBUTE) **attrs, const char *guid)
{
    CAT_MEMBERINFO *mi = CAT_MEMBERINFO_new();
    unsigned char *der = NULL;
    int len, rc = -1;
    if (mi == NULL)
        return -1;
    ASN1_BMPSTRING_free(mi->guid);
    mi->guid = drv_ac_bmp(guid);
    if (mi->guid != NULL && ASN1_INTEGER_set(mi->cert_version, CAT_CERT_VERSION) &&
        (len = i2d_CAT_MEMBERINFO(mi, &der)) > 0)
        rc = add_attr(attrs, OID_CAT_MEMBERINFO, V_ASN1_SEQUENCE, der, len);
    OPENSSL_free(der);
    CAT_MEMBERINFO_free(mi);
    return rc;
}

/* MEMBERINFO2's single value is an empty context-tagged element [n], n the SIP's member kind. */
static int add_memberinfo2(STACK_OF(X509_ATTRIBUTE) **attrs, const drv_sip *sip)
{
    unsigned char v[2] = {0x80, 0};
    v[0] |= (unsigned char)(sip->member_kind & 0x1f);
    /* OpenSSL writes SEQUENCE-typed ANY values verbatim, which is how the raw [n] element gets
     * in (V_ASN1_OTHER is refused by X509_ATTRIBUTE_set1_data) */
    return add_attr(attrs, OID_CAT_MEMBERINFO2, V_ASN1_SEQUENCE, v, 2);
}

int drv_ctl_value_pe_image(const drv_ctl_file *f, int sha256, unsigned char **value,
                           size_t *len)
{
    const unsigned char *table = sha256 ? f->page_hashes_sha256 : f->page_hashes_sha1;
    size_t table_len = sha256 ? f->page_hashes_sha256_len : f->page_hashes_sha1_len;
    return drv_ac_pe_image_data(sha256, table, table_len, 1, value, len);
}

int drv_ctl_value_file_link(const drv_ctl_file *f, int sha256, unsigned char **value,
                            size_t *len)
{
    (void)f;
    (void)sha256;
    return drv_ac_file_link(1, value, len);
}

static int add_indirect(STACK_OF(X509_ATTRIBUTE) **attrs, const drv_ctl_file *f, int sha256)
{
    const EVP_MD *md = sha256 ? EVP_sha256() : EVP_sha1();
    unsigned char *value = NULL, *der = NULL;
    size_t value_len = 0, der_len = 0;
    int rc = -1;

    if (f->sip->indirect_value(f, sha256, &value, &value_len) != 0)
        goto done;
    if (drv_ac_indirect_data(f->sip->indirect_type, value, value_len, md,
                             sha256 ? f->sha256 : f->sha1, sha256 ? 32 : 20, &der,
                             &der_len) != 0 ||
        der_len > INT_MAX)
        goto done;
    rc = add_attr(attrs, DRV_OID_SPC_INDIRECT_DATA, V_ASN1_SEQUENCE, der, (int)der_len);
done:
    OPENSSL_free(value);
    OPENSSL_free(der);
    return rc;
}

typedef struct pending {
    unsigned char tag[82];
    size_t tag_len;
    const drv_ctl_file *file;
    int compat; /* v2 SHA-1 compatibility entry */
} pending;

static int tag_cmp(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    int c = memcmp(x->tag, y->tag, x->tag_len < y->tag_len ? x->tag_len : y->tag_len);
    if (c != 0)
        return c;
    return x->tag_len < y->tag_len ? -1 : x->tag_len > y->tag_len;
}

static void hex_tag(const unsigned char *digest, size_t n, pending *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        p->tag[4 * i] = (unsigned char)hex[digest[i] >> 4];
        p->tag[4 * i + 1] = 0;
        p->tag[4 * i + 2] = (unsigned char)hex[digest[i] & 15];
        p->tag[4 * i + 3] = 0;
    }
    p->tag[4 * n] = p->tag[4 * n + 1] = 0;
    p->tag_len = 4 * n + 2;
}

static CTL_SUBJECT *subject_for(const pending *p, const drv_ctl_build *b)
{
    CTL_SUBJECT *s = CTL_SUBJECT_new();
    const drv_ctl_file *f = p->file;
    int v2 = b->version == 2;

    if (s == NULL || !ASN1_OCTET_STRING_set(s->identifier, p->tag, (int)p->tag_len))
        goto fail;
    if (add_namevalue(&s->attributes, "File", f->name) != 0 ||
        (b->os_attr != NULL && add_namevalue(&s->attributes, "OSAttr", b->os_attr) != 0))
        goto fail;
    if (p->compat) {
        /* makecat's automatic SHA-1 entry: the same File and OSAttr, MEMBERINFO2, no
         * indirect data */
        if (add_memberinfo2(&s->attributes, f->sip) != 0)
            goto fail;
        return s;
    }
    if (v2 ? add_memberinfo2(&s->attributes, f->sip) != 0
           : add_memberinfo(&s->attributes, f->sip->guid) != 0)
        goto fail;
    if (add_indirect(&s->attributes, f, v2) != 0)
        goto fail;
    return s;
fail:
    CTL_SUBJECT_free(s);
    return NULL;
}

/* The member's encoding, as a SEQUENCE-typed ANY for the list. */
static ASN1_TYPE *encoded_subject(const pending *p, const drv_ctl_build *b)
{
    CTL_SUBJECT *s = subject_for(p, b);
    unsigned char *der = NULL;
    int len = s != NULL ? i2d_CTL_SUBJECT(s, &der) : -1;
    ASN1_STRING *str = len > 0 ? ASN1_STRING_type_new(V_ASN1_SEQUENCE) : NULL;
    ASN1_TYPE *t = str != NULL ? ASN1_TYPE_new() : NULL;

    CTL_SUBJECT_free(s);
    if (t == NULL) {
        ASN1_STRING_free(str);
        OPENSSL_free(der);
        return NULL;
    }
    ASN1_STRING_set0(str, der, len);
    ASN1_TYPE_set(t, V_ASN1_SEQUENCE, str);
    return t;
}

typedef struct encode_job {
    const pending *p;
    const drv_ctl_build *b;
    ASN1_TYPE **out;
} encode_job;

static int encode_task(void *arg, size_t i)
{
    encode_job *job = arg;
    job->out[i] = encoded_subject(&job->p[i], job->b);
    return job->out[i] != NULL ? 0 : -1;
}

static int add_extension(CTL *ctl, const char *name, const char *value)
{
    unsigned char *der;
    int len;
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OBJECT *obj = OBJ_txt2obj(OID_CAT_NAMEVALUE, 1);
    X509_EXTENSION *ext = NULL;
    int rc = -1;

    if (os == NULL || obj == NULL || namevalue_der(name, value, &der, &len) != 0)
        goto done;
    if (ASN1_OCTET_STRING_set(os, der, len))
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    OPENSSL_free(der);
    if (ext == NULL || (ctl->extensions == NULL &&
                        (ctl->extensions = sk_X509_EXTENSION_new_null()) == NULL))
        goto done;
    if (sk_X509_EXTENSION_push(ctl->extensions, ext))
        ext = NULL, rc = 0;
done:
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(os);
    return rc;
}

/* A name-based identifier: the same catalog content always gets the same GUID. */
static int list_identifier(const drv_ctl_build *b, const pending *p, size_t n,
                           unsigned char out[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char h[32];
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, "drvsign catalog list identifier", 31) &&
             EVP_DigestUpdate(ctx, &b->version, sizeof b->version);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, p[i].tag, p[i].tag_len) &&
             (p[i].compat || EVP_DigestUpdate(ctx, p[i].file->name, strlen(p[i].file->name) + 1));
    for (size_t i = 0; ok && i < b->attr_count; i++)
        ok = EVP_DigestUpdate(ctx, b->attrs[i].name, strlen(b->attrs[i].name) + 1) &&
             EVP_DigestUpdate(ctx, b->attrs[i].value, strlen(b->attrs[i].value) + 1);
    if (ok && b->os_attr != NULL)
        ok = EVP_DigestUpdate(ctx, b->os_attr, strlen(b->os_attr) + 1);
    ok = ok && EVP_DigestFinal_ex(ctx, h, NULL);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    memcpy(out, h, 16);
    out[6] = (unsigned char)((out[6] & 0x0f) | 0x50); /* RFC 4122 version 5 (name-based) */
    out[8] = (unsigned char)((out[8] & 0x3f) | 0x80);
    return 0;
}

/* No member we write encodes in fewer bytes: its tag, a File attribute, their headers. */
#define MIN_MEMBER_DER 64u

/* What the trust list of these members must hold at the least (names and values in UTF-16,
 * page-hash tables, MIN_MEMBER_DER a member), in 64-bit arithmetic, counted no further than
 * just past limit: enough to refuse a catalog too big to read back before building any of it. */
static uint64_t ctl_size_floor(const drv_ctl_build *b, const pending *p, size_t n, uint64_t limit)
{
    uint64_t total = 0, per_member = MIN_MEMBER_DER;
    if (b->os_attr != NULL)
        per_member += 2 * (uint64_t)strlen(b->os_attr);
    for (size_t i = 0; i < b->attr_count && total <= limit; i++)
        total += 2 * ((uint64_t)strlen(b->attrs[i].name) + strlen(b->attrs[i].value));
    for (size_t i = 0; i < n && total <= limit; i++) {
        const drv_ctl_file *f = p[i].file;
        uint64_t table = p[i].compat       ? 0
                         : b->version == 2 ? f->page_hashes_sha256_len
                                           : f->page_hashes_sha1_len;
        if (table > limit)
            return limit + 1;
        total += table + per_member + 2 * (uint64_t)strlen(f->name);
    }
    return total;
}

int drv_ctl_write(const drv_ctl_build *b, unsigned char **der, size_t *der_len, const char *where,
                  drvsign_diag *diag)
{
    size_t n = 0, kept = 0;
    pending *p = NULL;
    CTL *ctl = NULL;
    ASN1_OBJECT *usage = NULL;
    unsigned char list_id[16], *ctl_der = NULL;
    ASN1_TYPE **encoded = NULL;
    int ctl_len, rc = -1;

    *der = NULL;
    /* bounds first: the member table below has two entries a file */
    if (b->file_count > DRV_MAX_CTL / MIN_MEMBER_DER) {
        drv_error(diag, where, "%zu files are more than one catalog can list (at most %u)",
                  b->file_count, DRV_MAX_CTL / MIN_MEMBER_DER);
        return -1;
    }
    p = calloc(b->file_count * 2 + 1, sizeof *p);
    ctl = CTL_new();
    usage = OBJ_txt2obj(OID_CATALOG_LIST, 1);
    if (p == NULL || ctl == NULL || usage == NULL)
        goto fail;
    for (size_t i = 0; i < b->file_count; i++) {
        const drv_ctl_file *f = &b->files[i];
        if (b->version == 2) {
            memcpy(p[n].tag, f->sha256, 32);
            p[n].tag_len = 32;
            p[n++].file = f;
            memcpy(p[n].tag, f->sha1, 20);
            p[n].tag_len = 20;
            p[n].compat = 1;
            p[n++].file = f;
        } else {
            hex_tag(f->sha1, 20, &p[n]);
            p[n++].file = f;
        }
    }
    qsort(p, n, sizeof *p, tag_cmp);
    /* a catalog lists each content once: makecat refuses duplicate tags */
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && tag_cmp(&p[kept - 1], &p[i]) == 0) {
            if (!p[i].compat)
                drv_warn(diag, where, "%s and %s have identical contents; the catalog lists them "
                                      "once, as %s",
                         p[kept - 1].file->name, p[i].file->name, p[kept - 1].file->name);
            continue;
        }
        p[kept++] = p[i];
    }
    n = kept;
    if (ctl_size_floor(b, p, n, DRV_MAX_CTL) > DRV_MAX_CTL) {
        drv_error(diag, where,
                  "the catalog would pass the %u MiB a catalog can hold (its names, values and "
                  "page-hash tables alone do); leave out page hashes or split the files over "
                  "several catalogs",
                  DRV_MAX_CTL >> 20);
        goto done;
    }

    if (!sk_ASN1_OBJECT_push(ctl->subject_usage, usage))
        goto fail;
    usage = NULL;
    if (list_identifier(b, p, n, list_id) != 0)
        goto fail;
    ctl->list_identifier = ASN1_OCTET_STRING_new();
    if (ctl->list_identifier == NULL || !ASN1_OCTET_STRING_set(ctl->list_identifier, list_id, 16))
        goto fail;
    if (ASN1_TIME_set(ctl->this_update, (time_t)b->this_update) == NULL)
        goto fail;
    if (!X509_ALGOR_set0(ctl->subject_algorithm,
                         OBJ_txt2obj(b->version == 2 ? OID_CATALOG_MEMBER2 : OID_CATALOG_MEMBER, 1),
                         V_ASN1_NULL, NULL))
        goto fail;
    ctl->subjects = sk_ASN1_TYPE_new_reserve(NULL, n > INT_MAX ? 0 : (int)n);
    encoded = calloc(n ? n : 1, sizeof *encoded);
    if (ctl->subjects == NULL || encoded == NULL || n > INT_MAX)
        goto fail;
    {
        encode_job job = {p, b, encoded};
        if (drv_parallel_for(n, drv_cpu_count(), encode_task, &job) != 0)
            goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (!sk_ASN1_TYPE_push(ctl->subjects, encoded[i]))
            goto fail;
        encoded[i] = NULL;
    }
    for (size_t i = 0; i < b->attr_count; i++)
        if (add_extension(ctl, b->attrs[i].name, b->attrs[i].value) != 0)
            goto fail;
    ctl_len = i2d_CTL(ctl, &ctl_der);
    if (ctl_len > 0 && (unsigned)ctl_len > DRV_MAX_CTL) {
        drv_error(diag, where, "the catalog would be %d bytes, and a catalog holds at most %u MiB",
                  ctl_len, DRV_MAX_CTL >> 20);
        goto done;
    }
    if (ctl_len <= 0 || drv_ac_unsigned(DRV_OID_CTL, ctl_der, (size_t)ctl_len, der, der_len) != 0)
        goto fail;
    rc = 0;
    goto done;
fail:
    drv_ssl_error(diag, where, "cannot encode the catalog");
done:
    OPENSSL_free(ctl_der);
    ASN1_OBJECT_free(usage);
    CTL_free(ctl);
    for (size_t i = 0; encoded != NULL && i < n; i++)
        ASN1_TYPE_free(encoded[i]);
    free(encoded);
    free(p);
    return rc;
}

/* ---- parsing ---- */

static int parse_namevalue(const ASN1_STRING *seq, char **name, char **value)
{
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    CAT_NAMEVALUE *nv = d2i_CAT_NAMEVALUE(NULL, &p, ASN1_STRING_length(seq));
    size_t value_len;
    *name = *value = NULL;
    if (nv == NULL)
        return -1;
    *name = utf8_of(nv->tag);
    /* the value ends at its NUL unit, which catalogs store (the C string stops there) */
    *value = drv_utf8_from_utf16le(ASN1_STRING_get0_data(nv->value),
                                   (size_t)ASN1_STRING_length(nv->value), &value_len);
    CAT_NAMEVALUE_free(nv);
    if (*name == NULL || *value == NULL) {
        free(*name);
        free(*value);
        *name = *value = NULL;
        return -1;
    }
    return 0;
}

_Static_assert(sizeof((drv_ctl_member *)0)->digest >= DRV_MAX_DIGEST,
               "a member holds any digest drv_ac_parse_indirect returns");

/* One member attribute into m. -1 names the attribute that does not decode (a name/value or
 * MEMBERINFO a catalog cannot do without); other attributes are skipped, as Windows does. */
static int parse_member_attr(X509_ATTRIBUTE *a, drv_ctl_member *m, const char **bad)
{
    const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);
    ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
    if (t == NULL)
        return 0;
    if (drv_oid_is(obj, OID_CAT_NAMEVALUE) && t->type == V_ASN1_SEQUENCE) {
        char *name, *value;
        if (parse_namevalue(t->value.sequence, &name, &value) != 0) {
            *bad = "name/value";
            return -1;
        }
        if (strcmp(name, "File") == 0 && m->file == NULL)
            m->file = value, value = NULL;
        else if (strcmp(name, "OSAttr") == 0 && m->os_attr == NULL)
            m->os_attr = value, value = NULL;
        free(name);
        free(value);
    } else if (drv_oid_is(obj, OID_CAT_MEMBERINFO) && t->type == V_ASN1_SEQUENCE) {
        const unsigned char *p = ASN1_STRING_get0_data(t->value.sequence);
        CAT_MEMBERINFO *mi = d2i_CAT_MEMBERINFO(NULL, &p, ASN1_STRING_length(t->value.sequence));
        char *guid = mi ? utf8_of(mi->guid) : NULL;
        CAT_MEMBERINFO_free(mi);
        if (guid == NULL) {
            *bad = "MEMBERINFO";
            return -1;
        }
        snprintf(m->sip_guid, sizeof m->sip_guid, "%s", guid);
        m->sip = drv_sip_by_guid(guid);
        free(guid);
    } else if (drv_oid_is(obj, OID_CAT_MEMBERINFO2) && t->type == V_ASN1_OTHER &&
               ASN1_STRING_length(t->value.asn1_string) >= 1) {
        unsigned tagno = ASN1_STRING_get0_data(t->value.asn1_string)[0] & 0x1f;
        m->sip = drv_sip_by_member_kind(tagno);
        snprintf(m->sip_guid, sizeof m->sip_guid, "%s", m->sip->guid);
    } else if (drv_oid_is(obj, DRV_OID_SPC_INDIRECT_DATA) && t->type == V_ASN1_SEQUENCE) {
        drv_indirect id;
        if (drv_ac_parse_indirect(ASN1_STRING_get0_data(t->value.sequence),
                                  (size_t)ASN1_STRING_length(t->value.sequence), &id) == 0) {
            m->md = id.md;
            memcpy(m->digest, id.digest, id.digest_len);
            m->digest_len = id.digest_len;
            if (m->sip_guid[0] == 0)
                m->sip = drv_sip_by_indirect_type(id.data_type);
            OPENSSL_free(id.data_value);
        }
    }
    return 0;
}

/* A copy of an ASN.1 string's bytes (never NULL on success, even when empty). */
static unsigned char *bytes_of(const ASN1_STRING *s, size_t *len)
{
    int n = ASN1_STRING_length(s);
    unsigned char *copy = n >= 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
    if (copy != NULL) {
        memcpy(copy, ASN1_STRING_get0_data(s), (size_t)n);
        *len = (size_t)n;
    }
    return copy;
}

/* No catalog member or attribute takes fewer bytes (makecat's smallest, a SHA-1 compat entry,
 * takes about 90): what keeps the decoded catalog within a small multiple of its size. */
#define MIN_ENTRY_DER 32

/* The elements of the constructed DER element at *p (advanced past it), counted with
 * ASN1_get_object and not decoded; -1 when it does not parse or has indefinite lengths. */
static long count_elements(const unsigned char **p, long max)
{
    const unsigned char *q = *p, *end;
    long len, count = 0;
    int tag, xclass, ret = ASN1_get_object(&q, &len, &tag, &xclass, max);
    if ((ret & 0x80) || ret != V_ASN1_CONSTRUCTED)
        return -1;
    for (end = q + len; q < end; count++) {
        long elen;
        ret = ASN1_get_object(&q, &elen, &tag, &xclass, end - q);
        if ((ret & 0x80) || (ret & 1))
            return -1;
        q += elen;
    }
    *p = end;
    return count;
}

/*
 * How many members and catalog attributes the CTL holds, before d2i_CTL decodes them all:
 * OpenSSL's tree takes ~50 times the DER of a list of empty elements. The member list is the
 * CTL's third SEQUENCE (after subjectUsage and subjectAlgorithm; no other field is one), the
 * attributes the SEQUENCE in its [0]. -1 when the lengths do not parse, or are BER's
 * indefinite ones (which d2i_CTL would take, uncounted; catalogs are DER).
 */
static long count_entries(const unsigned char *der, long len)
{
    const unsigned char *p = der, *end;
    long clen, total = 0;
    int tag, xclass, seqs = 0, ret = ASN1_get_object(&p, &clen, &tag, &xclass, len);
    if ((ret & 0x80) || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE)
        return -1;
    for (end = p + clen; p < end;) {
        const unsigned char *field = p;
        long flen;
        ret = ASN1_get_object(&p, &flen, &tag, &xclass, end - p);
        if ((ret & 0x80) || (ret & 1))
            return -1;
        if (xclass == V_ASN1_UNIVERSAL && tag == V_ASN1_SEQUENCE && ++seqs == 3) {
            long n = count_elements(&field, end - field);
            if (n < 0)
                return -1;
            total += n;
        } else if (xclass == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
            long n = count_elements(&p, flen);
            if (n < 0)
                return -1;
            total += n;
            continue;
        }
        p += flen;
    }
    return total;
}

int drv_ctl_parse(const unsigned char *der, size_t len, drv_ctl *out, const char *where,
                  drvsign_diag *diag)
{
    const unsigned char *p = der;
    CTL *ctl;
    const ASN1_OBJECT *alg;
    int n, malformed = 0;
    const char *bad = NULL;
    long entries;

    memset(out, 0, sizeof *out);
    entries = len > LONG_MAX ? -1 : count_entries(der, (long)len);
    if (entries < 0) {
        drv_ssl_error(diag, where, "the catalog's certificate trust list is malformed: its "
                                   "lengths are not DER");
        return -1;
    }
    if ((unsigned long)entries > len / MIN_ENTRY_DER) {
        drv_error(diag, where,
                  "the catalog's certificate trust list is malformed: %ld members and attributes "
                  "in %zu bytes, fewer than %d bytes each, are not a catalog's",
                  entries, len, MIN_ENTRY_DER);
        return -1;
    }
    if (len > LONG_MAX || (ctl = d2i_CTL(NULL, &p, (long)len)) == NULL) {
        drv_ssl_error(diag, where, "the catalog's certificate trust list is malformed");
        return -1;
    }
    X509_ALGOR_get0(&alg, NULL, NULL, ctl->subject_algorithm);
    out->version = drv_oid_is(alg, OID_CATALOG_MEMBER2) ? 2 : 1;
    snprintf(out->this_update, sizeof out->this_update, "%.*s",
             ASN1_STRING_length(ctl->this_update),
             (const char *)ASN1_STRING_get0_data(ctl->this_update));
    if (ctl->list_identifier != NULL &&
        (out->list_id = bytes_of(ctl->list_identifier, &out->list_id_len)) == NULL)
        goto oom;
    n = sk_ASN1_TYPE_num(ctl->subjects);
    out->members = calloc(n > 0 ? (size_t)n : 1, sizeof *out->members);
    if (out->members == NULL)
        goto oom;
    for (int i = 0; i < n; i++) {
        const ASN1_TYPE *t = sk_ASN1_TYPE_value(ctl->subjects, i);
        const unsigned char *item, *end;
        CTL_SUBJECT *s;
        drv_ctl_member *m;
        if (t->type != V_ASN1_SEQUENCE) {
            malformed = i + 1;
            break;
        }
        item = ASN1_STRING_get0_data(t->value.sequence);
        end = item + ASN1_STRING_length(t->value.sequence);
        s = d2i_CTL_SUBJECT(NULL, &item, end - item);
        if (s == NULL || item != end) {
            CTL_SUBJECT_free(s);
            malformed = i + 1;
            break;
        }
        m = &out->members[out->count++];
        m->sip = &drv_sip_flat;
        m->tag = bytes_of(s->identifier, &m->tag_len);
        for (int a = 0; m->tag != NULL && !malformed && a < sk_X509_ATTRIBUTE_num(s->attributes);
             a++)
            if (parse_member_attr(sk_X509_ATTRIBUTE_value(s->attributes, a), m, &bad) != 0)
                malformed = i + 1;
        CTL_SUBJECT_free(s);
        if (m->tag == NULL)
            goto oom;
        if (malformed)
            break;
    }
    if (malformed) {
        CTL_free(ctl);
        drv_ctl_free(out);
        if (bad != NULL)
            drv_error(diag, where,
                      "the catalog's certificate trust list is malformed: member %d's %s "
                      "attribute does not decode",
                      malformed, bad);
        else
            drv_error(diag, where,
                      "the catalog's certificate trust list is malformed: member %d is not a "
                      "catalog member",
                      malformed);
        return -1;
    }
    n = sk_X509_EXTENSION_num(ctl->extensions);
    out->attrs = calloc(n > 0 ? (size_t)n : 1, sizeof *out->attrs);
    if (out->attrs == NULL)
        goto oom;
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(ctl->extensions, i);
        drv_ctl_attr *a = &out->attrs[out->attr_count];
        if (!drv_oid_is(X509_EXTENSION_get_object(e), OID_CAT_NAMEVALUE))
            continue;
        if (parse_namevalue(X509_EXTENSION_get_data(e), &a->name, &a->value) != 0) {
            CTL_free(ctl);
            drv_ctl_free(out);
            drv_error(diag, where,
                      "the catalog's certificate trust list is malformed: catalog attribute %d "
                      "does not decode",
                      i + 1);
            return -1;
        }
        out->attr_count++;
    }
    CTL_free(ctl);
    return 0;
oom:
    CTL_free(ctl);
    drv_ctl_free(out);
    drv_error(diag, where, "out of memory");
    return -1;
}

void drv_ctl_free(drv_ctl *ctl)
{
    for (size_t i = 0; i < ctl->count; i++) {
        free(ctl->members[i].tag);
        free(ctl->members[i].file);
        free(ctl->members[i].os_attr);
    }
    for (size_t i = 0; i < ctl->attr_count; i++) {
        free(ctl->attrs[i].name);
        free(ctl->attrs[i].value);
    }
    free(ctl->members);
    free(ctl->attrs);
    free(ctl->list_id);
    memset(ctl, 0, sizeof *ctl);
}

const drv_ctl_member *drv_ctl_find(const drv_ctl *ctl, const unsigned char *digest, size_t len)
{
    pending want;
    if (ctl->version == 1) {
        if (len != 20)
            return NULL;
        hex_tag(digest, len, &want);
    } else {
        if (len > sizeof want.tag)
            return NULL;
        memcpy(want.tag, digest, len);
        want.tag_len = len;
    }
    for (size_t i = 0; i < ctl->count; i++)
        if (ctl->members[i].tag_len == want.tag_len &&
            memcmp(ctl->members[i].tag, want.tag, want.tag_len) == 0)
            return &ctl->members[i];
    return NULL;
}
