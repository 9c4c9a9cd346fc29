/* libFuzzer target: cabinets as `verify`, `inspect` and `sign` read them: the header, reserve,
 * folders and file table, the signature and its digest, and the signed layout. */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>

#include "cab.h"
#include "formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const drv_format *fmt = drv_format_named("cab");
    const char *path;
    static X509_STORE *store;
    drvsign_diag diag = fuzz_diag();
    drv_file file;
    drv_cab cab;
    void *state = NULL;

    if (store == NULL)
        store = X509_STORE_new();
    path = fuzz_file(data, size, "cab");
    if (drv_file_open(&file, path, &diag) != 0)
        return 0;
    if (drv_cab_open(&cab, &file, &diag) == 0) {
        drv_cab_member *m;
        size_t n;
        if (drv_cab_members(&cab, &m, &n, &diag) == 0)
            drv_cab_free_members(m, n);
        drv_cab_close(&cab);
    }
    if (fmt->open(&file, &state, &diag) == 0) {
        const EVP_MD *mds[2] = {EVP_sha256(), EVP_sha1()};
        unsigned char *der = NULL, digest[EVP_MAX_MD_SIZE];
        unsigned len;
        size_t der_len = 0, count = 0;
        drv_sig *sigs = NULL;
        drv_content content;
        drv_content_opts opts = {EVP_sha256(), 0};
        fmt->prepare(state, mds, 2, 0, &diag);
        fmt->member_digest(state, EVP_sha1(), digest, &len, &diag);
        if (fmt->content(state, &opts, &content, &diag) == 0)
            OPENSSL_free(content.der);
        if (fmt->signature(state, &der, &der_len, &diag) == 0 && der != NULL &&
            drv_ac_parse_all(der, der_len, &sigs, &count, path, &diag) == 0)
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
    ERR_clear_error();
    return 0;
}
