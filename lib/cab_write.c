/* The cabinet writer: one folder, MSZIP (libdeflate, blocks in parallel) or stored. */
#include "cab.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libdeflate.h>

#include "bytes.h"
#include "cab_layout.h"

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
/* libdeflate's level 5: on the mingw-w64 libraries 16% less CPU than level 6, for a cabinet
 * 1.4% larger than level 6 makes and 0.4% larger than gcab's (the bound is 2%) */
#define DEFLATE_LEVEL 5
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
    size_t count, capacity;
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
    for (bt->count = 0; bt->count < bt->capacity && *read_blocks < blocks_needed; bt->count++) {
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
    /* a batch holds 4 MB: a small cabinet gets batches (and compressors) of its own size */
    size_t capacity = blocks_needed < BATCH ? (size_t)(blocks_needed ? blocks_needed : 1) : BATCH;
    uint64_t read_blocks = 0;
    int rc = -1;

    if (threads > capacity)
        threads = (unsigned)capacity;
    for (int r = 0; r < 3; r++) {
        ring[r].capacity = capacity;
        if ((ring[r].blocks = malloc(capacity * sizeof *ring[r].blocks)) == NULL)
            goto oom;
    }
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
