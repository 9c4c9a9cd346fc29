/*
 * The package manifest: everything the pipeline's steps need, written by DrvSign.cmake and
 * read here. The format is documented once, in the README ("The package manifest"):
 *
 *   # comment lines and blank lines are ignored
 *   drvsign-manifest 1
 *   key "value"
 *
 * The first line that is not a comment names the format version; this reader takes version 1
 * only, and any other is one error (a module and a helper from different drvsign versions).
 * Each value is a double-quoted string in which \\, \", \n, \r and \t are the only escapes,
 * so any path (a newline, '|', '=', ';', quotes, non-ASCII) survives; an empty value means
 * "not set". List keys (os, file, ...) repeat. `file_from "F"` adds the whole content of
 * file F as one `file` value: the module's way to pass a generator expression's value, which
 * CMake knows only at generate time and cannot escape (file(GENERATE) writes F).
 */
#ifndef DRVSIGN_PIPELINE_MANIFEST_H
#define DRVSIGN_PIPELINE_MANIFEST_H

#include <stddef.h>

#include "drvsign/drvsign.h"

#define MANIFEST_FORMAT 1

typedef struct list {
    char **v;
    size_t n, cap;
} list;

int list_add(list *l, const char *s);
void list_free(list *l);

typedef struct manifest {
    char *path;
    char *name, *inf, *arch, *output, *work, *identity, *cab, *archive, *archive_format, *ca;
    char *sign_mode, *driver_version, *driver_date, *kmdf, *umdf;
    char *pfx, *cert, *key, *password_file, *pkcs11_module, *signer_command, *signatures;
    list os, files, provides, boot_start, timestamps, add_certs, signer_args;
    int catalog_version, page_hashes;
} manifest;

/* Read a manifest held in memory; path names it in messages. Every problem is one error
 * (path:line), all are listed; on failure m holds nothing. */
int manifest_parse(manifest *m, const char *path, const unsigned char *data, size_t len,
                   drvsign_diag *diag);
int manifest_load(manifest *m, const char *path, drvsign_diag *diag);
void manifest_free(manifest *m);

#endif
