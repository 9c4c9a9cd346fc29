/*
 * libFuzzer target: timestamp server replies. The first byte picks the protocol: even, an
 * RFC 3161 TimeStampResp (DER) for a fixed request; odd, a legacy Authenticode reply (base64
 * PKCS#7) counter-signing a fixed signature value. run.sh's seeds are the test TSA's real
 * replies to exactly these requests, so the fuzzer starts past the nonce and imprint checks.
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "timestamp.h"

/* what run.sh's seed requests carry: keep the two in step */
static const unsigned char signature[] = "drvsign fuzz signature value";
static const unsigned char nonce_bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ASN1_INTEGER *nonce;
    static unsigned char imprint[32];
    char problem[256];
    uint8_t *reply;

    if (size < 1)
        return 0;
    if (nonce == NULL) {
        BIGNUM *bn = BN_bin2bn(nonce_bytes, sizeof nonce_bytes, NULL);
        nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
        BN_free(bn);
        if (nonce == NULL || !EVP_Digest(signature, sizeof signature - 1, imprint, NULL,
                                         EVP_sha256(), NULL))
            abort();
    }
    reply = malloc(size); /* the legacy check decodes in place */
    if (reply == NULL)
        return 0;
    memcpy(reply, data + 1, size - 1);
    if (data[0] % 2 == 0) {
        unsigned char *token = NULL;
        size_t token_len = 0;
        if (drv_ts_rfc3161_reply(reply, size - 1, imprint, sizeof imprint, nonce, EVP_sha256(),
                                 &token, &token_len, problem, sizeof problem) == 0)
            OPENSSL_free(token);
    } else {
        PKCS7_SIGNER_INFO *counter = NULL;
        STACK_OF(X509) *certs = NULL;
        if (drv_ts_legacy_reply(reply, size - 1, signature, sizeof signature - 1, &counter,
                                &certs, problem, sizeof problem) == 0) {
            PKCS7_SIGNER_INFO_free(counter);
            sk_X509_pop_free(certs, X509_free);
        }
    }
    free(reply);
    ERR_clear_error();
    return 0;
}
