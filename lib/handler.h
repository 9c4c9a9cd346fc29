/*
 * The interface every signable file format implements. Signing is split in three so that the
 * key can live anywhere: the format computes the content to sign (content), authenticode.c
 * and keys.c sign it, and the format writes the result (attach). formats.c holds the table,
 * whose rows add what a catalog and the help text say about the format.
 */
#ifndef DRVSIGN_HANDLER_H
#define DRVSIGN_HANDLER_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "authenticode.h"
#include "ctl.h"
#include "port.h"

/* What gets signed: the DER and its eContentType. */
typedef struct drv_content {
    char oid[64];
    unsigned char *der; /* OPENSSL_malloc'd */
    size_t len;
} drv_content;

typedef struct drv_content_opts {
    const EVP_MD *md;
    int page_hashes;
} drv_content_opts;

/* Does a signature's content match the file? */
typedef struct drv_content_check {
    int digest_ok;
    int page_hashes; /* 0 none, 1 present and matching, -1 present and wrong */
    char problem[256];
} drv_content_check;

/* A check of the file itself, beyond its signatures (the PE CheckSum). */
typedef struct drv_file_check {
    const char *name; /* NULL when the format has none */
    int ok;
    uint32_t stored;
    uint32_t computed;
} drv_file_check;

typedef struct drv_format {
    const char *name;
    int nests; /* can carry nested signatures (--append) */
    int (*detect)(const unsigned char *head, size_t n);
    int (*open)(const drv_file *file, void **state, drvsign_diag *diag);
    /* Digest every md in one pass ahead of the calls that need them (optional).
     * digests_only: the caller will not check or rewrite the file, so skip other work. */
    int (*prepare)(void *state, const EVP_MD *const *mds, size_t count, int digests_only,
                   drvsign_diag *diag);
    /* Optional: start writing the unsigned file into out now, so that the copy overlaps
     * content(); attach() then completes that same output. */
    int (*stage)(void *state, drv_atomic *out, drvsign_diag *diag);
    int (*content)(void *state, const drv_content_opts *opts, drv_content *out,
                   drvsign_diag *diag);
    /* The signature the file carries (DER), *der NULL when unsigned. */
    int (*signature)(void *state, unsigned char **der, size_t *len, drvsign_diag *diag);
    int (*attach)(void *state, const unsigned char *der, size_t len, drv_atomic *out,
                  drvsign_diag *diag);
    /* Write the file without any signature, in the form attach() signs (drvsign remove). */
    int (*detach)(void *state, drv_atomic *out, drvsign_diag *diag);
    int (*check_content)(void *state, const drv_sig *sig, drv_content_check *check,
                         drvsign_diag *diag);
    int (*check_file)(void *state, drv_file_check *check, drvsign_diag *diag);
    /* The digest a catalog records for this file (the Authenticode image hash for PE);
     * NULL means the flat hash of the whole file. */
    int (*member_digest)(void *state, const EVP_MD *md, unsigned char *out, unsigned *len,
                         drvsign_diag *diag);
    /* The page-hash table for md (PE only; NULL elsewhere). */
    int (*page_hashes)(void *state, const EVP_MD *md, unsigned char **table, size_t *len,
                       drvsign_diag *diag);
    /* What inspect shows of the file beyond its signatures (optional): text lines indented by
     * two spaces, or JSON members that continue the file's object (", \"key\": ..."). */
    int (*describe)(void *state, const drv_file *file, FILE *out, int json, drvsign_diag *diag);
    /* The certificate trust list the file is (catalogs; NULL elsewhere). */
    int (*trust_list)(void *state, drv_ctl *ctl, const char *where, drvsign_diag *diag);
    void (*close)(void *state);
} drv_format;

#endif
