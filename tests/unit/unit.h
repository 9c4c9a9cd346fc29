/* A tiny unit-test harness: CHECK records failures and the run ends with "N passed, N failed";
 * unit_diag() is the diagnostics sink every unit test reads the library's messages from. */
#ifndef DRVSIGN_UNIT_H
#define DRVSIGN_UNIT_H
#include <stdio.h>
#include <string.h>

#include "drvsign/drvsign.h"

static unsigned unit_passed, unit_failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            unit_passed++;                                                                     \
        } else {                                                                               \
            unit_failed++;                                                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

/* What the library said since the last unit_diag(): the first UNIT_KEPT error and warning
 * lines, to check a list of problems exactly; the last error line, the one a failing call
 * ends with; and how many of each came, kept or not. */
#define UNIT_KEPT 8
static struct {
    char errors[UNIT_KEPT][512];
    char warnings[UNIT_KEPT][512];
    char last_error[1024];
    unsigned error_count, warning_count;
} unit_sink;

static inline void unit_capture(void *ctx, int is_error, const char *line)
{
    (void)ctx;
    if (is_error) {
        if (unit_sink.error_count < UNIT_KEPT)
            snprintf(unit_sink.errors[unit_sink.error_count], sizeof unit_sink.errors[0], "%s",
                     line);
        snprintf(unit_sink.last_error, sizeof unit_sink.last_error, "%s", line);
        unit_sink.error_count++;
    } else {
        if (unit_sink.warning_count < UNIT_KEPT)
            snprintf(unit_sink.warnings[unit_sink.warning_count], sizeof unit_sink.warnings[0],
                     "%s", line);
        unit_sink.warning_count++;
    }
}

/* Empties unit_sink and returns a sink that fills it. */
static inline drvsign_diag unit_diag(void)
{
    drvsign_diag diag = {0};
    memset(&unit_sink, 0, sizeof unit_sink);
    diag.emit = unit_capture;
    return diag;
}

/* Whether a kept error line contains needle. */
static inline int unit_error_contains(const char *needle)
{
    for (unsigned i = 0; i < unit_sink.error_count && i < UNIT_KEPT; i++)
        if (strstr(unit_sink.errors[i], needle) != NULL)
            return 1;
    return 0;
}

/* Whether a kept error line is exactly `exact`; when none is, the lines that came are shown. */
static inline int unit_error_is(const char *exact)
{
    for (unsigned i = 0; i < unit_sink.error_count && i < UNIT_KEPT; i++)
        if (strcmp(unit_sink.errors[i], exact) == 0)
            return 1;
    printf("errors:\n");
    for (unsigned i = 0; i < unit_sink.error_count && i < UNIT_KEPT; i++)
        printf("  %s\n", unit_sink.errors[i]);
    return 0;
}

static int unit_finish(void)
{
    printf("%u passed, %u failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
#endif
