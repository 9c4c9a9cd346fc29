#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "port.h"

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

void drv_diag_errors_only(drvsign_diag *sub, drvsign_diag *parent)
{
    drvsign_diag_silent(sub);
    sub->emit = forward_error;
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
