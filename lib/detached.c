/*
 * Detached signatures (drvsign extract, remove, attach): a file's signature taken out as a
 * PKCS#7 file, the file without it, and a stored signature put back after checking that it
 * signs exactly this file. extract, remove and attach round-trip to the original bytes.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "authenticode.h"
#include "formats.h"
#include "port.h"

#define MAX_SIGNATURE_FILE (16u << 20)

typedef struct opened {
    drv_file file;
    const drv_format *fmt;
    void *state;
} opened;

static int open_file(opened *o, const char *path, drvsign_diag *diag)
{
    memset(o, 0, sizeof *o);
    if (drv_file_open(&o->file, path, diag) != 0)
        return -1;
    o->fmt = drv_format_for(&o->file, diag);
    if (o->fmt == NULL || o->fmt->open(&o->file, &o->state, diag) != 0) {
        drv_file_close(&o->file);
        return -1;
    }
    return 0;
}

static void close_file(opened *o)
{
    if (o->state != NULL)
        o->fmt->close(o->state);
    drv_file_close(&o->file);
}

/* The length of the DER value at der: PE and CAB pad the signature to 8 bytes. */
static size_t der_length(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    long body;
    int tag, cls;
    if (len > LONG_MAX || (ASN1_get_object(&p, &body, &tag, &cls, (long)len) & 0x80)) {
        ERR_clear_error();
        return len;
    }
    return (size_t)(p - der) + (size_t)body <= len ? (size_t)(p - der) + (size_t)body : len;
}

static int write_file(const char *target, const char *mode_like, const unsigned char *data,
                      size_t len, drvsign_diag *diag)
{
    drv_atomic out;
    int rc = -1;
    if (drv_atomic_open(&out, target, mode_like, diag) != 0)
        return -1;
    if (drv_atomic_write(&out, data, len, diag) == 0 && drv_atomic_commit(&out, diag) == 0)
        rc = 0;
    drv_atomic_abort(&out);
    return rc;
}

drvsign_status drvsign_extract(const drvsign_params *params, const char *path, drvsign_diag *diag)
{
    opened o;
    unsigned char *der = NULL;
    size_t len = 0;
    int rc = -1;

    if (drvsign_check_params(DRVSIGN_OP_EXTRACT, params, path != NULL, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    if (open_file(&o, path, diag) != 0)
        return DRVSIGN_FAILED;
    if (o.fmt->signature(o.state, &der, &len, diag) != 0)
        goto done;
    if (der == NULL) {
        drv_error(diag, path, "the file is not signed: there is no signature to extract");
        goto done;
    }
    rc = write_file(params->out, NULL, der, der_length(der, len), diag);
done:
    free(der);
    close_file(&o);
    return rc == 0 ? DRVSIGN_OK : DRVSIGN_FAILED;
}

static int remove_one(const char *path, const char *out_path, drvsign_diag *diag)
{
    opened o;
    unsigned char *der = NULL;
    size_t len = 0;
    drv_atomic out = {0};
    int rc = -1;

    out.fd = -1;
    if (open_file(&o, path, diag) != 0)
        return -1;
    if (o.fmt->signature(o.state, &der, &len, diag) != 0)
        goto done;
    if (der == NULL) {
        drv_error(diag, path, "the file is not signed: there is no signature to remove");
        goto done;
    }
    if (o.fmt->detach == NULL) {
        drv_error(diag, path, "signatures cannot be removed from %s files", o.fmt->name);
        goto done;
    }
    if (drv_atomic_open(&out, out_path, path, diag) != 0 ||
        o.fmt->detach(o.state, &out, diag) != 0 || drv_atomic_commit(&out, diag) != 0)
        goto done;
    rc = 0;
done:
    drv_atomic_abort(&out);
    free(der);
    close_file(&o);
    return rc;
}

drvsign_status drvsign_remove(const drvsign_params *params, const char *const *files, size_t count,
                              drvsign_diag *diag)
{
    int failed = 0;
    if (drvsign_check_params(DRVSIGN_OP_REMOVE, params, count, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    for (size_t i = 0; i < count; i++)
        if (remove_one(files[i], params->out ? params->out : files[i], diag) != 0)
            failed = 1;
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}

/* Every signature in der (primary and nested) must sign this file and be intact. */
static int signs_this_file(const opened *o, const unsigned char *der, size_t len,
                           const char *sig_path, const char *path, drvsign_diag *diag)
{
    drv_sig *sigs = NULL;
    size_t count = 0;
    X509_STORE *no_roots = X509_STORE_new();
    int rc = -1;

    if (no_roots == NULL || drv_ac_parse_all(der, len, &sigs, &count, sig_path, diag) != 0)
        goto done;
    for (size_t i = 0; i < count; i++) {
        drv_content_check content;
        drv_sig_check check;
        const char *which = sigs[i].nested ? "a nested signature" : "the signature";
        if (o->fmt->check_content(o->state, &sigs[i], &content, diag) != 0)
            goto done;
        if (!content.digest_ok) {
            drv_error(diag, path, "%s in %s is not for this file (%s); nothing was attached", which,
                      sig_path, content.problem);
            goto done;
        }
        /* the signature value itself; the chain is for drvsign verify, with the user's roots */
        drv_ac_check(&sigs[i], no_roots, 0, &check);
        if (!check.signature_ok) {
            drv_error(diag, path, "%s in %s is damaged (%s); nothing was attached", which, sig_path,
                      check.problem);
            goto done;
        }
    }
    rc = 0;
done:
    drv_ac_free_all(sigs, count);
    X509_STORE_free(no_roots);
    return rc;
}

/* Stamp the primary signature in *der when params ask for a timestamp. */
static int attach_timestamp(const drvsign_params *p, unsigned char **der, size_t *len,
                            const char *path, drvsign_diag *diag)
{
    drv_ts_opts o;
    PKCS7 *p7;
    unsigned char *stamped = NULL;
    size_t stamped_len;
    int rc = -1, stamp = drv_ts_opts_from(p, &o, diag);

    if (stamp <= 0)
        return stamp;
    p7 = drv_ac_from_der(*der, *len);
    if (p7 == NULL)
        goto done;
    if (drv_ac_timestamp(p7, &o, 0, path, diag) != 0 ||
        drv_ac_to_der(p7, &stamped, &stamped_len) != 0)
        goto done;
    free(*der);
    *der = malloc(stamped_len);
    if (*der == NULL)
        goto done;
    memcpy(*der, stamped, stamped_len);
    *len = stamped_len;
    rc = 0;
done:
    OPENSSL_free(stamped);
    PKCS7_free(p7);
    return rc;
}

drvsign_status drvsign_attach(const drvsign_params *params, const char *path, drvsign_diag *diag)
{
    opened o;
    unsigned char *der = NULL;
    size_t len = 0;
    drv_atomic out = {0};
    int rc = -1;

    out.fd = -1;
    if (drvsign_check_params(DRVSIGN_OP_ATTACH, params, path != NULL, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    if (drv_read_small_file(params->signature, MAX_SIGNATURE_FILE, &der, &len, diag) != 0)
        return DRVSIGN_FAILED;
    len = der_length(der, len);
    if (open_file(&o, path, diag) != 0) {
        free(der);
        return DRVSIGN_FAILED;
    }
    if (signs_this_file(&o, der, len, params->signature, path, diag) != 0 ||
        attach_timestamp(params, &der, &len, path, diag) != 0)
        goto done;
    if (drv_atomic_open(&out, params->out ? params->out : path, path, diag) != 0 ||
        o.fmt->attach(o.state, der, len, &out, diag) != 0 || drv_atomic_commit(&out, diag) != 0)
        goto done;
    rc = 0;
done:
    drv_atomic_abort(&out);
    free(der);
    close_file(&o);
    return rc == 0 ? DRVSIGN_OK : DRVSIGN_FAILED;
}
