/* The table of file-format handlers, and picking one by content (never by file name). */
#ifndef DRVSIGN_FORMATS_H
#define DRVSIGN_FORMATS_H

#include "ctl.h"
#include "handler.h"

/* The handler whose detect accepts the file's first bytes; reports and returns NULL if none. */
const drv_format *drv_format_for(const drv_file *file, drvsign_diag *diag);
/* As drv_format_for, but NULL without a message for files no handler claims. */
const drv_format *drv_format_probe(const drv_file *file, drvsign_diag *diag);
/* The handler called name ("pe", "cat", "cab"), or NULL. */
const drv_format *drv_format_named(const char *name);

/* What a catalog records for a file: its SIP and its digests, decided by content. */
typedef struct drv_member_hash {
    const drv_sip *sip;
    unsigned char sha1[20];
    unsigned char sha256[32];
    unsigned char *page_hashes_sha1, *page_hashes_sha256; /* PE with page hashes; malloc'd */
    size_t page_hashes_sha1_len, page_hashes_sha256_len;
    uint64_t size;
} drv_member_hash;

/* One streaming pass: SHA-1 always, SHA-256 when want_sha256; page-hash tables for PE files
 * when page_hashes (V1 with SHA-1, plus V2 when want_sha256). */
int drv_member_hash_file(const char *path, int want_sha256, int page_hashes, drv_member_hash *out,
                         drvsign_diag *diag);
void drv_member_hash_free(drv_member_hash *h);

/* The trust list of a catalog file, parsed (signed or not). */
int drv_catalog_load(const char *path, drv_ctl *ctl, drvsign_diag *diag);

#endif
