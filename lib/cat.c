/*
 * The catalog (.cat) handler: signing an existing catalog, ours or another tool's. The CTL is
 * kept byte for byte (reference 2.9: re-encoding it could change what Windows looks up); the
 * signature's content is that CTL with eContentType szOID_CTL.
 */
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "json.h"

typedef struct cat_state {
    const char *path;
    unsigned char *data;
    size_t len;
    PKCS7 *p7;
    const unsigned char *ctl; /* inside p7 */
    size_t ctl_len;
} cat_state;

static const unsigned char oid_signed_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                0xf7, 0x0d, 0x01, 0x07, 0x02};
static const unsigned char oid_ctl[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x04,
                                        0x01, 0x82, 0x37, 0x0a, 0x01};

static int find(const unsigned char *h, size_t n, const unsigned char *needle, size_t m,
                size_t limit)
{
    for (size_t i = 0; i + m <= n && i <= limit; i++)
        if (memcmp(h + i, needle, m) == 0)
            return 1;
    return 0;
}

static int cat_detect(const unsigned char *head, size_t n)
{
    /* ContentInfo{signedData, SignedData{..., contentInfo{szOID_CTL ...}}} within its header */
    return n > 16 && head[0] == 0x30 && find(head, n, oid_signed_data, sizeof oid_signed_data, 8) &&
           find(head, n, oid_ctl, sizeof oid_ctl, 64);
}

static void cat_close(void *state)
{
    cat_state *s = state;
    if (s == NULL)
        return;
    PKCS7_free(s->p7);
    free(s->data);
    free(s);
}

static int cat_open(const drv_file *file, void **state, drvsign_diag *diag)
{
    cat_state *s = calloc(1, sizeof *s);
    PKCS7 *inner;

    if (s == NULL) {
        drv_error(diag, file->path, "out of memory");
        return -1;
    }
    s->path = file->path;
    if (file->size > DRV_MAX_CATALOG) {
        drv_error(diag, file->path, "a %llu-byte catalog is beyond any real package",
                  (unsigned long long)file->size);
        goto fail;
    }
    s->len = (size_t)file->size;
    s->data = malloc(s->len ? s->len : 1);
    if (s->data == NULL || drv_file_pread(file, 0, s->data, s->len, diag) != 0)
        goto fail;
    s->p7 = drv_ac_from_der(s->data, s->len);
    if (s->p7 == NULL || !PKCS7_type_is_signed(s->p7) || s->p7->d.sign == NULL) {
        drv_ssl_error(diag, file->path, "not a catalog: no PKCS#7 SignedData");
        goto fail;
    }
    inner = s->p7->d.sign->contents;
    if (inner == NULL || !drv_oid_is(inner->type, DRV_OID_CTL) || inner->d.other == NULL ||
        inner->d.other->type != V_ASN1_SEQUENCE) {
        drv_error(diag, file->path, "not a catalog: the signed content is not a certificate "
                                    "trust list");
        goto fail;
    }
    s->ctl = ASN1_STRING_get0_data(inner->d.other->value.sequence);
    s->ctl_len = (size_t)ASN1_STRING_length(inner->d.other->value.sequence);
    *state = s;
    return 0;
fail:
    cat_close(s);
    return -1;
}

static int cat_content(void *state, const drv_content_opts *opts, drv_content *out,
                       drvsign_diag *diag)
{
    cat_state *s = state;
    if (opts->page_hashes)
        drv_warn(diag, s->path, "%s applies to PE files, not to catalogs; ignored",
                 drv_param(diag, DRVSIGN_PARAM_PAGE_HASHES));
    memset(out, 0, sizeof *out);
    out->der = OPENSSL_memdup(s->ctl, s->ctl_len);
    if (out->der == NULL) {
        drv_error(diag, s->path, "out of memory");
        return -1;
    }
    out->len = s->ctl_len;
    strcpy(out->oid, DRV_OID_CTL);
    return 0;
}

static int cat_signature(void *state, unsigned char **der, size_t *len, drvsign_diag *diag)
{
    cat_state *s = state;
    *der = NULL;
    *len = 0;
    if (sk_PKCS7_SIGNER_INFO_num(s->p7->d.sign->signer_info) == 0)
        return 0; /* an unsigned catalog */
    /* a signed catalog is its own signature */
    *der = malloc(s->len);
    if (*der == NULL) {
        drv_error(diag, s->path, "out of memory");
        return -1;
    }
    memcpy(*der, s->data, s->len);
    *len = s->len;
    return 0;
}

static int cat_attach(void *state, const unsigned char *der, size_t len, drv_atomic *out,
                      drvsign_diag *diag)
{
    (void)state;
    return drv_atomic_write(out, der, len, diag);
}

/* An unsigned catalog is a SignedData with the trust list and no signers, as makecat writes. */
static int cat_detach(void *state, drv_atomic *out, drvsign_diag *diag)
{
    cat_state *s = state;
    unsigned char *der = NULL;
    size_t len;
    int rc;
    if (drv_ac_unsigned(DRV_OID_CTL, s->ctl, s->ctl_len, &der, &len) != 0) {
        drv_ssl_error(diag, s->path, "cannot encode the unsigned catalog");
        return -1;
    }
    rc = drv_atomic_write(out, der, len, diag);
    OPENSSL_free(der);
    return rc;
}

static int cat_check_content(void *state, const drv_sig *sig, drv_content_check *check,
                             drvsign_diag *diag)
{
    cat_state *s = state;
    (void)diag;
    memset(check, 0, sizeof *check);
    /* the signature carries the CTL itself, and drv_ac_check verifies its messageDigest */
    if (strcmp(sig->content_type, DRV_OID_CTL) != 0 || sig->content_len != s->ctl_len ||
        memcmp(sig->content, s->ctl, s->ctl_len) != 0) {
        snprintf(check->problem, sizeof check->problem,
                 "the signature does not cover this catalog's trust list");
        return 0;
    }
    check->digest_ok = 1;
    return 0;
}

static void hexout(FILE *out, const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02X", d[i]);
}

/* v1 tags are UTF-16LE hex text; show them as the text they are. Other tags (a hostile
 * catalog's) are shown as text only when that text needs no escaping in JSON. */
static void tag_out(FILE *out, const drv_ctl_member *m)
{
    int text = m->tag_len > 2 && m->tag_len % 2 == 0;
    for (size_t i = 0; text && i + 1 < m->tag_len; i += 2)
        text = m->tag[i + 1] == 0 &&
               (i + 2 == m->tag_len ? m->tag[i] == 0
                                    : m->tag[i] >= 0x20 && m->tag[i] < 0x7f &&
                                          m->tag[i] != '"' && m->tag[i] != '\\');
    if (text)
        for (size_t i = 0; i + 2 < m->tag_len; i += 2)
            fputc(m->tag[i], out);
    else
        hexout(out, m->tag, m->tag_len);
}

static void show_catalog(const drv_ctl *ctl, FILE *out, int json)
{
    if (json) {
        fprintf(out, ", \"catalog\": {\"version\": %d, \"this_update\": ", ctl->version);
        drv_json_string(out, ctl->this_update);
        fprintf(out, ", \"list_identifier\": \"");
        hexout(out, ctl->list_id, ctl->list_id_len);
        fprintf(out, "\", \"attributes\": {");
        for (size_t i = 0; i < ctl->attr_count; i++) {
            fprintf(out, "%s", i ? ", " : "");
            drv_json_string(out, ctl->attrs[i].name);
            fprintf(out, ": ");
            drv_json_string(out, ctl->attrs[i].value);
        }
        fprintf(out, "}, \"members\": [");
        for (size_t i = 0; i < ctl->count; i++) {
            const drv_ctl_member *m = &ctl->members[i];
            fprintf(out, "%s\n      {\"tag\": \"", i ? "," : "");
            tag_out(out, m);
            fprintf(out, "\", \"file\": ");
            drv_json_string(out, m->file);
            fprintf(out, ", \"sip\": \"%s\", \"sip_guid\": ", m->sip->name);
            drv_json_string(out, m->sip_guid);
            fprintf(out, ", \"digest\": ");
            drv_json_string(out, m->md ? EVP_MD_get0_name(m->md) : NULL);
            if (m->os_attr) {
                fprintf(out, ", \"os_attr\": ");
                drv_json_string(out, m->os_attr);
            }
            fputc('}', out);
        }
        fprintf(out, "]}");
        return;
    }
    fprintf(out, "  catalog version %d, this update %s, list identifier ", ctl->version,
            ctl->this_update);
    hexout(out, ctl->list_id, ctl->list_id_len);
    fputc('\n', out);
    for (size_t i = 0; i < ctl->attr_count; i++)
        fprintf(out, "  attribute %s = %s\n", ctl->attrs[i].name, ctl->attrs[i].value);
    fprintf(out, "  %zu members:\n", ctl->count);
    for (size_t i = 0; i < ctl->count; i++) {
        const drv_ctl_member *m = &ctl->members[i];
        fprintf(out, "    ");
        tag_out(out, m);
        fprintf(out, "  %-4s %-6s %s%s%s\n", m->sip->name,
                m->md ? EVP_MD_get0_name(m->md) : "-", m->file ? m->file : "(no File)",
                m->os_attr ? "  OSAttr " : "", m->os_attr ? m->os_attr : "");
    }
}

static int cat_trust_list(void *state, drv_ctl *ctl, const char *where, drvsign_diag *diag)
{
    cat_state *s = state;
    return drv_ctl_parse(s->ctl, s->ctl_len, ctl, where, diag);
}

static int cat_describe(void *state, const drv_file *file, FILE *out, int json,
                        drvsign_diag *diag)
{
    drv_ctl ctl;
    if (cat_trust_list(state, &ctl, file->path, diag) != 0)
        return -1;
    show_catalog(&ctl, out, json);
    drv_ctl_free(&ctl);
    return 0;
}

const drv_format drv_format_cat = {
    .name = "cat",
    .nests = 0,
    .detect = cat_detect,
    .open = cat_open,
    .content = cat_content,
    .signature = cat_signature,
    .attach = cat_attach,
    .detach = cat_detach,
    .check_content = cat_check_content,
    .describe = cat_describe,
    .trust_list = cat_trust_list,
    .close = cat_close,
};

int drv_catalog_load(const char *path, drv_ctl *ctl, drvsign_diag *diag)
{
    drv_file file;
    void *state = NULL;
    int rc = -1;

    memset(ctl, 0, sizeof *ctl);
    if (drv_file_open(&file, path, diag) != 0)
        return -1;
    if (cat_open(&file, &state, diag) == 0) {
        rc = cat_trust_list(state, ctl, path, diag);
        cat_close(state);
    }
    drv_file_close(&file);
    return rc;
}
