/*
 * libFuzzer target: a round trip through each writer, read back by drvsign's own readers. A
 * finding here is a writer that produced what its reader refuses or reads differently, so the
 * target aborts on any mismatch.
 *
 * The input: one flags byte, then fields, each a 32-bit little-endian length and that many
 * bytes (the last one cut at the end of the input), taken in pairs: a name, then that file's
 * contents; at most 16 files.
 *   - CAB: the files packed by drv_cab_write (MSZIP or stored), then opened, file table
 *     checked and listed: the same names and sizes, in order.
 *   - CAT: a catalog of the files (version 1 or 2, SIP from the flags) by drv_ctl_write, then
 *     loaded: every member found by its digest, with its File name.
 *   - PE: when the first file's contents are a PE image, the PE writer attaches the second
 *     file's contents as the "signature" (the writer does not parse it), then the file is
 *     opened again: the same bytes come back as the signature and the CheckSum is right.
 * Everything is written in this target's own directory, removed at exit.
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cab.h"
#include "ctl.h"
#include "formats.h"
#include "pe.h"
#include "port.h"

#define MAX_FILES 16

static const char *sandbox;

typedef struct field {
    const uint8_t *p;
    size_t n;
} field;

#define MUST(cond)                                                                             \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "round trip broken: %s (line %d)\n", #cond, __LINE__);              \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(p, 1, n, f) == n;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static void cab_round_trip(const field *names, char **paths, size_t count, int mszip)
{
    drvsign_diag diag = fuzz_diag();
    drv_cab_input in[MAX_FILES];
    char cab_names[MAX_FILES][300];
    drv_cab_write_opts opts = {mszip, 1700000000, 1};
    drv_atomic out;
    char *cab_path = drv_path_join(sandbox, "out.cab");
    drv_file f;
    drv_cab cab;
    drv_cab_member *m = NULL;
    size_t got = 0;

    for (size_t i = 0; i < count; i++) {
        size_t n = names[i].n < 255 ? names[i].n : 255;
        memcpy(cab_names[i], names[i].p, n);
        cab_names[i][n] = 0;
        in[i].path = paths[i];
        in[i].name = cab_names[i];
        in[i].mtime = 0;
    }
    if (cab_path == NULL || drv_atomic_open(&out, cab_path, NULL, &diag) != 0) {
        free(cab_path);
        return;
    }
    if (drv_cab_write(in, count, &opts, &out, &diag) != 0 || drv_atomic_commit(&out, &diag) != 0) {
        drv_atomic_abort(&out);
        free(cab_path);
        return; /* refused (an empty name, say): nothing to read back */
    }
    drv_atomic_abort(&out);
    MUST(drv_file_open(&f, cab_path, &diag) == 0);
    MUST(drv_cab_open(&cab, &f, &diag) == 0);
    MUST(drv_cab_check_files(&cab, &diag) == 0);
    MUST(drv_cab_members(&cab, &m, &got, &diag) == 0);
    MUST(got == count);
    for (size_t i = 0; i < count; i++) {
        drv_file src;
        MUST(strcmp(m[i].name, cab_names[i]) == 0);
        MUST(drv_file_open(&src, paths[i], &diag) == 0);
        MUST(m[i].size == src.size);
        drv_file_close(&src);
    }
    drv_cab_free_members(m, got);
    drv_cab_close(&cab);
    drv_file_close(&f);
    remove(cab_path);
    free(cab_path);
}

static void cat_round_trip(const field *names, const field *data, size_t count, int flags)
{
    drvsign_diag diag = fuzz_diag();
    drv_ctl_file files[MAX_FILES];
    char file_names[MAX_FILES][300];
    drv_ctl_attr attr = {"OS", "_v100_X64"};
    drv_ctl_build build = {0};
    unsigned char *der = NULL;
    size_t der_len = 0;
    char *cat_path = drv_path_join(sandbox, "out.cat");
    drv_ctl ctl;

    memset(files, 0, sizeof files);
    for (size_t i = 0; i < count; i++) {
        size_t n = names[i].n < 255 ? names[i].n : 255;
        memcpy(file_names[i], names[i].p, n);
        file_names[i][n] = 0;
        files[i].name = file_names[i];
        files[i].sip = drv_sip_by_member_kind((flags >> 2) % 3);
        EVP_Digest(data[i].p, data[i].n, files[i].sha1, NULL, EVP_sha1(), NULL);
        EVP_Digest(data[i].p, data[i].n, files[i].sha256, NULL, EVP_sha256(), NULL);
    }
    build.version = flags & 2 ? 2 : 1;
    build.this_update = 1700000000;
    build.files = files;
    build.file_count = count;
    build.os_attr = "2:10.0";
    build.attrs = &attr;
    build.attr_count = 1;
    if (cat_path == NULL || drv_ctl_write(&build, &der, &der_len, "fuzz", &diag) != 0) {
        free(cat_path);
        return;
    }
    MUST(write_file(cat_path, der, der_len) == 0);
    OPENSSL_free(der);
    MUST(drv_catalog_load(cat_path, &ctl, &diag) == 0);
    for (size_t i = 0; i < count; i++) {
        const drv_ctl_member *mem =
            build.version == 2 ? drv_ctl_find(&ctl, files[i].sha256, 32) : drv_ctl_find(&ctl, files[i].sha1, 20);
        MUST(mem != NULL);
        /* names that are plain ASCII come back as they went in (others are UTF-16 on disk) */
        {
            /* files with identical contents are listed once, under the first name (as
             * makecat does): only a name whose contents are unique must come back */
            int ascii = 1, unique = 1;
            for (const char *c = file_names[i]; *c; c++)
                ascii &= *c >= 0x20 && *c < 0x7f;
            for (size_t k = 0; k < count; k++)
                unique &= k == i || memcmp(files[k].sha256, files[i].sha256, 32) != 0;
            if (ascii && unique && file_names[i][0] != 0) {
                int named = 0;
                for (size_t k = 0; k < ctl.count; k++)
                    named |= ctl.members[k].file != NULL &&
                             strcmp(ctl.members[k].file, file_names[i]) == 0;
                MUST(named);
            }
        }
    }
    drv_ctl_free(&ctl);
    remove(cat_path);
    free(cat_path);
}

static void pe_round_trip(const char *pe_path, const field *sig)
{
    drvsign_diag diag = fuzz_diag();
    drv_file f, g;
    drv_pe pe, back;
    drv_pe_scan scan = {0}, scan_back = {0};
    drv_atomic out;
    char *signed_path = drv_path_join(sandbox, "signed.sys");
    unsigned char *der = NULL;
    size_t der_len = 0;
    int written;

    if (signed_path == NULL || drv_file_open(&f, pe_path, &diag) != 0) {
        free(signed_path);
        return;
    }
    if (drv_pe_open(&pe, &f, &diag) != 0 || drv_pe_scan_file(&pe, &scan, &diag) != 0 ||
        drv_atomic_open(&out, signed_path, NULL, &diag) != 0) {
        drv_file_close(&f);
        free(signed_path);
        return;
    }
    written = drv_atomic_copy(&out, pe.file, 0, pe.content_end, &diag) == 0 &&
              drv_pe_write_signature(&pe, &scan, sig->p, sig->n, &out, &diag) == 0 &&
              drv_atomic_commit(&out, &diag) == 0;
    drv_atomic_abort(&out);
    drv_file_close(&f);
    if (written) {
        MUST(drv_file_open(&g, signed_path, &diag) == 0);
        MUST(drv_pe_open(&back, &g, &diag) == 0);
        MUST(drv_pe_signature(&back, &der, &der_len, &diag) == 0);
        /* the WIN_CERTIFICATE holds the bytes plus padding to 8 */
        MUST(der != NULL && der_len >= sig->n && der_len - sig->n < 8 &&
             memcmp(der, sig->p, sig->n) == 0);
        MUST(drv_pe_scan_file(&back, &scan_back, &diag) == 0);
        MUST(drv_pe_checksum(&back, &scan_back) == back.header_checksum);
        free(der);
        drv_file_close(&g);
        remove(signed_path);
    }
    free(signed_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    field fields[2 * MAX_FILES];
    size_t nf = 0, count;
    char *paths[MAX_FILES] = {0};
    int flags;

    if (size < 1)
        return 0;
    if (sandbox == NULL) {
        sandbox = fuzz_sandbox("writers");
    }
    flags = data[0];
    for (size_t off = 1; off + 4 <= size && nf < 2 * MAX_FILES; nf++) {
        size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8 | (size_t)data[off + 2] << 16 |
                   (size_t)data[off + 3] << 24;
        off += 4;
        if (n > size - off)
            n = size - off;
        fields[nf].p = data + off;
        fields[nf].n = n;
        off += n;
    }
    count = nf / 2;
    for (size_t i = 0; i < count; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%zu", i);
        paths[i] = drv_path_join(sandbox, name);
        if (paths[i] == NULL || write_file(paths[i], fields[2 * i + 1].p, fields[2 * i + 1].n) != 0)
            goto done;
    }
    if (count > 0) {
        field names[MAX_FILES], contents[MAX_FILES];
        for (size_t i = 0; i < count; i++) {
            names[i] = fields[2 * i];
            contents[i] = fields[2 * i + 1];
        }
        cab_round_trip(names, paths, count, flags & 1);
        cat_round_trip(names, contents, count, flags);
        if (count > 1)
            pe_round_trip(paths[0], &contents[1]);
    }
done:
    for (size_t i = 0; i < count; i++) {
        if (paths[i] != NULL)
            remove(paths[i]);
        free(paths[i]);
    }
    ERR_clear_error();
    return 0;
}
