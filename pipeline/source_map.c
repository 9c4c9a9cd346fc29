#include "source_map.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "plan.h"

/* ---- problems name the user's INF ---- */

/* The INF copies the pipeline works on (the plan's, the package's, a stamp output) are
 * stamped from m->inf line for line, so a problem found in one is reported against m->inf,
 * the file the user edits, at its own line. */

void source_map_emit(void *ctx, int is_error, const char *line)
{
    source_map *sm = ctx;
    char mapped[1024];
    for (size_t i = 0; i < sizeof sm->copies / sizeof sm->copies[0]; i++) {
        size_t n = sm->copies[i] ? strlen(sm->copies[i]) : 0;
        const char *rest = line + n + 1;
        char *end;
        unsigned long lineno;
        if (n == 0 || strncmp(line, sm->copies[i], n) != 0 || line[n] != ':')
            continue;
        lineno = strtoul(rest, &end, 10);
        if (end != rest && *end == ':' && lineno > 0) {
            if (sm->inserted != 0 && lineno >= sm->inserted)
                lineno--; /* the added line is reported at the one before it */
            snprintf(mapped, sizeof mapped, "%s:%lu:%s", sm->source, lineno, end + 1);
        } else
            snprintf(mapped, sizeof mapped, "%s:%s", sm->source, rest);
        line = mapped;
        break;
    }
    drvsign_diag_report(sm->user, is_error, NULL, 0, "%s", line);
}

void source_map_init(source_map *sm, const manifest *m, const char *step, const char *arg,
                     drvsign_diag *user)
{
    char *name = plan_inf_name(m), *plan_dir = path_join(m->work, "plan");
    memset(sm, 0, sizeof *sm);
    sm->user = user;
    sm->source = m->inf;
    if (name != NULL && plan_dir != NULL) {
        sm->copies[0] = path_join(plan_dir, name);
        sm->copies[1] = path_join(m->output, name);
        if (arg != NULL && strcmp(step, "resign") == 0)
            sm->copies[2] = path_join(arg, name);
    }
    if (arg != NULL && strcmp(step, "stamp") == 0)
        sm->copies[3] = str_copy(arg);
    {
        /* where the copies have a line the source has not (an added DriverVer) */
        drvsign_diag silent;
        drvsign_params p = plan_stamp_params(m); /* no out: stamped, not written */
        drvsign_diag_silent(&silent);
        drvsign_stampinf(&p, m->inf, &sm->inserted, &silent);
    }
    free(name);
    free(plan_dir);
}

void source_map_free(source_map *sm)
{
    for (size_t i = 0; i < sizeof sm->copies / sizeof sm->copies[0]; i++)
        free(sm->copies[i]);
}
