/*
 * drvsign_inspect: what a file holds. For catalogs: version, time, list identifier,
 * attributes and every member (tag, file name, SIP, digest algorithm); for every signed file:
 * its signatures, nested ones included, with signer, issuer and digest.
 */
#include <stdlib.h>
#include <string.h>

#include "authenticode.h"
#include "cab.h"
#include "formats.h"
#include "json.h"

static void hexout(FILE *out, const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02X", d[i]);
}

/* v1 tags are UTF-16LE hex text; show them as the text they are. */
static void tag_out(FILE *out, const drv_ctl_member *m)
{
    int text = m->tag_len > 2 && m->tag_len % 2 == 0;
    for (size_t i = 0; text && i + 1 < m->tag_len; i += 2)
        text = m->tag[i + 1] == 0 && (m->tag[i] != 0 || i + 2 == m->tag_len);
    if (text)
        for (size_t i = 0; i + 2 < m->tag_len; i += 2)
            fputc(m->tag[i], out);
    else
        hexout(out, m->tag, m->tag_len);
}

static void show_catalog(const drv_ctl *ctl, FILE *out, int json)
{
    if (json) {
        fprintf(out, ", \"catalog\": {\"version\": %d, \"this_update\": ", ctl->version);
        drv_json_string(out, ctl->this_update);
        fprintf(out, ", \"list_identifier\": \"");
        hexout(out, ctl->list_id, ctl->list_id_len);
        fprintf(out, "\", \"attributes\": {");
        for (size_t i = 0; i < ctl->attr_count; i++) {
            fprintf(out, "%s", i ? ", " : "");
            drv_json_string(out, ctl->attrs[i].name);
            fprintf(out, ": ");
            drv_json_string(out, ctl->attrs[i].value);
        }
        fprintf(out, "}, \"members\": [");
        for (size_t i = 0; i < ctl->count; i++) {
            const drv_ctl_member *m = &ctl->members[i];
            fprintf(out, "%s\n      {\"tag\": \"", i ? "," : "");
            tag_out(out, m);
            fprintf(out, "\", \"file\": ");
            drv_json_string(out, m->file);
            fprintf(out, ", \"sip\": \"%s\", \"sip_guid\": ", drv_sip_name(m->sip));
            drv_json_string(out, m->sip_guid);
            fprintf(out, ", \"digest\": ");
            drv_json_string(out, m->md ? EVP_MD_get0_name(m->md) : NULL);
            if (m->os_attr) {
                fprintf(out, ", \"os_attr\": ");
                drv_json_string(out, m->os_attr);
            }
            fputc('}', out);
        }
        fprintf(out, "]}");
        return;
    }
    fprintf(out, "  catalog version %d, this update %s, list identifier ", ctl->version,
            ctl->this_update);
    hexout(out, ctl->list_id, ctl->list_id_len);
    fputc('\n', out);
    for (size_t i = 0; i < ctl->attr_count; i++)
        fprintf(out, "  attribute %s = %s\n", ctl->attrs[i].name, ctl->attrs[i].value);
    fprintf(out, "  %zu members:\n", ctl->count);
    for (size_t i = 0; i < ctl->count; i++) {
        const drv_ctl_member *m = &ctl->members[i];
        fprintf(out, "    ");
        tag_out(out, m);
        fprintf(out, "  %-4s %-6s %s%s%s\n", drv_sip_name(m->sip),
                m->md ? EVP_MD_get0_name(m->md) : "-", m->file ? m->file : "(no File)",
                m->os_attr ? "  OSAttr " : "", m->os_attr ? m->os_attr : "");
    }
}

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
    if (strcmp(fmt->name, "cat") == 0) {
        drv_ctl ctl;
        if (drv_catalog_load(path, &ctl, diag) != 0)
            goto done;
        show_catalog(&ctl, out, json);
        drv_ctl_free(&ctl);
    }
    if (strcmp(fmt->name, "cab") == 0) {
        drv_cab cab;
        drv_cab_member *m = NULL;
        size_t n = 0;
        if (drv_cab_open(&cab, &file, diag) != 0)
            goto done;
        if (drv_cab_members(&cab, &m, &n, diag) != 0) {
            drv_cab_close(&cab);
            goto done;
        }
        if (json)
            fprintf(out, ", \"cabinet\": {\"folders\": %u, \"files\": [", cab.folder_count);
        else
            fprintf(out, "  %u folder%s, %zu files:\n", cab.folder_count,
                    cab.folder_count == 1 ? "" : "s", n);
        for (size_t i = 0; i < n; i++) {
            unsigned y = 1980 + (m[i].date >> 9), mo = m[i].date >> 5 & 15, d = m[i].date & 31;
            unsigned h = m[i].time >> 11, mi = m[i].time >> 5 & 63, se = (m[i].time & 31) * 2;
            if (json) {
                fprintf(out, "%s{\"name\": ", i ? ", " : "");
                drv_json_string(out, m[i].name);
                fprintf(out, ", \"size\": %u, \"date\": \"%04u-%02u-%02uT%02u:%02u:%02u\"}",
                        m[i].size, y, mo, d, h, mi, se);
            } else
                fprintf(out, "    %10u  %04u-%02u-%02u %02u:%02u:%02u  %s\n", m[i].size, y, mo, d,
                        h, mi, se, m[i].name);
        }
        if (json)
            fprintf(out, "]}");
        drv_cab_free_members(m, n);
        drv_cab_close(&cab);
    }
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
            fprintf(out, "%s{\"index\": %zu, \"nested\": %s, \"digest\": ", i ? ", " : "", i + 1,
                    sigs[i].nested ? "true" : "false");
            drv_json_string(out, check.digest_name);
            fprintf(out, ", \"signer\": ");
            drv_json_string(out, check.signer);
            fprintf(out, ", \"issuer\": ");
            drv_json_string(out, check.issuer);
            fprintf(out, ", \"content_type\": \"%s\"", sigs[i].content_type);
            if (check.ts_kind != NULL) {
                fprintf(out, ", \"timestamp\": {\"kind\": \"%s\", \"time\": ", check.ts_kind);
                drv_json_string(out, check.ts_time);
                fprintf(out, ", \"tsa\": ");
                drv_json_string(out, check.tsa);
                fputc('}', out);
            }
            fputc('}', out);
        } else
        {
            fprintf(out, "  signature %zu%s: %s, signer \"%s\", issuer \"%s\"\n", i + 1,
                    sigs[i].nested ? " (nested)" : "", check.digest_name, check.signer,
                    check.issuer);
            if (check.ts_kind != NULL)
                fprintf(out, "    timestamp %s (%s) by \"%s\"\n", check.ts_time, check.ts_kind,
                        check.tsa);
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
    if (count == 0) {
        drv_error(diag, NULL, "no file to inspect");
        return DRVSIGN_USAGE;
    }
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
