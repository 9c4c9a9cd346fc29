/*
 * Attaching timestamps to a signature: the RFC 3161 token (or legacy countersignature) that
 * timestamp.c fetched goes into the signer's unsigned attributes.
 */
#include "authenticode.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

/* ---- timestamps ---- */

#define OID_COUNTER_SIGNATURE "1.2.840.113549.1.9.6"

static void drop_attr(STACK_OF(X509_ATTRIBUTE) *attrs, const char *oid)
{
    for (int i = X509at_get_attr_count(attrs) - 1; i >= 0; i--)
        if (drv_oid_is(X509_ATTRIBUTE_get0_object(X509at_get_attr(attrs, i)), oid))
            X509_ATTRIBUTE_free(X509at_delete_attr(attrs, i));
}

static int stamp_signer(PKCS7 *p7, const drv_ts_opts *o, const char *where, drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    const unsigned char *sig = ASN1_STRING_get0_data(si->enc_digest);
    size_t sig_len = (size_t)ASN1_STRING_length(si->enc_digest);
    int rc = -1;

    drop_attr(si->unauth_attr, DRV_OID_RFC3161_TOKEN);
    drop_attr(si->unauth_attr, OID_COUNTER_SIGNATURE);
    if (o->url_count > 0) {
        unsigned char *token = NULL;
        size_t token_len;
        if (drv_ts_rfc3161(sig, sig_len, o, where, &token, &token_len, diag) != 0)
            return -1;
        rc = drv_ac_add_attr(&si->unauth_attr, DRV_OID_RFC3161_TOKEN, V_ASN1_SEQUENCE, token,
                          (int)token_len);
        OPENSSL_free(token);
    } else {
        PKCS7_SIGNER_INFO *counter = NULL;
        STACK_OF(X509) *certs = NULL;
        unsigned char *der = NULL;
        int n;
        if (drv_ts_legacy(sig, sig_len, o, where, &counter, &certs, diag) != 0)
            return -1;
        n = i2d_PKCS7_SIGNER_INFO(counter, &der);
        if (n > 0 &&
            drv_ac_add_attr(&si->unauth_attr, OID_COUNTER_SIGNATURE, V_ASN1_SEQUENCE, der, n) == 0) {
            /* the TSA's certificates join the outer set, which must stay DER-sorted */
            size_t total = (size_t)sk_X509_num(p7->d.sign->cert) + (size_t)sk_X509_num(certs);
            X509 **all = OPENSSL_zalloc(sizeof *all * (total ? total : 1));
            size_t k = 0;
            if (all != NULL) {
                for (int i = 0; i < sk_X509_num(p7->d.sign->cert); i++)
                    all[k++] = sk_X509_value(p7->d.sign->cert, i);
                for (int i = 0; i < sk_X509_num(certs); i++)
                    all[k++] = sk_X509_value(certs, i);
                /* hold our references while the old stack is replaced */
                for (size_t i = 0; i < k; i++)
                    X509_up_ref(all[i]);
                rc = drv_ac_set_sorted_certs(p7, all, k);
                for (size_t i = 0; i < k; i++)
                    X509_free(all[i]);
                OPENSSL_free(all);
            }
        }
        OPENSSL_free(der);
        PKCS7_SIGNER_INFO_free(counter);
        sk_X509_pop_free(certs, X509_free);
    }
    if (rc != 0)
        drv_ssl_error(diag, where, "cannot attach the timestamp");
    return rc;
}

int drv_ac_timestamp(PKCS7 *p7, const drv_ts_opts *o, int nested, const char *where,
                     drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    ASN1_STRING *inner_der;
    int attr_index = 0, value_index = 0, nth = 0;
    if (si == NULL || stamp_signer(p7, o, where, diag) != 0)
        return -1;
    if (!nested)
        return 0;
    while ((inner_der = drv_ac_next_nested(si, &attr_index, &value_index)) != NULL) {
        PKCS7 *inner = drv_ac_from_der(ASN1_STRING_get0_data(inner_der),
                                       (size_t)ASN1_STRING_length(inner_der));
        unsigned char *der = NULL;
        int n;
        nth++;
        if (inner == NULL || !PKCS7_type_is_signed(inner) ||
            stamp_signer(inner, o, where, diag) != 0 || (n = i2d_PKCS7(inner, &der)) <= 0 ||
            !ASN1_STRING_set(inner_der, der, n)) {
            PKCS7_free(inner);
            OPENSSL_free(der);
            if (diag->errors == 0)
                drv_error(diag, where, "cannot timestamp nested signature %d", nth);
            return -1;
        }
        OPENSSL_free(der);
        PKCS7_free(inner);
    }
    return 0;
}
