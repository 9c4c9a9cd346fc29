/* The INF copies the pipeline works on (the plan's, the package's, a stamp output) are
 * stamped from the manifest's inf line for line, so a problem found in one is reported against
 * the source, the file the user edits, at its own line. */
#ifndef DRVSIGN_PIPELINE_SOURCE_MAP_H
#define DRVSIGN_PIPELINE_SOURCE_MAP_H

#include "manifest.h"

typedef struct source_map {
    drvsign_diag *user;
    const char *source;
    char *copies[4];
    unsigned inserted; /* the copies' line that m->inf does not have (an added DriverVer) */
} source_map;

/* A sink that maps problems to the source; sm.user gets them. */
void source_map_init(source_map *sm, const manifest *m, const char *step, const char *arg,
                     drvsign_diag *user);
void source_map_emit(void *ctx, int is_error, const char *line);
void source_map_free(source_map *sm);

#endif
