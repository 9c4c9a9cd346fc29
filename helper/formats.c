#include "formats.h"

#include <stdlib.h>
#include <string.h>

/* Formats in detection order; a new format joins this table, no other code changes. */
static const drv_format *const formats[] = {
    &drv_format_pe,
    &drv_format_cat,
    &drv_format_cab,
};

#define HEAD_BYTES 4096

/* The first HEAD_BYTES of the file (all of a small one) into head, and its format if known. */
static const drv_format *probe_head(const drv_file *file, unsigned char head[HEAD_BYTES],
                                    size_t *n, int *failed, drvsign_diag *diag)
{
    *n = file->size < HEAD_BYTES ? (size_t)file->size : HEAD_BYTES;
    *failed = drv_file_pread(file, 0, head, *n, diag) != 0;
    for (size_t i = 0; !*failed && i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i]->detect(head, *n))
            return formats[i];
    return NULL;
}

const drv_format *drv_format_probe(const drv_file *file, drvsign_diag *diag)
{
    unsigned char head[HEAD_BYTES];
    size_t n;
    int failed;
    return probe_head(file, head, &n, &failed, diag);
}

const drv_format *drv_format_for(const drv_file *file, drvsign_diag *diag)
{
    unsigned char head[2];
    const drv_format *fmt;
    unsigned errors = diag ? diag->errors : 0;

    fmt = drv_format_probe(file, diag);
    if (fmt != NULL || (diag != NULL && diag->errors != errors))
        return fmt;
    if (file->size >= 2 && drv_file_pread(file, 0, head, 2, diag) == 0 && head[0] == 'M' &&
        head[1] == 'Z')
        return &drv_format_pe; /* let the PE parser say precisely what is wrong */
    drv_error(diag, file->path,
              "unsupported file type (expected a PE image (.sys, .dll, .exe), a catalog (.cat) "
              "or a cabinet (.cab))");
    return NULL;
}

typedef struct digests {
    EVP_MD_CTX *ctx[2];
    size_t count;
} digests;

static int update_digests(void *arg, uint64_t off, const unsigned char *p, size_t n)
{
    digests *d = arg;
    (void)off;
    for (size_t i = 0; i < d->count; i++)
        if (!EVP_DigestUpdate(d->ctx[i], p, n))
            return -1;
    return 0;
}

static int flat_hash(const drv_file *f, int want_sha256, drv_member_hash *out, drvsign_diag *diag)
{
    digests d = {{EVP_MD_CTX_new(), want_sha256 ? EVP_MD_CTX_new() : NULL}, want_sha256 ? 2 : 1};
    drv_range all = {0, f->size};
    unsigned errors = diag != NULL ? diag->errors : 0;
    int rc = -1;

    if (d.ctx[0] == NULL || (want_sha256 && d.ctx[1] == NULL) ||
        !EVP_DigestInit_ex(d.ctx[0], EVP_sha1(), NULL) ||
        (want_sha256 && !EVP_DigestInit_ex(d.ctx[1], EVP_sha256(), NULL)))
        goto done;
    if (drv_file_stream(f, &all, 1, update_digests, &d, diag) != 0)
        goto done;
    if (!EVP_DigestFinal_ex(d.ctx[0], out->sha1, NULL) ||
        (want_sha256 && !EVP_DigestFinal_ex(d.ctx[1], out->sha256, NULL)))
        goto done;
    rc = 0;
done:
    if (rc != 0 && diag != NULL && diag->errors == errors)
        drv_ssl_error(diag, f->path, "cannot hash the file");
    EVP_MD_CTX_free(d.ctx[0]);
    EVP_MD_CTX_free(d.ctx[1]);
    return rc;
}

int drv_member_hash_file(const char *path, int want_sha256, int page_hashes, drv_member_hash *out,
                         drvsign_diag *diag)
{
    drv_file f;
    const drv_format *fmt;
    void *state = NULL;
    unsigned char head[HEAD_BYTES];
    size_t head_len;
    int failed, rc = -1;

    memset(out, 0, sizeof *out);
    if (drv_file_open(&f, path, diag) != 0)
        return -1;
    out->size = f.size;
    fmt = probe_head(&f, head, &head_len, &failed, diag);
    if (failed)
        goto done;
    if (fmt == NULL && head_len == f.size) { /* a small file: hashed from what the probe read */
        out->sip = DRV_SIP_FLAT;
        if (!EVP_Digest(head, head_len, out->sha1, NULL, EVP_sha1(), NULL) ||
            (want_sha256 && !EVP_Digest(head, head_len, out->sha256, NULL, EVP_sha256(), NULL))) {
            drv_ssl_error(diag, path, "cannot hash the file");
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (fmt == NULL || fmt->member_digest == NULL) {
        /* everything that is not an image is hashed flat (INF, PDB, catalogs, data files) */
        out->sip = DRV_SIP_FLAT;
        rc = flat_hash(&f, want_sha256, out, diag);
        goto done;
    }
    out->sip = fmt->sip;
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
