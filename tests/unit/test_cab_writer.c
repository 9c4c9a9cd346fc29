#define _DEFAULT_SOURCE /* mkdtemp */
/* The cabinet writer, read back: the file table through the library's own reader, and every
 * CFDATA block decoded here (stored, or each MSZIP block inflated on its own, as the writer
 * promises) and checked against its checksum, sizes and the input bytes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>

#include "bytes.h"
#include "cab.h"
#include "unit.h"

static char dir[] = "/tmp/drvsign-unit-cab-XXXXXX";

#define NFILES 4
static const char *const names[NFILES] = {"pkg\\a.inf", "pkg\\empty.txt", "pkg\\amd64\\big.sys",
                                          "pkg\\tail.bin"};
static size_t sizes[NFILES] = {57, 0, 3 * DRV_CAB_BLOCK + 1234, DRV_CAB_BLOCK};
static unsigned char *contents[NFILES];
static char *paths[NFILES];

static int write_inputs(void)
{
    unsigned seed = 12345;
    for (size_t i = 0; i < NFILES; i++) {
        FILE *f;
        contents[i] = malloc(sizes[i] + 1);
        paths[i] = malloc(strlen(dir) + 16);
        if (contents[i] == NULL || paths[i] == NULL)
            return -1;
        for (size_t k = 0; k < sizes[i]; k++) {
            /* half compressible text, half noise, so MSZIP has work of both kinds */
            seed = seed * 1103515245u + 12345u;
            contents[i][k] = k % 2048 < 1024 ? (unsigned char)("driver "[k % 7])
                                              : (unsigned char)(seed >> 16);
        }
        snprintf(paths[i], strlen(dir) + 16, "%s/in%zu", dir, i);
        f = fopen(paths[i], "wb");
        if (f == NULL || fwrite(contents[i], 1, sizes[i], f) != sizes[i] || fclose(f) != 0)
            return -1;
    }
    return 0;
}

/* Every CFDATA block of folder 0, decoded and joined. */
static unsigned char *folder_data(const unsigned char *cab, size_t cab_len, const drv_cab *c,
                                  size_t *out_len)
{
    size_t off = c->folders[0].data_offset, total = 0;
    unsigned char *out = malloc(DRV_CAB_BLOCK * (size_t)c->folders[0].data_blocks + 1);
    struct libdeflate_decompressor *inflater = libdeflate_alloc_decompressor();
    int ok = out != NULL && inflater != NULL;

    for (unsigned b = 0; ok && b < c->folders[0].data_blocks; b++) {
        uint32_t csum;
        unsigned packed, plain;
        const unsigned char *payload;
        ok = off + 8 + c->data_reserve <= cab_len;
        if (!ok)
            break;
        csum = drv_le32(cab + off);
        packed = drv_le16(cab + off + 4);
        plain = drv_le16(cab + off + 6);
        payload = cab + off + 8 + c->data_reserve;
        ok = off + 8 + c->data_reserve + packed <= cab_len && plain <= DRV_CAB_BLOCK;
        CHECK(ok, "block %u inside the cabinet", b);
        if (!ok)
            break;
        CHECK(csum == drv_cab_checksum(cab + off + 4, 4, drv_cab_checksum(payload, packed, 0)),
              "block %u checksum", b);
        CHECK(b + 1 == c->folders[0].data_blocks || plain == DRV_CAB_BLOCK,
              "block %u is full (only the last may be short): %u", b, plain);
        if (c->folders[0].compression == 0) {
            CHECK(packed == plain, "stored block %u: sizes agree", b);
            memcpy(out + total, payload, plain);
        } else {
            size_t got = 0;
            CHECK(packed >= 2 && payload[0] == 'C' && payload[1] == 'K', "block %u has CK", b);
            ok = libdeflate_deflate_decompress(inflater, payload + 2, packed - 2, out + total,
                                               plain, &got) == LIBDEFLATE_SUCCESS &&
                 got == plain;
            CHECK(ok, "MSZIP block %u inflates on its own to %u bytes", b, plain);
        }
        total += plain;
        off += 8 + c->data_reserve + packed;
    }
    libdeflate_free_decompressor(inflater);
    if (!ok) {
        free(out);
        return NULL;
    }
    *out_len = total;
    return out;
}

static void round_trip(int mszip)
{
    drvsign_diag diag = {0};
    drv_cab_input in[NFILES];
    /* 2024-02-29 13:37:42 UTC: a leap day and odd seconds, which DOS time cannot hold */
    drv_cab_write_opts opts = {mszip, 1709213862, 2};
    drv_atomic out;
    char cab_path[64];
    drv_file f;
    drv_cab cab;
    drv_cab_member *m = NULL;
    size_t n = 0, data_len = 0, cab_len = 0, expect_off = 0;
    unsigned char *cab_bytes = NULL, *data;

    snprintf(cab_path, sizeof cab_path, "%s/out%d.cab", dir, mszip);
    for (size_t i = 0; i < NFILES; i++) {
        in[i].path = paths[i];
        in[i].name = names[i];
        in[i].mtime = 0;
    }
    CHECK(drv_atomic_open(&out, cab_path, NULL, &diag) == 0, "open the output");
    CHECK(drv_cab_write(in, NFILES, &opts, &out, &diag) == 0, "write (mszip %d)", mszip);
    CHECK(drv_atomic_commit(&out, &diag) == 0, "commit");
    drv_atomic_abort(&out);
    CHECK(diag.errors == 0 && diag.warnings == 0, "no messages");

    if (drv_file_open(&f, cab_path, &diag) != 0 || drv_cab_open(&cab, &f, &diag) != 0) {
        CHECK(0, "the library's reader opens what its writer wrote");
        return;
    }
    CHECK(cab.folder_count == 1, "one folder, got %u", cab.folder_count);
    CHECK(cab.file_count == NFILES, "%u files", cab.file_count);
    CHECK(cab.folders[0].compression == (mszip ? 1 : 0), "compression type %u",
          cab.folders[0].compression);
    CHECK(cab.sig_offset == 0, "unsigned");
    CHECK(cab.cb_cabinet == f.size, "cbCabinet %u is the file size", cab.cb_cabinet);
    CHECK(drv_cab_check_files(&cab, &diag) == 0, "the file table is sound");
    CHECK(drv_cab_members(&cab, &m, &n, &diag) == 0 && n == NFILES, "members");
    for (size_t i = 0; i < n && i < NFILES; i++) {
        CHECK(strcmp(m[i].name, names[i]) == 0, "name %zu: %s", i, m[i].name);
        CHECK(m[i].size == sizes[i], "size of %s", names[i]);
        CHECK(m[i].folder == 0, "folder of %s", names[i]);
        CHECK(m[i].folder_offset == expect_off, "%s follows the one before it", names[i]);
        /* DOS time: local fields of the fixed time, seconds halved */
        CHECK(m[i].date == ((2024 - 1980) << 9 | 2 << 5 | 29), "date of %s: %04x", names[i],
              m[i].date);
        CHECK(m[i].time == (13 << 11 | 37 << 5 | 21), "time of %s: %04x", names[i], m[i].time);
        expect_off += sizes[i];
    }
    CHECK(drv_read_small_file(cab_path, 16u << 20, &cab_bytes, &cab_len, &diag) == 0, "read");
    data = cab_bytes ? folder_data(cab_bytes, cab_len, &cab, &data_len) : NULL;
    CHECK(data != NULL && data_len == expect_off, "the folder holds every byte: %zu of %zu",
          data_len, expect_off);
    if (data != NULL && data_len == expect_off) {
        size_t at = 0;
        for (size_t i = 0; i < NFILES; i++) {
            CHECK(memcmp(data + at, contents[i], sizes[i]) == 0, "contents of %s", names[i]);
            at += sizes[i];
        }
    }
    if (mszip)
        CHECK(cab_len < expect_off, "MSZIP is smaller than the input (%zu < %zu)", cab_len,
              expect_off);
    free(data);
    free(cab_bytes);
    drv_cab_free_members(m, n);
    drv_cab_close(&cab);
    drv_file_close(&f);
    remove(cab_path);
}

/* Same inputs, same time: byte-identical cabinets, whatever the thread count. */
static void reproducible(void)
{
    drvsign_diag diag = {0};
    drv_cab_input in[NFILES];
    unsigned char *bytes[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    for (size_t i = 0; i < NFILES; i++) {
        in[i].path = paths[i];
        in[i].name = names[i];
        in[i].mtime = 0;
    }
    for (unsigned run = 0; run < 2; run++) {
        drv_cab_write_opts opts = {1, 1700000000, run ? 1 : 4};
        drv_atomic out;
        char path[64];
        snprintf(path, sizeof path, "%s/repro%u.cab", dir, run);
        CHECK(drv_atomic_open(&out, path, NULL, &diag) == 0 &&
                  drv_cab_write(in, NFILES, &opts, &out, &diag) == 0 &&
                  drv_atomic_commit(&out, &diag) == 0,
              "write run %u", run);
        drv_atomic_abort(&out);
        CHECK(drv_read_small_file(path, 16u << 20, &bytes[run], &len[run], &diag) == 0, "read");
        remove(path);
    }
    CHECK(bytes[0] && bytes[1] && len[0] == len[1] && memcmp(bytes[0], bytes[1], len[0]) == 0,
          "4 threads and 1 thread write the same bytes");
    free(bytes[0]);
    free(bytes[1]);
}

/* A name CFFILE cannot hold (over 255 bytes) is refused with one error, and nothing is left behind. */
static void refused_name(void)
{
    static unsigned seen;
    drvsign_diag diag;
    char long_name[300];
    drv_cab_input in = {paths[0], long_name, 0};
    drv_cab_write_opts opts = {1, 1700000000, 1};
    drv_atomic out;
    char path[64];
    drvsign_diag_silent(&diag); /* the refusal is expected: count it, show nothing */
    memset(long_name, 'a', 256);
    long_name[256] = 0;
    snprintf(path, sizeof path, "%s/refused.cab", dir);
    CHECK(drv_atomic_open(&out, path, NULL, &diag) == 0, "open");
    seen = diag.errors;
    CHECK(drv_cab_write(&in, 1, &opts, &out, &diag) != 0, "a 256-byte member name is refused");
    CHECK(diag.errors == seen + 1, "with one error (%u)", diag.errors - seen);
    drv_atomic_abort(&out);
    CHECK(access(path, F_OK) != 0, "and no cabinet appears");
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(write_inputs() == 0, "inputs");
    round_trip(0);
    round_trip(1);
    reproducible();
    refused_name();
    for (size_t i = 0; i < NFILES; i++) {
        if (paths[i] != NULL)
            remove(paths[i]);
        free(paths[i]);
        free(contents[i]);
    }
    rmdir(dir);
    return unit_finish();
}
