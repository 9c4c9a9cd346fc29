/*
 * drvsign_verify: for each file, every signature (nested ones included) is checked four ways:
 * the file digest (and page hashes), the PKCS#7 signature, the chain, and the file's own
 * integrity checks (the PE CheckSum). Problems go to the diagnostics, one line each; the
 * report (human or JSON) goes to the report stream.
 */
#include <stdlib.h>
#include <string.h>

#include "authenticode.h"
#include "formats.h"

#define MAX_SIGS_REPORTED 16

typedef struct sig_result {
    drv_content_check content;
    drv_sig_check sig;
    int nested;
} sig_result;

typedef struct file_result {
    const char *path;
    const char *format;
    int ok;
    drv_file_check file_check;
    sig_result sigs[MAX_SIGS_REPORTED];
    size_t sig_count;
    const char *problem; /* a file-level failure (unsigned, unreadable) */
} file_result;

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s != NULL && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static const char *page_hash_word(int state)
{
    return state == 0 ? "none" : state > 0 ? "verified" : "mismatch";
}

static void report_json(FILE *out, const file_result *r, int first)
{
    fprintf(out, "%s\n    {\"file\": ", first ? "" : ",");
    json_string(out, r->path);
    fprintf(out, ", \"format\": ");
    json_string(out, r->format ? r->format : "unknown");
    fprintf(out, ", \"verified\": %s", r->ok ? "true" : "false");
    if (r->problem != NULL) {
        fprintf(out, ", \"problem\": ");
        json_string(out, r->problem);
    }
    if (r->file_check.name != NULL)
        fprintf(out, ", \"%s\": {\"stored\": \"0x%08X\", \"computed\": \"0x%08X\", \"ok\": %s}",
                r->file_check.name, r->file_check.stored, r->file_check.computed,
                r->file_check.ok ? "true" : "false");
    fprintf(out, ", \"signatures\": [");
    for (size_t i = 0; i < r->sig_count; i++) {
        const sig_result *s = &r->sigs[i];
        const char *problem = s->content.problem[0] ? s->content.problem : s->sig.problem;
        fprintf(out, "%s\n      {\"index\": %zu, \"nested\": %s, \"digest\": ", i ? "," : "",
                i + 1, s->nested ? "true" : "false");
        json_string(out, s->sig.digest_name);
        fprintf(out, ", \"signer\": ");
        json_string(out, s->sig.signer);
        fprintf(out, ", \"issuer\": ");
        json_string(out, s->sig.issuer);
        fprintf(out,
                ", \"file_digest_ok\": %s, \"page_hashes\": \"%s\", \"signature_ok\": %s, "
                "\"chain_ok\": %s",
                s->content.digest_ok ? "true" : "false", page_hash_word(s->content.page_hashes),
                s->sig.signature_ok ? "true" : "false", s->sig.chain_ok ? "true" : "false");
        if (problem[0]) {
            fprintf(out, ", \"problem\": ");
            json_string(out, problem);
        }
        fputc('}', out);
    }
    fprintf(out, "%s]}", r->sig_count ? "\n    " : "");
}

static void report_text(FILE *out, const file_result *r)
{
    fprintf(out, "%s: %s", r->path, r->ok ? "verified" : "FAILED");
    if (r->format != NULL)
        fprintf(out, " (%s, %zu signature%s", r->format, r->sig_count,
                r->sig_count == 1 ? "" : "s");
    if (r->file_check.name != NULL)
        fprintf(out, ", %s 0x%08X%s", r->file_check.name, r->file_check.stored,
                r->file_check.ok ? "" : " WRONG");
    fprintf(out, "%s\n", r->format != NULL ? ")" : "");
    for (size_t i = 0; i < r->sig_count; i++) {
        const sig_result *s = &r->sigs[i];
        int good = s->content.digest_ok && s->content.page_hashes >= 0 && s->sig.signature_ok &&
                   s->sig.chain_ok;
        fprintf(out, "  signature %zu%s: %s, %s, signer \"%s\", issuer \"%s\"%s%s\n", i + 1,
                s->nested ? " (nested)" : "", good ? "valid" : "INVALID", s->sig.digest_name,
                s->sig.signer, s->sig.issuer,
                s->content.page_hashes ? ", page hashes " : "",
                s->content.page_hashes ? page_hash_word(s->content.page_hashes) : "");
    }
}

static void verify_one(const drvsign_params *params, X509_STORE *store, const char *path,
                       file_result *r, drvsign_diag *diag)
{
    drv_file file;
    const drv_format *fmt = NULL;
    void *state = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0;
    drv_sig *sigs = NULL;
    size_t count = 0;
    const EVP_MD *mds[MAX_SIGS_REPORTED];

    memset(r, 0, sizeof *r);
    r->path = path;
    if (drv_file_open(&file, path, diag) != 0) {
        r->problem = "cannot open the file";
        return;
    }
    fmt = drv_format_for(&file, diag);
    if (fmt == NULL || fmt->open(&file, &state, diag) != 0) {
        r->problem = "not a file drvsign can verify";
        goto done;
    }
    r->format = fmt->name;
    if (fmt->signature(state, &der, &der_len, diag) != 0) {
        r->problem = "the signature cannot be read";
        goto done;
    }
    if (der == NULL) {
        r->problem = "the file is not signed";
        drv_error(diag, path, "the file is not signed");
        goto done;
    }
    if (drv_ac_parse_all(der, der_len, &sigs, &count, path, diag) != 0) {
        r->problem = "the signature is malformed";
        goto done;
    }
    if (count > MAX_SIGS_REPORTED)
        count = MAX_SIGS_REPORTED;
    for (size_t i = 0; i < count; i++)
        mds[i] = sigs[i].indirect.md != NULL ? sigs[i].indirect.md : EVP_sha256();
    /* one pass over the file for every digest the signatures need */
    if (fmt->prepare != NULL && fmt->prepare(state, mds, count, diag) != 0) {
        r->problem = "the file cannot be read";
        goto done;
    }
    r->ok = 1;
    for (size_t i = 0; i < count; i++) {
        sig_result *s = &r->sigs[i];
        s->nested = sigs[i].nested;
        if (fmt->check_content(state, &sigs[i], &s->content, diag) != 0) {
            r->ok = 0;
            r->problem = "the file cannot be read";
            goto done;
        }
        drv_ac_check(&sigs[i], store, params->verify_time, &s->sig);
        r->sig_count = i + 1;
        if (s->content.problem[0])
            drv_error(diag, path, "signature %zu: %s", i + 1, s->content.problem);
        if (s->sig.problem[0])
            drv_error(diag, path, "signature %zu: %s", i + 1, s->sig.problem);
        if (!s->content.digest_ok || s->content.page_hashes < 0 || !s->sig.signature_ok ||
            !s->sig.chain_ok)
            r->ok = 0;
    }
    if (fmt->check_file != NULL) {
        if (fmt->check_file(state, &r->file_check, diag) != 0)
            r->ok = 0;
        else if (!r->file_check.ok) {
            drv_error(diag, path, "the header %s is 0x%08X, but the file's is 0x%08X",
                      r->file_check.name, r->file_check.stored, r->file_check.computed);
            r->ok = 0;
        }
    }
done:
    drv_ac_free_all(sigs, count);
    free(der);
    if (state != NULL)
        fmt->close(state);
    drv_file_close(&file);
}

drvsign_status drvsign_verify(const drvsign_params *params, const char *const *files, size_t count,
                              FILE *report, drvsign_diag *diag)
{
    X509_STORE *store;
    int failed = 0;
    file_result *r;

    if (count == 0) {
        drv_error(diag, NULL, "no file to verify");
        return DRVSIGN_USAGE;
    }
    store = drv_ac_trust_store(params->ca_file, diag);
    r = malloc(sizeof *r);
    if (store == NULL || r == NULL) {
        X509_STORE_free(store);
        free(r);
        return DRVSIGN_FAILED;
    }
    if (params->json)
        fprintf(report, "{\"files\": [");
    for (size_t i = 0; i < count; i++) {
        verify_one(params, store, files[i], r, diag);
        if (!r->ok)
            failed = 1;
        if (params->json)
            report_json(report, r, i == 0);
        else
            report_text(report, r);
    }
    if (params->json)
        fprintf(report, "\n  ], \"verified\": %s}\n", failed ? "false" : "true");
    fflush(report);
    free(r);
    X509_STORE_free(store);
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}
