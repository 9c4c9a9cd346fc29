/* A tiny unit-test harness: CHECK records failures and the run ends with "N passed, N failed". */
#ifndef DRVSIGN_UNIT_H
#define DRVSIGN_UNIT_H
#include <stdio.h>

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

/* A diagnostics sink that keeps the last error line and counts errors. */
static char unit_last_error[1024];
static unsigned unit_errors;
static inline void unit_capture(void *ctx, int is_error, const char *line)
{
    (void)ctx;
    if (is_error) {
        unit_errors++;
        snprintf(unit_last_error, sizeof unit_last_error, "%s", line);
    }
}

static int unit_finish(void)
{
    printf("%u passed, %u failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
#endif
