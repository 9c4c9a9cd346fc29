/*
 * Hashing many files at once, for catalogs and for checking files against one. The files are
 * split among the workers a file at a time; what each file's hashing reports is held back and
 * passed on in the files' order, so that the output does not depend on the schedule.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "diag.h"
#include "hash_files.h"
#include "port.h"

typedef struct hash_job {
    const char *const *paths;
    const size_t *order; /* the files, largest first */
    size_t count;
    int want_sha256, page_hashes;
    drv_member_hash *hashes;
    unsigned char *failed; /* per file */
    drv_strlist *messages; /* per file: each line after 'E' (error) or 'W' (warning) */
    drvsign_diag *diag;
    drv_mutex *lock; /* guards the progress counters and the sink's progress */
    size_t done;
    uint64_t bytes;
    int progress;
    time_t last;
} hash_job;

typedef struct file_sink {
    hash_job *job;
    size_t index;
} file_sink;

static void hold_message(void *ctx, int is_error, const char *line)
{
    file_sink *s = ctx;
    size_t n = strlen(line);
    char *held = malloc(n + 2);
    if (held == NULL)
        return; /* the file fails all the same, and drv_hash_files says so */
    held[0] = is_error ? 'E' : 'W';
    memcpy(held + 1, line, n + 1);
    drv_strlist_take(&s->job->messages[s->index], held);
}

static void no_progress(void *ctx, int done, const char *line)
{
    (void)ctx, (void)done, (void)line; /* the job reports progress for all the files */
}

/* names only read the front end's table: no lock needed */
static const char *job_param_name(void *ctx, drvsign_param id)
{
    return drv_param(((file_sink *)ctx)->job->diag, id);
}

static int hash_task(void *arg, size_t next)
{
    hash_job *job = arg;
    file_sink sink = {job, job->order[next]};
    size_t i = sink.index;
    drvsign_diag local = {.emit = hold_message,
                          .ctx = &sink,
                          .quiet = job->diag->quiet,
                          .progress = no_progress,
                          .param_name = job_param_name};
    int rc = drv_member_hash_file(job->paths[i], job->want_sha256, job->page_hashes,
                                  &job->hashes[i], &local);
    if (rc != 0 || local.errors != 0) {
        drv_member_hash_free(&job->hashes[i]);
        memset(&job->hashes[i], 0, sizeof job->hashes[i]);
        rc = -1;
    }
    drv_mutex_lock(job->lock);
    job->done++;
    job->bytes += job->hashes[i].size;
    if (job->progress) {
        time_t now = time(NULL);
        if (now != job->last || job->done == job->count) {
            job->last = now;
            drv_progress(job->diag, job->done == job->count, "hashed %zu/%zu files, %llu MB",
                         job->done, job->count, (unsigned long long)(job->bytes >> 20));
        }
    }
    drv_mutex_unlock(job->lock);
    job->failed[i] = rc != 0;
    return rc;
}

typedef struct sized_index {
    uint64_t size;
    size_t index;
} sized_index;

static int larger_first(const void *a, const void *b)
{
    const sized_index *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

typedef struct size_job {
    const char *const *paths;
    sized_index *sized;
    size_t count;
} size_job;

/* files are looked up in runs of this many: one stat each is a syscall worth sharing out
 * among the cores when a catalog has thousands of small files */
#define SIZE_RUN 256

static int size_task(void *arg, size_t run)
{
    size_job *job = arg;
    size_t end = (run + 1) * SIZE_RUN < job->count ? (run + 1) * SIZE_RUN : job->count;
    for (size_t i = run * SIZE_RUN; i < end; i++) {
        job->sized[i].size = drv_file_size_hint(job->paths[i]);
        job->sized[i].index = i;
    }
    return 0;
}

/* Workers take the next file as they finish one, so a large file started last would keep one
 * core busy alone while the others wait; started first, the small ones fill in around it. */
static size_t *largest_first(const char *const *paths, size_t count)
{
    size_job job = {paths, malloc((count ? count : 1) * sizeof *job.sized), count};
    size_t *order = malloc((count ? count : 1) * sizeof *order);
    if (job.sized == NULL || order == NULL) {
        free(job.sized);
        free(order);
        return NULL;
    }
    drv_parallel_for((count + SIZE_RUN - 1) / SIZE_RUN, drv_cpu_count(), size_task, &job);
    qsort(job.sized, count, sizeof *job.sized, larger_first);
    for (size_t i = 0; i < count; i++)
        order[i] = job.sized[i].index;
    free(job.sized);
    return order;
}

int drv_hash_files(const char *const *paths, size_t count, int want_sha256, int page_hashes,
                   int progress, drv_member_hash *hashes, unsigned char *failed, drvsign_diag *diag)
{
    hash_job job = {0};
    int rc = -1;

    memset(hashes, 0, count * sizeof *hashes);
    job.paths = paths;
    job.count = count;
    job.want_sha256 = want_sha256;
    job.page_hashes = page_hashes;
    job.hashes = hashes;
    job.failed = calloc(count ? count : 1, 1);
    job.diag = diag;
    job.progress = progress;
    job.order = largest_first(paths, count);
    job.messages = calloc(count ? count : 1, sizeof *job.messages);
    job.lock = drv_mutex_new();
    if (job.order == NULL || job.failed == NULL || job.messages == NULL || job.lock == NULL) {
        drv_error(diag, NULL, "out of memory");
        goto done;
    }
    rc = drv_parallel_for(count, drv_cpu_count(), hash_task, &job);
    for (size_t i = 0; i < count; i++) {
        int said = 0;
        for (size_t m = 0; m < job.messages[i].n; m++) {
            const char *held = job.messages[i].v[m];
            if (held[0] == 'E')
                drv_error(diag, NULL, "%s", held + 1), said = 1;
            else
                drv_warn(diag, NULL, "%s", held + 1);
        }
        /* a message lost to a failed allocation still leaves its file with one line */
        if (job.failed[i] && !said)
            drv_error(diag, paths[i], "cannot be hashed: out of memory");
        if (failed != NULL)
            failed[i] = job.failed[i];
    }
done:
    for (size_t i = 0; job.messages != NULL && i < count; i++)
        drv_strlist_free(&job.messages[i]);
    free(job.messages);
    free(job.failed);
    if (job.lock != NULL)
        drv_mutex_free(job.lock);
    free((void *)job.order);
    return rc;
}
