#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "port.h"

/* A parameter's name in drvsign_params: what a C caller sets, and what a message says when
 * the front end supplies no word of its own. */
static const char *const default_names[DRVSIGN_PARAM_COUNT] = {
    [DRVSIGN_PARAM_PFX] = "pfx",
    [DRVSIGN_PARAM_CERT] = "cert",
    [DRVSIGN_PARAM_KEY] = "key",
    [DRVSIGN_PARAM_PKCS11_MODULE] = "pkcs11_module",
    [DRVSIGN_PARAM_PASSWORD_ENV] = "password_env",
    [DRVSIGN_PARAM_PASSWORD_FILE] = "password_file",
    [DRVSIGN_PARAM_SIGNER_COMMAND] = "signer_command",
    [DRVSIGN_PARAM_SIGNER_TIMEOUT] = "signer_timeout",
    [DRVSIGN_PARAM_ADD_CERTS] = "add_certs",
    [DRVSIGN_PARAM_DIGEST] = "digest",
    [DRVSIGN_PARAM_PAGE_HASHES] = "page_hashes",
    [DRVSIGN_PARAM_APPEND] = "append",
    [DRVSIGN_PARAM_SIGNING_TIME] = "signing_time",
    [DRVSIGN_PARAM_DESCRIPTION] = "description",
    [DRVSIGN_PARAM_URL] = "url",
    [DRVSIGN_PARAM_OUT] = "out",
    [DRVSIGN_PARAM_PREPARE_DIR] = "prepare_dir",
    [DRVSIGN_PARAM_REQUESTS_DIR] = "requests_dir",
    [DRVSIGN_PARAM_SIGNATURES_DIR] = "signatures_dir",
    [DRVSIGN_PARAM_SIGNATURE] = "signature",
    [DRVSIGN_PARAM_TIMESTAMP_URLS] = "timestamp_urls",
    [DRVSIGN_PARAM_TIMESTAMP_LEGACY_URLS] = "timestamp_legacy_urls",
    [DRVSIGN_PARAM_TIMESTAMP_DIGEST] = "timestamp_digest",
    [DRVSIGN_PARAM_TIMESTAMP_RETRIES] = "timestamp_retries",
    [DRVSIGN_PARAM_TIMESTAMP_WAIT] = "timestamp_wait",
    [DRVSIGN_PARAM_TIMESTAMP_TIMEOUT] = "timestamp_timeout",
    [DRVSIGN_PARAM_TIMESTAMP_CA_FILE] = "timestamp_ca_file",
    [DRVSIGN_PARAM_TIME] = "time",
    [DRVSIGN_PARAM_CA_FILE] = "ca_file",
    [DRVSIGN_PARAM_JSON] = "json",
    [DRVSIGN_PARAM_CATALOG] = "catalog",
    [DRVSIGN_PARAM_PACKAGE] = "package",
    [DRVSIGN_PARAM_DRIVER_DIR] = "driver_dir",
    [DRVSIGN_PARAM_OS_LISTS] = "os_lists",
    [DRVSIGN_PARAM_CATALOG_VERSION] = "catalog_version",
    [DRVSIGN_PARAM_NO_CATALOG] = "no_catalog",
    [DRVSIGN_PARAM_CATALOG_DIR] = "catalog_dir",
    [DRVSIGN_PARAM_USE_LOCAL_TIME] = "use_local_time",
    [DRVSIGN_PARAM_COMPRESSION] = "compression",
    [DRVSIGN_PARAM_INCLUDE_PDB] = "include_pdb",
    [DRVSIGN_PARAM_ARCHIVE_FORMAT] = "archive_format",
    [DRVSIGN_PARAM_SUBJECT] = "subject",
    [DRVSIGN_PARAM_DAYS] = "days",
    [DRVSIGN_PARAM_ARCH] = "arch",
    [DRVSIGN_PARAM_KMDF_VERSION] = "kmdf_version",
    [DRVSIGN_PARAM_UMDF_VERSION] = "umdf_version",
    [DRVSIGN_PARAM_DRIVER_VERSION] = "driver_version",
    [DRVSIGN_PARAM_DRIVER_DATE] = "driver_date",
    [DRVSIGN_PARAM_FILES] = "files",
};

const char *drvsign_param_default_name(drvsign_param id)
{
    if ((unsigned)id >= DRVSIGN_PARAM_COUNT || default_names[id] == NULL)
        return "(unknown parameter)";
    return default_names[id];
}

const char *drv_param(const drvsign_diag *diag, drvsign_param id)
{
    const char *name = diag->param_name ? diag->param_name(diag->ctx, id) : NULL;
    return name != NULL ? name : drvsign_param_default_name(id);
}

static void emit(drvsign_diag *diag, int is_error, const char *line)
{
    if (is_error)
        diag->errors++;
    else
        diag->warnings++;
    if (!is_error && diag->quiet)
        return;
    if (diag->emit != NULL) {
        diag->emit(diag->ctx, is_error, line);
        return;
    }
    fprintf(stderr, "drvsign: %s%s\n", is_error ? "" : "warning: ", line);
}

static void drop_line(void *ctx, int is_error, const char *line)
{
    (void)ctx, (void)is_error, (void)line;
}

static void drop_progress(void *ctx, int done, const char *line)
{
    (void)ctx, (void)done, (void)line;
}

void drvsign_diag_silent(drvsign_diag *diag)
{
    memset(diag, 0, sizeof *diag);
    diag->emit = drop_line;
    diag->progress = drop_progress;
}

void drv_progress(drvsign_diag *diag, int done, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (diag->quiet)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (diag->progress != NULL) {
        diag->progress(diag->ctx, done, line);
        return;
    }
    /* the default sink: one line rewritten in place, for people watching a terminal */
    if (!drv_stderr_is_tty())
        return;
    fprintf(stderr, "\rdrvsign: %s%s", line, done ? "\n" : "");
    fflush(stderr);
}

static void forward_error(void *parent, int is_error, const char *line)
{
    if (is_error)
        emit(parent, 1, line);
}

static const char *forward_name(void *parent, drvsign_param id)
{
    return drv_param(parent, id);
}

void drv_diag_errors_only(drvsign_diag *sub, drvsign_diag *parent)
{
    drvsign_diag_silent(sub);
    sub->emit = forward_error;
    sub->param_name = forward_name;
    sub->ctx = parent;
    sub->quiet = 1;
}

DRV_PRINTF(6, 0)
static void vreport(drvsign_diag *diag, int is_error, const char *where, unsigned lineno,
                    const char *suffix, const char *fmt, va_list ap)
{
    char line[1024];
    size_t used = 0;
    int n;

    if (where != NULL) {
        n = lineno ? snprintf(line, sizeof line, "%s:%u: ", where, lineno)
                   : snprintf(line, sizeof line, "%s: ", where);
        used = n > 0 ? ((size_t)n < sizeof line ? (size_t)n : sizeof line - 1) : 0;
    }
    n = vsnprintf(line + used, sizeof line - used, fmt, ap);
    if (n > 0)
        used += (size_t)n < sizeof line - used ? (size_t)n : sizeof line - used - 1;
    if (suffix != NULL && *suffix != '\0')
        snprintf(line + used, sizeof line - used, " (%s)", suffix);
    /* A line is a line: never let input smuggle a newline into the log. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    emit(diag, is_error, line);
}

void drvsign_diag_report(drvsign_diag *diag, int is_error, const char *where, unsigned line,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(diag, is_error != 0, where, line, NULL, fmt, ap);
    va_end(ap);
}

void drv_error(drvsign_diag *diag, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(diag, 1, where, 0, NULL, fmt, ap);
    va_end(ap);
}

void drv_warn(drvsign_diag *diag, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(diag, 0, where, 0, NULL, fmt, ap);
    va_end(ap);
}

void drv_error_at(drvsign_diag *diag, const char *where, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(diag, 1, where, line, NULL, fmt, ap);
    va_end(ap);
}

void drv_ssl_error(drvsign_diag *diag, const char *where, const char *fmt, ...)
{
    char reason[256] = "";
    unsigned long code, last = 0;
    va_list ap;

    /* The last error queued is the innermost cause; that is the one worth a user's time. */
    while ((code = ERR_get_error()) != 0)
        last = code;
    if (last != 0) {
        const char *r = ERR_reason_error_string(last);
        if (r != NULL)
            snprintf(reason, sizeof reason, "%s", r);
        else
            ERR_error_string_n(last, reason, sizeof reason);
    }
    va_start(ap, fmt);
    vreport(diag, 1, where, 0, reason, fmt, ap);
    va_end(ap);
}
