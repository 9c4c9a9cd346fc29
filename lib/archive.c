#include "archive_writer.h"

#include <stdlib.h>
#include <string.h>

#ifdef DRVSIGN_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

typedef struct sink {
    drv_atomic *out;
    drvsign_diag *diag;
} sink;

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
    sink *s = ctx;
    (void)a;
    return drv_atomic_write(s->out, buf, n, s->diag) == 0 ? (la_ssize_t)n : -1;
}

int drv_archive_format_ok(const char *f)
{
    return !strcmp(f, "zip") || !strcmp(f, "tar.gz") || !strcmp(f, "tar.xz") || !strcmp(f, "7z");
}

/* Names are UTF-8 inside drvsign; the archive headers say so, whatever the locale. */
static int set_format(struct archive *a, const char *f)
{
    if (!strcmp(f, "zip"))
        return archive_write_set_format_zip(a) == ARCHIVE_OK &&
                       archive_write_set_format_option(a, "zip", "hdrcharset", "UTF-8") == ARCHIVE_OK
                   ? ARCHIVE_OK
                   : ARCHIVE_FATAL;
    if (!strcmp(f, "7z"))
        return archive_write_set_format_7zip(a);
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_format_option(a, "pax", "hdrcharset", "UTF-8") != ARCHIVE_OK)
        return ARCHIVE_FATAL;
    if (!strcmp(f, "tar.gz")) {
        if (archive_write_add_filter_gzip(a) != ARCHIVE_OK)
            return ARCHIVE_FATAL;
        /* gzip would record the current time in its header; reproducible archives must not */
        return archive_write_set_filter_option(a, "gzip", "timestamp", NULL) == ARCHIVE_FATAL
                   ? ARCHIVE_FATAL
                   : ARCHIVE_OK;
    }
    return archive_write_add_filter_xz(a);
}

int drv_archive_write(const char *format, const drv_archive_entry *entries, size_t count,
                      int64_t time, drv_atomic *out, drvsign_diag *diag)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    unsigned char *buf = malloc(DRV_IO_CHUNK);
    sink s = {out, diag};
    int rc = -1;

    if (a == NULL || e == NULL || buf == NULL) {
        drv_error(diag, out->target, "out of memory");
        goto done;
    }
    if (set_format(a, format) != ARCHIVE_OK ||
        archive_write_open2(a, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
        drv_error(diag, out->target, "cannot start a %s archive: %s", format, archive_error_string(a));
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        drv_file f = {0};
        f.fd = -1;
        /* libarchive's 7z writer converts names through the locale; in a single-byte locale a
         * non-ASCII name would silently come out empty */
        if (!strcmp(format, "7z") && MB_CUR_MAX == 1)
            for (const char *c = entries[i].name; *c; c++)
                if ((unsigned char)*c >= 0x80) {
                    drv_error(diag, entries[i].name,
                              "7z archives of non-ASCII names need a UTF-8 locale (LC_CTYPE)");
                    goto done;
                }
        archive_entry_clear(e);
        archive_entry_set_pathname_utf8(e, entries[i].name);
        /* the same owner, modes and time for everybody: the archive depends only on content */
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_mtime(e, (time_t)(time ? time : entries[i].mtime), 0);
        if (entries[i].path == NULL) {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        } else {
            if (drv_file_open(&f, entries[i].path, diag) != 0)
                goto done;
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, (la_int64_t)f.size);
        }
        if (archive_write_header(a, e) != ARCHIVE_OK) {
            drv_error(diag, entries[i].name, "cannot add to the archive: %s", archive_error_string(a));
            drv_file_close(&f);
            goto done;
        }
        for (uint64_t off = 0; entries[i].path != NULL && off < f.size;) {
            size_t n = f.size - off > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)(f.size - off);
            if (drv_file_pread(&f, off, buf, n, diag) != 0 || archive_write_data(a, buf, n) != (la_ssize_t)n) {
                if (diag->errors == 0)
                    drv_error(diag, entries[i].path, "cannot archive: %s", archive_error_string(a));
                drv_file_close(&f);
                goto done;
            }
            off += n;
        }
        if (entries[i].path != NULL)
            drv_file_close(&f);
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        drv_error(diag, out->target, "cannot finish the archive: %s", archive_error_string(a));
        goto done;
    }
    rc = 0;
done:
    archive_entry_free(e);
    if (a != NULL)
        archive_write_free(a);
    free(buf);
    return rc;
}
#else
int drv_archive_format_ok(const char *f)
{
    (void)f;
    return 0;
}

int drv_archive_write(const char *format, const drv_archive_entry *entries, size_t count,
                      int64_t time, drv_atomic *out, drvsign_diag *diag)
{
    (void)format, (void)entries, (void)count, (void)time;
    drv_error(diag, out->target, "this drvsign was built without libarchive");
    return -1;
}
#endif
