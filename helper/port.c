#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* copy_file_range */
#endif
#include "port.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <time.h>

#include <openssl/crypto.h>

#ifdef _WIN32
#include <io.h>
#include <direct.h>
#include <windows.h>
#define drv_close _close
#define O_CLOEXEC 0
#define strtok_r strtok_s
#else
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>
#define drv_close close
#ifndef O_BINARY
#define O_BINARY 0
#endif
#endif

#ifdef _WIN32
static long long pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    OVERLAPPED ov = {0};
    DWORD got = 0;
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    if (n > 0x40000000u)
        n = 0x40000000u;
    if (!ReadFile(h, buf, (DWORD)n, &got, &ov))
        return GetLastError() == ERROR_HANDLE_EOF ? 0 : -1;
    return (long long)got;
}

static long long pwrite_some(int fd, const void *buf, size_t n, uint64_t off)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    OVERLAPPED ov = {0};
    DWORD put = 0;
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    if (n > 0x40000000u)
        n = 0x40000000u;
    if (!WriteFile(h, buf, (DWORD)n, &put, &ov))
        return -1;
    return (long long)put;
}
#else
static long long pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    ssize_t r;
    do
        r = pread(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

static long long pwrite_some(int fd, const void *buf, size_t n, uint64_t off)
{
    ssize_t r;
    do
        r = pwrite(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}
#endif

int drv_file_open(drv_file *f, const char *path, drvsign_diag *diag)
{
    struct stat st;

    memset(f, 0, sizeof *f);
    f->path = path;
    f->fd = open(path, O_RDONLY | O_BINARY | O_CLOEXEC);
    if (f->fd < 0) {
        drv_error(diag, path, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        drv_error(diag, path, "not a regular file");
        drv_close(f->fd);
        f->fd = -1;
        return -1;
    }
    f->size = (uint64_t)st.st_size;
    return 0;
}

void drv_file_close(drv_file *f)
{
    if (f->fd >= 0)
        drv_close(f->fd);
    f->fd = -1;
}

int drv_file_pread(const drv_file *f, uint64_t off, void *buf, size_t n, drvsign_diag *diag)
{
    unsigned char *p = buf;

    if (off > f->size || n > f->size - off) {
        drv_error(diag, f->path, "file is truncated: needs %llu bytes at offset %llu, has %llu",
                  (unsigned long long)n, (unsigned long long)off, (unsigned long long)f->size);
        return -1;
    }
    while (n > 0) {
        long long r = pread_all(f->fd, p, n, off);
        if (r <= 0) {
            drv_error(diag, f->path, "read failed at offset %llu: %s", (unsigned long long)off,
                      r == 0 ? "unexpected end of file" : strerror(errno));
            return -1;
        }
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

int drv_read_small_file(const char *path, size_t max, unsigned char **data, size_t *len,
                        drvsign_diag *diag)
{
    drv_file f;
    unsigned char *buf;

    *data = NULL;
    *len = 0;
    if (drv_file_open(&f, path, diag) != 0)
        return -1;
    if (f.size > max) {
        drv_error(diag, path, "file is too large (%llu bytes, at most %zu expected)",
                  (unsigned long long)f.size, max);
        drv_file_close(&f);
        return -1;
    }
    buf = malloc((size_t)f.size + 1);
    if (buf == NULL || drv_file_pread(&f, 0, buf, (size_t)f.size, diag) != 0) {
        if (buf == NULL)
            drv_error(diag, path, "out of memory");
        free(buf);
        drv_file_close(&f);
        return -1;
    }
    buf[f.size] = 0;
    *data = buf;
    *len = (size_t)f.size;
    drv_file_close(&f);
    return 0;
}

/* ---- atomic replacement ---- */

char *drv_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

const char *drv_base_name(const char *path)
{
    const char *s = strrchr(path, '/');
#ifdef _WIN32
    const char *b = strrchr(path, '\\');
    if (b != NULL && (s == NULL || b > s))
        s = b;
#endif
    return s ? s + 1 : path;
}

unsigned long drv_utf16le_next(const unsigned char *p, size_t n, size_t *i)
{
    unsigned long u = (unsigned long)p[*i] | (unsigned long)p[*i + 1] << 8;
    *i += 2;
    if (u >= 0xd800 && u <= 0xdbff && *i + 1 < n) {
        unsigned long lo = (unsigned long)p[*i] | (unsigned long)p[*i + 1] << 8;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *i += 2;
            return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        }
        return 0xfffd;
    }
    return u >= 0xd800 && u <= 0xdfff ? 0xfffd : u;
}

size_t drv_utf8_put(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int drv_atomic_open(drv_atomic *a, const char *target, const char *mode_like,
                    drvsign_diag *diag)
{
    size_t n = strlen(target);

    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->target = malloc(n + 1);
    a->tmp = malloc(n + 16);
    if (a->target == NULL || a->tmp == NULL) {
        drv_error(diag, target, "out of memory");
        goto fail;
    }
    memcpy(a->target, target, n + 1);
    /* Beside the target, so the final rename never crosses a file system. */
    snprintf(a->tmp, n + 16, "%s.dsXXXXXX", target);
#ifdef _WIN32
    if (_mktemp_s(a->tmp, n + 16) != 0 ||
        (a->fd = _open(a->tmp, _O_CREAT | _O_EXCL | _O_RDWR | _O_BINARY, 0600)) < 0) {
#else
    if ((a->fd = mkstemp(a->tmp)) < 0) {
#endif
        drv_error(diag, target, "cannot create a temporary file beside it: %s", strerror(errno));
        goto fail;
    }
#ifndef _WIN32
    {
        struct stat st;
        mode_t mode = 0644;
        if (mode_like != NULL && stat(mode_like, &st) == 0)
            mode = st.st_mode & 07777;
        else {
            mode_t mask = umask(0);
            umask(mask);
            mode = 0666 & ~mask;
        }
        if (fchmod(a->fd, mode) != 0) {
            drv_error(diag, target, "cannot set permissions: %s", strerror(errno));
            goto fail;
        }
    }
#else
    (void)mode_like;
#endif
    return 0;
fail:
    drv_atomic_abort(a);
    return -1;
}

int drv_atomic_pwrite(drv_atomic *a, uint64_t off, const void *buf, size_t n,
                      drvsign_diag *diag)
{
    const unsigned char *p = buf;
    while (n > 0) {
        long long r = pwrite_some(a->fd, p, n, off);
        if (r <= 0) {
            drv_error(diag, a->target, "write failed: %s", strerror(errno));
            return -1;
        }
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

int drv_atomic_write(drv_atomic *a, const void *buf, size_t n, drvsign_diag *diag)
{
    if (drv_atomic_pwrite(a, a->pos, buf, n, diag) != 0)
        return -1;
    a->pos += n;
    return 0;
}

int drv_atomic_copy(drv_atomic *a, const drv_file *src, uint64_t off, uint64_t len,
                    drvsign_diag *diag)
{
    unsigned char *buf;

#if defined(__linux__)
    /* The kernel copies without a round trip through user space (and reflinks where it can). */
    while (len > 0) {
        loff_t in_off = (loff_t)off, out_off = (loff_t)a->pos;
        size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t r = copy_file_range(src->fd, &in_off, a->fd, &out_off, want, 0);
        if (r <= 0)
            break; /* unsupported here, or a short source: the plain loop below reports it */
        off += (uint64_t)r;
        a->pos += (uint64_t)r;
        len -= (uint64_t)r;
    }
    if (len == 0)
        return 0;
#endif
    buf = malloc(DRV_IO_CHUNK);
    if (buf == NULL) {
        drv_error(diag, a->target, "out of memory");
        return -1;
    }
    while (len > 0) {
        size_t n = len > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)len;
        if (drv_file_pread(src, off, buf, n, diag) != 0 || drv_atomic_write(a, buf, n, diag) != 0) {
            free(buf);
            return -1;
        }
        off += n;
        len -= n;
    }
    free(buf);
    return 0;
}

void drv_atomic_start_writeback(drv_atomic *a)
{
#if defined(__linux__)
    if (a->fd >= 0)
        sync_file_range(a->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)a;
#endif
}

int drv_atomic_commit(drv_atomic *a, drvsign_diag *diag)
{
#ifdef _WIN32
    if (_commit(a->fd) != 0 || _close(a->fd) != 0) {
        a->fd = -1;
        drv_error(diag, a->target, "cannot flush: %s", strerror(errno));
        return -1;
    }
    a->fd = -1;
    if (!MoveFileExA(a->tmp, a->target, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        drv_error(diag, a->target, "cannot replace (Windows error %lu)", GetLastError());
        return -1;
    }
#else
    if (fsync(a->fd) != 0 || close(a->fd) != 0) {
        a->fd = -1;
        drv_error(diag, a->target, "cannot flush: %s", strerror(errno));
        return -1;
    }
    a->fd = -1;
    if (rename(a->tmp, a->target) != 0) {
        drv_error(diag, a->target, "cannot replace: %s", strerror(errno));
        return -1;
    }
#endif
    free(a->tmp);
    a->tmp = NULL;
    free(a->target);
    a->target = NULL;
    return 0;
}

int drv_atomic_close(drv_atomic *a, drvsign_diag *diag)
{
    int rc = drv_close(a->fd);
    a->fd = -1;
    if (rc != 0) {
        drv_error(diag, a->target, "cannot close: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void drv_atomic_abort(drv_atomic *a)
{
    if (a->fd >= 0)
        drv_close(a->fd);
    a->fd = -1;
    if (a->tmp != NULL)
        remove(a->tmp);
    free(a->tmp);
    free(a->target);
    a->tmp = NULL;
    a->target = NULL;
}

/* ---- secrets ---- */

char *drv_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void drv_wipe(void *p, size_t n)
{
    if (p != NULL)
        OPENSSL_cleanse(p, n);
}

void drv_free_secret(char *s)
{
    if (s != NULL) {
        drv_wipe(s, strlen(s));
        free(s);
    }
}

/* ---- threads ---- */

void drv_sleep(unsigned seconds)
{
#ifdef _WIN32
    Sleep(seconds * 1000u);
#else
    struct timespec ts = {(time_t)seconds, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
#endif
}

unsigned drv_cpu_count(void)
{
#ifdef _WIN32
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors > 0 ? (unsigned)si.dwNumberOfProcessors : 1;
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
#endif
}

struct drv_mutex {
#ifdef _WIN32
    CRITICAL_SECTION cs;
#else
    pthread_mutex_t m;
#endif
};

drv_mutex *drv_mutex_new(void)
{
    drv_mutex *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
#ifdef _WIN32
    InitializeCriticalSection(&m->cs);
#else
    if (pthread_mutex_init(&m->m, NULL) != 0) {
        free(m);
        return NULL;
    }
#endif
    return m;
}

void drv_mutex_lock(drv_mutex *m)
{
#ifdef _WIN32
    EnterCriticalSection(&m->cs);
#else
    pthread_mutex_lock(&m->m);
#endif
}

void drv_mutex_unlock(drv_mutex *m)
{
#ifdef _WIN32
    LeaveCriticalSection(&m->cs);
#else
    pthread_mutex_unlock(&m->m);
#endif
}

void drv_mutex_free(drv_mutex *m)
{
    if (m == NULL)
        return;
#ifdef _WIN32
    DeleteCriticalSection(&m->cs);
#else
    pthread_mutex_destroy(&m->m);
#endif
    free(m);
}

struct drv_thread {
    void (*fn)(void *arg);
    void *arg;
#ifdef _WIN32
    HANDLE handle;
#else
    pthread_t handle;
#endif
};

#ifdef _WIN32
static DWORD WINAPI thread_main(LPVOID p)
#else
static void *thread_main(void *p)
#endif
{
    drv_thread *t = p;
    t->fn(t->arg);
    return 0;
}

drv_thread *drv_thread_start(void (*fn)(void *arg), void *arg)
{
    drv_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->fn = fn;
    t->arg = arg;
#ifdef _WIN32
    t->handle = CreateThread(NULL, 0, thread_main, t, 0, NULL);
    if (t->handle == NULL) {
#else
    if (pthread_create(&t->handle, NULL, thread_main, t) != 0) {
#endif
        free(t);
        return NULL;
    }
    return t;
}

void drv_thread_join(drv_thread *t)
{
    if (t == NULL)
        return;
#ifdef _WIN32
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
#else
    pthread_join(t->handle, NULL);
#endif
    free(t);
}

struct pool {
    drv_task_fn fn;
    void *ctx;
    size_t count;
    size_t next;
    int failed;
    drv_mutex *lock;
};

/* Workers take the next index under the lock: files differ wildly in size, so static
 * partitioning would leave a core idle behind one large file. */
#ifdef _WIN32
static DWORD WINAPI pool_worker(LPVOID arg)
#else
static void *pool_worker(void *arg)
#endif
{
    struct pool *p = arg;
    for (;;) {
        size_t i;
        int rc;
        drv_mutex_lock(p->lock);
        i = p->next < p->count ? p->next++ : p->count;
        drv_mutex_unlock(p->lock);
        if (i >= p->count)
            break;
        rc = p->fn(p->ctx, i);
        if (rc != 0) {
            drv_mutex_lock(p->lock);
            p->failed = 1;
            drv_mutex_unlock(p->lock);
        }
    }
    return 0;
}

int drv_parallel_for(size_t count, unsigned threads, drv_task_fn fn, void *ctx)
{
    struct pool p = {fn, ctx, count, 0, 0, NULL};
    unsigned started = 0;
#ifdef _WIN32
    HANDLE tids[64];
#else
    pthread_t tids[64];
#endif

    if (threads > 64)
        threads = 64;
    if (threads > count)
        threads = (unsigned)count;
    if (threads <= 1) {
        int failed = 0;
        for (size_t i = 0; i < count; i++)
            if (fn(ctx, i) != 0)
                failed = 1;
        return failed ? -1 : 0;
    }
    p.lock = drv_mutex_new();
    if (p.lock == NULL)
        return -1;
    for (unsigned t = 0; t < threads; t++) {
#ifdef _WIN32
        tids[t] = CreateThread(NULL, 0, pool_worker, &p, 0, NULL);
        if (tids[t] == NULL)
            break;
#else
        if (pthread_create(&tids[t], NULL, pool_worker, &p) != 0)
            break;
#endif
        started++;
    }
    if (started == 0)
        pool_worker(&p);
    for (unsigned t = 0; t < started; t++) {
#ifdef _WIN32
        WaitForSingleObject(tids[t], INFINITE);
        CloseHandle(tids[t]);
#else
        pthread_join(tids[t], NULL);
#endif
    }
    drv_mutex_free(p.lock);
    return p.failed ? -1 : 0;
}

/* ---- paths ---- */

int drv_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int drv_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t drv_file_mtime(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

int64_t drv_source_date_epoch(drvsign_diag *diag)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end;
    long long seconds;
    if (sde == NULL || *sde == 0)
        return 0;
    seconds = strtoll(sde, &end, 10);
    if (*end == 0 && seconds > 0)
        return seconds;
    drv_warn(diag, NULL, "SOURCE_DATE_EPOCH '%s' is not a number of seconds; ignored", sde);
    return 0;
}

int drv_stderr_is_tty(void)
{
#ifdef _WIN32
    return _isatty(_fileno(stderr));
#else
    return isatty(STDERR_FILENO);
#endif
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int drv_list_dir(const char *dir, char ***names, size_t *count, drvsign_diag *diag)
{
    size_t n = 0, cap = 16;
    char **list = malloc(cap * sizeof *list);
#ifdef _WIN32
    WIN32_FIND_DATAA fd;
    char *pattern = drv_path_join(dir, "*");
    HANDLE h = pattern ? FindFirstFileA(pattern, &fd) : INVALID_HANDLE_VALUE;
    free(pattern);
    if (list == NULL || h == INVALID_HANDLE_VALUE) {
        free(list);
        drv_error(diag, dir, "cannot list the directory");
        return -1;
    }
    do {
        const char *name = fd.cFileName;
#else
    DIR *d = opendir(dir);
    struct dirent *e;
    if (list == NULL || d == NULL) {
        free(list);
        if (d != NULL)
            closedir(d);
        drv_error(diag, dir, "cannot list the directory: %s", strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
#endif
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (n == cap) {
            char **bigger = realloc(list, (cap *= 2) * sizeof *list);
            if (bigger == NULL)
                break;
            list = bigger;
        }
        list[n] = drv_strdup(name);
        if (list[n] != NULL)
            n++;
#ifdef _WIN32
    } while (FindNextFileA(h, &fd));
    FindClose(h);
#else
    }
    closedir(d);
#endif
    qsort(list, n, sizeof *list, cmp_names);
    *names = list;
    *count = n;
    return 0;
}

void drv_free_list(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static void silent(void *ctx, int is_error, const char *line)
{
    (void)ctx;
    (void)is_error;
    (void)line;
}

static int same_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

char *drv_resolve_ci(const char *dir, const char *rel)
{
    char *path = drv_strdup(dir), *work = drv_strdup(rel), *save = NULL, *comp;
    if (path == NULL || work == NULL) {
        free(path);
        free(work);
        return NULL;
    }
    for (comp = strtok_r(work, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
        char *next;
        if (strcmp(comp, ".") == 0)
            continue;
        next = drv_path_join(path, comp);
        if (next != NULL && !drv_file_exists(next)) {
            /* case-sensitive file system: look for the Windows match */
            char **names;
            size_t count;
            drvsign_diag quiet = {silent, NULL, 0, 0, 1};
            free(next);
            next = NULL;
            if (drv_is_dir(path) && drv_list_dir(path, &names, &count, &quiet) == 0) {
                for (size_t i = 0; i < count && next == NULL; i++)
                    if (same_ci(names[i], comp))
                        next = drv_path_join(path, names[i]);
                drv_free_list(names, count);
            }
        }
        free(path);
        path = next;
        if (path == NULL)
            break;
    }
    free(work);
    if (path != NULL && !drv_file_exists(path)) {
        free(path);
        path = NULL;
    }
    return path;
}

int drv_mkdir(const char *path, drvsign_diag *diag)
{
#ifdef _WIN32
    int r = _mkdir(path);
#else
    int r = mkdir(path, 0755);
#endif
    if (r != 0 && errno != EEXIST) {
        drv_error(diag, path, "cannot create directory: %s", strerror(errno));
        return -1;
    }
    return 0;
}
