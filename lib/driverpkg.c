#include "driverpkg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "decoration.h"
#include "driverver.h"
#include "inf.h"
#include "install_walk.h"
#include "port.h"
#include "strmap.h"

/* ---- the analysis context ---- */

typedef struct ctx {
    const drv_pkg_opts *opts;
    drv_inf_problems problems;
} ctx;

/* ---- [Version] checks ---- */

static void check_driver_ver(ctx *c, const drv_inf_section *version)
{
    const drv_inf_entry *e = drv_inf_key(version, "DriverVer");
    char why[256];
    int64_t now = c->opts->now ? c->opts->now : (int64_t)time(NULL);

    if (e == NULL)
        drv_inf_problem(&c->problems, version->line, "DriverVer missing from [Version] (22.9.6)");
    else if (drv_driver_ver_check(
                 drv_inf_field(e, 0), drv_inf_field(e, 1), now, c->opts->use_local_time,
                 drv_param(c->problems.diag, DRVSIGN_PARAM_USE_LOCAL_TIME), why, sizeof why) != 0)
        drv_inf_problem(&c->problems, e->line, "%s", why);
}

/* CatalogFile.nt<arch>, then CatalogFile.nt, then CatalogFile (reference 1.4). */
static const drv_inf_entry *catalog_entry(const drv_inf_section *version, const drv_os *t)
{
    char key[32];
    const drv_inf_entry *e;
    snprintf(key, sizeof key, "CatalogFile.%s", drv_inf_arch_of(t)->nt);
    if ((e = drv_inf_key(version, key)) != NULL)
        return e;
    if ((e = drv_inf_key(version, "CatalogFile.nt")) != NULL)
        return e;
    return drv_inf_key(version, "CatalogFile");
}

/* ---- models sections ---- */

static int add_hwid(drv_pkg_catalog *cat, const char *hwid)
{
    char *id = drv_strdup(hwid);
    int added;
    if (id == NULL)
        return -1;
    drv_str_lower(id);
    added = drv_strmap_put(&cat->hwid_index, id, cat->hwids.n);
    if (added <= 0) {
        free(id);
        return added;
    }
    return drv_strlist_take(&cat->hwids, id);
}


/* Per [Manufacturer] line: its decorations, which of them are picked, and the field each
 * came from. Sized for the longest line. */
typedef struct line_decorations {
    drv_decoration *decs;
    unsigned char *chosen;
    size_t *field;
} line_decorations;

/* The models sections Windows picks for one [Manufacturer] line on the builds t covers.
 * Returns -1 when a decoration does not parse. */
static int models_of_line(drv_install_walk *walk, const drv_inf_entry *e, line_decorations *ld,
                          int *any)
{
    const drv_os *t = walk->target;
    const char *base = drv_inf_field(e, 0);
    size_t n = 0;
    int plain = 0, bad = 0;

    for (size_t k = 1; k < e->value_count; k++) {
        if (*e->values[k] == 0)
            continue;
        if (drv_decoration_parse(e->values[k], &ld->decs[n]) != 0) {
            drv_inf_problem(walk->problems, e->line,
                            "'%s' is not a TargetOSVersion decoration "
                            "(NT[arch][.major[.minor[.type[.suite[.build]]]]])%s",
                            e->values[k],
                            strchr(e->values[k], '$') ? "; $ARCH$ is for StampInf to replace" : "");
            bad = 1;
            continue;
        }
        ld->field[n++] = k;
    }
    if (bad)
        return -1;
    if (drv_decoration_choose(ld->decs, n, t, ld->chosen, &plain) == 0)
        return 0;
    *any = 1;
    for (size_t i = 0; i <= n; i++) {
        char name[512];
        const drv_inf_section *models;
        if (i < n ? !ld->chosen[i] : !plain)
            continue;
        if (i < n)
            snprintf(name, sizeof name, "%s.%s", base, e->values[ld->field[i]]);
        else
            snprintf(name, sizeof name, "%s", base);
        models = drv_inf_find_section(walk->inf, name);
        if (models == NULL) {
            drv_inf_problem(walk->problems, e->line,
                            "[Manufacturer] names models section [%s], which does not exist", name);
            continue;
        }
        for (size_t m = 0; m < models->count; m++) {
            const drv_inf_entry *model = &models->entries[m];
            for (size_t k = 1; k < model->value_count; k++)
                if (*model->values[k] && add_hwid(walk->cat, model->values[k]) < 0)
                    drv_inf_problem(walk->problems, 0, "out of memory");
            drv_install_walk_section(walk, drv_inf_field(model, 0), 1, model->line);
        }
    }
    return 0;
}

/* Nothing in [Manufacturer] applies to t: say, per line, what each decoration is for and
 * which OS id would take it. */
static void explain_no_models(drv_inf_problems *problems, const drv_inf_section *mfg,
                              const drv_os *t, drv_decoration *decs)
{
    const drv_inf_arch *arch = drv_inf_arch_of(t);
    for (size_t i = 0; i < mfg->count; i++) {
        const drv_inf_entry *e = &mfg->entries[i];
        char why[768] = "";
        size_t used = 0;
        int decorated = 0;
        for (size_t k = 1; k < e->value_count; k++) {
            char reason[128];
            const drv_os *other;
            if (*e->values[k] == 0 || drv_decoration_parse(e->values[k], &decs[0]) != 0 ||
                drv_decoration_why_not(&decs[0], t, reason, sizeof reason) != 0)
                continue;
            other = drv_decoration_os_for(&decs[0], t);
            decorated = 1;
            if (used < sizeof why)
                used += (size_t)snprintf(why + used, sizeof why - used, "%s%s %s%s%s%s",
                                         used ? "; " : "", e->values[k], reason,
                                         other ? " (OS id " : "", other ? other->id : "",
                                         other ? " takes it)" : "");
        }
        if (decorated)
            drv_inf_problem(
                problems, e->line,
                "no models section of '%s' applies to %s (%s %s, Windows %u.%u build %u and "
                "later): %s",
                drv_inf_field(e, 0), t->id, arch->name, t->server ? "server" : "client", t->major,
                t->minor, t->build, why);
        else {
            const drv_os *x86;
            memset(&decs[0], 0, sizeof decs[0]); /* "NT": what an undecorated line serves */
            x86 = drv_decoration_os_for(&decs[0], t);
            drv_inf_problem(
                problems, e->line,
                "no models section for %s (%s): [%s] has no decoration, which only x86 takes "
                "(OS id %s takes it); for %s, decorate it: '%s, NT%s' with [%s.NT%s]",
                arch->name, t->id, drv_inf_field(e, 0), x86 ? x86->id : "10_X86", arch->name,
                drv_inf_field(e, 0), arch->name, drv_inf_field(e, 0), arch->name);
        }
    }
}

static void models_for_target(drv_install_walk *walk)
{
    const drv_inf_section *mfg = drv_inf_find_section(walk->inf, "Manufacturer");
    line_decorations ld = {0};
    size_t most = 1;
    int any = 0, bad = 0;

    if (mfg == NULL)
        return;
    for (size_t i = 0; i < mfg->count; i++)
        if (mfg->entries[i].value_count > most)
            most = mfg->entries[i].value_count;
    ld.decs = calloc(most, sizeof *ld.decs);
    ld.chosen = calloc(most, 1);
    ld.field = calloc(most, sizeof *ld.field);
    if (ld.decs == NULL || ld.chosen == NULL || ld.field == NULL) {
        drv_inf_problem(walk->problems, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < mfg->count; i++)
        bad |= models_of_line(walk, &mfg->entries[i], &ld, &any) != 0;
    if (!any && !bad && mfg->count > 0)
        explain_no_models(walk->problems, mfg, walk->target, ld.decs);
done:
    free(ld.decs);
    free(ld.chosen);
    free(ld.field);
}

/* ---- one INF ---- */

static drv_pkg_catalog *catalog_named(drv_pkg *pkg, const char *inf_path, const char *name)
{
    drv_pkg_catalog *bigger;
    for (size_t i = 0; i < pkg->count; i++)
        if (drv_strcasecmp(pkg->catalogs[i].name, name) == 0 &&
            strcmp(pkg->catalogs[i].inf_path, inf_path) == 0)
            return &pkg->catalogs[i];
    bigger = drv_grow(pkg->catalogs, &pkg->cap, pkg->count, 1, sizeof *bigger);
    if (bigger == NULL)
        return NULL;
    pkg->catalogs = bigger;
    memset(&bigger[pkg->count], 0, sizeof bigger[0]);
    bigger[pkg->count].inf_path = drv_strdup(inf_path);
    bigger[pkg->count].name = drv_strdup(name);
    pkg->count++; /* counted now so drv_pkg_free frees what was made */
    if (bigger[pkg->count - 1].inf_path == NULL || bigger[pkg->count - 1].name == NULL)
        return NULL;
    return &bigger[pkg->count - 1];
}

static void analyze_inf(const drv_inf *inf, const char *dir, const drv_pkg_opts *opts,
                        drv_pkg *pkg, ctx *c)
{
    const drv_inf_section *version = drv_inf_find_section(inf, "Version");
    const char *inf_name = strrchr(inf->path, '/') ? strrchr(inf->path, '/') + 1 : inf->path;

    if (version == NULL) {
        drv_inf_problem(&c->problems, 0, "no [Version] section");
        return;
    }
    if (!opts->plan_only) /* planning happens before the INF is stamped */
        check_driver_ver(c, version);
    for (size_t i = 0; i < opts->os_count; i++) {
        const drv_os *t = opts->os[i];
        const drv_inf_entry *ce = catalog_entry(version, t);
        const char *cat_name;
        drv_pkg_catalog *cat;
        drv_install_walk walk = {0};
        char osattr[32];

        if (ce == NULL) {
            drv_inf_problem(
                &c->problems, version->line,
                "missing %s CatalogFile entry (CatalogFile.%s, CatalogFile.nt, CatalogFile) "
                "in [Version] (22.9.4)",
                drv_inf_arch_of(t)->upper, drv_inf_arch_of(t)->nt);
            continue;
        }
        cat_name = drv_inf_field(ce, 0);
        if (*cat_name == 0 || strchr(cat_name, '/') || strchr(cat_name, '\\') ||
            strlen(cat_name) < 5 || drv_strcasecmp(cat_name + strlen(cat_name) - 4, ".cat") != 0) {
            drv_inf_problem(&c->problems, ce->line,
                            "CatalogFile '%s' must be a plain file name ending in .cat", cat_name);
            continue;
        }
        cat = catalog_named(pkg, inf->path, cat_name);
        if (cat == NULL) {
            drv_inf_problem(&c->problems, 0, "out of memory");
            return;
        }
        if (cat->file_count == 0) {
            cat->path = drv_path_join(dir, cat_name);
            if (cat->path == NULL || drv_pkg_add_file(cat, inf->path, inf_name, inf_name) < 0) {
                drv_inf_problem(&c->problems, 0, "out of memory");
                return;
            }
        }
        {
            const drv_os **bigger =
                drv_grow(cat->targets, &cat->target_cap, cat->target_count, 1, sizeof *bigger);
            if (bigger == NULL) {
                drv_inf_problem(&c->problems, 0, "out of memory");
                return;
            }
            cat->targets = bigger;
            cat->targets[cat->target_count++] = t;
        }
        walk.inf = inf;
        walk.inf_dir = dir;
        walk.plan_only = opts->plan_only;
        walk.target = t;
        walk.cat = cat;
        walk.problems = &c->problems;
        models_for_target(&walk);
        drv_install_walk_section(&walk, "ClassInstall32", 0, 0);
        drv_install_walk_section(&walk, "DefaultInstall", 0, 0);
        snprintf(osattr, sizeof osattr, "2:%s", t->osattr);
        if (drv_join_unique(&cat->os_tokens, t->token) != 0 ||
            drv_join_unique(&cat->os_attr, osattr) != 0)
            drv_inf_problem(&c->problems, 0, "out of memory");
        drv_strmap_free(&walk.visited);
    }
}

/* Inf2Cat catalogs the INFs whose [Version] Signature names a Windows family; others (an
 * autorun.inf beside the package) are not driver INFs. */
static int is_driver_inf(const drv_inf *inf)
{
    static const char *const signatures[] = {"$Windows NT$", "$Chicago$", "$Windows 95$"};
    const char *sig =
        drv_inf_field(drv_inf_key(drv_inf_find_section(inf, "Version"), "Signature"), 0);
    for (size_t i = 0; i < sizeof signatures / sizeof signatures[0]; i++)
        if (drv_strcasecmp(sig, signatures[i]) == 0)
            return 1;
    return 0;
}

static int is_inf_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && drv_strcasecmp(name + n - 4, ".inf") == 0;
}

/* What the analysis counts over the INFs it is given. */
typedef struct tally {
    size_t infs, skipped;
    int failed;
} tally;

/* One INF file of the package in dir. */
static void analyze_path(const char *dir, const char *path, const drv_pkg_opts *opts, drv_pkg *pkg,
                         tally *t, drvsign_diag *diag)
{
    drv_inf inf;
    ctx c = {0};
    unsigned before = diag->errors;
    char what[1100];

    if (drv_entry_at(path, what, sizeof what) != DRV_ENTRY_FILE) {
        drv_error(diag, path, "is %s; a package's INF must be a regular file in it", what);
        t->failed = 1;
        t->infs++;
        return;
    }
    c.opts = opts;
    drv_inf_problems_init(&c.problems, path, diag);
    if (drv_inf_load(&inf, path, diag) != 0) {
        t->infs++;
        t->failed = 1;
    } else if (!is_driver_inf(&inf)) {
        drv_warn(diag, path,
                 "not a driver INF (its [Version] Signature is not \"$Windows "
                 "NT$\"); skipped, as Inf2Cat skips it");
        t->skipped++;
    } else {
        t->infs++;
        if (diag->errors != before) /* syntax errors, already reported */
            t->failed = 1;
        analyze_inf(&inf, dir, opts, pkg, &c);
        t->failed |= c.problems.failed;
    }
    drv_inf_problems_free(&c.problems);
    drv_inf_free(&inf);
}

/* The checks over the whole package, once every INF is read. */
static int finish(const char *dir, drv_pkg *pkg, const tally *t, drvsign_diag *diag)
{
    int failed = t->failed;

    pkg->inf_count = t->infs;
    if (t->infs == 0) {
        if (t->skipped)
            drv_error(diag, dir,
                      "no driver INF in the root of the directory (%zu INF file%s "
                      "skipped: no \"$Windows NT$\" Signature)",
                      t->skipped, t->skipped == 1 ? "" : "s");
        else
            drv_error(diag, dir, "no INF file in the root of the directory");
        return -1;
    }
    /* two INFs naming the same catalog would overwrite each other's */
    for (size_t i = 0; i < pkg->count; i++)
        for (size_t j = i + 1; j < pkg->count; j++)
            if (drv_strcasecmp(pkg->catalogs[i].name, pkg->catalogs[j].name) == 0 &&
                strcmp(pkg->catalogs[i].inf_path, pkg->catalogs[j].inf_path) != 0) {
                drv_error(diag, pkg->catalogs[j].inf_path,
                          "CatalogFile %s is also named by %s; each INF needs its own catalog",
                          pkg->catalogs[j].name, pkg->catalogs[i].inf_path);
                failed = 1;
            }
    return failed ? -1 : 0;
}

int drv_pkg_analyze(const char *dir, const drv_pkg_opts *opts, drv_pkg *pkg, drvsign_diag *diag)
{
    drv_strlist names = {0};
    tally t = {0};

    memset(pkg, 0, sizeof *pkg);
    if (!drv_is_dir(dir)) {
        drv_error(diag, dir, drv_file_exists(dir) ? "is not a directory" : "does not exist");
        return -1;
    }
    if (drv_list_dir(dir, &names, diag) != 0)
        return -1;
    for (size_t i = 0; i < names.n; i++) {
        char *path;
        if (!is_inf_name(names.v[i]))
            continue;
        path = drv_path_join(dir, names.v[i]);
        if (path != NULL && !drv_is_dir(path))
            analyze_path(dir, path, opts, pkg, &t, diag);
        free(path);
    }
    drv_strlist_free(&names);
    return finish(dir, pkg, &t, diag);
}

int drv_pkg_analyze_inf(const char *inf_path, const drv_pkg_opts *opts, drv_pkg *pkg,
                        drvsign_diag *diag)
{
    char *dir = drv_strdup(inf_path), *slash = dir ? strrchr(dir, '/') : NULL;
    const char *in = ".";
    tally t = {0};
    int rc;

    memset(pkg, 0, sizeof *pkg);
    if (dir == NULL) {
        drv_error(diag, inf_path, "out of memory");
        return -1;
    }
    if (slash != NULL) {
        slash[slash == dir] = 0; /* "/x.inf" is in "/" */
        in = dir;
    }
    analyze_path(in, inf_path, opts, pkg, &t, diag);
    rc = finish(in, pkg, &t, diag);
    free(dir);
    return rc;
}

void drv_pkg_free(drv_pkg *pkg)
{
    for (size_t i = 0; i < pkg->count; i++) {
        drv_pkg_catalog *c = &pkg->catalogs[i];
        for (size_t k = 0; k < c->file_count; k++) {
            free(c->files[k].path);
            free(c->files[k].name);
            free(c->files[k].rel);
            free(c->files[k].source_name);
        }
        drv_strlist_free(&c->hwids);
        drv_strmap_free(&c->file_index);
        drv_strmap_free(&c->hwid_index);
        free(c->files);
        free(c->targets);
        free(c->inf_path);
        free(c->name);
        free(c->path);
        free(c->os_tokens);
        free(c->os_attr);
    }
    free(pkg->catalogs);
    memset(pkg, 0, sizeof *pkg);
}
