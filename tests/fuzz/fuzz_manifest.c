/*
 * libFuzzer target: the package manifest the CMake module writes (pipeline/manifest.h), read
 * and planned as `drvsign package --manifest M plan` does: the INF it names is stamped and
 * laid out. A work line appended after the input keeps every file the plan writes in this
 * target's own directory, removed at exit.
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drvsign/drvsign.h"
#include "pipeline.h"

static const char *sandbox;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drvsign_diag diag = fuzz_diag();
    static FILE *devnull;
    char tail[128];
    uint8_t *text;
    size_t tail_len;

    if (sandbox == NULL) {
        sandbox = fuzz_sandbox("manifest");
        devnull = fopen("/dev/null", "w");
    }
    tail_len = (size_t)snprintf(tail, sizeof tail, "\nwork \"%s/work\"\n", sandbox);
    text = malloc(size + tail_len);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    memcpy(text + size, tail, tail_len);
    drvsign_pipeline_step(fuzz_file(text, size + tail_len, "manifest"), "plan", NULL, devnull, &diag);
    free(text);
    return 0;
}
