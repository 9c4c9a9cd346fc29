/* The pipeline's steps, one per build rule (pipeline.h). */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "manifest.h"
#include "params.h"
#include "plan.h"
#include "signer.h"
#include "source_map.h"

static void log_step(const manifest *m, const char *step, const char *arg)
{
    /* one line per step run: how the tests see that an incremental build did nothing */
    char *path = path_join(m->work, "steps.log");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f != NULL) {
        fprintf(f, "%s%s%s\n", step, arg ? " " : "", arg ? arg : "");
        fclose(f);
    }
    free(path);
}

/* ---- build steps ---- */

static int step_stamp(const manifest *m, const char *out, drvsign_diag *diag)
{
    drvsign_params p = plan_stamp_params(m);
    if (make_parent_dirs(out, diag) != 0)
        return -1;
    p.out = out;
    return drvsign_stampinf(&p, m->inf, NULL, diag) == DRVSIGN_OK ? 0 : -1;
}

static int step_stage(const manifest *m, const char *name, drvsign_diag *diag)
{
    drvsign_package_plan pl;
    const char *rel = NULL, *source = NULL;
    char *dest = NULL, *stamped = NULL;
    int rc = -1;

    if (plan_make(m, &pl, diag) != 0)
        goto done;
    if (drvsign_same_name(name, pl.inf)) {
        stamped = path_join(m->work, pl.inf);
        source = stamped;
        rel = pl.inf;
    } else {
        for (size_t c = 0; c < pl.catalog_count && rel == NULL; c++)
            for (size_t i = 0; i < pl.catalogs[c].file_count && rel == NULL; i++)
                if (drvsign_same_name(pl.catalogs[c].files[i].name, name))
                    rel = pl.catalogs[c].files[i].path;
        source = plan_provider(m, name, 0);
        if (rel == NULL && source != NULL)
            rel = name; /* a FILES entry the INF does not copy: beside the INF */
    }
    if (rel == NULL || source == NULL) {
        drvsign_diag_report(diag, 1, m->path, 0, "%s is not part of package %s", name, m->name);
        goto done;
    }
    dest = path_join(m->output, rel);
    if (dest == NULL || make_parent_dirs(dest, diag) != 0)
        goto done;
    if (is_boot_start(m, name) && signing(m))
        /* the linker's output stays as it was: the staged copy gets the signature */
        rc = sign_file(m, production(m), source, dest, rel, 1, diag);
    else
        rc = drvsign_copy_file(source, dest, diag) == DRVSIGN_OK ? 0 : -1;
done:
    free(dest);
    free(stamped);
    drvsign_plan_free(&pl);
    return rc;
}

static drvsign_params catalog_params(const manifest *m, const char *const *os_lists)
{
    drvsign_params p = {0};
    p.os_lists = os_lists;
    p.os_list_count = m->os.n;
    p.catalog_version = m->catalog_version ? m->catalog_version : 1;
    p.page_hashes = m->page_hashes;
    p.quiet = 1;
    return p;
}

static int step_catalog(const manifest *m, FILE *report, drvsign_diag *diag)
{
    char *dir = path_join(m->work, "unsigned");
    drvsign_params p = catalog_params(m, (const char *const *)m->os.v);
    int rc = -1;
    if (dir != NULL && drvsign_make_dirs(dir, diag) == DRVSIGN_OK) {
        p.driver_dir = m->output;
        p.catalog_dir = dir;
        rc = drvsign_catalog(&p, NULL, 0, report, diag) == DRVSIGN_OK ? 0 : -1;
    }
    free(dir);
    return rc;
}

static int step_sign_catalogs(const manifest *m, const char *dir, int force_production,
                              drvsign_diag *diag)
{
    drvsign_package_plan pl;
    int rc = 0;
    if (plan_make(m, &pl, diag) != 0) {
        drvsign_plan_free(&pl);
        return -1;
    }
    for (size_t c = 0; c < pl.catalog_count && rc == 0; c++) {
        const char *name = pl.catalogs[c].name;
        char *target = path_join(dir ? dir : m->output, name);
        char *unsigned_dir = path_join(m->work, "unsigned");
        char *source = dir ? str_copy(target) : unsigned_dir ? path_join(unsigned_dir, name) : NULL;
        if (target == NULL || source == NULL)
            rc = -1;
        else if (!signing(m) && !force_production)
            rc = drvsign_copy_file(source, target, diag) == DRVSIGN_OK ? 0 : -1;
        else if (!force_production)
            rc = sign_file(m, production(m), source, target, name, 0, diag);
        else {
            /* install time: release-sign with the credentials found now */
            drvsign_params p = {0};
            holder keep = {0};
            const char *in = source;
            rc = signer_params(m, 1, &p, &keep, diag);
            if (rc == 0) {
                p.out = target;
                rc = drvsign_sign(&p, &in, 1, diag) == DRVSIGN_OK ? 0 : -1;
            }
            holder_free(&keep);
        }
        free(target);
        free(source);
        free(unsigned_dir);
    }
    drvsign_plan_free(&pl);
    return rc;
}

static int step_cab(const manifest *m, const char *dir, const char *out, int force_production,
                    FILE *report, drvsign_diag *diag)
{
    drvsign_params p = {0};
    holder keep = {0};
    const char *dirs[1];
    int rc = 0;
    /* the cabinet folder is named after the package */
    dirs[0] = dir;
    if (m->signatures != NULL && signing(m) && !force_production) {
        /* pack unsigned, then attach the stored signature or sign (and store) */
        p.out = out;
        p.quiet = 1;
        if (drvsign_cab(&p, dirs, 1, report, diag) != DRVSIGN_OK)
            return -1;
        return sign_file(m, production(m), out, out, base_name(out), 0, diag);
    }
    if ((signing(m) || force_production) &&
        signer_params(m, force_production || production(m), &p, &keep, diag) != 0)
        rc = -1;
    if (rc == 0) {
        p.out = out;
        p.quiet = 1;
        rc = drvsign_cab(&p, dirs, 1, report, diag) == DRVSIGN_OK ? 0 : -1;
    }
    holder_free(&keep);
    return rc;
}

static int step_summary(const manifest *m, FILE *report, drvsign_diag *diag)
{
    drvsign_params p = {0};
    char *root = m->identity && !production(m) ? path_join(m->identity, "root.pem") : NULL;
    int rc;
    fprintf(report, "drvsign: package %s: %s\n", m->name, m->output);
    if (m->cab)
        fprintf(report, "drvsign: submission cabinet: %s\n", m->cab);
    if (m->archive)
        fprintf(report, "drvsign: archive: %s\n", m->archive);
    if (!signing(m)) {
        fprintf(report, "drvsign: signing is off (SIGN_MODE off): the package is not signed\n");
        free(root);
        return 0;
    }
    if (root != NULL)
        fprintf(report, "drvsign: test-signed; the test root for test machines: %s/root.cer\n",
                m->identity);
    p.package = m->output;
    p.ca_file = root ? root : m->ca;
    p.os_lists = (const char *const *)m->os.v;
    p.os_list_count = m->os.n;
    rc = drvsign_verify(&p, NULL, 0, report, diag) == DRVSIGN_OK ? 0 : -1;
    free(root);
    return rc;
}

drvsign_status drvsign_pipeline_step(const char *manifest_path, const char *step, const char *arg,
                                     FILE *report, drvsign_diag *user_diag)
{
    manifest m;
    source_map sm;
    drvsign_diag mapped = {.emit = source_map_emit, .param_name = pipeline_param_name};
    drvsign_diag *diag = user_diag;
    int rc = -1;

    if (manifest_path == NULL || step == NULL) {
        drvsign_diag_report(diag, 1, NULL, 0, "the pipeline needs a manifest and a step");
        return DRVSIGN_USAGE;
    }
    if (manifest_load(&m, manifest_path, diag) != 0)
        return DRVSIGN_FAILED;
    source_map_init(&sm, &m, step, arg, user_diag);
    mapped.ctx = &sm;
    mapped.quiet = user_diag->quiet;
    diag = &mapped;
    if (strcmp(step, "plan") != 0)
        log_step(&m, step, arg ? base_name(arg) : NULL);
    if (strcmp(step, "plan") == 0) {
        rc = plan_print(&m, report, diag);
    } else if (strcmp(step, "stamp") == 0 && arg != NULL) {
        rc = step_stamp(&m, arg, diag);
    } else if (strcmp(step, "stage") == 0 && arg != NULL) {
        rc = step_stage(&m, arg, diag);
    } else if (strcmp(step, "catalog") == 0) {
        rc = step_catalog(&m, report, diag);
    } else if (strcmp(step, "sign-catalog") == 0) {
        rc = step_sign_catalogs(&m, NULL, 0, diag);
    } else if (strcmp(step, "cab") == 0 && m.cab != NULL) {
        rc = step_cab(&m, m.output, m.cab, 0, report, diag);
    } else if (strcmp(step, "archive") == 0 && m.archive != NULL) {
        drvsign_params p = {0};
        const char *dirs[1] = {m.output};
        p.archive_format = m.archive_format ? m.archive_format : "zip";
        p.out = m.archive;
        p.quiet = 1;
        rc = drvsign_archive(&p, dirs, 1, report, diag) == DRVSIGN_OK ? 0 : -1;
    } else if (strcmp(step, "summary") == 0) {
        rc = step_summary(&m, report, diag);
    } else if (strcmp(step, "resign") == 0 && arg != NULL) {
        /* install time: production credentials, the installed copy */
        drvsign_package_plan pl;
        rc = plan_make(&m, &pl, diag);
        for (size_t c = 0; rc == 0 && c < pl.catalog_count; c++)
            for (size_t i = 0; rc == 0 && i < pl.catalogs[c].file_count; i++) {
                const drvsign_plan_file *f = &pl.catalogs[c].files[i];
                char *path;
                drvsign_params p = {0};
                holder keep = {0};
                const char *in;
                if (!is_boot_start(&m, f->name))
                    continue;
                path = path_join(arg, f->path);
                in = path;
                rc = path && signer_params(&m, 1, &p, &keep, diag) == 0 &&
                             (p.page_hashes = 1, drvsign_sign(&p, &in, 1, diag)) == DRVSIGN_OK
                         ? 0
                         : -1;
                holder_free(&keep);
                free(path);
            }
        drvsign_plan_free(&pl);
        if (rc == 0)
            rc = step_sign_catalogs(&m, arg, 1, diag);
        if (rc == 0 && m.cab != NULL) {
            /* the installed package changed: its cabinet is rebuilt beside it */
            char *cab = path_join(arg, "..");
            char *out = cab ? path_join(cab, base_name(m.cab)) : NULL;
            rc = out ? step_cab(&m, arg, out, 1, report, diag) : -1;
            free(out);
            free(cab);
        }
        if (rc == 0)
            fprintf(report, "drvsign: %s: release-signed\n", arg);
    } else {
        drvsign_diag_report(diag, 1, manifest_path, 0, "unknown package step '%s'%s", step,
                            arg == NULL ? " (or it needs an argument)" : "");
        manifest_free(&m);
        source_map_free(&sm);
        return DRVSIGN_USAGE;
    }
    manifest_free(&m);
    source_map_free(&sm);
    return rc == 0 ? DRVSIGN_OK : DRVSIGN_FAILED;
}
