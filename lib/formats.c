#include "formats.h"

#include <stdlib.h>
#include <string.h>

#include "authenticode.h"

extern const drv_format drv_format_pe;
extern const drv_format drv_format_cat;
extern const drv_format drv_format_cab;

/* One row per file format. */
typedef struct format_entry {
    const drv_format *handler; /* detection and the signing operations */
    drv_sip sip;               /* how a catalog records the file (used when it has member_digest) */
    const char *description;   /* one file of this kind, for messages: "a catalog (.cat)" */
    const char *help;          /* files of this kind, for help text: "catalogs (.cat)" */
} format_entry;

/* Formats in detection order; a new format is its own file plus a row here and nothing else. */
static const format_entry formats[] = {
    {&drv_format_pe,
     {"pe", "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}", 0, DRV_OID_SPC_PE_IMAGE_DATA, "Authenticode",
      drv_ctl_value_pe_image},
     "a PE image (.sys, .dll, .exe)", "PE files (.sys, .dll, .exe)"},
    {&drv_format_cat, {0}, "a catalog (.cat)", "catalogs (.cat)"},
    {&drv_format_cab,
     {"cab", "{C689AABA-8E78-11D0-8C47-00C04FC295EE}", 1, DRV_OID_SPC_CAB_DATA, "file",
      drv_ctl_value_file_link},
     "a cabinet (.cab)", "cabinets (.cab)"},
};

#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

const drv_sip drv_sip_flat = {"flat", "{DE351A42-8E59-11D0-8C47-00C04FC295EE}", 2,
                              DRV_OID_SPC_CAB_DATA, "file", drv_ctl_value_file_link};

const drv_sip *drv_sip_by_guid(const char *guid)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (formats[i].sip.guid != NULL && strcmp(formats[i].sip.guid, guid) == 0)
            return &formats[i].sip;
    return &drv_sip_flat;
}

const drv_sip *drv_sip_by_member_kind(unsigned kind)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (formats[i].sip.name != NULL && formats[i].sip.member_kind == kind)
            return &formats[i].sip;
    return &drv_sip_flat;
}

/* Flat members share the CAB data type (as makecat writes them), so it reads back as flat. */
const drv_sip *drv_sip_by_indirect_type(const char *oid)
{
    if (strcmp(oid, drv_sip_flat.indirect_type) == 0)
        return &drv_sip_flat;
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (formats[i].sip.indirect_type != NULL && strcmp(formats[i].sip.indirect_type, oid) == 0)
            return &formats[i].sip;
    return &drv_sip_flat;
}

const drv_format *drv_format_named(const char *name)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (strcmp(formats[i].handler->name, name) == 0)
            return formats[i].handler;
    return NULL;
}

/* "a, b or c" (or "and"): each row's description or help text, in table order. */
static void join_rows(char *buf, size_t size, int help, const char *last_joiner)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < FORMAT_COUNT && used < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == FORMAT_COUNT ? last_joiner : ", ";
        int n = snprintf(buf + used, size - used, "%s%s", sep,
                         help ? formats[i].help : formats[i].description);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

size_t drvsign_signable_formats(char *buf, size_t size)
{
    char text[512];
    join_rows(text, sizeof text, 1, " and ");
    if (size > 0)
        snprintf(buf, size, "%s", text);
    return strlen(text);
}

#define HEAD_BYTES 4096

/* The first HEAD_BYTES of the file (all of a small one) into head, and its row if known. */
static const format_entry *probe_head(const drv_file *file, unsigned char head[HEAD_BYTES],
                                      size_t *n, int *failed, drvsign_diag *diag)
{
    *n = file->size < HEAD_BYTES ? (size_t)file->size : HEAD_BYTES;
    *failed = drv_file_pread(file, 0, head, *n, diag) != 0;
    for (size_t i = 0; !*failed && i < FORMAT_COUNT; i++)
        if (formats[i].handler->detect(head, *n))
            return &formats[i];
    return NULL;
}

const drv_format *drv_format_probe(const drv_file *file, drvsign_diag *diag)
{
    unsigned char head[HEAD_BYTES];
    size_t n;
    int failed;
    const format_entry *row = probe_head(file, head, &n, &failed, diag);
    return row != NULL ? row->handler : NULL;
}

const drv_format *drv_format_for(const drv_file *file, drvsign_diag *diag)
{
    unsigned char head[2];
    const drv_format *fmt;
    char expected[512];
    unsigned errors = diag->errors;

    fmt = drv_format_probe(file, diag);
    if (fmt != NULL || diag->errors != errors)
        return fmt;
    if (file->size >= 2 && drv_file_pread(file, 0, head, 2, diag) == 0 && head[0] == 'M' &&
        head[1] == 'Z')
        return &drv_format_pe; /* let the PE parser say precisely what is wrong */
    join_rows(expected, sizeof expected, 0, " or ");
    drv_error(diag, file->path, "unsupported file type (expected %s)", expected);
    return NULL;
}

static int flat_hash(const drv_file *f, int want_sha256, drv_member_hash *out, drvsign_diag *diag)
{
    EVP_MD_CTX *ctx[2] = {EVP_MD_CTX_new(), want_sha256 ? EVP_MD_CTX_new() : NULL};
    drv_digest_set d = {ctx, want_sha256 ? 2 : 1};
    drv_range all = {0, f->size};
    unsigned errors = diag->errors;
    int rc = -1;

    if (ctx[0] == NULL || (want_sha256 && ctx[1] == NULL) ||
        !EVP_DigestInit_ex(ctx[0], EVP_sha1(), NULL) ||
        (want_sha256 && !EVP_DigestInit_ex(ctx[1], EVP_sha256(), NULL)))
        goto done;
    if (drv_file_stream(f, &all, 1, drv_digest_set_update, &d, diag) != 0)
        goto done;
    if (!EVP_DigestFinal_ex(ctx[0], out->sha1, NULL) ||
        (want_sha256 && !EVP_DigestFinal_ex(ctx[1], out->sha256, NULL)))
        goto done;
    rc = 0;
done:
    if (rc != 0 && diag->errors == errors)
        drv_ssl_error(diag, f->path, "cannot hash the file");
    EVP_MD_CTX_free(ctx[0]);
    EVP_MD_CTX_free(ctx[1]);
    return rc;
}

int drv_member_hash_file(const char *path, int want_sha256, int page_hashes, drv_member_hash *out,
                         drvsign_diag *diag)
{
    drv_file f;
    const format_entry *row;
    const drv_format *fmt = NULL;
    void *state = NULL;
    unsigned char head[HEAD_BYTES];
    size_t head_len;
    int failed, rc = -1;

    memset(out, 0, sizeof *out);
    if (drv_file_open(&f, path, diag) != 0)
        return -1;
    out->size = f.size;
    row = probe_head(&f, head, &head_len, &failed, diag);
    if (failed)
        goto done;
    if (row == NULL && head_len == f.size) { /* a small file: hashed from what the probe read */
        out->sip = &drv_sip_flat;
        if (!EVP_Digest(head, head_len, out->sha1, NULL, EVP_sha1(), NULL) ||
            (want_sha256 && !EVP_Digest(head, head_len, out->sha256, NULL, EVP_sha256(), NULL))) {
            drv_ssl_error(diag, path, "cannot hash the file");
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (row == NULL || row->handler->member_digest == NULL || row->sip.name == NULL) {
        /* everything that is not an image is hashed flat (INF, PDB, catalogs, data files) */
        out->sip = &drv_sip_flat;
        rc = flat_hash(&f, want_sha256, out, diag);
        goto done;
    }
    fmt = row->handler;
    out->sip = &row->sip;
    if (fmt->open(&f, &state, diag) != 0)
        goto done;
    {
        const EVP_MD *mds[2] = {EVP_sha1(), EVP_sha256()};
        unsigned len;
        if ((fmt->prepare != NULL &&
             fmt->prepare(state, mds, want_sha256 ? 2 : 1, 1, diag) != 0) ||
            fmt->member_digest(state, mds[0], out->sha1, &len, diag) != 0 ||
            (want_sha256 && fmt->member_digest(state, mds[1], out->sha256, &len, diag) != 0))
            goto done;
        if (page_hashes && fmt->page_hashes != NULL &&
            (fmt->page_hashes(state, mds[0], &out->page_hashes_sha1, &out->page_hashes_sha1_len,
                              diag) != 0 ||
             (want_sha256 && fmt->page_hashes(state, mds[1], &out->page_hashes_sha256,
                                              &out->page_hashes_sha256_len, diag) != 0)))
            goto done;
    }
    rc = 0;
done:
    if (state != NULL)
        fmt->close(state);
    drv_file_close(&f);
    if (rc != 0)
        drv_member_hash_free(out);
    return rc;
}

void drv_member_hash_free(drv_member_hash *h)
{
    free(h->page_hashes_sha1);
    free(h->page_hashes_sha256);
    h->page_hashes_sha1 = h->page_hashes_sha256 = NULL;
}
