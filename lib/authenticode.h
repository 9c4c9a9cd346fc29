/*
 * Authenticode structures shared by every file format: SpcIndirectDataContent, the PKCS#7
 * SignedData around it (or around a catalog's CTL), nested signatures, and their verification.
 * Formats supply the content to sign and check the digest it carries; nothing here knows a file
 * format, and keys are reached only through drv_signer_sign_digest.
 */
#ifndef DRVSIGN_AUTHENTICODE_H
#define DRVSIGN_AUTHENTICODE_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "keys.h"
#include "timestamp.h"

#define DRV_OID_SPC_INDIRECT_DATA "1.3.6.1.4.1.311.2.1.4"
#define DRV_OID_SPC_PE_IMAGE_DATA "1.3.6.1.4.1.311.2.1.15"
#define DRV_OID_SPC_CAB_DATA "1.3.6.1.4.1.311.2.1.25"
#define DRV_OID_SPC_STATEMENT_TYPE "1.3.6.1.4.1.311.2.1.11"
#define DRV_OID_SPC_INDIVIDUAL "1.3.6.1.4.1.311.2.1.21"
#define DRV_OID_SPC_SP_OPUS_INFO "1.3.6.1.4.1.311.2.1.12"
#define DRV_OID_SPC_NESTED_SIGNATURE "1.3.6.1.4.1.311.2.4.1"
#define DRV_OID_PAGE_HASHES_V1 "1.3.6.1.4.1.311.2.3.1"
#define DRV_OID_PAGE_HASHES_V2 "1.3.6.1.4.1.311.2.3.2"
#define DRV_OID_RFC3161_TOKEN "1.3.6.1.4.1.311.3.3.1"
#define DRV_OID_CTL "1.3.6.1.4.1.311.10.1"

#define DRV_MAX_DIGEST 64

/* What a signature says about the signed content (the parsed SpcIndirectDataContent). */
typedef struct drv_indirect {
    char data_type[64];          /* dotted OID of SpcAttributeTypeAndOptionalValue.type */
    unsigned char *data_value;   /* DER of its value (OPENSSL_malloc'd), may be NULL */
    size_t data_value_len;
    const EVP_MD *md;            /* digest algorithm of the file digest */
    unsigned char digest[DRV_MAX_DIGEST];
    size_t digest_len;
} drv_indirect;

/* sha256 (the default for NULL), sha1, sha384, sha512; reports unknown names. */
const EVP_MD *drv_digest_by_name(const char *name, drvsign_diag *diag);

/* Several digests of one byte stream. drv_digest_set_update is a drv_bytes_fn (port.h) that
 * feeds each piece to every context, so one pass over a file computes them all. */
typedef struct drv_digest_set {
    EVP_MD_CTX **ctx;
    size_t count;
} drv_digest_set;
int drv_digest_set_update(void *set, uint64_t off, const unsigned char *p, size_t n);

/* SpcPeImageData: a file link, or the page-hash moniker when table != NULL. catalog_flags:
 * a catalog member, with the flags catalogs carry (includeResources|includeImportAddressTable)
 * and an empty link, as makecat writes; else a signature's "<<<Obsolete>>>" link. */
int drv_ac_pe_image_data(int page_hash_v2, const unsigned char *table, size_t table_len,
                         int catalog_flags, unsigned char **der, size_t *der_len);
/* SpcLink file[2] { unicode "" } for a flat catalog member (as makecat writes it), else
 * file[2] { unicode "<<<Obsolete>>>" }. */
int drv_ac_file_link(int catalog_member, unsigned char **der, size_t *der_len);
/* A SignedData with content and no signers: an unsigned catalog. */
int drv_ac_unsigned(const char *content_oid, const unsigned char *content_der, size_t content_len,
                    unsigned char **der, size_t *der_len);
/* Parse SpcIndirectDataContent DER; data_value is OPENSSL_malloc'd. */
int drv_ac_parse_indirect(const unsigned char *der, size_t len, drv_indirect *out);
/* Page-hash table from an SpcPeImageData value; *table NULL when it carries none. */
int drv_ac_pe_page_hashes(const unsigned char *der, size_t der_len, int *v2,
                          unsigned char **table, size_t *table_len);

/* SpcIndirectDataContent{ {type, value}, DigestInfo{md, digest} } as DER. */
int drv_ac_indirect_data(const char *type_oid, const unsigned char *value_der, size_t value_len,
                         const EVP_MD *md, const unsigned char *digest, size_t digest_len,
                         unsigned char **der, size_t *der_len);

typedef struct drv_sign_opts {
    const EVP_MD *md;
    const char *description;
    const char *url;
    int signing_time;
    const char *where; /* the file being signed, for messages */
} drv_sign_opts;

/*
 * A SignedData whose encapsulated content is content_der (a DER SEQUENCE, kept byte for byte)
 * with eContentType content_oid, signed the way signtool signs: contentType, statement type,
 * messageDigest over the content octets, SpcSpOpusInfo; certificates DER-sorted.
 */
int drv_ac_sign(const drv_signer *signer, const drv_sign_opts *opts, const char *content_oid,
                const unsigned char *content_der, size_t content_len, PKCS7 **out,
                drvsign_diag *diag);

/*
 * The three steps of drv_ac_sign, for keys that sign elsewhere or later:
 * drv_ac_signed_attrs builds the signed attributes for the content (DER of the SET) and the
 * digest the key must sign; the key signs it; drv_ac_assemble builds the SignedData from the
 * content, those attributes and the raw signature, after checking that the attributes name
 * this content.
 */
int drv_ac_signed_attrs(X509 *cert, const drv_sign_opts *opts, const char *content_oid,
                        const unsigned char *content_der, size_t content_len,
                        unsigned char **attrs_der, size_t *attrs_len, unsigned char *to_sign,
                        unsigned *to_sign_len, drvsign_diag *diag);
int drv_ac_assemble(X509 *cert, STACK_OF(X509) *extra, const EVP_MD *md, const char *content_oid,
                    const unsigned char *content_der, size_t content_len,
                    const unsigned char *attrs_der, size_t attrs_len, const unsigned char *sig,
                    size_t sig_len, const char *where, PKCS7 **out, drvsign_diag *diag);

/* Append nested as a nested signature (1.3.6.1.4.1.311.2.4.1) of primary's signer. */
int drv_ac_add_nested(PKCS7 *primary, const PKCS7 *nested, drvsign_diag *diag);
/* Steps through the values of si's SpcNestedSignature attributes, each the DER of one more
 * SignedData; start with both indexes at 0. NULL when there are no more. */
ASN1_STRING *drv_ac_next_nested(PKCS7_SIGNER_INFO *si, int *attr_index, int *value_index);
int drv_ac_to_der(const PKCS7 *p7, unsigned char **der, size_t *der_len);
PKCS7 *drv_ac_from_der(const unsigned char *der, size_t der_len);
/* Is obj the OID written in dotted form? */
int drv_oid_is(const ASN1_OBJECT *obj, const char *dotted);
/* A BMPString (UTF-16BE, as Authenticode and catalogs name things) of UTF-8 text, or NULL. */
ASN1_BMPSTRING *drv_ac_bmp(const char *text);
/* Add an attribute (one value of asn1_type, data as OpenSSL takes it) to a set. 0 or -1. */
int drv_ac_add_attr(STACK_OF(X509_ATTRIBUTE) **attrs, const char *oid, int asn1_type,
                    const void *data, int len);
/* Replace p7's certificates with certs, sorted by DER and without duplicates (a SET OF). */
int drv_ac_set_sorted_certs(PKCS7 *p7, X509 *const *certs, size_t count);
/* SpcSpOpusInfo (program name, more-info URL; either may be NULL) and SpcStatementType
 * (individual code signing), DER in *der (OPENSSL_malloc'd). 0 or -1. */
int drv_ac_opus_info(const char *description, const char *url, unsigned char **der, int *len);
int drv_ac_statement_type(unsigned char **der, int *len);

/* One signature of a file, primary or nested, ready to check. */
typedef struct drv_sig {
    PKCS7 *p7;
    int nested;           /* 0 for the primary signature */
    char content_type[64];
    const unsigned char *content; /* DER of the encapsulated content, inside p7 */
    size_t content_len;
    drv_indirect indirect; /* valid when content_type is SPC_INDIRECT_DATA */
} drv_sig;

/* The primary signature and every nested one, in file order. */
int drv_ac_parse_all(const unsigned char *der, size_t der_len, drv_sig **sigs, size_t *count,
                     const char *where, drvsign_diag *diag);
void drv_ac_free_all(drv_sig *sigs, size_t count);

typedef struct drv_sig_check {
    int signature_ok; /* messageDigest and the signer's signature */
    int chain_ok;     /* chain to a trusted root, code-signing usage, at the check time */
    char problem[512];       /* what is wrong with the signature itself */
    char chain_problem[512]; /* what is wrong with the signer's chain */
    char ts_problem[512];    /* what is wrong with the timestamp */
    char signer[256];
    char issuer[256];
    const char *digest_name;
    char root[256];          /* the root the signer's chain ends at, trusted or not */
    int root_untrusted;      /* the signer's chain ends at a root the store lacks */
    int lifetime_signing;    /* the signer has the lifetime-signing EKU */
    int64_t chain_time;      /* when the chain was judged; 0: now */
    const char *chain_time_source; /* "timestamp", "given" or "now" */
    char chain_time_text[80];
    /* the timestamp, when the signature has one */
    const char *ts_kind;  /* "rfc3161", "legacy" or NULL */
    int ts_ok;            /* token valid, over this signature, TSA chain trusted */
    char ts_time[80];     /* "2026-11-26T22:01:35Z" (room for any int, as gcc counts) */
    char tsa[256];
    char tsa_root[256];   /* the root the TSA's chain ends at */
    int tsa_root_untrusted; /* ... and it is not in the store */
    const char *ts_digest; /* the imprint (RFC 3161) or counter-signature digest */
    int tsa_eku_critical; /* the TSA certificate's extended key usage is marked critical */
} drv_sig_check;

/*
 * Timestamp the signature of p7's signer, and of every nested signature when nested is set,
 * replacing earlier timestamps: RFC 3161 when opts has URLs, else legacy. The signed content
 * and the signature values stay as they are.
 */
int drv_ac_timestamp(PKCS7 *p7, const drv_ts_opts *opts, int nested, const char *where,
                     drvsign_diag *diag);

/* The signed messageDigest attribute of si, NULL when absent or not an OCTET STRING. */
const ASN1_OCTET_STRING *drv_ac_message_digest(PKCS7_SIGNER_INFO *si);
/* The content octets of a DER TLV: what messageDigest covers (reference 2.9 / 4.3). */
int drv_ac_content_octets(const unsigned char *der, size_t len, const unsigned char **body,
                          size_t *body_len);

/* verify_sig.c: trusted roots from a PEM/DER file, or the system store when ca_file is NULL. */
X509_STORE *drv_ac_trust_store(const char *ca_file, drvsign_diag *diag);
/*
 * Check one signature as WinVerifyTrust does: the PKCS#7 signature, its timestamp, the
 * chains of the signer and the TSA. time 0 means now, or the timestamp's time when valid.
 */
void drv_ac_check(const drv_sig *sig, X509_STORE *store, int64_t time, drv_sig_check *check);

#endif
