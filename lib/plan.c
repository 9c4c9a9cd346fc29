/*
 * The plan operation: a package's layout from its INF, for front ends that stage a package
 * before its files are built. The analysis is Inf2Cat's own (driverpkg.c), in its planning
 * mode; this file only lends its results out through the public types.
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "driverpkg.h"
#include "ostable.h"
#include "port.h"

/* What a drvsign_package_plan's pointers point into. */
typedef struct plan_store {
    drv_pkg pkg;
    char *inf_name;
    drvsign_plan_catalog *catalogs;
    drvsign_plan_file *files; /* every catalog's, one after another */
} plan_store;

static int lend(plan_store *st, drvsign_package_plan *plan)
{
    size_t files = 0, used = 0;

    for (size_t c = 0; c < st->pkg.count; c++)
        files += st->pkg.catalogs[c].file_count - 1; /* [0] is the INF */
    st->catalogs = calloc(st->pkg.count ? st->pkg.count : 1, sizeof *st->catalogs);
    st->files = calloc(files ? files : 1, sizeof *st->files);
    if (st->catalogs == NULL || st->files == NULL)
        return -1;
    for (size_t c = 0; c < st->pkg.count; c++) {
        const drv_pkg_catalog *from = &st->pkg.catalogs[c];
        drvsign_plan_catalog *to = &st->catalogs[c];
        to->name = from->name;
        to->os = from->os_tokens ? from->os_tokens : "";
        to->files = &st->files[used];
        to->file_count = from->file_count - 1;
        to->hwids = (const char *const *)from->hwids.v;
        to->hwid_count = from->hwids.n;
        for (size_t i = 1; i < from->file_count; i++, used++) {
            st->files[used].name = from->files[i].source_name;
            st->files[used].path = from->files[i].rel;
        }
    }
    plan->catalogs = st->catalogs;
    plan->catalog_count = st->pkg.count;
    return 0;
}

drvsign_status drvsign_plan(const drvsign_params *params, const char *inf,
                            drvsign_package_plan *plan, drvsign_diag *diag)
{
    plan_store *st = calloc(1, sizeof *st);
    const drv_os **os = NULL;
    size_t os_count = 0;
    drv_pkg_opts opts = {0};
    drvsign_status rc = DRVSIGN_FAILED;

    memset(plan, 0, sizeof *plan);
    if (drvsign_check_params(DRVSIGN_OP_PLAN, params, inf != NULL, diag) != DRVSIGN_OK) {
        free(st);
        return DRVSIGN_USAGE;
    }
    if (st == NULL) {
        drv_error(diag, inf, "out of memory");
        return DRVSIGN_FAILED;
    }
    plan->internal = st;
    if ((st->inf_name = drv_strdup(drv_base_name(inf))) == NULL) {
        drv_error(diag, inf, "out of memory");
        return DRVSIGN_FAILED;
    }
    plan->inf = st->inf_name;
    if (drv_parse_os_list(params->os_lists, params->os_list_count, &os, &os_count, diag) != 0)
        goto done;
    opts.os = os;
    opts.os_count = os_count;
    opts.plan_only = 1;
    if (drv_pkg_analyze_inf(inf, &opts, &st->pkg, diag) != 0)
        goto done;
    if (lend(st, plan) != 0) {
        drv_error(diag, inf, "out of memory");
        goto done;
    }
    rc = DRVSIGN_OK;
done:
    free(os);
    return rc;
}

void drvsign_plan_free(drvsign_package_plan *plan)
{
    plan_store *st = plan->internal;
    if (st != NULL) {
        drv_pkg_free(&st->pkg);
        free(st->catalogs);
        free(st->files);
        free(st->inf_name);
        free(st);
    }
    memset(plan, 0, sizeof *plan);
}
