/*
 * libFuzzer target: the package manifest the CMake module writes (key=value lines), read and
 * planned as `drvsign package --manifest M plan` does: the INF it names is stamped and laid
 * out. A work= line appended after the input keeps every file the plan writes in this
 * target's own directory, removed at exit.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fuzz_common.h"

#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drvsign/drvsign.h"

static char sandbox[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_sandbox(void)
{
    nftw(sandbox, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drvsign_diag diag = fuzz_diag();
    static FILE *devnull;
    char tail[128];
    uint8_t *text;
    size_t tail_len;

    if (sandbox[0] == 0) {
        snprintf(sandbox, sizeof sandbox, "/tmp/drvsign-fuzz-manifest-XXXXXX");
        if (mkdtemp(sandbox) == NULL)
            abort();
        atexit(remove_sandbox);
        devnull = fopen("/dev/null", "w");
    }
    tail_len = (size_t)snprintf(tail, sizeof tail, "\nwork=%s/work\n", sandbox);
    text = malloc(size + tail_len);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    memcpy(text + size, tail, tail_len);
    drvsign_package(fuzz_file(text, size + tail_len, "manifest"), "plan", NULL, devnull, &diag);
    free(text);
    return 0;
}
