/* libFuzzer target: catalogs as `verify`, `inspect` and `sign` read them: the PKCS#7 wrapper,
 * the CTL with its members and attributes, and the signature. */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>

#include "formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const drv_format *fmt = drv_format_named("cat");
    const char *path;
    static X509_STORE *store;
    drvsign_diag diag = fuzz_diag();
    drv_ctl ctl;
    drv_file file;
    void *state = NULL;

    if (store == NULL)
        store = X509_STORE_new();
    path = fuzz_file(data, size, "cat");
    /* the trust list straight from the bytes, and through the catalog loader */
    if (drv_ctl_parse(data, size, &ctl, "fuzz", &diag) == 0) {
        unsigned char d[20] = {0};
        (void)drv_ctl_find(&ctl, d, sizeof d);
        drv_ctl_free(&ctl);
    }
    if (drv_catalog_load(path, &ctl, &diag) == 0)
        drv_ctl_free(&ctl);
    if (drv_file_open(&file, path, &diag) == 0) {
        if (fmt->open(&file, &state, &diag) == 0) {
            unsigned char *der = NULL;
            size_t len = 0, count = 0;
            drv_sig *sigs = NULL;
            drv_content content;
            drv_content_opts opts = {EVP_sha256(), 0};
            if (fmt->content(state, &opts, &content, &diag) == 0)
                OPENSSL_free(content.der);
            if (fmt->signature(state, &der, &len, &diag) == 0 && der != NULL &&
                drv_ac_parse_all(der, len, &sigs, &count, path, &diag) == 0)
                for (size_t i = 0; i < count; i++) {
                    drv_content_check cc;
                    drv_sig_check sc;
                    fmt->check_content(state, &sigs[i], &cc, &diag);
                    drv_ac_check(&sigs[i], store, 0, &sc);
                }
            drv_ac_free_all(sigs, count);
            free(der);
            fmt->close(state);
        }
        drv_file_close(&file);
    }
    ERR_clear_error();
    return 0;
}
