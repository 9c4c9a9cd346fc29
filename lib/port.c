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
#include <openssl/rand.h>

#ifdef _WIN32
#include <io.h>
#include <direct.h>
#include <process.h>
#include <stdio.h>
#include <windows.h>
#define drv_close _close
#define O_CLOEXEC 0
#define strtok_r strtok_s
#define getpid _getpid
#else
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#define drv_close close
#ifndef O_BINARY
#define O_BINARY 0
#endif
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK 0
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

/* Windows' text for an error code: strerror knows only the C library's errno values. */
static const char *win_error(DWORD code, char *buf, size_t n)
{
    DWORD len = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                               code, 0, buf, (DWORD)n, NULL);
    while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n' || buf[len - 1] == '.'))
        buf[--len] = 0;
    if (len == 0)
        snprintf(buf, n, "Windows error %lu", (unsigned long)code);
    return buf;
}

/* Every file is opened sharing read, write and delete: other runs may read it meanwhile, and
 * replacing it in place (drv_atomic_commit) renames it while this run still has it open. */
static HANDLE open_shared(const char *path, DWORD access, DWORD creation, DWORD flags)
{
    return CreateFileA(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, creation, flags, NULL);
}

/* Volume and file index: what stays the same across renames (Windows' device and inode). */
static int path_identity(const char *path, BY_HANDLE_FILE_INFORMATION *id)
{
    HANDLE h = open_shared(path, FILE_READ_ATTRIBUTES, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS);
    int rc;
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    rc = GetFileInformationByHandle(h, id) ? 0 : -1;
    CloseHandle(h);
    return rc;
}

static int same_identity(const BY_HANDLE_FILE_INFORMATION *a, const BY_HANDLE_FILE_INFORMATION *b)
{
    return a->dwVolumeSerialNumber == b->dwVolumeSerialNumber &&
           a->nFileIndexHigh == b->nFileIndexHigh && a->nFileIndexLow == b->nFileIndexLow;
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

/* What a directory entry is, for messages about entries that are not regular files. */
static const char *kind_of_mode(unsigned mode)
{
#ifndef _WIN32
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
#endif
    if (S_ISDIR(mode))
        return "a directory";
    return "not a regular file";
}

#ifdef _WIN32
int drv_file_open(drv_file *f, const char *path, drvsign_diag *diag)
{
    DWORD attrs = GetFileAttributesA(path);
    LARGE_INTEGER size;
    HANDLE h;
    char why[256];

    memset(f, 0, sizeof *f);
    f->path = path;
    f->fd = -1;
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        drv_error(diag, path, "not a regular file (a directory)");
        return -1;
    }
    h = open_shared(path, GENERIC_READ, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL);
    if (h == INVALID_HANDLE_VALUE) {
        drv_error(diag, path, "cannot open: %s", win_error(GetLastError(), why, sizeof why));
        return -1;
    }
    /* a console, pipe or device would block a read: only files on disk; their size from the
     * handle, as struct stat's st_size has 32 bits here */
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileSizeEx(h, &size)) {
        drv_error(diag, path, "not a regular file (a device or pipe)");
        CloseHandle(h);
        return -1;
    }
    f->fd = _open_osfhandle((intptr_t)h, _O_RDONLY | _O_BINARY);
    if (f->fd < 0) {
        drv_error(diag, path, "cannot open: %s", strerror(errno));
        CloseHandle(h);
        return -1;
    }
    f->size = (uint64_t)size.QuadPart;
    return 0;
}
#else
int drv_file_open(drv_file *f, const char *path, drvsign_diag *diag)
{
    struct stat st;

    memset(f, 0, sizeof *f);
    f->path = path;
    f->fd = -1;
    /* A FIFO or a device would block open() or read() forever: refuse them before opening,
     * and open without blocking in case the name changed meanwhile; fstat then decides. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        drv_error(diag, path, "not a regular file (%s)", kind_of_mode((unsigned)st.st_mode));
        return -1;
    }
    f->fd = open(path, O_RDONLY | O_BINARY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0) {
        drv_error(diag, path, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        drv_error(diag, path, "not a regular file (%s)", kind_of_mode((unsigned)st.st_mode));
        drv_close(f->fd);
        f->fd = -1;
        return -1;
    }
    /* O_NONBLOCK stays: it changes nothing for a regular file, and clearing it costs two
     * system calls a file, which a catalog of thousands of small files notices */
    f->size = (uint64_t)st.st_size;
    return 0;
}
#endif

int drv_check_regular(const char *path, drvsign_diag *diag)
{
    drv_file f;
    if (drv_file_open(&f, path, diag) != 0)
        return -1;
    drv_file_close(&f);
    return 0;
}

uint64_t drv_file_size_hint(const char *path)
{
#ifdef _WIN32
    WIN32_FILE_ATTRIBUTE_DATA data;
    if (!GetFileAttributesExA(path, GetFileExInfoStandard, &data) ||
        (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        return 0;
    return ((uint64_t)data.nFileSizeHigh << 32) | data.nFileSizeLow;
#else
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
#endif
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

/*
 * Hashing straight from the page cache: a mapped file costs no copy into a buffer, which is
 * about a sixth of a catalog's CPU time when read. The file is mapped a window at a time, so
 * the pages it maps (which count as the process's memory) stay a few MB whatever its size. A
 * mapped file that shrinks while it is read raises SIGBUS; the guard turns that into an error
 * for the thread that was reading (the jump leaves the consumer midway, which is why a failed
 * stream's state must be thrown away).
 */
#define MAP_WINDOW ((uint64_t)4 << 20)

typedef struct stream_state {
    const drv_file *f;
    const drv_range *ranges;
    size_t count;
    drv_bytes_fn fn;
    void *ctx;
} stream_state;

static int stream_read(const stream_state *st, drvsign_diag *diag)
{
    uint64_t largest = 0;
    unsigned char *buf;
    int rc = -1;

    for (size_t i = 0; i < st->count; i++)
        if (st->ranges[i].len > largest)
            largest = st->ranges[i].len;
    buf = malloc(largest < DRV_IO_CHUNK ? (size_t)largest + 1 : DRV_IO_CHUNK);
    if (buf == NULL) {
        drv_error(diag, st->f->path, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < st->count; i++)
        for (uint64_t done = 0; done < st->ranges[i].len;) {
            uint64_t left = st->ranges[i].len - done, off = st->ranges[i].off + done;
            size_t n = left < DRV_IO_CHUNK ? (size_t)left : DRV_IO_CHUNK;
            if (drv_file_pread(st->f, off, buf, n, diag) != 0 || st->fn(st->ctx, off, buf, n) != 0)
                goto done;
            done += n;
        }
    rc = 0;
done:
    free(buf);
    return rc;
}

#ifndef _WIN32
static _Thread_local sigjmp_buf *bus_guard;
static struct sigaction previous_bus_action;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    if (bus_guard != NULL)
        siglongjmp(*bus_guard, 1);
    /* not ours: what would have happened without us */
    sigaction(sig, &previous_bus_action, NULL);
    if (previous_bus_action.sa_flags & SA_SIGINFO)
        previous_bus_action.sa_sigaction(sig, info, context);
    else if (previous_bus_action.sa_handler != SIG_IGN &&
             previous_bus_action.sa_handler != SIG_DFL)
        previous_bus_action.sa_handler(sig);
    else
        raise(sig); /* delivered when the handler returns and the access faults again */
}

static void install_bus_guard(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_bus_action);
}

/* fn on [off, off + len) of the mapping at map (which starts at file offset map_off), with
 * SIGBUS caught: 0, -1 when fn failed, -2 when the file shrank. */
static int feed_guarded(const stream_state *st, const unsigned char *map, uint64_t map_off,
                        uint64_t off, size_t len)
{
    sigjmp_buf jump;
    volatile int rc;

    if (sigsetjmp(jump, 1) != 0) {
        bus_guard = NULL;
        return -2;
    }
    bus_guard = &jump;
    rc = st->fn(st->ctx, off, map + (off - map_off), len) != 0 ? -1 : 0;
    bus_guard = NULL;
    return rc;
}

/* 0 when every range went to fn, 1 when the file cannot be mapped here (read it instead),
 * -1 after an error. */
static int stream_mapped(const stream_state *st, drvsign_diag *diag)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    int delivered = 0;

    pthread_once(&bus_once, install_bus_guard);
    for (size_t i = 0; i < st->count; i++)
        for (uint64_t done = 0; done < st->ranges[i].len;) {
            uint64_t off = st->ranges[i].off + done;
            uint64_t n = st->ranges[i].len - done < MAP_WINDOW ? st->ranges[i].len - done
                                                                : MAP_WINDOW;
            uint64_t map_off = off - off % page;
            size_t map_len = (size_t)(off + n - map_off);
            unsigned char *map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, st->f->fd,
                                      (off_t)map_off);
            int rc;
            if (map == MAP_FAILED) {
                if (!delivered)
                    return 1;
                drv_error(diag, st->f->path, "cannot map the file: %s", strerror(errno));
                return -1;
            }
            /* read ahead of the consumer, in case the file is not cached */
            madvise(map, map_len, MADV_SEQUENTIAL);
            madvise(map, map_len, MADV_WILLNEED);
            rc = feed_guarded(st, map, map_off, off, (size_t)n);
            munmap(map, map_len);
            if (rc == -2)
                drv_error(diag, st->f->path, "the file shrank while it was read");
            if (rc != 0)
                return -1;
            delivered = 1;
            done += n;
        }
    return 0;
}
#else
/* Windows refuses to shrink a file while a view of it is mapped (ERROR_USER_MAPPED_FILE), so
 * here no guard is needed: a file that shrank before the mapping was made is read instead,
 * and the read reports it. */
static int stream_mapped(const stream_state *st, drvsign_diag *diag)
{
    SYSTEM_INFO si;
    HANDLE mapping;
    uint64_t granularity;
    int delivered = 0, rc = 0;
    char why[256];

    GetSystemInfo(&si);
    granularity = si.dwAllocationGranularity;
    mapping = CreateFileMappingA((HANDLE)_get_osfhandle(st->f->fd), NULL, PAGE_READONLY, 0, 0,
                                 NULL);
    if (mapping == NULL)
        return 1;
    for (size_t i = 0; i < st->count && rc == 0; i++)
        for (uint64_t done = 0; done < st->ranges[i].len && rc == 0;) {
            uint64_t off = st->ranges[i].off + done;
            uint64_t n = st->ranges[i].len - done < MAP_WINDOW ? st->ranges[i].len - done
                                                                : MAP_WINDOW;
            uint64_t map_off = off - off % granularity;
            const unsigned char *view =
                MapViewOfFile(mapping, FILE_MAP_READ, (DWORD)(map_off >> 32), (DWORD)map_off,
                              (SIZE_T)(off + n - map_off));
            if (view == NULL) {
                if (!delivered)
                    rc = 1;
                else {
                    drv_error(diag, st->f->path, "cannot map the file: %s",
                              win_error(GetLastError(), why, sizeof why));
                    rc = -1;
                }
                break;
            }
            rc = st->fn(st->ctx, off, view + (off - map_off), (size_t)n) != 0 ? -1 : 0;
            UnmapViewOfFile(view);
            delivered = 1;
            done += n;
        }
    CloseHandle(mapping);
    return rc;
}
#endif

int drv_file_stream(const drv_file *f, const drv_range *ranges, size_t count, drv_bytes_fn fn,
                    void *ctx, drvsign_diag *diag)
{
    stream_state st = {f, ranges, count, fn, ctx};

    for (size_t i = 0; i < count; i++)
        if (ranges[i].off > f->size || ranges[i].len > f->size - ranges[i].off) {
            drv_error(diag, f->path,
                      "file is truncated: needs %llu bytes at offset %llu, has %llu",
                      (unsigned long long)ranges[i].len, (unsigned long long)ranges[i].off,
                      (unsigned long long)f->size);
            return -1;
        }
    /* a mapping costs more than copying a few pages */
    if (f->size >= DRV_STREAM_MAP_MIN) {
        int rc = stream_mapped(&st, diag);
        if (rc <= 0)
            return rc;
    }
    return stream_read(&st, diag);
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

/*
 * Temp files that a signal must not leave behind. The handler may run on any thread at any
 * moment, so it reads only this table: fixed buffers and a state word per slot, no malloc.
 * A slot is written (BUSY) before it goes LIVE, and the handler unlinks LIVE slots only.
 */
#ifndef _WIN32
#define PENDING_SLOTS 16
#define PENDING_PATH 4096
enum { SLOT_FREE, SLOT_BUSY, SLOT_LIVE };
static _Atomic int pending_state[PENDING_SLOTS];
static char pending_path[PENDING_SLOTS][PENDING_PATH];
static const int cleanup_signals[] = {SIGTERM, SIGINT, SIGHUP};
static struct sigaction previous_action[3];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void remove_pending_and_reraise(int sig)
{
    for (int i = 0; i < PENDING_SLOTS; i++)
        if (atomic_load(&pending_state[i]) == SLOT_LIVE)
            unlink(pending_path[i]);
    /* then what would have happened without us: the earlier handler, or death by sig */
    for (int i = 0; i < 3; i++)
        if (cleanup_signals[i] == sig)
            sigaction(sig, &previous_action[i], NULL);
    raise(sig);
}

static void install_handlers(void)
{
    for (int i = 0; i < 3; i++) {
        struct sigaction sa;
        if (sigaction(cleanup_signals[i], NULL, &previous_action[i]) != 0 ||
            previous_action[i].sa_handler == SIG_IGN)
            continue; /* nohup and the like: an ignored signal stays ignored */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_pending_and_reraise;
        sigemptyset(&sa.sa_mask);
        sigaction(cleanup_signals[i], &sa, NULL);
    }
}

/* Slot index, or -1 when the table is full or the name too long (then only an orderly
 * failure removes the file, as before). */
static int pending_add(const char *path)
{
    size_t n = strlen(path);
    pthread_once(&handlers_once, install_handlers);
    if (n >= PENDING_PATH)
        return -1;
    for (int i = 0; i < PENDING_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (atomic_compare_exchange_strong(&pending_state[i], &expect, SLOT_BUSY)) {
            memcpy(pending_path[i], path, n + 1);
            atomic_store(&pending_state[i], SLOT_LIVE);
            return i;
        }
    }
    return -1;
}

static void pending_remove(int slot)
{
    if (slot >= 0)
        atomic_store(&pending_state[slot], SLOT_FREE);
}
#else
/* Windows deletes a temp file that is left open when the process ends (set_delete_on_close) */
static void pending_remove(int slot)
{
    (void)slot;
}
#endif

/* A name beside dest for the temp file, within NAME_MAX: "<name>.dsXXXXXX", the name cut at
 * a UTF-8 character boundary when it is too long to take the suffix. */
#define TEMP_SUFFIX ".dsXXXXXX"
#define NAME_LIMIT 255
static char *temp_template(const char *dest)
{
    const char *base = drv_base_name(dest);
    size_t dir_len = (size_t)(base - dest), base_len = strlen(base);
    size_t keep = base_len, suffix = sizeof TEMP_SUFFIX - 1;
    char *t;
    if (keep + suffix > NAME_LIMIT) {
        keep = drv_utf8_boundary(base, NAME_LIMIT - suffix);
    }
    t = malloc(dir_len + keep + suffix + 1);
    if (t == NULL)
        return NULL;
    memcpy(t, dest, dir_len + keep);
    memcpy(t + dir_len + keep, TEMP_SUFFIX, suffix + 1);
    return t;
}

#ifndef _WIN32
/* The directory part of path ("." when there is none), for O_TMPFILE and fsync. */
static char *dir_of(const char *path)
{
    const char *base = drv_base_name(path);
    size_t n = (size_t)(base - path);
    char *d;
    while (n > 1 && (path[n - 1] == '/' || path[n - 1] == '\\'))
        n--;
    if (n == 0)
        return drv_strdup(".");
    d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}
#endif

/* Fill the XXXXXX of a template with fresh random letters. */
static void randomize_template(char *t)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[6];
    size_t n = strlen(t);
    if (RAND_bytes(r, sizeof r) != 1) {
        uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20) ^ (uint64_t)(uintptr_t)t;
        for (int i = 0; i < 6; i++, x >>= 8)
            r[i] = (unsigned char)x;
    }
    for (int i = 0; i < 6; i++)
        t[n - 6 + i] = letters[r[i] % (sizeof letters - 1)];
}

#ifdef _WIN32
/* A new temp file is deleted when its last handle closes, so that not even a killed process
 * leaves it behind (what O_TMPFILE gives on Linux); keep_temp cancels that before it is
 * renamed into place or closed to be read by name. */
static int set_delete_on_close(HANDLE h, BOOLEAN delete_it)
{
    FILE_DISPOSITION_INFO disposition;
    disposition.DeleteFile = delete_it;
    return SetFileInformationByHandle(h, FileDispositionInfo, &disposition, sizeof disposition)
               ? 0
               : -1;
}

static int keep_temp(drv_atomic *a)
{
    if (a->anonymous && set_delete_on_close((HANDLE)_get_osfhandle(a->fd), FALSE) != 0)
        return -1;
    a->anonymous = 0;
    return 0;
}

/* Rename the open temp file over dest, which is beside it (a name alone renames within the
 * directory), with POSIX semantics: atomic, and it replaces dest even while dest is open, as
 * it is when replaced in place (this run's lock, or a run waiting for it). Windows 10 1607
 * and later on NTFS; elsewhere it fails, and replace_closed does the work. */
/* FileRenameInfoEx, which mingw-w64's headers name only for _WIN32_WINNT 0x0A000002 */
#define FILE_RENAME_INFO_EX ((FILE_INFO_BY_HANDLE_CLASS)22)
static int rename_open_temp(drv_atomic *a)
{
    const char *base = drv_base_name(a->dest);
    int wlen = MultiByteToWideChar(CP_ACP, 0, base, -1, NULL, 0);
    size_t size;
    FILE_RENAME_INFO *info;
    BOOL ok;
    if (wlen <= 0)
        return -1;
    size = sizeof *info + (size_t)wlen * sizeof(WCHAR);
    info = calloc(1, size);
    if (info == NULL)
        return -1;
    info->Flags = FILE_RENAME_FLAG_REPLACE_IF_EXISTS | FILE_RENAME_FLAG_POSIX_SEMANTICS;
    info->FileNameLength = (DWORD)(wlen - 1) * sizeof(WCHAR);
    MultiByteToWideChar(CP_ACP, 0, base, -1, info->FileName, wlen);
    ok = SetFileInformationByHandle((HANDLE)_get_osfhandle(a->fd), FILE_RENAME_INFO_EX, info,
                                    (DWORD)size);
    free(info);
    return ok ? 0 : -1;
}

/* Replace dest by the (closed) temp file without POSIX semantics. MoveFileEx cannot replace
 * a file that is open, and a file replaced in place is: then it is renamed aside first (it
 * was opened sharing delete, so it can be), the temp file takes its name, and the old file is
 * deleted, which Windows completes when its last handle closes. Between the two renames the
 * name is briefly missing; a failed second rename puts the old file back. */
static int replace_closed(drv_atomic *a, int durable)
{
    DWORD through = durable ? MOVEFILE_WRITE_THROUGH : 0, err;
    char *aside;
    int moved = 0;

    if (MoveFileExA(a->tmp, a->dest, MOVEFILE_REPLACE_EXISTING | through))
        return 0;
    err = GetLastError();
    if ((err != ERROR_ACCESS_DENIED && err != ERROR_SHARING_VIOLATION &&
         err != ERROR_LOCK_VIOLATION) ||
        (aside = temp_template(a->dest)) == NULL) {
        SetLastError(err);
        return -1;
    }
    for (int attempt = 0; !moved && attempt < 100; attempt++) {
        randomize_template(aside);
        moved = MoveFileExA(a->dest, aside, through) != 0;
        if (!moved && GetLastError() != ERROR_ALREADY_EXISTS &&
            GetLastError() != ERROR_FILE_EXISTS)
            break;
    }
    if (!moved) {
        free(aside);
        SetLastError(err);
        return -1;
    }
    if (!MoveFileExA(a->tmp, a->dest, through)) {
        err = GetLastError();
        MoveFileExA(aside, a->dest, through);
        free(aside);
        SetLastError(err);
        return -1;
    }
    DeleteFileA(aside);
    free(aside);
    return 0;
}
#else
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY), rc = 0;
    if (fd < 0)
        return -1;
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        rc = -1; /* a file system that cannot sync a directory has nothing to sync */
    close(fd);
    return rc;
}

/* Give an anonymous (O_TMPFILE) temp file its temp name, so that it can be renamed. */
static int name_anonymous(drv_atomic *a)
{
#if defined(__linux__) && defined(O_TMPFILE)
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", a->fd);
    for (int attempt = 0; attempt < 100; attempt++) {
        randomize_template(a->tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, a->tmp, AT_SYMLINK_FOLLOW) == 0) {
            a->anonymous = 0;
            a->pending = pending_add(a->tmp);
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
#endif
    return -1;
}
#endif

/* Replacing this very file in place (the file the new one is made from)? Symbolic links are
 * followed: signing a link signs the file it points to, and the link stays a link. */
static int same_file(const char *a, const char *b)
{
#ifdef _WIN32
    BY_HANDLE_FILE_INFORMATION ia, ib;
    return path_identity(a, &ia) == 0 && path_identity(b, &ib) == 0 && same_identity(&ia, &ib);
#else
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
#endif
}

int drv_atomic_open(drv_atomic *a, const char *target, const char *mode_like,
                    drvsign_diag *diag)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->pending = -1;
    a->target = drv_strdup(target);
    a->in_place = mode_like != NULL && same_file(target, mode_like);
#ifndef _WIN32
    if (a->in_place) {
        struct stat st;
        if (lstat(target, &st) == 0 && S_ISLNK(st.st_mode))
            a->dest = realpath(target, NULL);
        else
            a->dest = drv_strdup(target);
    } else
#endif
        a->dest = drv_strdup(target);
    a->tmp = a->dest ? temp_template(a->dest) : NULL;
    if (a->target == NULL || a->dest == NULL || a->tmp == NULL) {
        drv_error(diag, target, "out of memory");
        goto fail;
    }
#ifdef _WIN32
    {
        HANDLE h = INVALID_HANDLE_VALUE;
        DWORD err = ERROR_FILE_EXISTS;
        char why[256];
        for (int attempt = 0; h == INVALID_HANDLE_VALUE && err == ERROR_FILE_EXISTS &&
                              attempt < 100;
             attempt++) {
            randomize_template(a->tmp);
            /* DELETE: to be renamed by its handle (rename_open_temp) */
            h = open_shared(a->tmp, GENERIC_READ | GENERIC_WRITE | DELETE, CREATE_NEW,
                            FILE_ATTRIBUTE_NORMAL);
            if (h == INVALID_HANDLE_VALUE)
                err = GetLastError();
        }
        if (h == INVALID_HANDLE_VALUE) {
            drv_error(diag, target, "cannot create a temporary file beside it: %s",
                      win_error(err, why, sizeof why));
            free(a->tmp);
            a->tmp = NULL; /* not ours: nothing to remove */
            goto fail;
        }
        a->anonymous = set_delete_on_close(h, TRUE) == 0;
        a->fd = _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY);
        if (a->fd < 0) {
            drv_error(diag, target, "cannot create a temporary file beside it: %s",
                      strerror(errno));
            CloseHandle(h); /* deletes it when it was marked so, else drv_atomic_abort does */
            goto fail;
        }
    }
    (void)mode_like;
#else
    {
        struct stat st;
        mode_t mode;
        if (mode_like != NULL && stat(mode_like, &st) == 0)
            mode = st.st_mode & 07777;
        else {
            mode_t mask = umask(0);
            umask(mask);
            mode = 0666 & ~mask;
        }
#if defined(__linux__) && defined(O_TMPFILE)
        /* A file without a name until commit: even SIGKILL or a crash leaves nothing. It needs
         * /proc to be linked later, and a file system that supports it. */
        const char *named = getenv("DRVSIGN_NAMED_TEMP"); /* README: for tests */
        if ((named == NULL || *named == 0) && access("/proc/self/fd", X_OK) == 0) {
            char *dir = dir_of(a->dest);
            if (dir != NULL)
                a->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            free(dir);
            a->anonymous = a->fd >= 0;
        }
#endif
        /* The name is in the cleanup table before the file exists, so that no signal can
         * come between creating it and registering it. */
        for (int attempt = 0; a->fd < 0 && attempt < 100; attempt++) {
            randomize_template(a->tmp);
            pending_remove(a->pending);
            a->pending = pending_add(a->tmp);
            a->fd = open(a->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (a->fd < 0 && errno != EEXIST)
                break;
        }
        if (a->fd < 0) {
            drv_error(diag, target, "cannot create a temporary file beside it: %s",
                      strerror(errno));
            pending_remove(a->pending);
            free(a->tmp);
            a->tmp = NULL; /* not ours: nothing to remove */
            goto fail;
        }
        if (fchmod(a->fd, mode) != 0) {
            drv_error(diag, target, "cannot set permissions: %s", strerror(errno));
            goto fail;
        }
    }
#endif
    return 0;
fail:
    drv_atomic_abort(a);
    return -1;
}

/*
 * At most this much per write call. Linux 6.x allocates page-cache folios as large as the
 * write (up to 2 MB), and on the virtual machine we measure on, writes of 4 MB sometimes cost
 * many times their copy: dd copying 256 MB with bs=4M took 0.95-1.21 s of system time in half
 * of eight runs, with bs=1M 0.12-0.17 s in all eight.
 */
#define DRV_WRITE_CALL DRV_IO_CHUNK

int drv_atomic_pwrite(drv_atomic *a, uint64_t off, const void *buf, size_t n,
                      drvsign_diag *diag)
{
    const unsigned char *p = buf;
    while (n > 0) {
        long long r = pwrite_some(a->fd, p, n < DRV_WRITE_CALL ? n : DRV_WRITE_CALL, off);
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

typedef struct append_to {
    drv_atomic *a;
    drvsign_diag *diag;
} append_to;

static int append_piece(void *ctx, uint64_t off, const unsigned char *p, size_t n)
{
    append_to *t = ctx;
    (void)off;
    return drv_atomic_write(t->a, p, n, t->diag);
}

int drv_atomic_copy(drv_atomic *a, const drv_file *src, uint64_t off, uint64_t len,
                    drvsign_diag *diag)
{
    append_to to = {a, diag};
    drv_range rest;

#if defined(__linux__)
    /* The kernel copies without a round trip through user space (and reflinks where it can). */
    while (len > 0) {
        loff_t in_off = (loff_t)off, out_off = (loff_t)a->pos;
        size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t r = copy_file_range(src->fd, &in_off, a->fd, &out_off, want, 0);
        if (r <= 0)
            break; /* unsupported here, or a short source: the stream below reports it */
        off += (uint64_t)r;
        a->pos += (uint64_t)r;
        len -= (uint64_t)r;
    }
    if (len == 0)
        return 0;
#endif
    rest.off = off;
    rest.len = len;
    return drv_file_stream(src, &rest, 1, append_piece, &to, diag);
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

/*
 * Durability (README, "Files on disk"): replacing a file in place must survive a power cut,
 * so its data and the directory are synced before the rename and the directory again after
 * it. A new output beside an untouched input relies on the rename alone, as compilers and
 * linkers do: a crash can lose that output, never the input, and never show half a file.
 */
int drv_atomic_commit(drv_atomic *a, drvsign_diag *diag)
{
#ifdef _WIN32
    char why[256];
    int renamed;
    if (a->in_place && !FlushFileBuffers((HANDLE)_get_osfhandle(a->fd))) {
        drv_error(diag, a->target, "cannot flush: %s", win_error(GetLastError(), why, sizeof why));
        return -1;
    }
    if (keep_temp(a) != 0) {
        drv_error(diag, a->target, "cannot keep the temporary file beside it: %s",
                  win_error(GetLastError(), why, sizeof why));
        return -1;
    }
    renamed = rename_open_temp(a) == 0;
    if (_close(a->fd) != 0) {
        a->fd = -1;
        drv_error(diag, a->target, "cannot flush: %s", strerror(errno));
        return -1;
    }
    a->fd = -1;
    if (!renamed && replace_closed(a, a->in_place) != 0) {
        drv_error(diag, a->target, "cannot replace: %s",
                  win_error(GetLastError(), why, sizeof why));
        return -1;
    }
#else
    char *dir = NULL;
    if (a->in_place && fsync(a->fd) != 0) {
        drv_error(diag, a->target, "cannot flush: %s", strerror(errno));
        return -1;
    }
    if (a->anonymous && name_anonymous(a) != 0) {
        drv_error(diag, a->target, "cannot name the temporary file beside it: %s",
                  strerror(errno));
        return -1;
    }
    if (close(a->fd) != 0) {
        a->fd = -1;
        drv_error(diag, a->target, "cannot flush: %s", strerror(errno));
        return -1;
    }
    a->fd = -1;
    if (a->in_place && ((dir = dir_of(a->dest)) == NULL || sync_dir(dir) != 0)) {
        drv_error(diag, a->target, "cannot flush its directory: %s", strerror(errno));
        free(dir);
        return -1;
    }
    if (rename(a->tmp, a->dest) != 0) {
        drv_error(diag, a->target, "cannot replace: %s", strerror(errno));
        free(dir);
        return -1;
    }
    pending_remove(a->pending);
    a->pending = -1;
    if (a->in_place && sync_dir(dir) != 0) {
        /* renamed, but perhaps not yet on disk: say so, though the file is in place */
        drv_error(diag, a->target, "cannot flush its directory after the rename: %s",
                  strerror(errno));
        free(dir);
        free(a->tmp);
        a->tmp = NULL; /* nothing left to remove */
        return -1;
    }
    free(dir);
#endif
    free(a->tmp);
    free(a->target);
    free(a->dest);
    a->tmp = a->target = a->dest = NULL;
    return 0;
}

int drv_atomic_close(drv_atomic *a, drvsign_diag *diag)
{
    int rc;
#ifdef _WIN32
    if (keep_temp(a) != 0) {
        char why[256];
        drv_error(diag, a->target, "cannot keep the temporary file beside it: %s",
                  win_error(GetLastError(), why, sizeof why));
        return -1;
    }
#else
    if (a->anonymous && name_anonymous(a) != 0) {
        drv_error(diag, a->target, "cannot name the temporary file beside it: %s",
                  strerror(errno));
        return -1;
    }
#endif
    rc = drv_close(a->fd);
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
        drv_close(a->fd); /* an anonymous temp file vanishes with its descriptor */
    a->fd = -1;
    if (a->tmp != NULL && !a->anonymous)
        remove(a->tmp);
    if (a->tmp != NULL) /* a zeroed struct owns no slot */
        pending_remove(a->pending);
    a->pending = -1;
    a->anonymous = 0;
    free(a->tmp);
    free(a->target);
    free(a->dest);
    a->tmp = NULL;
    a->target = NULL;
    a->dest = NULL;
}

/* ---- advisory locks ---- */

int drv_file_open_locked(drv_file *f, const char *path, drvsign_diag *diag)
{
    /* The lock is on the file's inode, and whoever held it may have renamed a new file into
     * place meanwhile: then the lock is on the old file, so open the new one and lock again. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (drv_file_open(f, path, diag) != 0)
            return -1;
#ifdef _WIN32
        {
            /* Windows' locks are mandatory for the bytes they cover: this one covers a byte far
             * past any end of file, so it excludes other runs' locks and no reader's reads. */
            OVERLAPPED ov = {0};
            HANDLE h = (HANDLE)_get_osfhandle(f->fd);
            BY_HANDLE_FILE_INFORMATION now, locked;
            ov.Offset = 0xfffffffeu;
            ov.OffsetHigh = 0x7fffffffu;
            if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov))
                return 0; /* a file system without locks (some network shares): unlocked */
            if (path_identity(path, &now) == 0 && GetFileInformationByHandle(h, &locked) &&
                same_identity(&now, &locked))
                return 0;
        }
#else
        {
            struct stat now, locked;
            int r;
            do
                r = flock(f->fd, LOCK_EX);
            while (r != 0 && errno == EINTR);
            if (r != 0)
                return 0; /* a file system without locks (some network mounts): unlocked */
            if (stat(path, &now) == 0 && fstat(f->fd, &locked) == 0 &&
                now.st_dev == locked.st_dev && now.st_ino == locked.st_ino)
                return 0;
        }
#endif
        drv_file_close(f);
    }
    drv_error(diag, path, "cannot lock: the file keeps being replaced");
    return -1;
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

drv_entry drv_entry_at(const char *path, char *what, size_t n)
{
    struct stat st;
#ifdef _WIN32
    DWORD attrs = GetFileAttributesA(path);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
        snprintf(what, n, "a symbolic link or junction");
        return DRV_ENTRY_OTHER;
    }
    if (stat(path, &st) != 0) {
#else
    if (lstat(path, &st) != 0) {
#endif
        snprintf(what, n, "missing (%s)", strerror(errno));
        return DRV_ENTRY_NONE;
    }
    if (S_ISREG(st.st_mode))
        return DRV_ENTRY_FILE;
    if (S_ISDIR(st.st_mode))
        return DRV_ENTRY_DIR;
#ifndef _WIN32
    if (S_ISLNK(st.st_mode)) {
        char to[1024];
        ssize_t len = readlink(path, to, sizeof to - 1);
        if (len >= 0) {
            to[len] = 0;
            snprintf(what, n, "a symbolic link (to %s)", to);
            return DRV_ENTRY_OTHER;
        }
    }
#endif
    snprintf(what, n, "%s", kind_of_mode((unsigned)st.st_mode));
    return DRV_ENTRY_OTHER;
}

int drv_inside_package(const char *root, const char *path, char *what, size_t n)
{
    size_t root_len = strlen(root);
    const char *rel = path + root_len;
    char *copy;
    int ok = 1;
    if (strncmp(path, root, root_len) != 0 || (*rel != '/' && *rel != 0)) {
        snprintf(what, n, "outside the package directory");
        return 0;
    }
    while (*rel == '/')
        rel++;
    copy = drv_strdup(path);
    if (copy == NULL) {
        snprintf(what, n, "out of memory");
        return 0;
    }
    /* each component below the root, the last one included: no link may lead elsewhere */
    for (const char *p = rel; ok; p++) {
        if ((*p == '/' || *p == 0) && p > rel && p[-1] != '/') {
            size_t len = (size_t)(p - path);
            char found[1100];
            drv_entry e;
            copy[len] = 0;
            e = drv_entry_at(copy, found, sizeof found);
            if (e == DRV_ENTRY_OTHER || e == DRV_ENTRY_NONE) {
                snprintf(what, n, "%s is %s", copy + (rel - path), found);
                ok = 0;
            } else if (*p == '/' && e != DRV_ENTRY_DIR) {
                snprintf(what, n, "%s is not a directory", copy + (rel - path));
                ok = 0;
            }
            copy[len] = *p;
        }
        if (*p == 0)
            break;
    }
    free(copy);
    return ok;
}

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

int drv_list_dir(const char *dir, drv_strlist *names, drvsign_diag *diag)
{
    int rc = -1;
#ifdef _WIN32
    WIN32_FIND_DATAA fd;
    char *pattern = drv_path_join(dir, "*");
    HANDLE h = pattern ? FindFirstFileA(pattern, &fd) : INVALID_HANDLE_VALUE;
    memset(names, 0, sizeof *names);
    free(pattern);
    if (h == INVALID_HANDLE_VALUE) {
        drv_error(diag, dir, "cannot list the directory");
        return -1;
    }
    do {
        const char *name = fd.cFileName;
#else
    DIR *d = opendir(dir);
    struct dirent *e;
    memset(names, 0, sizeof *names);
    if (d == NULL) {
        drv_error(diag, dir, "cannot list the directory: %s", strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
#endif
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        /* a listing short of a name would quietly leave a file out of a package */
        if (drv_strlist_add(names, name) != 0) {
            drv_error(diag, dir, "out of memory");
            goto done;
        }
#ifdef _WIN32
    } while (FindNextFileA(h, &fd));
#else
    }
#endif
    if (names->n > 0)
        qsort(names->v, names->n, sizeof *names->v, cmp_names);
    rc = 0;
done:
#ifdef _WIN32
    FindClose(h);
#else
    closedir(d);
#endif
    if (rc != 0)
        drv_strlist_free(names);
    return rc;
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
            drv_strlist names;
            drvsign_diag quiet;
            drvsign_diag_silent(&quiet);
            free(next);
            next = NULL;
            if (drv_is_dir(path) && drv_list_dir(path, &names, &quiet) == 0) {
                for (size_t i = 0; i < names.n && next == NULL; i++)
                    if (drv_strcasecmp(names.v[i], comp) == 0)
                        next = drv_path_join(path, names.v[i]);
                drv_strlist_free(&names);
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
