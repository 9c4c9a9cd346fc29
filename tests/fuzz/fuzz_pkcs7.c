/* libFuzzer target: DER signatures as verify meets them (PKCS#7, nested, SpcIndirectDataContent,
 * SpcPeImageData page hashes). */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "authenticode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static X509_STORE *store;
    drvsign_diag diag = fuzz_diag();
    drv_sig *sigs = NULL;
    size_t count = 0;
    unsigned char *table = NULL;
    size_t table_len = 0;
    int v2 = 0;

    if (store == NULL) {
        /* run.sh's seeds chain to the test root: with it the checks go past the chain */
        const char *ca = getenv("DRVSIGN_FUZZ_CA");
        store = ca != NULL ? drv_ac_trust_store(ca, &diag) : NULL;
        if (store == NULL)
            store = X509_STORE_new();
    }
    if (drv_ac_parse_all(data, size, &sigs, &count, "fuzz", &diag) == 0) {
        for (size_t i = 0; i < count; i++) {
            drv_sig_check check;
            drv_ac_check(&sigs[i], store, 0, &check);
            if (sigs[i].indirect.data_value != NULL &&
                drv_ac_pe_page_hashes(sigs[i].indirect.data_value, sigs[i].indirect.data_value_len,
                                      &v2, &table, &table_len) == 0)
                OPENSSL_free(table);
        }
        drv_ac_free_all(sigs, count);
    }
    if (drv_ac_pe_page_hashes(data, size, &v2, &table, &table_len) == 0)
        OPENSSL_free(table);
    ERR_clear_error();
    return 0;
}
