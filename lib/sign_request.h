/*
 * Detached signing requests (drvsign sign --prepare / --complete): what finishing a signature
 * later needs, in a small text file beside the raw digest. Format, one "key=value" per line:
 *
 *   drvsign-request=1
 *   file=<file name>            file_size=<bytes>     file_sha256=<hex of the whole file>
 *   format=pe|cat|cab           digest=sha256|sha1    page_hashes=0|1    append=0|1
 *   content_type=<dotted OID of the signed content>
 *   signed_attributes=<hex of the DER SET of signed attributes>
 *   to_sign=<hex of the digest of that SET: the bytes of <name>.digest>
 *   key_type=RSA|EC
 *   certificate=<base64 DER>    (repeated: the signing certificate first, then its chain)
 */
#ifndef DRVSIGN_SIGN_REQUEST_H
#define DRVSIGN_SIGN_REQUEST_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "port.h"

typedef struct drv_request {
    char file[256];
    uint64_t file_size;
    unsigned char file_sha256[32];
    char format[16];
    const EVP_MD *md;
    int page_hashes;
    int append;
    char content_type[64];
    unsigned char *attrs; /* OPENSSL_malloc'd */
    size_t attrs_len;
    unsigned char to_sign[EVP_MAX_MD_SIZE];
    size_t to_sign_len;
    X509 *cert;
    STACK_OF(X509) *extra;
} drv_request;

/* SHA-256 of the whole file, streamed. */
int drv_file_sha256(const drv_file *file, unsigned char out[32], drvsign_diag *diag);
/* Write dir/<file>.request and dir/<file>.digest (each atomically). */
int drv_request_write(const char *dir, const drv_request *r, drvsign_diag *diag);
/* Parse a request's text for the file called name; where names it in messages. */
int drv_request_parse(const unsigned char *text, size_t len, const char *name, const char *where,
                      drv_request *r, drvsign_diag *diag);
/* Read dir/<name>.request; reports what is wrong with it, naming it. */
int drv_request_read(const char *dir, const char *name, drv_request *r, drvsign_diag *diag);
void drv_request_free(drv_request *r);

#endif
