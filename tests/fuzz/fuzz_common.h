/* What every libFuzzer target here needs: a quiet diagnostics sink, and the input as a file
 * (drvsign streams files by descriptor). */
#ifndef DRVSIGN_FUZZ_COMMON_H
#define DRVSIGN_FUZZ_COMMON_H

#define _DEFAULT_SOURCE /* mkstemp; this header comes first in every target */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "drvsign/drvsign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline drvsign_diag fuzz_diag(void)
{
    drvsign_diag d;
    drvsign_diag_silent(&d);
    d.quiet = 1;
    return d;
}

/* "$TMPDIR/drvsign-fuzz-NAME-XXXXXX" into buf, for mkstemp or mkdtemp. run.sh points TMPDIR at
 * a tmpfs directory of its own: no disk is discarded and trimmed at every input, and what a
 * killed run leaves goes with that directory. */
static inline void fuzz_temp_template(char *buf, size_t size, const char *name)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == 0)
        dir = "/tmp";
    if ((size_t)snprintf(buf, size, "%s/drvsign-fuzz-%s-XXXXXX", dir, name) >= size)
        abort();
}

/* The input as a file, rewritten for every input. The file is unlinked as soon as it is made,
 * and read through /proc/self/fd, so no run (not even a crash or a kill) leaves it behind. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *name)
{
    static char path[64];
    static int fd = -1;
    size_t done = 0;
    if (fd < 0) {
        char tmpl[4096];
        fuzz_temp_template(tmpl, sizeof tmpl, name);
        fd = mkstemp(tmpl);
        if (fd < 0 || unlink(tmpl) != 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0)
        abort();
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    return path;
}

/* A directory of the target's own for what it writes, removed with everything in it at exit. */
static char fuzz_sandbox_dir[4096];

static inline int fuzz_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline void fuzz_remove_sandbox(void)
{
    nftw(fuzz_sandbox_dir, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_sandbox(const char *name)
{
    if (fuzz_sandbox_dir[0] == 0) {
        fuzz_temp_template(fuzz_sandbox_dir, sizeof fuzz_sandbox_dir, name);
        if (mkdtemp(fuzz_sandbox_dir) == NULL)
            abort();
        atexit(fuzz_remove_sandbox);
    }
    return fuzz_sandbox_dir;
}

#endif
