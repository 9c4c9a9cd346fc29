/*
 * StampInf on the INF reader: the reader decodes the text and finds [Version] (where its
 * first block ends) and DriverVer; this file only replaces tokens and rewrites that one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_time.h"
#include "bytes.h"
#include "diag.h"
#include "inf.h"
#include "port.h"

#define MAX_INF_BYTES (64u << 20)

size_t drvsign_stampinf_name(const char *inf, char *buf, size_t size)
{
    const char *b = drv_base_name(inf);
    size_t n = strlen(b);
    int inx = n > 4 && drv_strcasecmp(b + n - 4, ".inx") == 0;
    if (size > 0)
        snprintf(buf, size, "%.*s%s", (int)(inx ? n - 4 : n), b, inx ? ".inf" : "");
    return n;
}

/* What StampInf is asked for, and the INF it stamps (messages name it). */
typedef struct stampinf_opts {
    const drvsign_params *params;
    const char *source;
} stampinf_opts;

static void driver_date(const stampinf_opts *o, char *out, size_t size, drvsign_diag *diag)
{
    time_t t;
    struct tm tm;
    if (o->params->driver_date != NULL) {
        snprintf(out, size, "%s", o->params->driver_date);
        return;
    }
    t = (time_t)drv_source_date_epoch(diag);
    if (t == 0)
        t = time(NULL);
    drv_broken_down_time((int64_t)t, 0, &tm);
    snprintf(out, size, "%02d/%02d/%04d", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900);
}

/* text with every $TOKEN$ replaced, into out; a token with no value is an error at its line. */
static int replace_tokens(const stampinf_opts *o, const char *text, drv_buf *out,
                          drvsign_diag *diag)
{
    static const char *const tokens[] = {"$ARCH$", "$KMDFVERSION$", "$UMDFVERSION$"};
    static const drvsign_param names[] = {DRVSIGN_PARAM_ARCH, DRVSIGN_PARAM_KMDF_VERSION,
                                          DRVSIGN_PARAM_UMDF_VERSION};
    const char *values[] = {o->params->arch, o->params->kmdf_version, o->params->umdf_version};
    unsigned lineno = 1;
    int rc = 0;

    for (const char *p = text; *p;) {
        size_t t, plain = strcspn(p, "$\n");
        drv_buf_put(out, p, plain);
        p += plain;
        if (*p == '\n') {
            drv_buf_put(out, "\n", 1);
            p++;
            lineno++;
            continue;
        }
        if (*p == 0)
            break;
        for (t = 0; t < 3 && strncmp(p, tokens[t], strlen(tokens[t])) != 0; t++)
            ;
        if (t == 3) {
            drv_buf_put(out, "$", 1);
            p++;
            continue;
        }
        if (values[t] == NULL) {
            drv_error_at(diag, o->source, lineno, "the INF uses %s, but no %s was given", tokens[t],
                         drv_param(diag, names[t]));
            rc = -1;
        } else
            drv_buf_put(out, values[t], strlen(values[t]));
        p += strlen(tokens[t]);
    }
    return rc;
}

/* Where DriverVer goes: replace line `replace`, or insert after line `after` (0: neither). */
typedef struct driver_ver {
    unsigned replace, after;
    char line[192];
} driver_ver;

static int plan_driver_ver(const stampinf_opts *o, const char *text, size_t len, driver_ver *dv,
                           drvsign_diag *diag)
{
    drvsign_diag silent; /* syntax problems are the catalog's to report */
    const drv_inf_section *version;
    const drv_inf_entry *e;
    char date[48];
    const char *ver = o->params->driver_version;
    int want = ver != NULL || o->params->driver_date != NULL, comma = ver != NULL;
    drv_inf inf;

    memset(dv, 0, sizeof *dv);
    drvsign_diag_silent(&silent);
    if (drv_inf_parse(&inf, o->source, (const unsigned char *)text, len, &silent) != 0) {
        drv_inf_free(&inf);
        drv_error(diag, o->source, "out of memory");
        return -1;
    }
    version = drv_inf_find_section(&inf, "Version");
    if (version == NULL) {
        drv_inf_free(&inf);
        return 0;
    }
    e = drv_inf_key(version, "DriverVer");
    if (e != NULL && e->line > version->end_line)
        e = NULL; /* in a later [Version] block: the first block gets its own */
    if (e != NULL && !want && e->value_count > 0 && *e->values[0] != 0) {
        /* a dated DriverVer, and nothing asked to restamp it: as written */
        drv_inf_free(&inf);
        return 0;
    }
    if (e != NULL && ver == NULL && e->value_count > 1) {
        ver = e->values[1]; /* keep a version the caller did not replace */
        comma = 1;
    }
    driver_date(o, date, sizeof date, diag);
    snprintf(dv->line, sizeof dv->line, "DriverVer = %s%s%.64s\r\n", date,
             comma && (ver[0] != 0 || o->params->driver_version == NULL) ? "," : "",
             ver ? ver : "");
    if (e != NULL)
        dv->replace = e->line;
    else
        dv->after = version->end_line;
    drv_inf_free(&inf);
    return 0;
}

/* The stamped text: line by line, DriverVer replaced or inserted. */
static void rewrite(const char *text, const driver_ver *dv, drv_buf *out, unsigned *inserted)
{
    unsigned lineno = 0;
    const char *p = text;
    *inserted = 0;
    while (*p) {
        size_t n = strcspn(p, "\n");
        lineno++;
        if (lineno == dv->replace)
            drv_buf_put(out, dv->line, strlen(dv->line));
        else
            drv_buf_put(out, p, n + (p[n] == '\n'));
        if (lineno == dv->after) {
            if (p[n] != '\n')
                drv_buf_put(out, "\r\n", 2);
            drv_buf_put(out, dv->line, strlen(dv->line));
            *inserted = lineno + 1;
        }
        p += n + (p[n] == '\n');
    }
    if (dv->after != 0 && *inserted == 0) {
        /* [Version] runs to the end, past the last line counted */
        if (out->len > 0 && out->p[out->len - 1] != '\n')
            drv_buf_put(out, "\r\n", 2);
        drv_buf_put(out, dv->line, strlen(dv->line));
        *inserted = lineno + 1;
    }
}

static int stamp(const stampinf_opts *o, const unsigned char *data, size_t len, unsigned char **out,
                 size_t *out_len, unsigned *inserted, drvsign_diag *diag)
{
    drv_inf_encoding encoding;
    char *decoded = NULL;
    size_t decoded_len;
    drv_buf tokens = {0}, stamped = {0}, encoded = {0};
    driver_ver dv;
    unsigned added = 0;
    int rc = -1, oom = 0;

    *out = NULL;
    *out_len = 0;
    if (drv_inf_decode(o->source, data, len, &decoded, &decoded_len, &encoding, diag) != 0)
        goto done;
    if (encoding == DRV_INF_ANSI) {
        /* Windows-1252 back from UTF-8 would lose its five undefined bytes; what stamping
         * changes is ASCII, which no byte above 0x7f can be part of, so the bytes as read */
        free(decoded);
        decoded = malloc(len + 1);
        if (decoded == NULL) {
            oom = 1;
            goto done;
        }
        memcpy(decoded, data, len);
        decoded[len] = 0;
    }
    if (replace_tokens(o, decoded, &tokens, diag) != 0)
        goto done;
    drv_buf_put(&tokens, "", 0);
    if (tokens.failed) {
        oom = 1;
        goto done;
    }
    if (plan_driver_ver(o, (const char *)tokens.p, tokens.len, &dv, diag) != 0)
        goto done;
    rewrite((const char *)tokens.p, &dv, &stamped, &added);
    drv_buf_put(&stamped, "", 0);
    if (stamped.failed) {
        oom = 1;
        goto done;
    }
    if (encoding == DRV_INF_UTF16LE) {
        size_t units_len;
        unsigned char *units = drv_utf16le_from_utf8(stamped.p, stamped.len, &units_len);
        if (units == NULL) {
            oom = 1;
            goto done;
        }
        drv_buf_put(&encoded, "\xff\xfe", 2);
        drv_buf_put(&encoded, units, units_len);
        free(units);
    } else {
        if (encoding == DRV_INF_UTF8_BOM)
            drv_buf_put(&encoded, "\xef\xbb\xbf", 3);
        drv_buf_put(&encoded, stamped.p, stamped.len);
    }
    if (encoded.failed) {
        oom = 1;
        goto done;
    }
    *out = (unsigned char *)encoded.p;
    *out_len = encoded.len;
    encoded.p = NULL;
    if (inserted != NULL)
        *inserted = added;
    rc = 0;
done:
    if (oom)
        drv_error(diag, o->source, "out of memory");
    free(decoded);
    free(tokens.p);
    free(stamped.p);
    free(encoded.p);
    return rc;
}

drvsign_status drvsign_stampinf_buffer(const drvsign_params *params, const char *inf,
                                       const unsigned char *data, size_t len, unsigned char **out,
                                       size_t *out_len, unsigned *inserted_line, drvsign_diag *diag)
{
    stampinf_opts o = {params, inf};
    if (drvsign_check_params(DRVSIGN_OP_STAMPINF, params, 1, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    return stamp(&o, data, len, out, out_len, inserted_line, diag) == 0 ? DRVSIGN_OK
                                                                        : DRVSIGN_FAILED;
}

drvsign_status drvsign_stampinf(const drvsign_params *params, const char *inf,
                                unsigned *inserted_line, drvsign_diag *diag)
{
    stampinf_opts o = {params, inf};
    unsigned char *data = NULL, *stamped = NULL;
    size_t len, stamped_len;
    drv_atomic a;
    drvsign_status rc = DRVSIGN_FAILED;

    if (drvsign_check_params(DRVSIGN_OP_STAMPINF, params, 1, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    if (drv_read_small_file(inf, MAX_INF_BYTES, &data, &len, diag) != 0)
        return DRVSIGN_FAILED;
    if (stamp(&o, data, len, &stamped, &stamped_len, inserted_line, diag) != 0)
        goto done;
    if (params->out == NULL) {
        rc = DRVSIGN_OK; /* asked for the check (and the inserted line) only */
        goto done;
    }
    if (drv_atomic_open(&a, params->out, NULL, diag) == 0) {
        if (drv_atomic_write(&a, stamped, stamped_len, diag) == 0 &&
            drv_atomic_commit(&a, diag) == 0)
            rc = DRVSIGN_OK;
        drv_atomic_abort(&a);
    }
done:
    free(data);
    free(stamped);
    return rc;
}
