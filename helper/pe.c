#include "pe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"

#define WIN_CERT_REVISION_2_0 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002
/* A certificate table larger than this is not a signature but an attack on our memory. */
#define MAX_CERT_TABLE (64u << 20)
/* The page-hash table goes into the signature, which must fit the certificate table. */
#define MAX_PAGE_HASH_TABLE (48u << 20)

int drv_pe_detect(const unsigned char *head, size_t n)
{
    uint32_t l;
    if (n < 64 || head[0] != 'M' || head[1] != 'Z')
        return 0;
    l = drv_le32(head + 0x3c);
    return l <= n - 4 && memcmp(head + l, "PE\0\0", 4) == 0;
}

int drv_pe_open(drv_pe *pe, const drv_file *f, drvsign_diag *diag)
{
    unsigned char dos[64], hdr[24 + 256];
    uint32_t l, opt_size, rva_count, hdr_end;
    unsigned p;
    uint16_t magic;
    unsigned char *sec = NULL;
    size_t sec_bytes;

    memset(pe, 0, sizeof *pe);
    pe->file = f;
    if (f->size < sizeof dos) {
        drv_error(diag, f->path, "not a PE file: only %llu bytes", (unsigned long long)f->size);
        return -1;
    }
    if (f->size > UINT32_MAX) {
        drv_error(diag, f->path, "PE files are limited to 4 GiB");
        return -1;
    }
    if (drv_file_pread(f, 0, dos, sizeof dos, diag) != 0)
        return -1;
    if (dos[0] != 'M' || dos[1] != 'Z') {
        drv_error(diag, f->path, "not a PE file: no MZ header");
        return -1;
    }
    l = drv_le32(dos + 0x3c);
    if (l < 4 || (uint64_t)l + 24 > f->size) {
        drv_error(diag, f->path, "e_lfanew (0x%x) points outside the file", l);
        return -1;
    }
    if (drv_file_pread(f, l, hdr, 24, diag) != 0)
        return -1;
    if (memcmp(hdr, "PE\0\0", 4) != 0) {
        drv_error(diag, f->path, "e_lfanew (0x%x) does not point at a PE signature", l);
        return -1;
    }
    pe->lfanew = l;
    pe->section_count = drv_le16(hdr + 6);
    opt_size = drv_le16(hdr + 20);
    if (pe->section_count > DRV_PE_MAX_SECTIONS) {
        drv_error(diag, f->path, "%u sections; a PE image has at most %d", pe->section_count,
                  DRV_PE_MAX_SECTIONS);
        return -1;
    }
    if ((uint64_t)l + 24 + opt_size > f->size) {
        drv_error(diag, f->path, "the optional header runs past the end of the file");
        return -1;
    }
    if (opt_size < 2 || drv_file_pread(f, (uint64_t)l + 24, hdr + 24,
                                       opt_size < 256 ? opt_size : 256, diag) != 0) {
        if (opt_size < 2)
            drv_error(diag, f->path, "no optional header");
        return -1;
    }
    magic = drv_le16(hdr + 24);
    if (magic == 0x20b)
        pe->pe32plus = 1;
    else if (magic != 0x10b) {
        drv_error(diag, f->path, "unknown optional header magic 0x%x (neither PE32 nor PE32+)",
                  magic);
        return -1;
    }
    p = pe->pe32plus ? 16 : 0;
    /* Offsets below are relative to L (reference 4.1); hdr holds L .. L+24+min(opt,256). */
    if (opt_size < 96 + p + 4 + 5 * 8) {
        drv_error(diag, f->path,
                  "the optional header (%u bytes) is too small to hold a certificate table entry",
                  opt_size);
        return -1;
    }
    rva_count = drv_le32(hdr + 116 + p);
    if (rva_count < 5) {
        drv_error(diag, f->path,
                  "NumberOfRvaAndSizes is %u: the image has no certificate table entry", rva_count);
        return -1;
    }
    pe->section_alignment = drv_le32(hdr + 56);
    pe->size_of_headers = drv_le32(hdr + 84);
    pe->header_checksum = drv_le32(hdr + 88);
    pe->checksum_off = l + 88;
    pe->certdir_off = l + 152 + p;
    pe->cert_off = drv_le32(hdr + 152 + p);
    pe->cert_size = drv_le32(hdr + 156 + p);

    hdr_end = l + 24 + opt_size;
    sec_bytes = (size_t)pe->section_count * 40;
    if ((uint64_t)hdr_end + sec_bytes > f->size) {
        drv_error(diag, f->path, "the section table runs past the end of the file");
        return -1;
    }
    pe->content_end = f->size;
    if (pe->cert_off != 0 || pe->cert_size != 0) {
        if (pe->cert_off < hdr_end + sec_bytes || pe->cert_size < 8 ||
            (uint64_t)pe->cert_off + pe->cert_size > f->size) {
            drv_error(diag, f->path,
                      "the certificate table (offset 0x%x, size %u) lies outside the file",
                      pe->cert_off, pe->cert_size);
            return -1;
        }
        if ((uint64_t)pe->cert_off + pe->cert_size != f->size) {
            /* MS12-024: anything after the certificate table would be unsigned, so Windows
             * and osslsigncode refuse such files; so do we. */
            drv_error(diag, f->path,
                      "the certificate table is not at the end of the file (%llu bytes follow it)",
                      (unsigned long long)(f->size - pe->cert_off - pe->cert_size));
            return -1;
        }
        pe->content_end = pe->cert_off;
    }
    sec = malloc(sec_bytes ? sec_bytes : 1);
    if (sec == NULL) {
        drv_error(diag, f->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(f, hdr_end, sec, sec_bytes, diag) != 0) {
        free(sec);
        return -1;
    }
    for (unsigned i = 0; i < pe->section_count; i++) {
        drv_pe_section *s = &pe->sections[i];
        const unsigned char *e = sec + (size_t)i * 40;
        memcpy(s->name, e, 8);
        s->name[8] = 0;
        for (char *c = s->name; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
        s->raw_size = drv_le32(e + 16);
        s->raw_ptr = drv_le32(e + 20);
        if (s->raw_size != 0 && (uint64_t)s->raw_ptr + s->raw_size > pe->content_end) {
            drv_error(diag, f->path,
                      "section %u (%s) points past the end of the file: raw data 0x%x+0x%x, "
                      "image data ends at 0x%llx",
                      i + 1, s->name, s->raw_ptr, s->raw_size,
                      (unsigned long long)pe->content_end);
            free(sec);
            return -1;
        }
    }
    free(sec);
    return 0;
}

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

typedef struct scan_digests {
    EVP_MD_CTX **ctx;
    size_t count;
} scan_digests;

static int update_scan_digests(void *arg, uint64_t off, const unsigned char *p, size_t n)
{
    scan_digests *d = arg;
    (void)off;
    for (size_t i = 0; i < d->count; i++)
        if (!EVP_DigestUpdate(d->ctx[i], p, n))
            return -1;
    return 0;
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
    scan_digests digests = {ctx, scan->md_count};
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
    if (drv_file_stream(f, hashed, 3, update_scan_digests, &digests, diag) != 0) {
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

int drv_pe_signature(const drv_pe *pe, unsigned char **der, size_t *der_len, drvsign_diag *diag)
{
    unsigned char head[8];
    uint32_t len;

    *der = NULL;
    *der_len = 0;
    if (pe->cert_off == 0 && pe->cert_size == 0)
        return 0;
    if (pe->cert_size > MAX_CERT_TABLE) {
        drv_error(diag, pe->file->path, "the certificate table is implausibly large (%u bytes)",
                  pe->cert_size);
        return -1;
    }
    if (drv_file_pread(pe->file, pe->cert_off, head, 8, diag) != 0)
        return -1;
    len = drv_le32(head);
    if (len < 8 || len > pe->cert_size) {
        drv_error(diag, pe->file->path,
                  "the attribute certificate length (%u) does not fit the certificate table (%u)",
                  len, pe->cert_size);
        return -1;
    }
    if (drv_le16(head + 6) != WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
        drv_error(diag, pe->file->path,
                  "the attribute certificate is of type %u, not PKCS#7 signed data",
                  drv_le16(head + 6));
        return -1;
    }
    *der_len = len - 8;
    *der = malloc(*der_len ? *der_len : 1);
    if (*der == NULL) {
        drv_error(diag, pe->file->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(pe->file, (uint64_t)pe->cert_off + 8, *der, *der_len, diag) != 0) {
        free(*der);
        *der = NULL;
        return -1;
    }
    return 0;
}

int drv_pe_write_signature(const drv_pe *pe, const drv_pe_scan *scan, const unsigned char *der,
                           size_t der_len, drv_atomic *out, drvsign_diag *diag)
{
    static const unsigned char zeros[8] = {0};
    uint64_t content_end = pe->content_end;
    size_t pad = (size_t)((8 - content_end % 8) % 8);
    size_t sig_pad = (8 - der_len % 8) % 8;
    uint64_t cert_off = content_end + pad;
    uint64_t cert_len = 8 + (uint64_t)der_len + sig_pad;
    unsigned char win_cert[8], dir[8], ck[4];
    uint64_t sum;

    if (cert_off + cert_len > UINT32_MAX) {
        drv_error(diag, pe->file->path, "the signed image would exceed 4 GiB");
        return -1;
    }
    if (out->pos != content_end) {
        drv_error(diag, pe->file->path, "internal error: the image was not staged completely");
        return -1;
    }
    drv_put_le32(win_cert, (uint32_t)cert_len);
    drv_put_le16(win_cert + 4, WIN_CERT_REVISION_2_0);
    drv_put_le16(win_cert + 6, WIN_CERT_TYPE_PKCS_SIGNED_DATA);
    drv_put_le32(dir, (uint32_t)cert_off);
    drv_put_le32(dir + 4, (uint32_t)cert_len);

    /* The CheckSum of the final file, from the content sums and the bytes we add. */
    sum = scan->sum_content + drv_pe_word_sum(dir, 8, pe->certdir_off) +
          drv_pe_word_sum(win_cert, 8, cert_off) + drv_pe_word_sum(der, der_len, cert_off + 8);
    drv_put_le32(ck, drv_pe_fold_checksum(sum, cert_off + cert_len));

    if (drv_atomic_write(out, zeros, pad, diag) != 0 ||
        drv_atomic_write(out, win_cert, 8, diag) != 0 ||
        drv_atomic_write(out, der, der_len, diag) != 0 ||
        drv_atomic_write(out, zeros, sig_pad, diag) != 0 ||
        drv_atomic_pwrite(out, pe->certdir_off, dir, 8, diag) != 0 ||
        drv_atomic_pwrite(out, pe->checksum_off, ck, 4, diag) != 0)
        return -1;
    return 0;
}

int drv_pe_write_unsigned(const drv_pe *pe, const drv_pe_scan *scan, drv_atomic *out,
                          drvsign_diag *diag)
{
    static const unsigned char dir[8] = {0};
    unsigned char ck[4];
    /* sum_content counts the directory entry as zero, which it now is */
    drv_put_le32(ck, drv_pe_fold_checksum(scan->sum_content, pe->content_end));
    if (drv_atomic_copy(out, pe->file, 0, pe->content_end, diag) != 0 ||
        drv_atomic_pwrite(out, pe->certdir_off, dir, 8, diag) != 0 ||
        drv_atomic_pwrite(out, pe->checksum_off, ck, 4, diag) != 0)
        return -1;
    return 0;
}

/* ---- the PE handler (handler.h) ---- */

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
