/* Distribution archives (zip, tar.gz, tar.xz, 7z) through libarchive: stable order, fixed
 * times and owners, streamed file contents. */
#ifndef DRVSIGN_ARCHIVE_WRITER_H
#define DRVSIGN_ARCHIVE_WRITER_H

#include <stdint.h>

#include "port.h"

typedef struct drv_archive_entry {
    const char *path; /* on disk; NULL for a directory */
    const char *name; /* in the archive, '/' separated */
    int64_t mtime;    /* used when drv_archive_write gets no fixed time */
} drv_archive_entry;

/* Returns 0, or -1 after reporting; format is zip, tar.gz, tar.xz or 7z. time 0 keeps each
 * entry's mtime. */
int drv_archive_write(const char *format, const drv_archive_entry *entries, size_t count,
                      int64_t time, drv_atomic *out, drvsign_diag *diag);
/* Is this a format drv_archive_write knows (and was built with)? */
int drv_archive_format_ok(const char *format);

#endif
