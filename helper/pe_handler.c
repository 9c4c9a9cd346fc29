/* The PE format handler (handler.h): signing, verifying and cataloguing PE images. */
#include "pe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"
#include "handler.h"

typedef struct pe_state {
    drv_file file;
    drv_pe pe;
    drv_pe_scan scan; /* digests for scan.md[], plus the checksum sums */
    int scanned;
    int have_sums;
    drv_atomic *stage_out; /* where the first full scan copies the image */
    int staged;
} pe_state;

/* The output is filled by the scan that computes the digest (drv_pe_scan_file's copy_to). */
static int pe_h_stage(void *state, drv_atomic *out, drvsign_diag *diag)
{
    pe_state *s = state;
    (void)diag;
    s->stage_out = out;
    return 0;
}

static int pe_h_open(const drv_file *file, void **state, drvsign_diag *diag)
{
    pe_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        drv_error(diag, file->path, "out of memory");
        return -1;
    }
    s->file = *file;
    if (drv_pe_open(&s->pe, &s->file, diag) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int pe_h_prepare(void *state, const EVP_MD *const *mds, size_t count, int digests_only,
                        drvsign_diag *diag)
{
    pe_state *s = state;
    size_t n = 0;
    for (size_t i = 0; i < count && n < DRV_PE_MAX_DIGESTS; i++) {
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= EVP_MD_get_type(s->scan.md[j]) == EVP_MD_get_type(mds[i]);
        if (!dup)
            s->scan.md[n++] = mds[i];
    }
    s->scan.md_count = n;
    s->scan.no_sums = digests_only;
    s->scan.copy_to = digests_only || s->staged ? NULL : s->stage_out;
    if (drv_pe_scan_file(&s->pe, &s->scan, diag) != 0)
        return -1;
    s->scanned = 1;
    s->have_sums = !digests_only;
    s->staged |= s->scan.copy_to != NULL;
    return 0;
}

/* The digest for md, scanning again only when prepare did not ask for it. */
static const unsigned char *pe_digest(pe_state *s, const EVP_MD *md, unsigned *len,
                                      drvsign_diag *diag)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; s->scanned && i < s->scan.md_count; i++)
            if (EVP_MD_get_type(s->scan.md[i]) == EVP_MD_get_type(md)) {
                *len = s->scan.digest_len[i];
                return s->scan.digest[i];
            }
        if (pass == 0 && pe_h_prepare(s, &md, 1, 0, diag) != 0)
            return NULL;
    }
    return NULL;
}

static int pe_h_content(void *state, const drv_content_opts *opts, drv_content *out,
                        drvsign_diag *diag)
{
    pe_state *s = state;
    unsigned char *table = NULL, *image_data = NULL;
    size_t table_len = 0, image_len = 0;
    const unsigned char *digest;
    unsigned digest_len;
    int rc = -1;

    memset(out, 0, sizeof *out);
    digest = pe_digest(s, opts->md, &digest_len, diag);
    if (digest == NULL)
        return -1;
    if (opts->page_hashes &&
        drv_pe_page_hashes(&s->pe, opts->md, &table, &table_len, diag) != 0)
        return -1;
    if (drv_ac_pe_image_data(EVP_MD_get_type(opts->md) != NID_sha1, table, table_len, 0,
                             &image_data, &image_len) != 0 ||
        drv_ac_indirect_data(DRV_OID_SPC_PE_IMAGE_DATA, image_data, image_len, opts->md, digest,
                             digest_len, &out->der, &out->len) != 0) {
        drv_ssl_error(diag, s->file.path, "cannot encode SpcIndirectDataContent");
        goto done;
    }
    strcpy(out->oid, DRV_OID_SPC_INDIRECT_DATA);
    rc = 0;
done:
    free(table);
    OPENSSL_free(image_data);
    return rc;
}

static int pe_h_signature(void *state, unsigned char **der, size_t *len, drvsign_diag *diag)
{
    pe_state *s = state;
    return drv_pe_signature(&s->pe, der, len, diag);
}

static int pe_h_attach(void *state, const unsigned char *der, size_t len, drv_atomic *out,
                       drvsign_diag *diag)
{
    pe_state *s = state;
    if (s->stage_out != NULL && s->stage_out != out) {
        drv_error(diag, s->file.path, "internal error: attach to another output than staged");
        return -1;
    }
    if (!s->staged) { /* the digest came before the output was open (or without staging) */
        s->stage_out = out;
        if (pe_h_prepare(s, NULL, 0, 0, diag) != 0)
            return -1;
    }
    return drv_pe_write_signature(&s->pe, &s->scan, der, len, out, diag);
}

static int pe_h_detach(void *state, drv_atomic *out, drvsign_diag *diag)
{
    pe_state *s = state;
    if (!s->have_sums && pe_h_prepare(s, NULL, 0, 0, diag) != 0)
        return -1;
    return drv_pe_write_unsigned(&s->pe, &s->scan, out, diag);
}

static int pe_h_check_content(void *state, const drv_sig *sig, drv_content_check *check,
                              drvsign_diag *diag)
{
    pe_state *s = state;
    const drv_indirect *id = &sig->indirect;
    const unsigned char *digest;
    unsigned digest_len;
    unsigned char *table = NULL, *mine = NULL;
    size_t table_len, mine_len;
    int v2 = 0;

    memset(check, 0, sizeof *check);
    if (strcmp(sig->content_type, DRV_OID_SPC_INDIRECT_DATA) != 0 ||
        strcmp(id->data_type, DRV_OID_SPC_PE_IMAGE_DATA) != 0) {
        snprintf(check->problem, sizeof check->problem,
                 "the signature is not an Authenticode signature of a PE image");
        return 0;
    }
    digest = pe_digest(s, id->md, &digest_len, diag);
    if (digest == NULL)
        return -1;
    if (digest_len != id->digest_len || memcmp(digest, id->digest, digest_len) != 0) {
        snprintf(check->problem, sizeof check->problem,
                 "the image digest does not match the signature: the file changed after signing");
        return 0;
    }
    check->digest_ok = 1;
    if (id->data_value == NULL ||
        drv_ac_pe_page_hashes(id->data_value, id->data_value_len, &v2, &table, &table_len) != 0) {
        if (id->data_value != NULL) {
            check->digest_ok = 0;
            snprintf(check->problem, sizeof check->problem, "malformed SpcPeImageData");
        }
        return 0;
    }
    if (table == NULL)
        return 0;
    check->page_hashes = -1;
    if (drv_pe_page_hashes(&s->pe, EVP_get_digestbynid(v2 ? NID_sha256 : NID_sha1), &mine,
                           &mine_len, diag) == 0 &&
        mine_len == table_len && memcmp(mine, table, table_len) == 0)
        check->page_hashes = 1;
    else
        snprintf(check->problem, sizeof check->problem,
                 "the page hashes do not match the file");
    free(mine);
    OPENSSL_free(table);
    return 0;
}

static int pe_h_check_file(void *state, drv_file_check *check, drvsign_diag *diag)
{
    pe_state *s = state;
    if (!s->have_sums && pe_h_prepare(s, NULL, 0, 0, diag) != 0)
        return -1;
    check->name = "checksum";
    check->stored = s->pe.header_checksum;
    check->computed = drv_pe_checksum(&s->pe, &s->scan);
    check->ok = check->stored == check->computed;
    return 0;
}

static int pe_h_member_digest(void *state, const EVP_MD *md, unsigned char *out, unsigned *len,
                              drvsign_diag *diag)
{
    const unsigned char *d = pe_digest(state, md, len, diag);
    if (d == NULL)
        return -1;
    memcpy(out, d, *len);
    return 0;
}

static int pe_h_page_hashes(void *state, const EVP_MD *md, unsigned char **table, size_t *len,
                            drvsign_diag *diag)
{
    pe_state *s = state;
    return drv_pe_page_hashes(&s->pe, md, table, len, diag);
}

static void pe_h_close(void *state)
{
    free(state);
}

const drv_format drv_format_pe = {
    .name = "pe",
    .nests = 1,
    .detect = drv_pe_detect,
    .open = pe_h_open,
    .prepare = pe_h_prepare,
    .stage = pe_h_stage,
    .content = pe_h_content,
    .signature = pe_h_signature,
    .attach = pe_h_attach,
    .detach = pe_h_detach,
    .check_content = pe_h_check_content,
    .check_file = pe_h_check_file,
    .member_digest = pe_h_member_digest,
    .page_hashes = pe_h_page_hashes,
    .close = pe_h_close,
};
