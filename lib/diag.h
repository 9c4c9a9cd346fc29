/* Diagnostics: one line per problem, naming the file (and line) it is about. */
#ifndef DRVSIGN_DIAG_H
#define DRVSIGN_DIAG_H

#include "drvsign/drvsign.h"

#if defined(__MINGW32__)
/* mingw-w64 builds with __USE_MINGW_ANSI_STDIO (CMakeLists.txt): C99 formats (%zu, %lld),
 * which msvcrt's printf lacks and gcc's "printf" archetype means there */
#define DRV_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__) || defined(__clang__)
#define DRV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DRV_PRINTF(a, b)
#endif

/* "where: message". where may be NULL for problems that belong to no file. */
void drv_error(drvsign_diag *diag, const char *where, const char *fmt, ...) DRV_PRINTF(3, 4);
void drv_warn(drvsign_diag *diag, const char *where, const char *fmt, ...) DRV_PRINTF(3, 4);
/* "where:line: message", for INF files and other line-oriented input. */
void drv_error_at(drvsign_diag *diag, const char *where, unsigned line, const char *fmt, ...)
    DRV_PRINTF(4, 5);
/* A sink for reading a file on the side (an INF's architectures, a catalog's OS ids): warnings
 * are dropped, errors go on to parent and count there, so they still fail the command. */
void drv_diag_errors_only(drvsign_diag *sub, drvsign_diag *parent);
/* The front end's name for parameter id (diag->param_name), else the library's own: every
 * message that names a parameter takes its name from here, never spells one. */
const char *drv_param(const drvsign_diag *diag, drvsign_param id);
/* A progress line ("hashed 120/400 files"); dropped when the sink is quiet. done: the last. */
void drv_progress(drvsign_diag *diag, int done, const char *fmt, ...) DRV_PRINTF(3, 4);
/* As drv_error, with OpenSSL's most specific queued reason appended; clears OpenSSL's queue. */
void drv_ssl_error(drvsign_diag *diag, const char *where, const char *fmt, ...) DRV_PRINTF(3, 4);

#endif
