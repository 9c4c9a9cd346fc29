/*
 * drvsign_sign: for each file, ask its format for the content to sign, sign it, and have the
 * format attach the signature into a temp file that replaces the target only when complete.
 */
#include <stdlib.h>
#include <string.h>

#include "authenticode.h"
#include "formats.h"
#include "keys.h"

/* With --append, the existing primary signature must still match, or we would nest a good
 * signature inside a broken one. */
static int load_primary_for_append(const drv_format *fmt, void *state, const char *path,
                                   PKCS7 **primary, drvsign_diag *diag)
{
    unsigned char *der = NULL;
    size_t len = 0;
    drv_sig *sigs = NULL;
    size_t count = 0;
    drv_content_check check;
    int rc = -1;

    *primary = NULL;
    if (fmt->signature(state, &der, &len, diag) != 0)
        return -1;
    if (der == NULL)
        return 0; /* nothing to append to: this becomes the primary signature */
    if (drv_ac_parse_all(der, len, &sigs, &count, path, diag) != 0)
        goto done;
    if (fmt->check_content(state, &sigs[0], &check, diag) != 0)
        goto done;
    if (!check.digest_ok) {
        drv_error(diag, path, "cannot append: the existing signature is invalid (%s)",
                  check.problem);
        goto done;
    }
    *primary = drv_ac_from_der(der, len);
    rc = *primary != NULL ? 0 : -1;
done:
    drv_ac_free_all(sigs, count);
    free(der);
    return rc;
}

/* The timestamp settings; 0 when none were asked for, -1 after a usage error. */
static int ts_opts_from(const drvsign_params *p, drv_ts_opts *o, drvsign_diag *diag)
{
    memset(o, 0, sizeof *o);
    if (p->timestamp_url_count == 0 && p->timestamp_legacy_count == 0)
        return 0;
    if (p->timestamp_url_count > 0 && p->timestamp_legacy_count > 0) {
        drv_error(diag, NULL, "--timestamp (RFC 3161) and --timestamp-legacy exclude each other, "
                              "as signtool's /tr and /t do");
        return -1;
    }
    o->urls = p->timestamp_urls;
    o->url_count = p->timestamp_url_count;
    o->legacy_urls = p->timestamp_legacy_urls;
    o->legacy_count = p->timestamp_legacy_count;
    o->md = drv_digest_by_name(p->timestamp_digest, diag);
    o->retries = p->timestamp_retries > 0 ? p->timestamp_retries : 3;
    o->wait = p->timestamp_wait >= 0 ? p->timestamp_wait : 10;
    o->timeout = p->timestamp_timeout > 0 ? p->timestamp_timeout : 30;
    o->ca_file = p->timestamp_ca_file;
    return o->md != NULL ? 1 : -1;
}

/* OpenSSL opens the HTTPS trust file itself, and would block on a FIFO: check it first. */
static int ts_ca_file_ok(const drv_ts_opts *o, drvsign_diag *diag)
{
    return o->ca_file == NULL || drv_check_regular(o->ca_file, diag) == 0;
}

static int sign_one(const drvsign_params *params, const drv_signer *signer,
                    const drv_sign_opts *opts, const drv_ts_opts *ts, const char *path,
                    const char *out_path, drvsign_diag *diag)
{
    drv_file file;
    const drv_format *fmt;
    void *state = NULL;
    drv_content content;
    drv_content_opts copts = {opts->md, params->page_hashes};
    PKCS7 *p7 = NULL, *primary = NULL;
    unsigned char *der = NULL;
    size_t der_len;
    drv_atomic out = {0};
    int rc = -1;

    memset(&content, 0, sizeof content);
    out.fd = -1;
    /* locked until the new file is in place: a concurrent --append waits, then nests on ours */
    if (drv_file_open_locked(&file, path, diag) != 0)
        return -1;
    fmt = drv_format_for(&file, diag);
    if (fmt == NULL || fmt->open(&file, &state, diag) != 0)
        goto done;
    if (params->append && !fmt->nests) {
        drv_error(diag, path, "a %s file cannot carry nested signatures; sign without --append",
                  fmt->name);
        goto done;
    }
    if (params->append && load_primary_for_append(fmt, state, path, &primary, diag) != 0)
        goto done;
    if (drv_atomic_open(&out, out_path, path, diag) != 0)
        goto done;
    if (fmt->stage != NULL && fmt->stage(state, &out, diag) != 0)
        goto done;
    if (fmt->content(state, &copts, &content, diag) != 0)
        goto done;
    if (drv_ac_sign(signer, opts, content.oid, content.der, content.len, &p7, diag) != 0)
        goto done;
    if (ts != NULL && drv_ac_timestamp(p7, ts, 0, path, diag) != 0)
        goto done;
    if (primary != NULL) {
        if (drv_ac_add_nested(primary, p7, diag) != 0)
            goto done;
        PKCS7_free(p7);
        p7 = primary;
        primary = NULL;
    }
    if (drv_ac_to_der(p7, &der, &der_len) != 0) {
        drv_ssl_error(diag, path, "cannot encode the signature");
        goto done;
    }
    if (fmt->attach(state, der, der_len, &out, diag) != 0 || drv_atomic_commit(&out, diag) != 0)
        goto done;
    rc = 0;
done:
    if (state != NULL)
        fmt->close(state); /* stops any staging before its output goes away */
    drv_atomic_abort(&out);
    OPENSSL_free(der);
    PKCS7_free(p7);
    PKCS7_free(primary);
    OPENSSL_free(content.der);
    drv_file_close(&file);
    return rc;
}

drvsign_status drvsign_sign(const drvsign_params *params, const char *const *files, size_t count,
                            drvsign_diag *diag)
{
    drv_signer signer;
    drv_sign_opts opts = {0};
    drv_ts_opts ts;
    int failed = 0, stamp;

    if (count == 0) {
        drv_error(diag, NULL, "no file to sign");
        return DRVSIGN_USAGE;
    }
    if (params->out != NULL && count != 1) {
        drv_error(diag, NULL, "--out takes exactly one input file");
        return DRVSIGN_USAGE;
    }
    opts.md = drv_digest_by_name(params->digest, diag);
    stamp = ts_opts_from(params, &ts, diag);
    if (opts.md == NULL || stamp < 0)
        return DRVSIGN_USAGE;
    if (stamp && !ts_ca_file_ok(&ts, diag))
        return DRVSIGN_FAILED;
    opts.description = params->description;
    opts.url = params->url;
    opts.signing_time = params->signing_time;
    if (drv_signer_load(&signer, params, diag) != 0)
        return DRVSIGN_FAILED;
    for (size_t i = 0; i < count; i++)
        if (sign_one(params, &signer, &opts, stamp ? &ts : NULL, files[i],
                     params->out ? params->out : files[i], diag) != 0)
            failed = 1;
    drv_signer_free(&signer);
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}

/* drvsign timestamp: the signature value is what gets timestamped, so the signed content and
 * the signature stay byte for byte; only the unsigned attributes change. */
static int timestamp_one(const drv_ts_opts *ts, const char *path, const char *out_path,
                         drvsign_diag *diag)
{
    drv_file file;
    const drv_format *fmt;
    void *state = NULL;
    unsigned char *der = NULL, *new_der = NULL;
    size_t der_len = 0, new_len;
    PKCS7 *p7 = NULL;
    drv_atomic out = {0};
    int rc = -1;

    out.fd = -1;
    if (drv_file_open_locked(&file, path, diag) != 0)
        return -1;
    fmt = drv_format_for(&file, diag);
    if (fmt == NULL || fmt->open(&file, &state, diag) != 0 ||
        fmt->signature(state, &der, &der_len, diag) != 0)
        goto done;
    if (der == NULL) {
        drv_error(diag, path, "the file is not signed; sign it (with --timestamp) instead");
        goto done;
    }
    p7 = drv_ac_from_der(der, der_len);
    if (p7 == NULL || !PKCS7_type_is_signed(p7) ||
        sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) != 1) {
        drv_ssl_error(diag, path, "the signature is not a valid Authenticode PKCS#7 SignedData");
        goto done;
    }
    if (drv_ac_timestamp(p7, ts, 1, path, diag) != 0)
        goto done;
    if (drv_ac_to_der(p7, &new_der, &new_len) != 0) {
        drv_ssl_error(diag, path, "cannot encode the signature");
        goto done;
    }
    if (drv_atomic_open(&out, out_path, path, diag) != 0 ||
        fmt->attach(state, new_der, new_len, &out, diag) != 0 ||
        drv_atomic_commit(&out, diag) != 0)
        goto done;
    rc = 0;
done:
    if (state != NULL)
        fmt->close(state);
    drv_atomic_abort(&out);
    OPENSSL_free(new_der);
    PKCS7_free(p7);
    free(der);
    drv_file_close(&file);
    return rc;
}

drvsign_status drvsign_timestamp(const drvsign_params *params, const char *const *files,
                                 size_t count, drvsign_diag *diag)
{
    drv_ts_opts ts;
    int stamp = ts_opts_from(params, &ts, diag), failed = 0;

    if (stamp < 0)
        return DRVSIGN_USAGE;
    if (stamp == 0) {
        drv_error(diag, NULL, "give the timestamp server: --timestamp URL or --timestamp-legacy URL");
        return DRVSIGN_USAGE;
    }
    if (count == 0 || (params->out != NULL && count != 1)) {
        drv_error(diag, NULL, count == 0 ? "no file to timestamp" : "--out takes exactly one input file");
        return DRVSIGN_USAGE;
    }
    if (!ts_ca_file_ok(&ts, diag))
        return DRVSIGN_FAILED;
    for (size_t i = 0; i < count; i++)
        if (timestamp_one(&ts, files[i], params->out ? params->out : files[i], diag) != 0)
            failed = 1;
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}
