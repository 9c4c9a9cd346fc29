/*
 * Timestamps (reference 4.7): RFC 3161 tokens and legacy Authenticode counter-signatures,
 * fetched over HTTP(S) with OpenSSL's own client, with failover across URLs, rounds of retries
 * and per-request timeouts. This layer sees only the signature value to be timestamped; the
 * Authenticode layer attaches what it returns.
 */
#ifndef DRVSIGN_TIMESTAMP_H
#define DRVSIGN_TIMESTAMP_H

#include <openssl/evp.h>
#include <openssl/cms.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "diag.h"

typedef struct drv_ts_opts {
    const char *const *urls; /* RFC 3161, in failover order */
    size_t url_count;
    const char *const *legacy_urls; /* legacy Authenticode */
    size_t legacy_count;
    const EVP_MD *md;  /* RFC 3161 message imprint digest */
    int retries;       /* rounds over all URLs */
    int wait;          /* seconds between rounds */
    int timeout;       /* seconds per request */
    const char *ca_file; /* HTTPS server trust; NULL: the system store */
    /* the front end's names for the two kinds of server, for "use the other kind" hints */
    const char *rfc3161_name, *legacy_name;
} drv_ts_opts;

#define DRV_OID_KP_TIMESTAMPING "1.3.6.1.5.5.7.3.8"

/* Does x's extended key usage list the usage (dotted OID), critical or not? */
int drv_eku_lists(X509 *x, const char *dotted);

/* The timestamp settings params ask for: 1, 0 when none were asked for, -1 after a usage
 * error (both protocols, an unknown digest). */
int drv_ts_opts_from(const drvsign_params *params, drv_ts_opts *opts, drvsign_diag *diag);

/*
 * Read an RFC 3161 token (DER or BER): a CMS SignedData of any version around a TSTInfo, with
 * certificates of any kind, validly signed by exactly one signer whose certificate it carries.
 * The TSA's chain is not checked here. On success *cms and *tst are the caller's to free, *tsa
 * points into *cms, and *used (when not NULL) is the token's length in der.
 */
int drv_ts_token_read(const unsigned char *der, size_t len, size_t *used,
                      CMS_ContentInfo **cms, TS_TST_INFO **tst, X509 **tsa, char *problem,
                      size_t psize);

/* An RFC 3161 TimeStampToken (DER ContentInfo) for this signature value, checked: status
 * granted, our nonce, our message imprint, a valid signature by a time-stamping certificate. */
int drv_ts_rfc3161(const unsigned char *signature, size_t len, const drv_ts_opts *opts,
                   const char *where, unsigned char **token, size_t *token_len,
                   drvsign_diag *diag);

/* A legacy counter-signature: the TSA's SignerInfo over this signature value, and its
 * certificates (the caller merges them into the outer set). */
int drv_ts_legacy(const unsigned char *signature, size_t len, const drv_ts_opts *opts,
                  const char *where, PKCS7_SIGNER_INFO **counter, STACK_OF(X509) **certs,
                  drvsign_diag *diag);

/* The checks on a reply, apart from the HTTP exchange (for the fuzz target): an RFC 3161
 * TimeStampResp for this imprint and nonce, or a base64 legacy reply (decoded in place)
 * counter-signing this signature value. 0, or -1 with problem set; -2 when the reply looks
 * like one from the other kind of server. */
int drv_ts_rfc3161_reply(const unsigned char *reply, size_t reply_len,
                         const unsigned char *imprint, unsigned imprint_len,
                         const ASN1_INTEGER *nonce, const EVP_MD *md, unsigned char **token,
                         size_t *token_len, char *problem, size_t psize);
int drv_ts_legacy_reply(unsigned char *reply, size_t reply_len, const unsigned char *signature,
                        size_t len, PKCS7_SIGNER_INFO **counter, STACK_OF(X509) **certs,
                        char *problem, size_t psize);

#endif
