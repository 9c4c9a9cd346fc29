/* libFuzzer target: the detached-signing request reader (a request comes back from wherever
 * the digest was signed) and the signer-command splitter, on arbitrary bytes. */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "port.h"
#include "sign_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drvsign_diag diag = fuzz_diag();
    drv_request r;
    char *text = malloc(size + 1);
    drv_strlist words;
    const char *problem;

    if (drv_request_parse(data, size, "toaster.sys", "fuzz.request", &r, &diag) == 0)
        drv_request_free(&r);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (drv_split_command(text, &words, &problem) == 0)
        drv_strlist_free(&words);
    free(text);
    return 0;
}
