/* The Authenticode image digest, the CheckSum and page hashes: one streaming pass per image. */
#include "pe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "authenticode.h"
#include "bytes.h"

/* The page-hash table goes into the signature, which must fit the certificate table. */
#define MAX_PAGE_HASH_TABLE (48u << 20)

uint64_t drv_pe_word_sum(const unsigned char *buf, size_t n, uint64_t pos)
{
    uint64_t sum = 0, lane[4] = {0};
    size_t i = 0;
    if (n > 0 && (pos & 1)) {
        sum += (uint64_t)buf[0] << 8;
        i = 1;
    }
    /* Two words at a time as one 32-bit number: w0 + 65536 w1 folds to w0 + w1, so the folded
     * sum is the same. Four independent lanes, which compilers vectorize; 64-bit lanes cannot
     * overflow below 2^32 additions. */
    for (; n - i >= 16; i += 16)
        for (int k = 0; k < 4; k++)
            lane[k] += drv_le32(buf + i + 4 * k);
    sum += lane[0] + lane[1] + lane[2] + lane[3];
    for (; i + 1 < n; i += 2)
        sum += (uint64_t)buf[i] | (uint64_t)buf[i + 1] << 8;
    if (i < n)
        sum += buf[i];
    return sum;
}

uint32_t drv_pe_fold_checksum(uint64_t sum, uint64_t file_size)
{
    /* Folding the carries back in at the end equals the loader's fold after every word. */
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)(sum + file_size);
}

/*
 * The scan reads the image once per consumer, from the page cache without copying where the
 * platform maps files (drv_file_stream): this thread hashes it while a second one takes the
 * CheckSum sums and writes it into the output. SHA-256 and the write into the page cache cost
 * about the same, so two cores halve the time.
 */
#define ERROR_TEXT 512

/* ctx: a char[ERROR_TEXT] that keeps the first error */
static void capture_error(void *ctx, int is_error, const char *line)
{
    char *error = ctx;
    if (is_error && error[0] == 0)
        snprintf(error, ERROR_TEXT, "%s", line);
}

typedef struct scan_writer {
    const drv_pe *pe;
    drv_range ranges[4]; /* the hashed ranges, then the part after content_end */
    drv_atomic *out;     /* may be NULL: sums only */
    int sums;
    uint64_t sum_content, sum_tail;
    int rc;
    char error[ERROR_TEXT];
} scan_writer;

static int write_and_sum(void *arg, uint64_t off, const unsigned char *p, size_t n)
{
    scan_writer *w = arg;
    drvsign_diag private_diag = {.emit = capture_error, .ctx = w->error};
    if (off >= w->pe->content_end) { /* the old certificate table and what follows it */
        w->sum_tail += drv_pe_word_sum(p, n, off);
        return 0;
    }
    if (w->sums)
        w->sum_content += drv_pe_word_sum(p, n, off);
    if (w->out == NULL)
        return 0;
    if (drv_atomic_pwrite(w->out, off, p, n, &private_diag) != 0)
        return -1;
    /* in place, the commit waits for the disk: let it start now, while hashing goes on */
    if (w->out->in_place)
        drv_atomic_start_writeback(w->out);
    return 0;
}

/* The CheckSum and the directory entry are left out of the sums and hold zeros in the output
 * until the signature is attached (drv_pe_write_signature). */
static void scan_write(void *arg)
{
    static const unsigned char zeros[8] = {0};
    scan_writer *w = arg;
    drvsign_diag private_diag = {.emit = capture_error, .ctx = w->error};
    w->rc = drv_file_stream(w->pe->file, w->ranges, w->sums ? 4 : 3, write_and_sum, w,
                            &private_diag);
    if (w->rc == 0 && w->out != NULL &&
        (drv_atomic_pwrite(w->out, w->pe->checksum_off, zeros, 4, &private_diag) != 0 ||
         drv_atomic_pwrite(w->out, w->pe->certdir_off, zeros, 8, &private_diag) != 0))
        w->rc = -1;
}

int drv_pe_scan_file(const drv_pe *pe, drv_pe_scan *scan, drvsign_diag *diag)
{
    const drv_file *f = pe->file;
    EVP_MD_CTX *ctx[DRV_PE_MAX_DIGESTS] = {0};
    static const unsigned char zeros[8] = {0};
    /* Authenticode hashes everything up to content_end except these two fields. */
    const drv_range hashed[3] = {{0, pe->checksum_off},
                                 {pe->checksum_off + 4, pe->certdir_off - pe->checksum_off - 4},
                                 {pe->certdir_off + 8, pe->content_end - pe->certdir_off - 8}};
    size_t pad = (size_t)((8 - pe->content_end % 8) % 8);
    drv_digest_set digests = {ctx, scan->md_count};
    scan_writer *writer = NULL;
    drv_thread *thread = NULL;
    unsigned errors = diag->errors;
    int rc = -1;

    scan->sum_content = scan->sum_tail = 0;
    if (scan->md_count > DRV_PE_MAX_DIGESTS)
        goto oom;
    for (size_t m = 0; m < scan->md_count; m++) {
        ctx[m] = EVP_MD_CTX_new();
        if (ctx[m] == NULL || !EVP_DigestInit_ex(ctx[m], scan->md[m], NULL))
            goto ssl_fail;
    }
    if (scan->copy_to != NULL || !scan->no_sums) {
        if ((writer = calloc(1, sizeof *writer)) == NULL)
            goto oom;
        writer->pe = pe;
        memcpy(writer->ranges, hashed, sizeof hashed);
        writer->ranges[3].off = pe->content_end;
        writer->ranges[3].len = f->size - pe->content_end;
        writer->out = scan->copy_to;
        writer->sums = !scan->no_sums;
        /* a thread is worth it for a large image only */
        if (f->size < DRV_STREAM_MAP_MIN || (thread = drv_thread_start(scan_write, writer)) == NULL)
            scan_write(writer);
    }
    if (drv_file_stream(f, hashed, 3, drv_digest_set_update, &digests, diag) != 0) {
        if (diag->errors == errors)
            goto ssl_fail;
        goto done;
    }
    drv_thread_join(thread);
    thread = NULL;
    if (writer != NULL) {
        if (writer->rc != 0) {
            drv_error(diag, NULL, "%s", writer->error[0] ? writer->error : "write failed");
            goto done;
        }
        scan->sum_content = writer->sum_content;
        scan->sum_tail = writer->sum_tail;
    }
    for (size_t m = 0; m < scan->md_count; m++)
        if ((pad && !EVP_DigestUpdate(ctx[m], zeros, pad)) ||
            !EVP_DigestFinal_ex(ctx[m], scan->digest[m], &scan->digest_len[m]))
            goto ssl_fail;
    if (scan->copy_to != NULL)
        scan->copy_to->pos = pe->content_end; /* written at offsets, by the writer */
    rc = 0;
    goto done;
oom:
    drv_error(diag, f->path, "out of memory");
    goto done;
ssl_fail:
    drv_ssl_error(diag, f->path, "digest failed");
done:
    drv_thread_join(thread); /* after a failure too: no thread outlives what it uses */
    free(writer);
    for (size_t m = 0; m < DRV_PE_MAX_DIGESTS; m++)
        EVP_MD_CTX_free(ctx[m]);
    return rc;
}

uint32_t drv_pe_checksum(const drv_pe *pe, const drv_pe_scan *scan)
{
    unsigned char dir[8];
    drv_put_le32(dir, pe->cert_off);
    drv_put_le32(dir + 4, pe->cert_size);
    return drv_pe_fold_checksum(scan->sum_content + scan->sum_tail +
                                    drv_pe_word_sum(dir, sizeof dir, pe->certdir_off),
                                pe->file->size);
}

/* H(n bytes at off, zero-padded to page) */
static int hash_page(const drv_pe *pe, const EVP_MD *md, uint64_t off, size_t n, size_t page,
                     unsigned char *buf, unsigned char *out, drvsign_diag *diag)
{
    if (drv_file_pread(pe->file, off, buf, n, diag) != 0)
        return -1;
    memset(buf + n, 0, page - n);
    if (!EVP_Digest(buf, page, out, NULL, md, NULL)) {
        drv_ssl_error(diag, pe->file->path, "digest failed");
        return -1;
    }
    return 0;
}

int drv_pe_page_hashes(const drv_pe *pe, const EVP_MD *md, unsigned char **table,
                       size_t *table_len, drvsign_diag *diag)
{
    size_t page = pe->section_alignment, dlen = (size_t)EVP_MD_get_size(md), entry = 4 + dlen;
    uint64_t pages = 2, used = 0;
    unsigned char *buf = NULL, *t = NULL;
    uint64_t last_end = 0;
    int rc = -1;

    *table = NULL;
    if (page < 512 || page > (1u << 16) || (page & (page - 1)) != 0) {
        drv_error(diag, pe->file->path,
                  "page hashes need a SectionAlignment between 512 and 65536 that is a power of "
                  "two (this image has %u)",
                  pe->section_alignment);
        return -1;
    }
    if (pe->size_of_headers > page || pe->size_of_headers < pe->certdir_off + 8 ||
        pe->size_of_headers > pe->content_end) {
        drv_error(diag, pe->file->path,
                  "page hashes need the headers (SizeOfHeaders %u) to fit in one page of %zu bytes",
                  pe->size_of_headers, page);
        return -1;
    }
    /* 64-bit counts: a section within a page of 4 GiB would wrap 32-bit arithmetic. */
    for (unsigned i = 0; i < pe->section_count; i++)
        pages += ((uint64_t)pe->sections[i].raw_size + page - 1) / page;
    /* Sections may overlap, so bound the table by the file, not by their sum: one entry per
     * page of the image, plus each section's partial last page. */
    if (pages > pe->content_end / page + pe->section_count + 2 ||
        pages * entry > MAX_PAGE_HASH_TABLE) {
        drv_error(diag, pe->file->path,
                  "page hashes would need %llu entries for a %llu-byte image (overlapping "
                  "sections, or more than %u MiB of table); sign without page hashes",
                  (unsigned long long)pages, (unsigned long long)pe->content_end,
                  MAX_PAGE_HASH_TABLE >> 20);
        return -1;
    }
    buf = malloc(page);
    t = malloc((size_t)(pages * entry));
    if (buf == NULL || t == NULL) {
        drv_error(diag, pe->file->path, "out of memory");
        goto done;
    }
    /* Page 0: the headers without the CheckSum and the certificate directory entry. */
    {
        uint32_t ck = pe->checksum_off, cd = pe->certdir_off, hs = pe->size_of_headers;
        if (drv_file_pread(pe->file, 0, buf, hs, diag) != 0)
            goto done;
        /* Squeeze out the two fields; the 12 bytes are not made up, so page - 12 get hashed. */
        memmove(buf + ck, buf + ck + 4, hs - ck - 4);
        memmove(buf + cd - 4, buf + cd + 4, hs - cd - 8);
        memset(buf + hs - 12, 0, page - hs);
        drv_put_le32(t, 0);
        if (!EVP_Digest(buf, page - 12, t + 4, NULL, md, NULL))
            goto done;
        used = 1;
    }
    for (unsigned i = 0; i < pe->section_count; i++) {
        const drv_pe_section *s = &pe->sections[i];
        for (uint64_t l = 0; l < s->raw_size; l += page) {
            size_t n = s->raw_size - l < page ? (size_t)(s->raw_size - l) : page;
            drv_put_le32(t + used * entry, (uint32_t)(s->raw_ptr + l));
            if (hash_page(pe, md, (uint64_t)s->raw_ptr + l, n, page, buf, t + used * entry + 4,
                          diag) != 0)
                goto done;
            used++;
        }
        if (s->raw_size != 0)
            last_end = (uint64_t)s->raw_ptr + s->raw_size;
    }
    drv_put_le32(t + used * entry, (uint32_t)last_end);
    memset(t + used * entry + 4, 0, dlen);
    used++;
    *table = t;
    *table_len = (size_t)(used * entry);
    t = NULL;
    rc = 0;
done:
    free(buf);
    free(t);
    return rc;
}
