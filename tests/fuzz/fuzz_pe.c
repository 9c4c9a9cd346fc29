/*
 * libFuzzer target: the PE handler as `verify` drives it: parse, digest (SHA-256 and SHA-1),
 * checksum, page hashes, the embedded PKCS#7 and its checks. The input goes through a temp
 * file because drvsign streams files by descriptor.
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>

#include "formats.h"
#include "pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const drv_format *fmt = drv_format_named("pe");
    const char *path;
    static X509_STORE *store;
    drvsign_diag diag = fuzz_diag();
    const EVP_MD *mds[2] = {EVP_sha256(), EVP_sha1()};
    drv_file file;
    void *state = NULL;
    unsigned char *der = NULL, *table = NULL;
    size_t der_len = 0, table_len = 0, count = 0;
    drv_sig *sigs = NULL;
    drv_file_check fc;

    if (store == NULL)
        store = X509_STORE_new();
    path = fuzz_file(data, size, "pe");
    if (drv_file_open(&file, path, &diag) != 0)
        return 0;
    if (fmt->open(&file, &state, &diag) == 0) {
        if (fmt->prepare(state, mds, 2, 0, &diag) == 0)
            fmt->check_file(state, &fc, &diag);
        if (fmt->signature(state, &der, &der_len, &diag) == 0 && der != NULL &&
            drv_ac_parse_all(der, der_len, &sigs, &count, path, &diag) == 0) {
            for (size_t i = 0; i < count; i++) {
                drv_content_check cc;
                drv_sig_check sc;
                fmt->check_content(state, &sigs[i], &cc, &diag);
                drv_ac_check(&sigs[i], store, 0, &sc);
            }
        }
        drv_ac_free_all(sigs, count);
        free(der);
        fmt->close(state);
    }
    /* page hashes straight from the parser, with both algorithms */
    {
        drv_pe pe;
        if (drv_pe_open(&pe, &file, &diag) == 0) {
            if (drv_pe_page_hashes(&pe, EVP_sha256(), &table, &table_len, &diag) == 0)
                free(table);
            table = NULL;
        }
    }
    drv_file_close(&file);
    /* What this input's failures left in OpenSSL's error queue is freed only when later errors
     * push it out: until then each input ends with more allocated than freed, and libFuzzer
     * re-runs every such input under a full leak scan of the heap (two thirds of the time). */
    ERR_clear_error();
    return 0;
}
