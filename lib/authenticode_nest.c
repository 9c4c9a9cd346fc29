/*
 * Nested signatures: appending a signature to a file's primary one, and reading every
 * signature a file carries, nested ones included, without recursion.
 */
#include "authenticode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

int drv_ac_add_nested(PKCS7 *primary, const PKCS7 *nested, drvsign_diag *diag)
{
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(primary->d.sign->signer_info, 0);
    unsigned char *der = NULL;
    int len = i2d_PKCS7((PKCS7 *)nested, &der);
    int rc = -1;

    if (si == NULL || len <= 0)
        goto done;
    /* signtool keeps every nested signature as one more value of a single attribute */
    for (int i = 0; i < X509at_get_attr_count(si->unauth_attr); i++) {
        X509_ATTRIBUTE *a = X509at_get_attr(si->unauth_attr, i);
        if (drv_oid_is(X509_ATTRIBUTE_get0_object(a), DRV_OID_SPC_NESTED_SIGNATURE)) {
            rc = X509_ATTRIBUTE_set1_data(a, V_ASN1_SEQUENCE, der, len) ? 0 : -1;
            goto done;
        }
    }
    rc = drv_ac_add_attr(&si->unauth_attr, DRV_OID_SPC_NESTED_SIGNATURE, V_ASN1_SEQUENCE, der, len);
done:
    if (rc != 0)
        drv_ssl_error(diag, NULL, "cannot add the nested signature");
    OPENSSL_free(der);
    return rc;
}

static int sig_from_p7(PKCS7 *p7, int nested, drv_sig *sig)
{
    PKCS7 *inner;
    memset(sig, 0, sizeof *sig);
    sig->p7 = p7;
    sig->nested = nested;
    if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL ||
        sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) != 1)
        return -1;
    inner = p7->d.sign->contents;
    if (inner == NULL || inner->type == NULL || PKCS7_type_is_data(inner) ||
        inner->d.other == NULL || inner->d.other->type != V_ASN1_SEQUENCE)
        return -1;
    if (OBJ_obj2txt(sig->content_type, sizeof sig->content_type, inner->type, 1) <= 0)
        return -1;
    sig->content = ASN1_STRING_get0_data(inner->d.other->value.sequence);
    sig->content_len = (size_t)ASN1_STRING_length(inner->d.other->value.sequence);
    if (strcmp(sig->content_type, DRV_OID_SPC_INDIRECT_DATA) == 0 &&
        drv_ac_parse_indirect(sig->content, sig->content_len, &sig->indirect) != 0)
        return -1;
    return 0;
}

void drv_ac_free_all(drv_sig *sigs, size_t count)
{
    for (size_t i = 0; sigs != NULL && i < count; i++) {
        PKCS7_free(sigs[i].p7);
        OPENSSL_free(sigs[i].indirect.data_value);
    }
    OPENSSL_free(sigs);
}

ASN1_STRING *drv_ac_next_nested(PKCS7_SIGNER_INFO *si, int *attr_index, int *value_index)
{
    for (; *attr_index < X509at_get_attr_count(si->unauth_attr);
         (*attr_index)++, *value_index = 0) {
        X509_ATTRIBUTE *a = X509at_get_attr(si->unauth_attr, *attr_index);
        if (!drv_oid_is(X509_ATTRIBUTE_get0_object(a), DRV_OID_SPC_NESTED_SIGNATURE))
            continue;
        while (*value_index < X509_ATTRIBUTE_count(a)) {
            ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, (*value_index)++);
            if (t != NULL && t->type == V_ASN1_SEQUENCE)
                return t->value.sequence;
        }
    }
    return NULL;
}

/* Nested signatures are bounded: a signature that claims thousands is hostile input. */
#define MAX_SIGNATURES 16

int drv_ac_parse_all(const unsigned char *der, size_t der_len, drv_sig **sigs_out,
                     size_t *count_out, const char *where, drvsign_diag *diag)
{
    drv_sig *sigs = OPENSSL_zalloc(sizeof *sigs * MAX_SIGNATURES);
    size_t count = 0;
    PKCS7 *p7 = drv_ac_from_der(der, der_len);
    PKCS7_SIGNER_INFO *si;
    ASN1_STRING *nested;
    int attr_index = 0, value_index = 0;

    *sigs_out = NULL;
    *count_out = 0;
    if (sigs == NULL)
        goto fail;
    if (p7 == NULL || sig_from_p7(p7, 0, &sigs[count]) != 0) {
        drv_ssl_error(diag, where, "the signature is not a valid Authenticode PKCS#7 SignedData");
        PKCS7_free(p7);
        goto fail;
    }
    count++;
    si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    while ((nested = drv_ac_next_nested(si, &attr_index, &value_index)) != NULL) {
        PKCS7 *n;
        if (count == MAX_SIGNATURES) {
            drv_error(diag, where, "more than %d nested signatures", MAX_SIGNATURES - 1);
            goto fail;
        }
        n = drv_ac_from_der(ASN1_STRING_get0_data(nested), (size_t)ASN1_STRING_length(nested));
        if (n == NULL || sig_from_p7(n, 1, &sigs[count]) != 0) {
            drv_ssl_error(diag, where, "nested signature %zu is not a valid PKCS#7 SignedData",
                          count);
            PKCS7_free(n);
            goto fail;
        }
        count++;
    }
    *sigs_out = sigs;
    *count_out = count;
    return 0;
fail:
    drv_ac_free_all(sigs, count);
    return -1;
}
