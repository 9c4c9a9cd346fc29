/*
 * drvsign_inspect: what a file holds. For catalogs: version, time, list identifier,
 * attributes and every member (tag, file name, SIP, digest algorithm); for every signed file:
 * its signatures, nested ones included, with signer, issuer and digest.
 */
#include <stdlib.h>
#include <string.h>

#include "authenticode.h"
#include "formats.h"
#include "json.h"
#include "sig_report.h"

static int inspect_one(const char *path, FILE *out, int json, int first, drvsign_diag *diag)
{
    drv_file file;
    const drv_format *fmt;
    void *state = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0, count = 0;
    drv_sig *sigs = NULL;
    X509_STORE *none = X509_STORE_new();
    int rc = -1;

    if (none == NULL || drv_file_open(&file, path, diag) != 0) {
        X509_STORE_free(none);
        return -1;
    }
    fmt = drv_format_for(&file, diag);
    if (fmt == NULL || fmt->open(&file, &state, diag) != 0)
        goto done;
    if (json) {
        fprintf(out, "%s\n  {\"file\": ", first ? "" : ",");
        drv_json_string(out, path);
        fprintf(out, ", \"format\": \"%s\"", fmt->name);
    } else
        fprintf(out, "%s: %s\n", path, fmt->name);
    if (fmt->describe != NULL && fmt->describe(state, &file, out, json, diag) != 0)
        goto done;
    if (fmt->signature(state, &der, &der_len, diag) != 0)
        goto done;
    if (der != NULL && drv_ac_parse_all(der, der_len, &sigs, &count, path, diag) != 0)
        goto done;
    if (json)
        fprintf(out, ", \"signatures\": [");
    else if (count == 0)
        fprintf(out, "  not signed\n");
    for (size_t i = 0; i < count; i++) {
        drv_sig_check check;
        /* inspect reports what is there; verify judges it */
        drv_ac_check(&sigs[i], none, 0, &check);
        if (json) {
            fprintf(out, "%s{\"index\": %zu, \"nested\": %s, ", i ? ", " : "", i + 1,
                    sigs[i].nested ? "true" : "false");
            drv_report_json_signer(out, &check);
            fprintf(out, ", \"content_type\": \"%s\"", sigs[i].content_type);
            if (check.ts_kind != NULL) {
                fprintf(out, ", ");
                drv_report_json_ts_open(out, &check);
                fputc('}', out);
            }
            fputc('}', out);
        } else {
            drv_report_sig_line(out, i + 1, sigs[i].nested, NULL, &check, NULL);
            drv_report_ts_line(out, &check, NULL);
        }
    }
    if (json)
        fprintf(out, "]}");
    rc = 0;
done:
    drv_ac_free_all(sigs, count);
    free(der);
    if (state != NULL)
        fmt->close(state);
    drv_file_close(&file);
    X509_STORE_free(none);
    return rc;
}

drvsign_status drvsign_inspect(const drvsign_params *params, const char *const *files,
                               size_t count, FILE *report, drvsign_diag *diag)
{
    int failed = 0;
    if (drvsign_check_params(DRVSIGN_OP_INSPECT, params, count, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    if (params->json)
        fprintf(report, "{\"files\": [");
    for (size_t i = 0; i < count; i++)
        if (inspect_one(files[i], report, params->json, i == 0, diag) != 0)
            failed = 1;
    if (params->json)
        fprintf(report, "\n]}\n");
    fflush(report);
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}
