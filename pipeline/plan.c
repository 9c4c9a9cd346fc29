#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "params.h"

drvsign_params plan_stamp_params(const manifest *m)
{
    drvsign_params p = {0};
    p.arch = m->arch;
    p.kmdf_version = m->kmdf;
    p.umdf_version = m->umdf;
    p.driver_version = m->driver_version;
    p.driver_date = m->driver_date;
    return p;
}

char *plan_inf_name(const manifest *m)
{
    size_t size = drvsign_stampinf_name(m->inf, NULL, 0) + 1;
    char *name = malloc(size);
    if (name != NULL)
        drvsign_stampinf_name(m->inf, name, size);
    return name;
}

int plan_make(const manifest *m, drvsign_package_plan *pl, drvsign_diag *diag)
{
    char *dir = path_join(m->work, "plan"), *inf_name = plan_inf_name(m);
    char *inf_path = NULL;
    drvsign_params p = {0}, stamp = plan_stamp_params(m);
    int rc = -1;

    memset(pl, 0, sizeof *pl);
    if (dir == NULL || inf_name == NULL || drvsign_make_dirs(dir, diag) != DRVSIGN_OK)
        goto done;
    inf_path = path_join(dir, inf_name);
    stamp.out = inf_path;
    if (inf_path == NULL || drvsign_stampinf(&stamp, m->inf, NULL, diag) != DRVSIGN_OK)
        goto done;
    p.os_lists = (const char *const *)m->os.v;
    p.os_list_count = m->os.n;
    rc = drvsign_plan(&p, inf_path, pl, diag) == DRVSIGN_OK ? 0 : -1;
done:
    free(inf_path);
    free(inf_name);
    free(dir);
    return rc;
}

const char *plan_provider(const manifest *m, const char *name, int configure)
{
    const list *l = configure ? &m->provides : &m->files;
    for (size_t i = 0; i < l->n; i++)
        if (drvsign_same_name(base_name(l->v[i]), name))
            return l->v[i];
    return NULL;
}

/* value as a CMake bracket argument: enough '=' that no "]=...=]" inside closes it early, and
 * a leading newline doubled (CMake drops the one right after the opening bracket). */
static void cmake_bracket(FILE *f, const char *value)
{
    size_t eq = 0;
    for (const char *p = value; (p = strchr(p, ']')) != NULL; p++) {
        size_t n = strspn(p + 1, "=");
        if (p[1 + n] == ']' && n >= eq)
            eq = n + 1;
    }
    fputc('[', f);
    for (size_t i = 0; i < eq; i++)
        fputc('=', f);
    fputs(*value == '\n' ? "[\n" : "[", f);
    fputs(value, f);
    fputc(']', f);
    for (size_t i = 0; i < eq; i++)
        fputc('=', f);
    fputs("]", f);
}

static void cmake_line(FILE *f, const char *call, const char *var, const char *value)
{
    fprintf(f, "%s%s ", call, var);
    cmake_bracket(f, value);
    fputs(")\n", f);
}

int plan_print(const manifest *m, FILE *report, drvsign_diag *diag)
{
    drvsign_package_plan pl;
    int failed = 0;
    /* configure time: every parameter problem now, all of them, before any layout work */
    if (pipeline_check_params(m, diag) != 0)
        return -1;
    if (plan_make(m, &pl, diag) != 0) {
        drvsign_plan_free(&pl);
        return -1;
    }
    /* CMake code the module evaluates: any name survives, no text protocol to split */
    fputs("# the package layout (drvsign package plan), for DrvSign.cmake\n", report);
    cmake_line(report, "set(", "_drvsign_plan_inf", pl.inf);
    for (size_t c = 0; c < pl.catalog_count; c++) {
        const drvsign_plan_catalog *cat = &pl.catalogs[c];
        cmake_line(report, "list(APPEND ", "_drvsign_plan_catalogs", cat->name);
        for (size_t i = 0; i < cat->file_count; i++) {
            if (plan_provider(m, cat->files[i].name, 1) == NULL) {
                drvsign_diag_report(
                    diag, 1, m->inf, 0,
                    "the INF copies %s (to %s), but no TARGETS or FILES entry provides it",
                    cat->files[i].name, cat->files[i].path);
                failed = 1;
            }
            cmake_line(report, "list(APPEND ", "_drvsign_plan_sources", cat->files[i].name);
            cmake_line(report, "list(APPEND ", "_drvsign_plan_rels", cat->files[i].path);
        }
    }
    drvsign_plan_free(&pl);
    return failed ? -1 : 0;
}
