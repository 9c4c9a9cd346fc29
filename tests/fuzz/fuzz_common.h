/* What every libFuzzer target here needs: a quiet diagnostics sink, and the input as a file
 * (drvsign streams files by descriptor). */
#ifndef DRVSIGN_FUZZ_COMMON_H
#define DRVSIGN_FUZZ_COMMON_H

#define _DEFAULT_SOURCE /* mkstemp; this header comes first in every target */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "drvsign/drvsign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_quiet(void *ctx, int is_error, const char *line)
{
    (void)ctx;
    (void)is_error;
    (void)line;
}

static inline drvsign_diag fuzz_diag(void)
{
    drvsign_diag d = {fuzz_quiet, NULL, 0, 0, 1};
    return d;
}

/* The input in a temp file that lives as long as the fuzzer; rewritten for every input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *name)
{
    static char path[64];
    FILE *f;
    if (path[0] == 0) {
        int fd;
        snprintf(path, sizeof path, "/tmp/drvsign-fuzz-%s-XXXXXX", name);
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    return path;
}

#endif
