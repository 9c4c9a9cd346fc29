/* The cabinet format handler (handler.h): the signature in the header reserve (5.3). */
#include "cab.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "cab_layout.h"
#include "handler.h"
#include "json.h"

/* ---- the signing handler (reference 5.3) ---- */

typedef struct cab_state {
    drv_file file;
    drv_cab cab;
    unsigned char *head; /* header, slot, strings, folders: as the signed file will have them */
    size_t head_len;
    uint32_t rest_offset, rest_len; /* the original file table and data */
    uint32_t new_cb_cabinet;
    const EVP_MD *md[4];
    unsigned char digest[4][EVP_MAX_MD_SIZE];
    unsigned digest_len[4];
    size_t md_count;
} cab_state;

static void cab_h_close(void *state)
{
    cab_state *s = state;
    if (s == NULL)
        return;
    drv_cab_close(&s->cab);
    free(s->head);
    free(s);
}

/* Lay out the header with the 20-byte signature slot, inserting it (and moving every offset
 * by 24) when the cabinet has none. */
static int build_head(cab_state *s, drvsign_diag *diag)
{
    drv_cab *c = &s->cab;
    const drv_file *f = &s->file;
    unsigned char *orig;
    size_t orig_len = c->folders_end;
    size_t shift = c->has_slot ? 0 : SLOT_SHIFT;
    size_t folder_size = 8 + (size_t)c->folder_reserve;

    if ((c->flags & FLAG_RESERVE) && !c->has_slot) {
        drv_error(diag, f->path,
                  "the cabinet has a %u-byte header reserve that is not an Authenticode "
                  "signature slot; only cabinets without a reserve, or with the 20-byte "
                  "signature reserve, can be signed",
                  c->header_reserve);
        return -1;
    }
    if ((uint64_t)c->cb_cabinet + shift > UINT32_MAX)
        return -1;
    orig = malloc(orig_len);
    s->head_len = orig_len + shift;
    s->head = calloc(1, s->head_len);
    if (orig == NULL || s->head == NULL) {
        free(orig);
        drv_error(diag, f->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(f, 0, orig, orig_len, diag) != 0) {
        free(orig);
        return -1;
    }
    s->new_cb_cabinet = c->cb_cabinet + (uint32_t)shift;
    if (shift == 0) {
        memcpy(s->head, orig, orig_len);
        memset(s->head + CAB_HEADER + 4 + 4, 0, 8); /* offset and size: filled in by attach */
    } else {
        memcpy(s->head, orig, CAB_HEADER);
        drv_put_le16(s->head + 0x1e, c->flags | FLAG_RESERVE);
        drv_put_le32(s->head + 8, s->new_cb_cabinet);
        drv_put_le32(s->head + 16, c->coff_files + (uint32_t)shift);
        drv_put_le16(s->head + CAB_HEADER, SLOT); /* cbCFHeader; cbCFFolder = cbCFData = 0 */
        memcpy(s->head + CAB_HEADER + 4, "\0\0\x10\0", 4);
        memcpy(s->head + CAB_HEADER + SLOT_SHIFT, orig + CAB_HEADER, orig_len - CAB_HEADER);
        for (unsigned i = 0; i < c->folder_count; i++) {
            unsigned char *e = s->head + c->folders_offset + shift + i * folder_size;
            drv_put_le32(e, drv_le32(e) + (uint32_t)shift);
        }
    }
    s->rest_offset = c->folders_end;
    s->rest_len = c->cb_cabinet - c->folders_end;
    free(orig);
    return 0;
}

static int cab_h_open(const drv_file *file, void **state, drvsign_diag *diag)
{
    cab_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        drv_error(diag, file->path, "out of memory");
        return -1;
    }
    s->file = *file;
    if (drv_cab_open(&s->cab, &s->file, diag) != 0) {
        free(s);
        return -1;
    }
    /* signing a cabinet whose file table is damaged would bless it: check it as verify does */
    if (drv_cab_check_files(&s->cab, diag) != 0) {
        drv_cab_close(&s->cab);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* H(b[0:4] || b[8:34] || b[56:60] || strings || folders || file table and data): everything
 * but reserved1 and the fields that say where the signature is. */
static int cab_h_prepare(void *state, const EVP_MD *const *mds, size_t count, int digests_only,
                         drvsign_diag *diag)
{
    cab_state *s = state;
    EVP_MD_CTX *ctx[4] = {0};
    unsigned char *buf = NULL;
    int rc = -1;
    (void)digests_only;

    if (s->head == NULL && build_head(s, diag) != 0)
        return -1;
    s->md_count = 0;
    for (size_t i = 0; i < count && s->md_count < 4; i++)
        s->md[s->md_count++] = mds[i];
    buf = malloc(DRV_IO_CHUNK);
    if (buf == NULL)
        goto done;
    for (size_t m = 0; m < s->md_count; m++) {
        ctx[m] = EVP_MD_CTX_new();
        if (ctx[m] == NULL || !EVP_DigestInit_ex(ctx[m], s->md[m], NULL) ||
            !EVP_DigestUpdate(ctx[m], s->head, 4) || !EVP_DigestUpdate(ctx[m], s->head + 8, 26) ||
            !EVP_DigestUpdate(ctx[m], s->head + 56, s->head_len - 56))
            goto done;
    }
    for (uint64_t off = 0; off < s->rest_len;) {
        size_t n = s->rest_len - off > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)(s->rest_len - off);
        if (drv_file_pread(&s->file, s->rest_offset + off, buf, n, diag) != 0)
            goto done;
        for (size_t m = 0; m < s->md_count; m++)
            if (!EVP_DigestUpdate(ctx[m], buf, n))
                goto done;
        off += n;
    }
    for (size_t m = 0; m < s->md_count; m++)
        if (!EVP_DigestFinal_ex(ctx[m], s->digest[m], &s->digest_len[m]))
            goto done;
    rc = 0;
done:
    if (rc != 0 && diag->errors == 0)
        drv_ssl_error(diag, s->file.path, "cannot digest the cabinet");
    for (size_t m = 0; m < 4; m++)
        EVP_MD_CTX_free(ctx[m]);
    free(buf);
    return rc;
}

static const unsigned char *cab_digest(cab_state *s, const EVP_MD *md, unsigned *len,
                                       drvsign_diag *diag)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->md_count; i++)
            if (EVP_MD_get_type(s->md[i]) == EVP_MD_get_type(md)) {
                *len = s->digest_len[i];
                return s->digest[i];
            }
        if (pass == 0 && cab_h_prepare(s, &md, 1, 1, diag) != 0)
            return NULL;
    }
    return NULL;
}

static int cab_h_content(void *state, const drv_content_opts *opts, drv_content *out,
                         drvsign_diag *diag)
{
    cab_state *s = state;
    unsigned char *link = NULL;
    size_t link_len;
    unsigned len;
    const unsigned char *digest;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (opts->page_hashes)
        drv_warn(diag, s->file.path, "%s applies to PE files, not to cabinets; ignored",
                 drv_param(diag, DRVSIGN_PARAM_PAGE_HASHES));
    digest = cab_digest(s, opts->md, &len, diag);
    if (digest == NULL)
        return -1;
    if (drv_ac_file_link(0, &link, &link_len) != 0 ||
        drv_ac_indirect_data(DRV_OID_SPC_CAB_DATA, link, link_len, opts->md, digest, len, &out->der,
                             &out->len) != 0) {
        drv_ssl_error(diag, s->file.path, "cannot encode SpcIndirectDataContent");
        goto done;
    }
    strcpy(out->oid, DRV_OID_SPC_INDIRECT_DATA);
    rc = 0;
done:
    OPENSSL_free(link);
    return rc;
}

static int cab_h_signature(void *state, unsigned char **der, size_t *len, drvsign_diag *diag)
{
    cab_state *s = state;
    *der = NULL;
    *len = 0;
    if (s->cab.sig_offset == 0)
        return 0;
    *der = malloc(s->cab.sig_size);
    if (*der == NULL) {
        drv_error(diag, s->file.path, "out of memory");
        return -1;
    }
    if (drv_file_pread(&s->file, s->cab.sig_offset, *der, s->cab.sig_size, diag) != 0) {
        free(*der);
        *der = NULL;
        return -1;
    }
    *len = s->cab.sig_size; /* zero padding after the DER is ignored by the parser */
    return 0;
}

static int cab_h_attach(void *state, const unsigned char *der, size_t len, drv_atomic *out,
                        drvsign_diag *diag)
{
    static const unsigned char zeros[8] = {0};
    cab_state *s = state;
    size_t pad = (8 - len % 8) % 8;

    if (s->head == NULL && build_head(s, diag) != 0)
        return -1;
    if ((uint64_t)len + pad > MAX_SIGNATURE) {
        drv_error(diag, s->file.path, "the signature is too large");
        return -1;
    }
    drv_put_le32(s->head + CAB_HEADER + 4 + 4, s->new_cb_cabinet);
    drv_put_le32(s->head + CAB_HEADER + 4 + 8, (uint32_t)(len + pad));
    if (drv_atomic_write(out, s->head, s->head_len, diag) != 0 ||
        drv_atomic_copy(out, &s->file, s->rest_offset, s->rest_len, diag) != 0 ||
        drv_atomic_write(out, der, len, diag) != 0 || drv_atomic_write(out, zeros, pad, diag) != 0)
        return -1;
    return 0;
}

/* The cabinet with its 20-byte signature reserve kept and pointing at nothing: attach() then
 * gives back the signed bytes exactly. */
static int cab_h_detach(void *state, drv_atomic *out, drvsign_diag *diag)
{
    cab_state *s = state;
    if (s->head == NULL && build_head(s, diag) != 0)
        return -1;
    return drv_atomic_write(out, s->head, s->head_len, diag) == 0 &&
                   drv_atomic_copy(out, &s->file, s->rest_offset, s->rest_len, diag) == 0
               ? 0
               : -1;
}

static int cab_h_check_content(void *state, const drv_sig *sig, drv_content_check *check,
                               drvsign_diag *diag)
{
    cab_state *s = state;
    const unsigned char *digest;
    unsigned len;

    memset(check, 0, sizeof *check);
    if (strcmp(sig->content_type, DRV_OID_SPC_INDIRECT_DATA) != 0 ||
        strcmp(sig->indirect.data_type, DRV_OID_SPC_CAB_DATA) != 0) {
        snprintf(check->problem, sizeof check->problem,
                 "the signature is not an Authenticode signature of a cabinet");
        return 0;
    }
    digest = cab_digest(s, sig->indirect.md, &len, diag);
    if (digest == NULL)
        return -1;
    if (len != sig->indirect.digest_len || memcmp(digest, sig->indirect.digest, len) != 0)
        snprintf(check->problem, sizeof check->problem,
                 "the cabinet digest does not match the signature: the file changed after signing");
    else
        check->digest_ok = 1;
    return 0;
}

/* A catalog records a cabinet by its SIP digest: the signed layout when it has one, else
 * everything but reserved1 (reference 2.7). */
static int cab_h_member_digest(void *state, const EVP_MD *md, unsigned char *out, unsigned *len,
                               drvsign_diag *diag)
{
    cab_state *s = state;
    EVP_MD_CTX *ctx;
    unsigned char *buf;
    int ok;

    if (s->cab.has_slot) {
        const unsigned char *d = cab_digest(s, md, len, diag);
        if (d == NULL)
            return -1;
        memcpy(out, d, *len);
        return 0;
    }
    ctx = EVP_MD_CTX_new();
    buf = malloc(DRV_IO_CHUNK);
    ok = ctx != NULL && buf != NULL && EVP_DigestInit_ex(ctx, md, NULL);
    for (uint64_t off = 0; ok && off < s->file.size;) {
        size_t n = s->file.size - off > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)(s->file.size - off);
        ok = drv_file_pread(&s->file, off, buf, n, diag) == 0;
        if (ok && off == 0) /* skip reserved1 */
            ok = EVP_DigestUpdate(ctx, buf, 4) && EVP_DigestUpdate(ctx, buf + 8, n - 8);
        else if (ok)
            ok = EVP_DigestUpdate(ctx, buf, n);
        off += n;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, len);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return ok ? 0 : -1;
}

/* inspect: the folders and every member with its size and DOS date. */
static int cab_h_describe(void *state, const drv_file *file, FILE *out, int json,
                          drvsign_diag *diag)
{
    drv_cab cab;
    drv_cab_member *m = NULL;
    size_t n = 0;
    (void)state;
    if (drv_cab_open(&cab, file, diag) != 0)
        return -1;
    if (drv_cab_members(&cab, &m, &n, diag) != 0) {
        drv_cab_close(&cab);
        return -1;
    }
    if (json)
        fprintf(out, ", \"cabinet\": {\"folders\": %u, \"files\": [", cab.folder_count);
    else
        fprintf(out, "  %u folder%s, %zu files:\n", cab.folder_count,
                cab.folder_count == 1 ? "" : "s", n);
    for (size_t i = 0; i < n; i++) {
        unsigned y = 1980 + (m[i].date >> 9), mo = m[i].date >> 5 & 15, d = m[i].date & 31;
        unsigned h = m[i].time >> 11, mi = m[i].time >> 5 & 63, se = (m[i].time & 31) * 2;
        if (json) {
            fprintf(out, "%s{\"name\": ", i ? ", " : "");
            drv_json_string(out, m[i].name);
            fprintf(out, ", \"size\": %u, \"date\": \"%04u-%02u-%02uT%02u:%02u:%02u\"}",
                    m[i].size, y, mo, d, h, mi, se);
        } else
            fprintf(out, "    %10u  %04u-%02u-%02u %02u:%02u:%02u  %s\n", m[i].size, y, mo, d,
                    h, mi, se, m[i].name);
    }
    if (json)
        fprintf(out, "]}");
    drv_cab_free_members(m, n);
    drv_cab_close(&cab);
    return 0;
}

const drv_format drv_format_cab = {
    .name = "cab",
    .nests = 1,
    .detect = drv_cab_detect,
    .open = cab_h_open,
    .prepare = cab_h_prepare,
    .content = cab_h_content,
    .signature = cab_h_signature,
    .attach = cab_h_attach,
    .detach = cab_h_detach,
    .check_content = cab_h_check_content,
    .member_digest = cab_h_member_digest,
    .describe = cab_h_describe,
    .close = cab_h_close,
};
