/*
 * PE/COFF images (.sys, .dll, .exe; PE32 and PE32+): bounds-checked header parsing, the
 * Authenticode image digest (reference section 2.7 / 4.2), page hashes (4.5), the header
 * CheckSum, and writing the image with an attribute certificate table appended.
 */
#ifndef DRVSIGN_PE_H
#define DRVSIGN_PE_H

#include <stdint.h>

#include <openssl/evp.h>

#include "port.h"

#define DRV_PE_MAX_SECTIONS 96
#define DRV_PE_MAX_DIGESTS 4

typedef struct drv_pe_section {
    char name[9];
    uint32_t raw_ptr;
    uint32_t raw_size;
} drv_pe_section;

typedef struct drv_pe {
    const drv_file *file;
    uint32_t lfanew;
    int pe32plus;
    uint32_t checksum_off; /* L+88 */
    uint32_t certdir_off;  /* L+152+P */
    uint32_t section_alignment;
    uint32_t size_of_headers;
    uint32_t header_checksum;
    uint32_t cert_off, cert_size; /* the certificate table directory entry */
    uint64_t content_end;         /* where the signed content ends: cert_off, or the file size */
    unsigned section_count;
    drv_pe_section sections[DRV_PE_MAX_SECTIONS];
} drv_pe;

/* Quick test on the first bytes of a file: "MZ" with a "PE\0\0" where e_lfanew points. */
int drv_pe_detect(const unsigned char *head, size_t n);

int drv_pe_open(drv_pe *pe, const drv_file *file, drvsign_diag *diag);

/*
 * One streaming pass: the Authenticode digest for each md (zero padding to 8 included), the
 * CheckSum word sums with the CheckSum and certificate directory fields left out, and, with
 * copy_to, the image without its certificate table copied into that output (its CheckSum and
 * directory entry zeroed until drv_pe_write_signature), on a second thread.
 */
typedef struct drv_pe_scan {
    const EVP_MD *md[DRV_PE_MAX_DIGESTS];
    size_t md_count;
    unsigned char digest[DRV_PE_MAX_DIGESTS][EVP_MAX_MD_SIZE];
    unsigned digest_len[DRV_PE_MAX_DIGESTS];
    int no_sums;          /* input: skip the CheckSum sums (catalog digests need none) */
    drv_atomic *copy_to;  /* input: where the image goes too (may be NULL) */
    uint64_t sum_content; /* [0, content_end) */
    uint64_t sum_tail;    /* [content_end, file size) */
} drv_pe_scan;

int drv_pe_scan_file(const drv_pe *pe, drv_pe_scan *scan, drvsign_diag *diag);

/* The CheckSum the header should hold for the file as it is. */
uint32_t drv_pe_checksum(const drv_pe *pe, const drv_pe_scan *scan);

/* Page-hash table (4-byte offset + digest per page, then a zero entry). */
int drv_pe_page_hashes(const drv_pe *pe, const EVP_MD *md, unsigned char **table,
                       size_t *table_len, drvsign_diag *diag);

/* The PKCS#7 DER of the first attribute certificate; *der NULL when the file is unsigned. */
int drv_pe_signature(const drv_pe *pe, unsigned char **der, size_t *der_len, drvsign_diag *diag);

/*
 * Writing a signed image is two steps, so the first can run while the digest is computed:
 * copy the image without its old certificate table (drv_pe_scan_file's copy_to), then append
 * this signature as the only certificate and fix the directory entry and the CheckSum.
 */
int drv_pe_write_signature(const drv_pe *pe, const drv_pe_scan *scan, const unsigned char *der,
                           size_t der_len, drv_atomic *out, drvsign_diag *diag);

/* The image as if it had never been signed: no certificate table, directory entry zero, the
 * CheckSum recomputed (scan must hold the sums). */
int drv_pe_write_unsigned(const drv_pe *pe, const drv_pe_scan *scan, drv_atomic *out,
                          drvsign_diag *diag);

/* Ones' complement word sum of buf as if it sat at file offset pos (exposed for tests). */
uint64_t drv_pe_word_sum(const unsigned char *buf, size_t n, uint64_t pos);
uint32_t drv_pe_fold_checksum(uint64_t sum, uint64_t file_size);

#endif
