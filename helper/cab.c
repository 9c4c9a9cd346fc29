#include "cab.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libdeflate.h>

#include "bytes.h"
#include "handler.h"
#include "json.h"

#define CAB_HEADER 36
#define FLAG_PREV 0x0001
#define FLAG_NEXT 0x0002
#define FLAG_RESERVE 0x0004
#define ATTR_ARCH 0x20
#define ATTR_NAME_IS_UTF 0x80
#define COMPRESS_NONE 0
#define COMPRESS_MSZIP 1
/* the signature slot: cbCFHeader 20, then 00 00 10 00 | offset | size | 8 zero bytes */
#define SLOT 20
#define SLOT_SHIFT (4 + SLOT)
#define MAX_SIGNATURE (16u << 20)

uint32_t drv_cab_checksum(const unsigned char *data, size_t n, uint32_t seed)
{
    uint32_t sum = seed, tail = 0;
    size_t words = n / 4;
    for (size_t i = 0; i < words; i++, data += 4)
        sum ^= drv_le32(data);
    /* the 1-3 leftover bytes form one more word, first byte highest */
    for (size_t i = 0; i < n % 4; i++)
        tail = tail << 8 | data[i];
    return sum ^ tail;
}

int drv_cab_detect(const unsigned char *head, size_t n)
{
    return n >= CAB_HEADER && memcmp(head, "MSCF", 4) == 0 && head[0x19] == 1;
}

/* ---- reading ---- */

/* Skip one NUL-terminated string of at most 255 bytes starting at *off. */
static int skip_string(const drv_file *f, uint32_t *off, drvsign_diag *diag)
{
    unsigned char buf[256];
    size_t n = f->size - *off < sizeof buf ? (size_t)(f->size - *off) : sizeof buf;
    unsigned char *nul;
    if (*off >= f->size || drv_file_pread(f, *off, buf, n, diag) != 0 ||
        (nul = memchr(buf, 0, n)) == NULL) {
        drv_error(diag, f->path, "a cabinet set name at offset %u is not terminated", *off);
        return -1;
    }
    *off += (uint32_t)(nul - buf) + 1;
    return 0;
}

int drv_cab_open(drv_cab *cab, const drv_file *f, drvsign_diag *diag)
{
    unsigned char h[CAB_HEADER + 4];
    uint32_t off = CAB_HEADER;
    size_t folder_size, folders_bytes;
    unsigned char *raw = NULL;

    memset(cab, 0, sizeof *cab);
    cab->file = f;
    if (f->size < CAB_HEADER || f->size > UINT32_MAX) {
        drv_error(diag, f->path, "not a cabinet: %llu bytes", (unsigned long long)f->size);
        return -1;
    }
    if (drv_file_pread(f, 0, h, CAB_HEADER, diag) != 0)
        return -1;
    if (memcmp(h, "MSCF", 4) != 0 || h[0x19] != 1) {
        drv_error(diag, f->path, "not a cabinet: no MSCF version 1 header");
        return -1;
    }
    cab->cb_cabinet = drv_le32(h + 8);
    cab->coff_files = drv_le32(h + 16);
    cab->folder_count = drv_le16(h + 0x1a);
    cab->file_count = drv_le16(h + 0x1c);
    cab->flags = drv_le16(h + 0x1e);
    cab->set_id = drv_le16(h + 0x20);
    cab->cabinet_index = drv_le16(h + 0x22);
    if (cab->cb_cabinet < CAB_HEADER || cab->cb_cabinet > f->size) {
        drv_error(diag, f->path, "the cabinet claims %u bytes, but the file has %llu", cab->cb_cabinet,
                  (unsigned long long)f->size);
        return -1;
    }
    if (cab->flags & FLAG_RESERVE) {
        if (drv_file_pread(f, CAB_HEADER, h + CAB_HEADER, 4, diag) != 0)
            return -1;
        cab->header_reserve = drv_le16(h + CAB_HEADER);
        cab->folder_reserve = h[CAB_HEADER + 2];
        cab->data_reserve = h[CAB_HEADER + 3];
        off += 4;
        if (cab->header_reserve > 60000 || (uint64_t)off + cab->header_reserve > cab->cb_cabinet) {
            drv_error(diag, f->path, "the header reserve (%u bytes) does not fit the cabinet",
                      cab->header_reserve);
            return -1;
        }
        if (cab->header_reserve == SLOT) {
            if (drv_file_pread(f, off, cab->sig_slot, SLOT, diag) != 0)
                return -1;
            if (memcmp(cab->sig_slot, "\0\0\x10\0", 4) == 0) {
                cab->has_slot = 1;
                cab->sig_offset = drv_le32(cab->sig_slot + 4);
                cab->sig_size = drv_le32(cab->sig_slot + 8);
            }
        }
        off += cab->header_reserve;
    }
    cab->strings_offset = off;
    for (int i = 0; i < ((cab->flags & FLAG_PREV) ? 2 : 0) + ((cab->flags & FLAG_NEXT) ? 2 : 0); i++)
        if (skip_string(f, &off, diag) != 0)
            return -1;
    cab->strings_len = off - cab->strings_offset;
    cab->folders_offset = off;
    folder_size = 8 + (size_t)cab->folder_reserve;
    folders_bytes = cab->folder_count * folder_size;
    if ((uint64_t)off + folders_bytes > cab->cb_cabinet) {
        drv_error(diag, f->path, "%u folder entries do not fit the cabinet", cab->folder_count);
        return -1;
    }
    cab->folders_end = off + (uint32_t)folders_bytes;
    if (cab->coff_files < cab->folders_end || cab->coff_files > cab->cb_cabinet) {
        drv_error(diag, f->path, "the file table offset (%u) is outside the cabinet", cab->coff_files);
        return -1;
    }
    if (cab->sig_offset != 0 || cab->sig_size != 0) {
        if (cab->sig_offset != cab->cb_cabinet || cab->sig_size < 8 || cab->sig_size > MAX_SIGNATURE ||
            (uint64_t)cab->sig_offset + cab->sig_size != f->size) {
            drv_error(diag, f->path,
                      "the signature (offset %u, %u bytes) is not where a signed cabinet keeps it: "
                      "right after the cabinet's %u bytes, to the end of the file",
                      cab->sig_offset, cab->sig_size, cab->cb_cabinet);
            return -1;
        }
    } else if (cab->cb_cabinet != f->size) {
        drv_error(diag, f->path, "%llu bytes follow the end of the cabinet",
                  (unsigned long long)(f->size - cab->cb_cabinet));
        return -1;
    }
    cab->folders = calloc(cab->folder_count ? cab->folder_count : 1, sizeof *cab->folders);
    raw = malloc(folders_bytes ? folders_bytes : 1);
    if (cab->folders == NULL || raw == NULL) {
        free(raw);
        drv_cab_close(cab);
        drv_error(diag, f->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(f, cab->folders_offset, raw, folders_bytes, diag) != 0) {
        free(raw);
        drv_cab_close(cab);
        return -1;
    }
    for (unsigned i = 0; i < cab->folder_count; i++) {
        const unsigned char *e = raw + i * folder_size;
        cab->folders[i].data_offset = drv_le32(e);
        cab->folders[i].data_blocks = drv_le16(e + 4);
        cab->folders[i].compression = drv_le16(e + 6);
        if (cab->folders[i].data_offset < cab->coff_files ||
            cab->folders[i].data_offset > cab->cb_cabinet) {
            drv_error(diag, f->path, "folder %u's data offset (%u) is outside the cabinet", i + 1,
                      cab->folders[i].data_offset);
            free(raw);
            drv_cab_close(cab);
            return -1;
        }
    }
    free(raw);
    return 0;
}

void drv_cab_close(drv_cab *cab)
{
    free(cab->folders);
    cab->folders = NULL;
}

void drv_cab_free_members(drv_cab_member *members, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(members[i].name);
    free(members);
}

int drv_cab_members(const drv_cab *cab, drv_cab_member **out, size_t *count, drvsign_diag *diag)
{
    const drv_file *f = cab->file;
    drv_cab_member *m = calloc(cab->file_count ? cab->file_count : 1, sizeof *m);
    uint64_t off = cab->coff_files; /* 64-bit: the last name may end past a 4 GiB cb_cabinet */
    size_t n = 0;

    *out = NULL;
    *count = 0;
    if (m == NULL)
        return -1;
    for (; n < cab->file_count; n++) {
        unsigned char e[16 + 257];
        size_t avail = cab->cb_cabinet - off < sizeof e ? cab->cb_cabinet - off : sizeof e;
        unsigned char *nul;
        if (off >= cab->cb_cabinet || avail < 17 || drv_file_pread(f, off, e, avail, diag) != 0 ||
            (nul = memchr(e + 16, 0, avail - 16)) == NULL) {
            drv_error(diag, f->path, "file entry %zu is truncated or its name is too long", n + 1);
            drv_cab_free_members(m, n);
            return -1;
        }
        m[n].size = drv_le32(e);
        m[n].folder_offset = drv_le32(e + 4);
        m[n].folder = drv_le16(e + 8);
        m[n].date = drv_le16(e + 10);
        m[n].time = drv_le16(e + 12);
        m[n].attribs = drv_le16(e + 14);
        m[n].name = malloc((size_t)(nul - (e + 16)) + 1);
        if (m[n].name == NULL) {
            drv_cab_free_members(m, n);
            return -1;
        }
        memcpy(m[n].name, e + 16, (size_t)(nul - (e + 16)) + 1);
        off += (uint64_t)(nul - e) + 1;
    }
    *out = m;
    *count = n;
    return 0;
}

int drv_cab_check_files(const drv_cab *cab, drvsign_diag *diag)
{
    drv_cab_member *m;
    size_t count;
    uint64_t table_end = cab->coff_files, data_start = cab->cb_cabinet;
    int multi = (cab->flags & (FLAG_PREV | FLAG_NEXT)) != 0, rc = 0;

    if (drv_cab_members(cab, &m, &count, diag) != 0)
        return -1;
    for (unsigned i = 0; i < cab->folder_count; i++)
        if (cab->folders[i].data_offset < data_start)
            data_start = cab->folders[i].data_offset;
    for (size_t i = 0; i < count; i++) {
        table_end += 16 + strlen(m[i].name) + 1;
        if (m[i].folder >= cab->folder_count && !(multi && m[i].folder >= 0xfffd)) {
            drv_error(diag, cab->file->path,
                      "file entry %zu (%s) names folder %u, but the cabinet has %u", i + 1,
                      m[i].name, m[i].folder, cab->folder_count);
            rc = -1;
        } else if (m[i].folder < cab->folder_count &&
                   (uint64_t)m[i].folder_offset + m[i].size >
                       (uint64_t)cab->folders[m[i].folder].data_blocks * DRV_CAB_BLOCK) {
            drv_error(diag, cab->file->path,
                      "file entry %zu (%s) ends at byte %llu of folder %u, which holds at most "
                      "%llu",
                      i + 1, m[i].name, (unsigned long long)m[i].folder_offset + m[i].size,
                      m[i].folder + 1,
                      (unsigned long long)cab->folders[m[i].folder].data_blocks * DRV_CAB_BLOCK);
            rc = -1;
        }
        if (rc != 0)
            break; /* one line: a damaged table would repeat the same problem many times */
    }
    if (rc == 0 && table_end > data_start) {
        drv_error(diag, cab->file->path,
                  "the file table (%u entries) runs into the file data at offset %llu",
                  cab->file_count, (unsigned long long)data_start);
        rc = -1;
    }
    drv_cab_free_members(m, count);
    return rc;
}

/* ---- writing ---- */

static void dos_time(int64_t t, uint16_t *date, uint16_t *tm_out)
{
    struct tm tm;
    if (drv_broken_down_time(t, 0, &tm) != 0)
        memset(&tm, 0, sizeof tm);
    if (tm.tm_year < 80) { /* DOS dates start in 1980 */
        *date = (1 << 5) | 1;
        *tm_out = 0;
        return;
    }
    if (tm.tm_year > 207)
        tm.tm_year = 207;
    *date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    *tm_out = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
}

/*
 * MSZIP: every CFDATA block is compressed on its own ("CK" and a complete raw deflate stream),
 * which MS-MCI allows and gcab does too. So blocks compress in parallel, and libdeflate (which
 * compresses whole buffers only, 2-3 times faster than zlib at the same size) fits. Batches
 * of blocks go through a three-stage pipeline: while the cores compress one batch, the main
 * thread writes the one before and reads the one after.
 */
#define BATCH 64
#define DEFLATE_LEVEL 6
/* a stored deflate block: BFINAL=1, BTYPE=00, then LEN and its complement */
#define STORED_HEADER 5

typedef struct block {
    unsigned char in[DRV_CAB_BLOCK];
    size_t in_len;
    unsigned char out[8 + 2 + STORED_HEADER + DRV_CAB_BLOCK]; /* CFDATA header, "CK", deflate */
    size_t out_len;
} block;

typedef struct batch {
    block *blocks;
    size_t count;
} batch;

/* One compressor per worker thread: the workers take one from here for each block. */
typedef struct compressor_pool {
    struct libdeflate_compressor **free_list;
    size_t free_count, size;
    drv_mutex *lock;
} compressor_pool;

typedef struct compress_job {
    batch *bt;
    int mszip;
    unsigned threads;
    compressor_pool *pool;
    int rc;
} compress_job;

static void pool_free(compressor_pool *p)
{
    for (size_t i = 0; p->free_list != NULL && i < p->free_count; i++)
        libdeflate_free_compressor(p->free_list[i]);
    free(p->free_list);
    drv_mutex_free(p->lock);
    memset(p, 0, sizeof *p);
}

static int pool_init(compressor_pool *p, unsigned threads)
{
    memset(p, 0, sizeof *p);
    p->free_list = calloc(threads, sizeof *p->free_list);
    p->lock = drv_mutex_new();
    if (p->free_list == NULL || p->lock == NULL) {
        pool_free(p);
        return -1;
    }
    for (p->size = 0; p->size < threads; p->size++) {
        p->free_list[p->size] = libdeflate_alloc_compressor(DEFLATE_LEVEL);
        if (p->free_list[p->size] == NULL) {
            p->free_count = p->size;
            pool_free(p);
            return -1;
        }
    }
    p->free_count = p->size;
    return 0;
}

/*
 * Random-looking data (compressed or encrypted payloads, a large part of a GPU driver) costs
 * libdeflate a full match search only to end as a stored block. Two cheap bounds skip it:
 * - literals: entropy coding saves at most chi2 / ln 2 bits over 8 bits a byte (the
 *   Kullback-Leibler divergence from uniform is at most chi2 / n), so a chi-square below
 *   LITERAL_BITS * ln 2 leaves Huffman less than LITERAL_BITS to win;
 * - matches: a hash of every 4-byte sequence finds repeats of 11 bytes or more; under
 *   MATCH_BYTES repeated bytes leave such matches less than that to win (shorter ones, in
 *   data whose bytes are evenly spread, save next to nothing).
 * So a skipped block is about (LITERAL_BITS / 8 + MATCH_BYTES) = 128 bytes (0.4%) larger
 * than libdeflate could have made it at most, and in practice the same: its code tables cost
 * more.
 */
#define LITERAL_BITS 512
#define MATCH_BYTES 64
#define MATCH_HASH_BITS 14
#define MATCH_STRIDE 8

static int looks_incompressible(const unsigned char *p, size_t n)
{
    uint32_t count[4][256] = {{0}}; /* four histograms: no stall on repeated bytes */
    uint64_t spread = 0;            /* sum of (256 c - n)^2 = chi2 * 256 n */
    uint16_t last[1u << MATCH_HASH_BITS]; /* position + 1 of a 4-byte sequence with this hash */
    size_t repeated = 0, i;

    if (n < 1024)
        return 0;
    for (i = 0; i + 4 <= n; i += 4) {
        count[0][p[i]]++;
        count[1][p[i + 1]]++;
        count[2][p[i + 2]]++;
        count[3][p[i + 3]]++;
    }
    for (; i < n; i++)
        count[0][p[i]]++;
    for (int c = 0; c < 256; c++) {
        int64_t d = (int64_t)(count[0][c] + count[1][c] + count[2][c] + count[3][c]) * 256 -
                    (int64_t)n;
        spread += (uint64_t)(d * d);
    }
    /* chi2 < LITERAL_BITS * ln 2, i.e. spread < 354 * 256 n */
    if (spread >= (uint64_t)(LITERAL_BITS * 693 / 1000) * 256u * n)
        return 0;
    /* Every position goes into the table, every MATCH_STRIDE-th looks for its sequence: that
     * finds every repeat of MATCH_STRIDE + 3 bytes or more, as long as no other sequence took
     * its slot (random data rarely does: 2^14 slots for 2^15 positions). */
    memset(last, 0, sizeof last);
    for (i = 0; i + 4 <= n; i++) {
        uint32_t v = drv_le32(p + i), h = (v * 2654435761u) >> (32 - MATCH_HASH_BITS);
        if (i % MATCH_STRIDE == 0 && last[h] != 0 && drv_le32(p + last[h] - 1) == v) {
            size_t from = last[h] - 1, len = 4;
            while (i + len < n && p[from + len] == p[i + len])
                len++;
            if ((repeated += len) >= MATCH_BYTES)
                return 0;
        }
        last[h] = (uint16_t)(i + 1);
    }
    return 1;
}

/* The block's CFDATA: a stored deflate block whenever compression would not make it smaller
 * (MS-MCI), so a payload never exceeds 32768 + 12 bytes. */
static int compress_block(void *arg, size_t i)
{
    compress_job *job = arg;
    block *b = &job->bt->blocks[i];
    unsigned char *payload = b->out + 8;
    size_t payload_len = 0;

    if (!job->mszip) {
        memcpy(payload, b->in, b->in_len);
        payload_len = b->in_len;
    } else {
        struct libdeflate_compressor *c;
        size_t n = 0;
        if (looks_incompressible(b->in, b->in_len))
            goto stored;
        drv_mutex_lock(job->pool->lock);
        c = job->pool->free_count > 0 ? job->pool->free_list[--job->pool->free_count] : NULL;
        drv_mutex_unlock(job->pool->lock);
        if (c == NULL)
            return -1;
        /* room for no more than the stored form: libdeflate returns 0 when it needs more */
        n = libdeflate_deflate_compress(c, b->in, b->in_len, payload + 2,
                                        b->in_len + STORED_HEADER);
        drv_mutex_lock(job->pool->lock);
        job->pool->free_list[job->pool->free_count++] = c;
        drv_mutex_unlock(job->pool->lock);
    stored:
        payload[0] = 'C';
        payload[1] = 'K';
        if (n == 0) {
            payload[2] = 0x01;
            drv_put_le16(payload + 3, (uint32_t)b->in_len);
            drv_put_le16(payload + 5, (uint32_t)(~b->in_len & 0xffff));
            memcpy(payload + 2 + STORED_HEADER, b->in, b->in_len);
            n = STORED_HEADER + b->in_len;
        }
        payload_len = 2 + n;
    }
    drv_put_le16(b->out + 4, (uint32_t)payload_len);
    drv_put_le16(b->out + 6, (uint32_t)b->in_len);
    drv_put_le32(b->out,
                 drv_cab_checksum(b->out + 4, 4, drv_cab_checksum(payload, payload_len, 0)));
    b->out_len = 8 + payload_len;
    return 0;
}

static void compress_batch(void *arg)
{
    compress_job *job = arg;
    job->rc = drv_parallel_for(job->bt->count, job->threads, compress_block, job);
}

typedef struct reader {
    const drv_cab_input *inputs;
    size_t count, index;
    drv_file file;
    int open;
    uint64_t offset;
    const uint64_t *sizes;
} reader;

/* Fill buf from the concatenated files; returns bytes read, or -1 after reporting. */
static long long read_stream(reader *r, unsigned char *buf, size_t want, drvsign_diag *diag)
{
    size_t got = 0;
    while (got < want && r->index < r->count) {
        size_t n;
        if (!r->open) {
            if (drv_file_open(&r->file, r->inputs[r->index].path, diag) != 0)
                return -1;
            if (r->file.size != r->sizes[r->index]) {
                drv_error(diag, r->file.path, "changed size while the cabinet was written");
                drv_file_close(&r->file);
                return -1;
            }
            r->open = 1;
            r->offset = 0;
        }
        n = r->file.size - r->offset < want - got ? (size_t)(r->file.size - r->offset) : want - got;
        if (n > 0 && drv_file_pread(&r->file, r->offset, buf + got, n, diag) != 0)
            return -1;
        got += n;
        r->offset += n;
        if (r->offset == r->file.size) {
            drv_file_close(&r->file);
            r->open = 0;
            r->index++;
        }
    }
    return (long long)got;
}

/* The next batch of blocks from the file stream; an empty batch after the last block. */
static int read_batch(reader *rd, batch *bt, uint64_t blocks_needed, uint64_t *read_blocks,
                      drvsign_diag *diag)
{
    for (bt->count = 0; bt->count < BATCH && *read_blocks < blocks_needed; bt->count++) {
        block *b = &bt->blocks[bt->count];
        long long n = read_stream(rd, b->in, DRV_CAB_BLOCK, diag);
        if (n < 0)
            return -1;
        b->in_len = (size_t)n;
        ++*read_blocks;
    }
    return 0;
}

/* Read batch k + 1 and write batch k - 1 while the cores compress batch k. */
static int write_blocks(reader *rd, uint64_t blocks_needed, const drv_cab_write_opts *opts,
                        drv_atomic *out, drvsign_diag *diag)
{
    batch ring[3] = {{0}};
    compressor_pool pool = {0};
    compress_job job = {0};
    unsigned threads = opts->threads ? opts->threads : 1;
    uint64_t read_blocks = 0;
    int rc = -1;

    for (int r = 0; r < 3; r++)
        if ((ring[r].blocks = malloc(BATCH * sizeof *ring[r].blocks)) == NULL)
            goto oom;
    if (opts->mszip && pool_init(&pool, threads) != 0)
        goto oom;
    job.mszip = opts->mszip;
    job.threads = threads;
    job.pool = &pool;
    for (size_t k = 0;; k++) {
        batch *cur = &ring[k % 3], *prev = k > 0 ? &ring[(k - 1) % 3] : NULL;
        batch *next = &ring[(k + 1) % 3];
        drv_thread *compressing = NULL;
        int io_failed = 0;

        if (k == 0 && read_batch(rd, cur, blocks_needed, &read_blocks, diag) != 0)
            goto done;
        job.bt = cur;
        job.rc = 0;
        if (cur->count > 0 && (compressing = drv_thread_start(compress_batch, &job)) == NULL)
            compress_batch(&job); /* no thread: compress first, then read and write */
        for (size_t i = 0; prev != NULL && i < prev->count && !io_failed; i++)
            io_failed = drv_atomic_write(out, prev->blocks[i].out, prev->blocks[i].out_len, diag);
        if (!io_failed)
            io_failed = read_batch(rd, next, blocks_needed, &read_blocks, diag);
        drv_thread_join(compressing);
        if (io_failed)
            goto done;
        if (job.rc != 0) {
            drv_error(diag, out->target, "compression failed");
            goto done;
        }
        if (cur->count == 0)
            break;
    }
    rc = 0;
    goto done;
oom:
    drv_error(diag, out->target, "out of memory");
done:
    pool_free(&pool);
    for (int r = 0; r < 3; r++)
        free(ring[r].blocks);
    return rc;
}

int drv_cab_write(const drv_cab_input *inputs, size_t count, const drv_cab_write_opts *opts,
                  drv_atomic *out, drvsign_diag *diag)
{
    uint64_t *sizes = calloc(count ? count : 1, sizeof *sizes), total = 0, blocks_needed;
    size_t header_len = CAB_HEADER + 8, files_len = 0;
    unsigned char *head = NULL, *p;
    reader rd = {0};
    uint64_t written;
    int rc = -1;

    if (sizes == NULL) {
        drv_error(diag, out->target, "out of memory");
        return -1;
    }
    if (count > DRV_CAB_MAX_FILES) {
        drv_error(diag, out->target, "%zu files; a cabinet holds at most %u", count,
                  DRV_CAB_MAX_FILES);
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        drv_file f;
        size_t name_len = strlen(inputs[i].name);
        if (name_len == 0 || name_len > 255) {
            drv_error(diag, inputs[i].path, "its cabinet name '%s' is longer than 255 bytes",
                      inputs[i].name);
            goto done;
        }
        if (drv_file_open(&f, inputs[i].path, diag) != 0)
            goto done;
        sizes[i] = f.size;
        drv_file_close(&f);
        total += sizes[i];
        files_len += 16 + name_len + 1;
    }
    blocks_needed = (total + DRV_CAB_BLOCK - 1) / DRV_CAB_BLOCK;
    if (total > UINT32_MAX || blocks_needed > 65535) {
        drv_error(diag, out->target,
                  "%llu bytes of files exceed one cabinet folder (65535 blocks of 32 KiB)",
                  (unsigned long long)total);
        goto done;
    }
    /* header, one folder and the file table, all known before any data */
    head = calloc(1, header_len + files_len);
    if (head == NULL)
        goto oom;
    memcpy(head, "MSCF", 4);
    drv_put_le32(head + 16, (uint32_t)header_len);                 /* coffFiles */
    head[0x18] = 3;                                          /* version 1.3 */
    head[0x19] = 1;
    drv_put_le16(head + 0x1a, 1);                                   /* cFolders */
    drv_put_le16(head + 0x1c, (uint32_t)count);                     /* cFiles */
    drv_put_le32(head + CAB_HEADER, (uint32_t)(header_len + files_len)); /* coffCabStart */
    drv_put_le16(head + CAB_HEADER + 4, (uint32_t)blocks_needed);
    drv_put_le16(head + CAB_HEADER + 6, opts->mszip ? COMPRESS_MSZIP : COMPRESS_NONE);
    p = head + header_len;
    {
        uint64_t folder_offset = 0;
        for (size_t i = 0; i < count; i++) {
            uint16_t date, tm;
            uint16_t attribs = ATTR_ARCH;
            size_t name_len = strlen(inputs[i].name);
            for (size_t k = 0; k < name_len; k++)
                if ((unsigned char)inputs[i].name[k] >= 0x80)
                    attribs |= ATTR_NAME_IS_UTF;
            dos_time(opts->time ? opts->time : inputs[i].mtime, &date, &tm);
            drv_put_le32(p, (uint32_t)sizes[i]);
            drv_put_le32(p + 4, (uint32_t)folder_offset);
            drv_put_le16(p + 8, 0);
            drv_put_le16(p + 10, date);
            drv_put_le16(p + 12, tm);
            drv_put_le16(p + 14, attribs);
            memcpy(p + 16, inputs[i].name, name_len + 1);
            p += 16 + name_len + 1;
            folder_offset += sizes[i];
        }
    }
    if (drv_atomic_write(out, head, header_len + files_len, diag) != 0)
        goto done;

    rd.inputs = inputs;
    rd.count = count;
    rd.sizes = sizes;
    if (write_blocks(&rd, blocks_needed, opts, out, diag) != 0)
        goto done;
    written = out->pos;
    if (written > UINT32_MAX) {
        drv_error(diag, out->target, "the cabinet would exceed 4 GiB");
        goto done;
    }
    {
        unsigned char cb[4];
        drv_put_le32(cb, (uint32_t)written);
        if (drv_atomic_pwrite(out, 8, cb, 4, diag) != 0)
            goto done;
    }
    rc = 0;
    goto done;
oom:
    drv_error(diag, out->target, "out of memory");
done:
    if (rd.open)
        drv_file_close(&rd.file);
    free(head);
    free(sizes);
    return rc;
}

/* ---- the signing handler (reference 5.3) ---- */

typedef struct cab_state {
    drv_file file;
    drv_cab cab;
    unsigned char *head; /* header, slot, strings, folders: as the signed file will have them */
    size_t head_len;
    uint32_t rest_offset, rest_len; /* the original file table and data */
    uint32_t new_cb_cabinet;
    const EVP_MD *md[4];
    unsigned char digest[4][EVP_MAX_MD_SIZE];
    unsigned digest_len[4];
    size_t md_count;
} cab_state;

static void cab_h_close(void *state)
{
    cab_state *s = state;
    if (s == NULL)
        return;
    drv_cab_close(&s->cab);
    free(s->head);
    free(s);
}

/* Lay out the header with the 20-byte signature slot, inserting it (and moving every offset
 * by 24) when the cabinet has none. */
static int build_head(cab_state *s, drvsign_diag *diag)
{
    drv_cab *c = &s->cab;
    const drv_file *f = &s->file;
    unsigned char *orig;
    size_t orig_len = c->folders_end;
    size_t shift = c->has_slot ? 0 : SLOT_SHIFT;
    size_t folder_size = 8 + (size_t)c->folder_reserve;

    if ((c->flags & FLAG_RESERVE) && !c->has_slot) {
        drv_error(diag, f->path,
                  "the cabinet has a %u-byte header reserve that is not an Authenticode "
                  "signature slot; only cabinets without a reserve, or with the 20-byte "
                  "signature reserve, can be signed",
                  c->header_reserve);
        return -1;
    }
    if ((uint64_t)c->cb_cabinet + shift > UINT32_MAX)
        return -1;
    orig = malloc(orig_len);
    s->head_len = orig_len + shift;
    s->head = calloc(1, s->head_len);
    if (orig == NULL || s->head == NULL) {
        free(orig);
        drv_error(diag, f->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(f, 0, orig, orig_len, diag) != 0) {
        free(orig);
        return -1;
    }
    s->new_cb_cabinet = c->cb_cabinet + (uint32_t)shift;
    if (shift == 0) {
        memcpy(s->head, orig, orig_len);
        memset(s->head + CAB_HEADER + 4 + 4, 0, 8); /* offset and size: filled in by attach */
    } else {
        memcpy(s->head, orig, CAB_HEADER);
        drv_put_le16(s->head + 0x1e, c->flags | FLAG_RESERVE);
        drv_put_le32(s->head + 8, s->new_cb_cabinet);
        drv_put_le32(s->head + 16, c->coff_files + (uint32_t)shift);
        drv_put_le16(s->head + CAB_HEADER, SLOT); /* cbCFHeader; cbCFFolder = cbCFData = 0 */
        memcpy(s->head + CAB_HEADER + 4, "\0\0\x10\0", 4);
        memcpy(s->head + CAB_HEADER + SLOT_SHIFT, orig + CAB_HEADER, orig_len - CAB_HEADER);
        for (unsigned i = 0; i < c->folder_count; i++) {
            unsigned char *e = s->head + c->folders_offset + shift + i * folder_size;
            drv_put_le32(e, drv_le32(e) + (uint32_t)shift);
        }
    }
    s->rest_offset = c->folders_end;
    s->rest_len = c->cb_cabinet - c->folders_end;
    free(orig);
    return 0;
}

static int cab_h_open(const drv_file *file, void **state, drvsign_diag *diag)
{
    cab_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        drv_error(diag, file->path, "out of memory");
        return -1;
    }
    s->file = *file;
    if (drv_cab_open(&s->cab, &s->file, diag) != 0) {
        free(s);
        return -1;
    }
    /* signing a cabinet whose file table is damaged would bless it: check it as verify does */
    if (drv_cab_check_files(&s->cab, diag) != 0) {
        drv_cab_close(&s->cab);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* H(b[0:4] || b[8:34] || b[56:60] || strings || folders || file table and data): everything
 * but reserved1 and the fields that say where the signature is. */
static int cab_h_prepare(void *state, const EVP_MD *const *mds, size_t count, int digests_only,
                         drvsign_diag *diag)
{
    cab_state *s = state;
    EVP_MD_CTX *ctx[4] = {0};
    unsigned char *buf = NULL;
    int rc = -1;
    (void)digests_only;

    if (s->head == NULL && build_head(s, diag) != 0)
        return -1;
    s->md_count = 0;
    for (size_t i = 0; i < count && s->md_count < 4; i++)
        s->md[s->md_count++] = mds[i];
    buf = malloc(DRV_IO_CHUNK);
    if (buf == NULL)
        goto done;
    for (size_t m = 0; m < s->md_count; m++) {
        ctx[m] = EVP_MD_CTX_new();
        if (ctx[m] == NULL || !EVP_DigestInit_ex(ctx[m], s->md[m], NULL) ||
            !EVP_DigestUpdate(ctx[m], s->head, 4) || !EVP_DigestUpdate(ctx[m], s->head + 8, 26) ||
            !EVP_DigestUpdate(ctx[m], s->head + 56, s->head_len - 56))
            goto done;
    }
    for (uint64_t off = 0; off < s->rest_len;) {
        size_t n = s->rest_len - off > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)(s->rest_len - off);
        if (drv_file_pread(&s->file, s->rest_offset + off, buf, n, diag) != 0)
            goto done;
        for (size_t m = 0; m < s->md_count; m++)
            if (!EVP_DigestUpdate(ctx[m], buf, n))
                goto done;
        off += n;
    }
    for (size_t m = 0; m < s->md_count; m++)
        if (!EVP_DigestFinal_ex(ctx[m], s->digest[m], &s->digest_len[m]))
            goto done;
    rc = 0;
done:
    if (rc != 0 && diag->errors == 0)
        drv_ssl_error(diag, s->file.path, "cannot digest the cabinet");
    for (size_t m = 0; m < 4; m++)
        EVP_MD_CTX_free(ctx[m]);
    free(buf);
    return rc;
}

static const unsigned char *cab_digest(cab_state *s, const EVP_MD *md, unsigned *len,
                                       drvsign_diag *diag)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->md_count; i++)
            if (EVP_MD_get_type(s->md[i]) == EVP_MD_get_type(md)) {
                *len = s->digest_len[i];
                return s->digest[i];
            }
        if (pass == 0 && cab_h_prepare(s, &md, 1, 1, diag) != 0)
            return NULL;
    }
    return NULL;
}

static int cab_h_content(void *state, const drv_content_opts *opts, drv_content *out,
                         drvsign_diag *diag)
{
    cab_state *s = state;
    unsigned char *link = NULL;
    size_t link_len;
    unsigned len;
    const unsigned char *digest;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (opts->page_hashes)
        drv_warn(diag, s->file.path, "--page-hashes applies to PE files, not to cabinets; ignored");
    digest = cab_digest(s, opts->md, &len, diag);
    if (digest == NULL)
        return -1;
    if (drv_ac_file_link(0, &link, &link_len) != 0 ||
        drv_ac_indirect_data(DRV_OID_SPC_CAB_DATA, link, link_len, opts->md, digest, len, &out->der,
                             &out->len) != 0) {
        drv_ssl_error(diag, s->file.path, "cannot encode SpcIndirectDataContent");
        goto done;
    }
    strcpy(out->oid, DRV_OID_SPC_INDIRECT_DATA);
    rc = 0;
done:
    OPENSSL_free(link);
    return rc;
}

static int cab_h_signature(void *state, unsigned char **der, size_t *len, drvsign_diag *diag)
{
    cab_state *s = state;
    *der = NULL;
    *len = 0;
    if (s->cab.sig_offset == 0)
        return 0;
    *der = malloc(s->cab.sig_size);
    if (*der == NULL) {
        drv_error(diag, s->file.path, "out of memory");
        return -1;
    }
    if (drv_file_pread(&s->file, s->cab.sig_offset, *der, s->cab.sig_size, diag) != 0) {
        free(*der);
        *der = NULL;
        return -1;
    }
    *len = s->cab.sig_size; /* zero padding after the DER is ignored by the parser */
    return 0;
}

static int cab_h_attach(void *state, const unsigned char *der, size_t len, drv_atomic *out,
                        drvsign_diag *diag)
{
    static const unsigned char zeros[8] = {0};
    cab_state *s = state;
    size_t pad = (8 - len % 8) % 8;

    if (s->head == NULL && build_head(s, diag) != 0)
        return -1;
    if ((uint64_t)len + pad > MAX_SIGNATURE) {
        drv_error(diag, s->file.path, "the signature is too large");
        return -1;
    }
    drv_put_le32(s->head + CAB_HEADER + 4 + 4, s->new_cb_cabinet);
    drv_put_le32(s->head + CAB_HEADER + 4 + 8, (uint32_t)(len + pad));
    if (drv_atomic_write(out, s->head, s->head_len, diag) != 0 ||
        drv_atomic_copy(out, &s->file, s->rest_offset, s->rest_len, diag) != 0 ||
        drv_atomic_write(out, der, len, diag) != 0 || drv_atomic_write(out, zeros, pad, diag) != 0)
        return -1;
    return 0;
}

/* The cabinet with its 20-byte signature reserve kept and pointing at nothing: attach() then
 * gives back the signed bytes exactly. */
static int cab_h_detach(void *state, drv_atomic *out, drvsign_diag *diag)
{
    cab_state *s = state;
    if (s->head == NULL && build_head(s, diag) != 0)
        return -1;
    return drv_atomic_write(out, s->head, s->head_len, diag) == 0 &&
                   drv_atomic_copy(out, &s->file, s->rest_offset, s->rest_len, diag) == 0
               ? 0
               : -1;
}

static int cab_h_check_content(void *state, const drv_sig *sig, drv_content_check *check,
                               drvsign_diag *diag)
{
    cab_state *s = state;
    const unsigned char *digest;
    unsigned len;

    memset(check, 0, sizeof *check);
    if (strcmp(sig->content_type, DRV_OID_SPC_INDIRECT_DATA) != 0 ||
        strcmp(sig->indirect.data_type, DRV_OID_SPC_CAB_DATA) != 0) {
        snprintf(check->problem, sizeof check->problem,
                 "the signature is not an Authenticode signature of a cabinet");
        return 0;
    }
    digest = cab_digest(s, sig->indirect.md, &len, diag);
    if (digest == NULL)
        return -1;
    if (len != sig->indirect.digest_len || memcmp(digest, sig->indirect.digest, len) != 0)
        snprintf(check->problem, sizeof check->problem,
                 "the cabinet digest does not match the signature: the file changed after signing");
    else
        check->digest_ok = 1;
    return 0;
}

/* A catalog records a cabinet by its SIP digest: the signed layout when it has one, else
 * everything but reserved1 (reference 2.7). */
static int cab_h_member_digest(void *state, const EVP_MD *md, unsigned char *out, unsigned *len,
                               drvsign_diag *diag)
{
    cab_state *s = state;
    EVP_MD_CTX *ctx;
    unsigned char *buf;
    int ok;

    if (s->cab.has_slot) {
        const unsigned char *d = cab_digest(s, md, len, diag);
        if (d == NULL)
            return -1;
        memcpy(out, d, *len);
        return 0;
    }
    ctx = EVP_MD_CTX_new();
    buf = malloc(DRV_IO_CHUNK);
    ok = ctx != NULL && buf != NULL && EVP_DigestInit_ex(ctx, md, NULL);
    for (uint64_t off = 0; ok && off < s->file.size;) {
        size_t n = s->file.size - off > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)(s->file.size - off);
        ok = drv_file_pread(&s->file, off, buf, n, diag) == 0;
        if (ok && off == 0) /* skip reserved1 */
            ok = EVP_DigestUpdate(ctx, buf, 4) && EVP_DigestUpdate(ctx, buf + 8, n - 8);
        else if (ok)
            ok = EVP_DigestUpdate(ctx, buf, n);
        off += n;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, len);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return ok ? 0 : -1;
}

/* inspect: the folders and every member with its size and DOS date. */
static int cab_h_describe(void *state, const drv_file *file, FILE *out, int json,
                          drvsign_diag *diag)
{
    drv_cab cab;
    drv_cab_member *m = NULL;
    size_t n = 0;
    (void)state;
    if (drv_cab_open(&cab, file, diag) != 0)
        return -1;
    if (drv_cab_members(&cab, &m, &n, diag) != 0) {
        drv_cab_close(&cab);
        return -1;
    }
    if (json)
        fprintf(out, ", \"cabinet\": {\"folders\": %u, \"files\": [", cab.folder_count);
    else
        fprintf(out, "  %u folder%s, %zu files:\n", cab.folder_count,
                cab.folder_count == 1 ? "" : "s", n);
    for (size_t i = 0; i < n; i++) {
        unsigned y = 1980 + (m[i].date >> 9), mo = m[i].date >> 5 & 15, d = m[i].date & 31;
        unsigned h = m[i].time >> 11, mi = m[i].time >> 5 & 63, se = (m[i].time & 31) * 2;
        if (json) {
            fprintf(out, "%s{\"name\": ", i ? ", " : "");
            drv_json_string(out, m[i].name);
            fprintf(out, ", \"size\": %u, \"date\": \"%04u-%02u-%02uT%02u:%02u:%02u\"}",
                    m[i].size, y, mo, d, h, mi, se);
        } else
            fprintf(out, "    %10u  %04u-%02u-%02u %02u:%02u:%02u  %s\n", m[i].size, y, mo, d,
                    h, mi, se, m[i].name);
    }
    if (json)
        fprintf(out, "]}");
    drv_cab_free_members(m, n);
    drv_cab_close(&cab);
    return 0;
}

const drv_format drv_format_cab = {
    .name = "cab",
    .nests = 1,
    .detect = drv_cab_detect,
    .open = cab_h_open,
    .prepare = cab_h_prepare,
    .content = cab_h_content,
    .signature = cab_h_signature,
    .attach = cab_h_attach,
    .detach = cab_h_detach,
    .check_content = cab_h_check_content,
    .member_digest = cab_h_member_digest,
    .describe = cab_h_describe,
    .close = cab_h_close,
};
