/*
 * drvsign_sign: for each file, ask its format for the content to sign, sign it, and have the
 * format attach the signature into a temp file that replaces the target only when complete.
 * Detached signing splits the run in two: --prepare stops after the digest to sign (a request
 * file beside it), --complete takes the raw signature and finishes from the request.
 */
#include <stdlib.h>
#include <string.h>

#include "authenticode.h"
#include "formats.h"
#include "keys.h"
#include "sign_request.h"

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

/* What one run signs with: a key (signer), or, for --prepare, only the certificates; for
 * --complete, the requests and raw signatures named in params. */
typedef struct sign_run {
    const drvsign_params *params;
    const drv_signer *signer;
    const drv_sign_opts *opts;
    const drv_ts_opts *ts;
} sign_run;

/* --prepare: write the request and the digest; the file itself is not touched. */
static int prepare_request(const sign_run *run, const drv_format *fmt, const drv_file *file,
                           const drv_content *content, const char *path, drvsign_diag *diag)
{
    drv_request r;
    drv_sign_opts opts = *run->opts;
    unsigned to_sign_len;
    int rc = -1;

    memset(&r, 0, sizeof r);
    opts.where = path;
    if (snprintf(r.file, sizeof r.file, "%s", drv_base_name(path)) >= (int)sizeof r.file) {
        drv_error(diag, path, "the file name is too long for a request");
        return -1;
    }
    snprintf(r.format, sizeof r.format, "%s", fmt->name);
    snprintf(r.content_type, sizeof r.content_type, "%s", content->oid);
    r.file_size = file->size;
    r.md = opts.md;
    r.page_hashes = run->params->page_hashes;
    r.append = run->params->append;
    r.cert = run->signer->cert;
    r.extra = run->signer->extra;
    if (drv_file_sha256(file, r.file_sha256, diag) != 0 ||
        drv_ac_signed_attrs(r.cert, &opts, content->oid, content->der, content->len, &r.attrs,
                            &r.attrs_len, r.to_sign, &to_sign_len, diag) != 0)
        goto done;
    r.to_sign_len = to_sign_len;
    rc = drv_request_write(run->params->prepare_dir, &r, diag);
done:
    OPENSSL_free(r.attrs);
    return rc;
}

/* --complete: the request must still describe this file, byte for byte. */
static int load_request(const sign_run *run, const drv_file *file, const char *path,
                        drv_request *r, drvsign_diag *diag)
{
    unsigned char now[32];
    const char *name = drv_base_name(path);
    if (drv_request_read(run->params->requests_dir, name, r, diag) != 0)
        return -1;
    if (drv_file_sha256(file, now, diag) != 0)
        goto fail;
    if (r->file_size != file->size || memcmp(now, r->file_sha256, 32) != 0) {
        drv_error(diag, path, "the file changed since it was prepared (its SHA-256 is not the one in "
                              "the request); prepare and sign it again");
        goto fail;
    }
    return 0;
fail:
    drv_request_free(r);
    return -1;
}

/* --complete: SignedData from the request and SIGDIR/<name>.sig. */
static int complete_signature(const sign_run *run, const drv_request *r,
                              const drv_content *content, const char *path, PKCS7 **p7,
                              drvsign_diag *diag)
{
    size_t n = strlen(r->file) + 5;
    char *leaf = malloc(n), *sig_path = NULL;
    unsigned char *raw = NULL, *sig = NULL, check[EVP_MAX_MD_SIZE];
    size_t raw_len = 0, sig_len;
    unsigned check_len;
    int rc = -1;

    if (leaf == NULL)
        return -1;
    snprintf(leaf, n, "%s.sig", r->file);
    sig_path = drv_path_join(run->params->signatures_dir, leaf);
    if (sig_path == NULL)
        goto done;
    if (!drv_file_exists(sig_path)) {
        drv_error(diag, sig_path, "no signature for %s: sign %s.digest and put the raw signature "
                                  "here",
                  r->file, r->file);
        goto done;
    }
    /* the request must be self-consistent: to_sign is the digest of the attributes */
    if (!EVP_Digest(r->attrs, r->attrs_len, check, &check_len, r->md, NULL) ||
        check_len != r->to_sign_len || memcmp(check, r->to_sign, check_len) != 0) {
        drv_error(diag, path, "the request's to_sign is not the digest of its signed attributes");
        goto done;
    }
    if (drv_read_small_file(sig_path, 16384, &raw, &raw_len, diag) != 0)
        goto done;
    sig = OPENSSL_memdup(raw, raw_len ? raw_len : 1);
    sig_len = raw_len;
    if (sig == NULL ||
        drv_signature_accept(r->cert, r->md, r->to_sign, r->to_sign_len, &sig, &sig_len, sig_path,
                             path, diag) != 0)
        goto done;
    rc = drv_ac_assemble(r->cert, r->extra, r->md, content->oid, content->der, content->len,
                         r->attrs, r->attrs_len, sig, sig_len, path, p7, diag);
done:
    OPENSSL_free(sig);
    free(raw);
    free(sig_path);
    free(leaf);
    return rc;
}

static int sign_one(const sign_run *run, const char *path, const char *out_path,
                    drvsign_diag *diag)
{
    const drvsign_params *params = run->params;
    drv_file file;
    const drv_format *fmt = NULL;
    void *state = NULL;
    drv_content content;
    drv_content_opts copts = {run->opts->md, params->page_hashes};
    drv_sign_opts file_opts = *run->opts;
    drv_request request;
    int complete = params->requests_dir != NULL, append = params->append;
    PKCS7 *p7 = NULL, *primary = NULL;
    unsigned char *der = NULL;
    size_t der_len;
    drv_atomic out = {0};
    int rc = -1;

    memset(&content, 0, sizeof content);
    memset(&request, 0, sizeof request);
    out.fd = -1;
    /* locked until the new file is in place: a concurrent --append waits, then nests on ours */
    if (drv_file_open_locked(&file, path, diag) != 0)
        return -1;
    if (complete) {
        if (load_request(run, &file, path, &request, diag) != 0)
            goto done;
        /* finish the signature that was prepared, whatever this run's options say */
        copts.md = request.md;
        copts.page_hashes = request.page_hashes;
        append = request.append;
    }
    fmt = drv_format_for(&file, diag);
    if (fmt == NULL || fmt->open(&file, &state, diag) != 0)
        goto done;
    if (append && !fmt->nests) {
        drv_error(diag, path, "a %s file cannot carry nested signatures; sign without %s",
                  fmt->name, drv_param(diag, DRVSIGN_PARAM_APPEND));
        goto done;
    }
    if (append && load_primary_for_append(fmt, state, path, &primary, diag) != 0)
        goto done;
    if (params->prepare_dir != NULL) {
        rc = fmt->content(state, &copts, &content, diag) == 0
                 ? prepare_request(run, fmt, &file, &content, path, diag)
                 : -1;
        goto done;
    }
    if (drv_atomic_open(&out, out_path, path, diag) != 0)
        goto done;
    if (fmt->stage != NULL && fmt->stage(state, &out, diag) != 0)
        goto done;
    if (fmt->content(state, &copts, &content, diag) != 0)
        goto done;
    file_opts.where = path;
    if (complete ? complete_signature(run, &request, &content, path, &p7, diag) != 0
                 : drv_ac_sign(run->signer, &file_opts, content.oid, content.der, content.len,
                               &p7, diag) != 0)
        goto done;
    if (run->ts != NULL && drv_ac_timestamp(p7, run->ts, 0, path, diag) != 0)
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
    drv_request_free(&request);
    drv_file_close(&file);
    return rc;
}

/* Two files of one name would share DIR/<name>.request. */
static int names_unique(const char *const *files, size_t count, drvsign_diag *diag)
{
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(drv_base_name(files[i]), drv_base_name(files[j])) == 0) {
                drv_error(diag, files[i], "another file of this name (%s) is in the same run; "
                                          "requests are named after the file: prepare them "
                                          "in separate directories",
                          files[j]);
                return -1;
            }
    return 0;
}

drvsign_status drvsign_sign(const drvsign_params *params, const char *const *files, size_t count,
                            drvsign_diag *diag)
{
    drv_signer signer;
    drv_sign_opts opts = {0};
    drv_ts_opts ts;
    sign_run run = {params, &signer, &opts, NULL};
    int failed = 0, stamp, detached = params->prepare_dir || params->requests_dir;

    if (drvsign_check_params(DRVSIGN_OP_SIGN, params, count, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    opts.md = drv_digest_by_name(params->digest, diag);
    stamp = drv_ts_opts_from(params, &ts, diag);
    if (opts.md == NULL || stamp < 0)
        return DRVSIGN_USAGE;
    /* OpenSSL opens the HTTPS trust file itself, and would block on a FIFO */
    if (stamp && ts.ca_file != NULL && drv_check_regular(ts.ca_file, diag) != 0)
        return DRVSIGN_FAILED;
    if (detached && names_unique(files, count, diag) != 0)
        return DRVSIGN_USAGE;
    run.ts = stamp ? &ts : NULL;
    opts.description = params->description;
    opts.url = params->url;
    opts.signing_time = params->signing_time;
    memset(&signer, 0, sizeof signer);
    if (params->prepare_dir != NULL) {
        if (!drv_is_dir(params->prepare_dir) && drv_mkdir(params->prepare_dir, diag) != 0)
            return DRVSIGN_FAILED;
        if (drv_signer_load_certs(&signer, params, diag) != 0)
            return DRVSIGN_FAILED;
    } else if (params->requests_dir == NULL && drv_signer_load(&signer, params, diag) != 0)
        return DRVSIGN_FAILED;
    for (size_t i = 0; i < count; i++) {
        const char *target = params->out ? params->out : files[i];
        if (sign_one(&run, files[i], target, diag) != 0)
            failed = 1;
        else if (params->report != NULL && !params->quiet)
            fprintf(params->report, "%s: %s (%s%s%s)\n", target,
                    params->prepare_dir ? "signing request written" : "signed",
                    EVP_MD_get0_name(opts.md), params->append ? ", nested" : "",
                    stamp ? ", timestamped" : "");
    }
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
        drv_error(diag, path, "the file is not signed; sign it (with %s) instead",
                  drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_URLS));
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
    int failed = 0;

    if (drvsign_check_params(DRVSIGN_OP_TIMESTAMP, params, count, diag) != DRVSIGN_OK ||
        drv_ts_opts_from(params, &ts, diag) <= 0)
        return DRVSIGN_USAGE;
    if (ts.ca_file != NULL && drv_check_regular(ts.ca_file, diag) != 0)
        return DRVSIGN_FAILED;
    for (size_t i = 0; i < count; i++) {
        const char *target = params->out ? params->out : files[i];
        if (timestamp_one(&ts, files[i], target, diag) != 0)
            failed = 1;
        else if (params->report != NULL && !params->quiet)
            fprintf(params->report, "%s: timestamped (%s)\n", target,
                    ts.url_count > 0 ? "RFC 3161" : "legacy");
    }
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}
