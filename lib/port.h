/*
 * The platform layer: streamed file access, atomic replacement, threads and secret wiping.
 * Everything platform-specific in drvsign lives behind these functions.
 */
#ifndef DRVSIGN_PORT_H
#define DRVSIGN_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "diag.h"
#include "text.h"

/* ---- small C library differences, so that no other file needs an #ifdef ---- */

#ifdef _WIN32
#define strtok_r strtok_s /* the same contract under Windows' name */
#endif

/* The broken-down UTC (or local, when local) time of t; 0, or -1 when it has none. */
int drv_broken_down_time(int64_t t, int local, struct tm *out);
/* Only the owner may read the open file fd (a private key), where the platform has modes. */
int drv_make_private(int fd);

/* Buffer size for streaming; peak memory is a small multiple of this, whatever the file size. */
#define DRV_IO_CHUNK ((size_t)1 << 20)

typedef struct drv_file {
    const char *path;
    int fd;
    uint64_t size;
} drv_file;

/* Regular files only: a FIFO, socket, device or directory is refused without blocking. */
int drv_file_open(drv_file *f, const char *path, drvsign_diag *diag);
/* drv_file_open plus an exclusive advisory lock (flock), held until drv_file_close: for a
 * file about to be replaced in place, so that concurrent runs take turns. If another run
 * replaced the file while this one waited, the new file is opened and locked instead. */
int drv_file_open_locked(drv_file *f, const char *path, drvsign_diag *diag);
/* 0 if path is a regular file that can be opened; else one error naming it. For paths handed
 * to code that opens them itself (and would block on a FIFO). */
int drv_check_regular(const char *path, drvsign_diag *diag);
void drv_file_close(drv_file *f);
/* The size of the regular file at path, or 0 when there is none: for scheduling work, never
 * for reading (the file may change before it is opened). */
uint64_t drv_file_size_hint(const char *path);
/* Read exactly n bytes at off; a short file is an error naming the file. */
int drv_file_pread(const drv_file *f, uint64_t off, void *buf, size_t n, drvsign_diag *diag);

/* Byte ranges of a file, handed to a consumer in order: fn gets each range in one or more
 * pieces (with the file offset of each) and returns 0 to go on. Where the platform can, the
 * file is mapped a window at a time rather than read (files of DRV_STREAM_MAP_MIN bytes or
 * more), so the bytes are not copied and memory stays bounded; a file that shrinks meanwhile
 * is an error naming it. Safe on several threads at once. When the stream fails midway, the
 * consumer's state is incomplete and must be discarded. */
#define DRV_STREAM_MAP_MIN ((uint64_t)256 << 10)
typedef struct drv_range {
    uint64_t off, len;
} drv_range;
typedef int (*drv_bytes_fn)(void *ctx, uint64_t off, const unsigned char *p, size_t n);
int drv_file_stream(const drv_file *f, const drv_range *ranges, size_t count, drv_bytes_fn fn,
                    void *ctx, drvsign_diag *diag);

/* Whole small file into memory (certificates, passwords), at most max bytes. */
int drv_read_small_file(const char *path, size_t max, unsigned char **data, size_t *len,
                        drvsign_diag *diag);

/*
 * A new file that replaces target only on commit: it is written as a temp file beside the
 * target and renamed into place, so readers never see a half-written file and a failure
 * leaves the target as it was. On Linux the temp file has no name until commit (O_TMPFILE),
 * so not even SIGKILL leaves it behind; a named temp file (other systems, file systems
 * without O_TMPFILE) is removed on SIGTERM, SIGINT and SIGHUP.
 */
typedef struct drv_atomic {
    char *target; /* the name the caller gave, for messages */
    char *dest;   /* what gets replaced: target, or the file a symlinked target points to */
    char *tmp;    /* the temp file's name (not yet used while anonymous) */
    int fd;
    uint64_t pos;
    int in_place;  /* replacing mode_like itself: synced to survive a power cut */
    int anonymous; /* an O_TMPFILE without a name yet */
    int pending;   /* its slot in the signal-cleanup table, or -1 */
} drv_atomic;

/* mode_like: an existing file whose permissions the new file copies (may be NULL). When
 * target is mode_like itself (in-place signing), a symbolic link is followed, so the file it
 * points to is replaced and the link stays; and the commit is durable (README). */
int drv_atomic_open(drv_atomic *a, const char *target, const char *mode_like,
                    drvsign_diag *diag);
int drv_atomic_write(drv_atomic *a, const void *buf, size_t n, drvsign_diag *diag);
int drv_atomic_pwrite(drv_atomic *a, uint64_t off, const void *buf, size_t n,
                      drvsign_diag *diag);
/* Append len bytes of src starting at off (in-kernel copy where the platform has one). */
int drv_atomic_copy(drv_atomic *a, const drv_file *src, uint64_t off, uint64_t len,
                    drvsign_diag *diag);
int drv_atomic_commit(drv_atomic *a, drvsign_diag *diag);
/* Start writing what is there so far to disk, without waiting: the commit's fsync then has
 * less left to wait for. A hint; nothing fails if the platform has no such call. */
void drv_atomic_start_writeback(drv_atomic *a);
/* Close the temp file without renaming it: a->tmp stays readable until drv_atomic_abort. */
int drv_atomic_close(drv_atomic *a, drvsign_diag *diag);
/* Remove the temp file; safe after commit and on a zeroed struct. */
void drv_atomic_abort(drv_atomic *a);

/* strdup, which C11 lacks; NULL when out of memory. */
char *drv_strdup(const char *s);

/* Zero memory that held a secret, in a way the compiler may not elide. */
void drv_wipe(void *p, size_t n);
/* Wipe and free a NUL-terminated secret. */
void drv_free_secret(char *s);

unsigned drv_cpu_count(void);
void drv_sleep(unsigned seconds);

/* Run fn(ctx, i) for i in [0, count) on up to threads threads; returns 0 if every call did. */
typedef int (*drv_task_fn)(void *ctx, size_t index);
int drv_parallel_for(size_t count, unsigned threads, drv_task_fn fn, void *ctx);

/* One background thread, for overlapping I/O with hashing. */
typedef struct drv_thread drv_thread;
drv_thread *drv_thread_start(void (*fn)(void *arg), void *arg);
/* Wait for the thread and free it; NULL is a no-op. */
void drv_thread_join(drv_thread *t);

typedef struct drv_mutex drv_mutex;
drv_mutex *drv_mutex_new(void);
void drv_mutex_lock(drv_mutex *m);
void drv_mutex_unlock(drv_mutex *m);
void drv_mutex_free(drv_mutex *m);

int drv_file_exists(const char *path);
/* What is at path, a symbolic link at its end not followed: a package holds only regular
 * files and directories. For anything else (or nothing), what gets a phrase for a message:
 * "a symbolic link (to /etc/passwd)", "a FIFO". */
typedef enum drv_entry { DRV_ENTRY_NONE, DRV_ENTRY_FILE, DRV_ENTRY_DIR, DRV_ENTRY_OTHER } drv_entry;
drv_entry drv_entry_at(const char *path, char *what, size_t n);
/* 1 when path lies in root and every component of it below root is a real directory (no
 * symbolic link) and the last a regular file or directory; else 0 and what says which
 * component is what ("amd64 is a symbolic link (to /etc)"). */
int drv_inside_package(const char *root, const char *path, char *what, size_t n);
int drv_is_dir(const char *path);
/* Modification time in seconds since the epoch, 0 if unknown. */
int64_t drv_file_mtime(const char *path);
/* The entries of dir (without . and ..), sorted bytewise, into *names (free with
 * drv_strlist_free); -1 (names empty) when it cannot be listed whole. */
int drv_list_dir(const char *dir, drv_strlist *names, drvsign_diag *diag);
/* dir + rel ('/'-separated), each component matched case-insensitively, as Windows
 * would find it; NULL when there is no such file. */
char *drv_resolve_ci(const char *dir, const char *rel);
/* Is stderr a terminal (for progress output)? */
int drv_stderr_is_tty(void);
int drv_mkdir(const char *path, drvsign_diag *diag);
char *drv_path_join(const char *dir, const char *name);
/* The last component of a path (after '/', and '\\' on Windows). */
const char *drv_base_name(const char *path);


/* How a child process ended (drv_run). */
typedef struct drv_run_result {
    int exited;    /* it exited (exit_code is valid) */
    int exit_code;
    int signal;    /* it was killed by this signal */
    int timed_out; /* it took too long, and drv_run killed it and its process group */
    int too_much;  /* it wrote more than max_out bytes to stdout */
    int interrupted; /* drvsign got this signal (SIGINT, SIGTERM, SIGHUP) and stopped it */
} drv_run_result;

/*
 * Run argv[0] (searched on PATH) with argv directly, never through a shell, with env_add
 * ("NAME=value", NULL-terminated) added to the environment, input on its stdin, its stdout
 * collected (up to max_out bytes, *out malloc'd) and its stderr passed through to ours.
 * SIGINT, SIGTERM and SIGHUP stop the child's process group first, then take their course.
 * Returns 0 once it has ended (see *res), -1 when it could not be started (reported).
 */
int drv_run(const char *const *argv, const char *const *env_add, const unsigned char *input,
            size_t input_len, unsigned timeout_seconds, size_t max_out, unsigned char **out,
            size_t *out_len, drv_run_result *res, const char *where, drvsign_diag *diag);

#endif
