/*
 * Security catalogs: the CertificateTrustList inside a .cat (reference section 2), built from
 * members and catalog attributes, and parsed back for verification and inspection.
 */
#ifndef DRVSIGN_CTL_H
#define DRVSIGN_CTL_H

#include <stdint.h>

#include <openssl/evp.h>

#include "diag.h"

/* A .cat file, signatures included: catalogs hold a hash per file, and even huge driver packages
 * stay far below this. The writer keeps 1 MiB of it free for the signatures to come. */
#define DRV_MAX_CATALOG (256u << 20)
#define DRV_MAX_CTL (DRV_MAX_CATALOG - (1u << 20))

struct drv_ctl_file;

/*
 * A subject interface package: how a catalog records a member of one kind. Each row of the
 * format table (formats.c) carries its own; drv_sip_flat covers every other file.
 */
typedef struct drv_sip {
    const char *name;          /* the short name reports use: pe, cab, flat */
    const char *guid;          /* MEMBERINFO's SIP GUID (v1 catalogs) */
    unsigned member_kind;      /* MEMBERINFO2's [n] tag (v2 catalogs) */
    const char *indirect_type; /* the SpcIndirectDataContent data type OID */
    const char *digest_kind;   /* what the member digest is, for messages: "Authenticode", "file" */
    /* The indirect data's value (DER, OPENSSL_malloc'd) for this member. */
    int (*indirect_value)(const struct drv_ctl_file *f, int sha256, unsigned char **value,
                          size_t *len);
} drv_sip;

/* Files no format claims (INF, PDB, data files, catalogs) are hashed flat. */
extern const drv_sip drv_sip_flat;
/* The SIP a parsed member names, from the format table; drv_sip_flat when none matches. */
const drv_sip *drv_sip_by_guid(const char *guid);
const drv_sip *drv_sip_by_member_kind(unsigned kind);
const drv_sip *drv_sip_by_indirect_type(const char *oid);

/* indirect_value implementations: SpcPeImageData with the page-hash tables, an empty SpcLink. */
int drv_ctl_value_pe_image(const struct drv_ctl_file *f, int sha256, unsigned char **value,
                           size_t *len);
int drv_ctl_value_file_link(const struct drv_ctl_file *f, int sha256, unsigned char **value,
                            size_t *len);

/* One file as the catalog builder sees it. */
typedef struct drv_ctl_file {
    const char *name;   /* the File attribute (UTF-8) */
    const drv_sip *sip;
    unsigned char sha1[20];
    unsigned char sha256[32];
    /* PE page-hash tables (NULL unless page hashes were asked for) */
    unsigned char *page_hashes_sha1, *page_hashes_sha256;
    size_t page_hashes_sha1_len, page_hashes_sha256_len;
} drv_ctl_file;

typedef struct drv_ctl_attr {
    char *name;
    char *value;
} drv_ctl_attr;

typedef struct drv_ctl_build {
    int version;        /* 1: SHA-1 members (Inf2Cat); 2: SHA-256 members + SHA-1 compat */
    int64_t this_update;
    const drv_ctl_file *files;
    size_t file_count;
    const char *os_attr;        /* member OSAttr, e.g. "2:6.1,2:10.0"; NULL for none */
    const drv_ctl_attr *attrs;  /* catalog attributes in order (OS, HWID1..n) */
    size_t attr_count;
} drv_ctl_build;

/* The unsigned catalog (DER ContentInfo); members sorted by tag, list identifier derived
 * from the content. Identical contents in two files are listed once (warning). A catalog
 * whose trust list would pass DRV_MAX_CTL is refused before it is built. */
int drv_ctl_write(const drv_ctl_build *build, unsigned char **der, size_t *der_len,
                  const char *where, drvsign_diag *diag);

/* A parsed member. */
typedef struct drv_ctl_member {
    unsigned char *tag; /* whole, as long as the catalog has it (named tags can be long) */
    size_t tag_len;
    char *file;    /* File attribute, or NULL */
    char *os_attr; /* OSAttr attribute, or NULL */
    char sip_guid[64];
    const drv_sip *sip; /* never NULL */
    const EVP_MD *md; /* from the indirect data; NULL for compat entries without it */
    unsigned char digest[64];
    size_t digest_len;
} drv_ctl_member;

typedef struct drv_ctl {
    int version;
    char this_update[32];
    unsigned char *list_id; /* NULL when the catalog has none */
    size_t list_id_len;
    drv_ctl_member *members;
    size_t count;
    drv_ctl_attr *attrs;
    size_t attr_count;
} drv_ctl;

int drv_ctl_parse(const unsigned char *ctl_der, size_t len, drv_ctl *ctl, const char *where,
                  drvsign_diag *diag);
void drv_ctl_free(drv_ctl *ctl);
/* The member whose digest is this (v1: SHA-1, v2: SHA-256), or NULL. */
const drv_ctl_member *drv_ctl_find(const drv_ctl *ctl, const unsigned char *digest, size_t len);

#endif
