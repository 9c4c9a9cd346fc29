#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "files.h"
#include "inf.h"
#include "ostable.h"
#include "params.h"
#include "port.h"

stampinf_opts plan_stamp_opts(const manifest *m)
{
    stampinf_opts o = {0};
    o.source = m->inf;
    o.arch = m->arch;
    o.kmdf_version = m->kmdf;
    o.umdf_version = m->umdf;
    o.driver_version = m->driver_version;
    o.driver_date = m->driver_date;
    return o;
}

int plan_make(const manifest *m, plan *pl, drvsign_diag *diag)
{
    char *dir = drv_path_join(m->work, "plan"), *inf_path = NULL;
    const drv_os **os = NULL;
    size_t os_count = 0;
    drv_pkg_opts opts = {0};
    stampinf_opts so = plan_stamp_opts(m);
    int rc = -1;

    memset(pl, 0, sizeof *pl);
    pl->inf_name = stampinf_output_name(m->inf);
    if (dir == NULL || pl->inf_name == NULL || make_dirs(dir, diag) != 0)
        goto done;
    inf_path = drv_path_join(dir, pl->inf_name);
    if (inf_path == NULL || stampinf_file(&so, inf_path, NULL, diag) != 0)
        goto done;
    if (drv_parse_os_list((const char *const *)m->os.v, m->os.n, &os, &os_count, diag) != 0)
        goto done;
    opts.os = os;
    opts.os_count = os_count;
    opts.plan_only = 1;
    rc = drv_pkg_analyze(dir, &opts, &pl->pkg, diag);
done:
    free(os);
    free(inf_path);
    free(dir);
    return rc;
}

void plan_free(plan *pl)
{
    drv_pkg_free(&pl->pkg);
    free(pl->inf_name);
}

const char *plan_provider(const manifest *m, const char *name, int configure)
{
    const list *l = configure ? &m->provides : &m->files;
    for (size_t i = 0; i < l->n; i++)
        if (drv_strcasecmp(drv_base_name(l->v[i]), name) == 0)
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
    plan pl;
    int failed = 0;
    /* configure time: every parameter problem now, all of them, before any layout work */
    if (pipeline_check_params(m, diag) != 0)
        return -1;
    if (plan_make(m, &pl, diag) != 0) {
        plan_free(&pl);
        return -1;
    }
    /* CMake code the module evaluates: any name survives, no text protocol to split */
    fputs("# the package layout (drvsign package plan), for DrvSign.cmake\n", report);
    cmake_line(report, "set(", "_drvsign_plan_inf", pl.inf_name);
    for (size_t c = 0; c < pl.pkg.count; c++) {
        drv_pkg_catalog *cat = &pl.pkg.catalogs[c];
        cmake_line(report, "list(APPEND ", "_drvsign_plan_catalogs", cat->name);
        for (size_t i = 1; i < cat->file_count; i++) { /* [0] is the INF */
            if (plan_provider(m, cat->files[i].source_name, 1) == NULL) {
                drv_error(diag, m->inf,
                          "the INF copies %s (to %s), but no TARGETS or FILES entry provides it",
                          cat->files[i].source_name, cat->files[i].rel);
                failed = 1;
            }
            cmake_line(report, "list(APPEND ", "_drvsign_plan_sources", cat->files[i].source_name);
            cmake_line(report, "list(APPEND ", "_drvsign_plan_rels", cat->files[i].rel);
        }
    }
    plan_free(&pl);
    return failed ? -1 : 0;
}
