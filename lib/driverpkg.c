#include "driverpkg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "decoration.h"
#include "driverver.h"
#include "inf.h"
#include "port.h"
#include "strmap.h"

/* ---- the analysis context ---- */

typedef struct ctx {
    const drv_inf *inf;
    const char *inf_dir;
    const drv_pkg_opts *opts;
    drvsign_diag *diag;
    drv_strmap reported; /* each problem once, even when several targets run into it */
    int failed;
} ctx;

static void problem(ctx *c, unsigned line, const char *fmt, ...) DRV_PRINTF(3, 4);
static void problem(ctx *c, unsigned line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->failed = 1;
    {
        char *key = drv_str_printf("%u:%s", line, msg);
        int added = key ? drv_strmap_put(&c->reported, key, 0) : 1;
        free(key);
        if (added == 0)
            return;
    }
    if (line)
        drv_error_at(c->diag, c->inf->path, line, "%s", msg);
    else
        drv_error(c->diag, c->inf->path, "%s", msg);
}

/* ---- [Version] checks ---- */

static void check_driver_ver(ctx *c, const drv_inf_section *version)
{
    const drv_inf_entry *e = drv_inf_key(version, "DriverVer");
    char why[256];
    int64_t now = c->opts->now ? c->opts->now : (int64_t)time(NULL);

    if (e == NULL)
        problem(c, version->line, "DriverVer missing from [Version] (22.9.6)");
    else if (drv_driver_ver_check(drv_inf_field(e, 0), drv_inf_field(e, 1), now,
                                  c->opts->use_local_time, why, sizeof why) != 0)
        problem(c, e->line, "%s", why);
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

/* ---- following install sections to CopyFiles ---- */

typedef struct collect {
    drv_pkg_catalog *cat;
    const drv_os *target;
    drv_strmap visited; /* install sections already followed for this target */
} collect;

static int add_file(collect *col, const char *path, const char *name, const char *rel)
{
    drv_pkg_catalog *cat = col->cat;
    drv_pkg_file *f;
    int added = drv_strmap_put(&cat->file_index, path, cat->file_count);
    if (added <= 0)
        return added;
    f = drv_grow(cat->files, &cat->file_cap, cat->file_count, 1, sizeof *cat->files);
    if (f == NULL)
        return -1;
    cat->files = f;
    f = &cat->files[cat->file_count];
    f->path = drv_strdup(path);
    f->name = drv_strdup(name);
    f->rel = drv_strdup(rel);
    f->source_name = drv_strdup(name);
    cat->file_count++; /* counted now so drv_pkg_free frees what was made */
    if (f->path == NULL || f->name == NULL || f->rel == NULL || f->source_name == NULL)
        return -1;
    drv_str_lower(f->name);
    return 0;
}

static int add_hwid(drv_pkg_catalog *cat, const char *hwid)
{
    char *id = drv_strdup(hwid);
    int added;
    if (id == NULL)
        return -1;
    drv_str_lower(id);
    added = drv_strmap_put(&cat->hwid_index, id, cat->hwid_count);
    if (added <= 0) {
        free(id);
        return added;
    }
    {
        char **bigger = drv_grow(cat->hwids, &cat->hwid_cap, cat->hwid_count, 1, sizeof *bigger);
        if (bigger == NULL) {
            free(id);
            return -1;
        }
        cat->hwids = bigger;
    }
    cat->hwids[cat->hwid_count++] = id;
    return 0;
}

/* key in [base.arch], else in [base]: how SourceDisksFiles/Names decorations work */
static const drv_inf_entry *lookup_decorated(const drv_inf *inf, const char *base,
                                             const char *arch, const char *key)
{
    char name[256];
    const drv_inf_entry *e;
    snprintf(name, sizeof name, "%s.%s", base, arch);
    if ((e = drv_inf_key(drv_inf_find_section(inf, name), key)) != NULL)
        return e;
    return drv_inf_key(drv_inf_find_section(inf, base), key);
}

/* Normalise an INF path ('\' separators) and refuse anything leaving the package. */
static int append_rel(char *out, size_t size, const char *part, int *escapes)
{
    size_t len = strlen(out);
    if ((part[0] && part[1] == ':') || (part[0] == '\\' && part[1] == '\\') ||
        (part[0] == '/' && part[1] == '/'))
        *escapes = 1;
    for (const char *p = part; *p;) {
        const char *q = p;
        size_t n;
        while (*q && *q != '\\' && *q != '/')
            q++;
        n = (size_t)(q - p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            *escapes = 1;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (len + n + 2 > size)
                return -1;
            if (len > 0)
                out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
            out[len] = 0;
        }
        p = *q ? q + 1 : q;
    }
    return 0;
}

static void copy_file(ctx *c, collect *col, const char *file, const char *where, unsigned line)
{
    const char *arch = col->target->arch;
    const drv_inf_entry *sdf = lookup_decorated(c->inf, "SourceDisksFiles", arch, file);
    const drv_inf_entry *sdn;
    const char *disk_id;
    char rel[1024] = "";
    int escapes = 0;
    char *path;

    if (*file == 0)
        return;
    if (strchr(file, '\\') != NULL || strchr(file, '/') != NULL) {
        problem(c, line, "CopyFiles names '%s', but a file name cannot hold a path", file);
        return;
    }
    if (sdf == NULL) {
        problem(c, line, "CopyFiles names %s, but [SourceDisksFiles] does not list it (22.9.10)",
                file);
        return;
    }
    disk_id = drv_inf_field(sdf, 0);
    sdn = lookup_decorated(c->inf, "SourceDisksNames", arch, disk_id);
    if (sdn == NULL) {
        problem(c, sdf->line, "%s is on disk '%s', which [SourceDisksNames] does not list (22.9.1)",
                file, disk_id);
        return;
    }
    if (append_rel(rel, sizeof rel, drv_inf_field(sdn, 3), &escapes) != 0 ||
        append_rel(rel, sizeof rel, drv_inf_field(sdf, 1), &escapes) != 0 ||
        append_rel(rel, sizeof rel, file, &escapes) != 0) {
        problem(c, sdf->line, "the path of %s is too long", file);
        return;
    }
    if (escapes) {
        problem(c, sdf->line, "the path of %s (%s) leaves the package directory", file, rel);
        return;
    }
    if (c->opts->plan_only) {
        /* the files are not built yet: say where they will go */
        path = drv_path_join(c->inf_dir, rel);
        if (path == NULL || add_file(col, path, file, rel) < 0)
            problem(c, 0, "out of memory");
        free(path);
        return;
    }
    path = drv_resolve_ci(c->inf_dir, rel);
    if (path == NULL) {
        problem(c, line,
                "%s in [%s] is missing: SourceDisksNames and SourceDisksFiles place it at %s, "
                "relative to the INF (22.9.1)",
                file, where, rel);
        return;
    }
    char what[1200];
    if (drv_is_dir(path))
        problem(c, line, "%s in [%s] resolves to a directory (%s) (22.9.1)", file, where, rel);
    else if (!drv_inside_package(c->inf_dir, path, what, sizeof what))
        /* a package is a closed world: a link could put any file into the catalog */
        problem(c, line, "%s in [%s] is not a file of the package: %s", file, where, what);
    else {
        /* the relative path as it exists on disk, case and all */
        const char *r = path + strlen(c->inf_dir);
        while (*r == '/')
            r++;
        if (add_file(col, path, file, r) < 0)
            problem(c, 0, "out of memory");
    }
    free(path);
}

static void copy_files_directive(ctx *c, collect *col, const drv_inf_entry *e)
{
    for (size_t i = 0; i < e->value_count; i++) {
        const char *v = e->values[i];
        const drv_inf_section *list;
        if (*v == 0)
            continue;
        if (*v == '@') {
            copy_file(c, col, v + 1, "CopyFiles", e->line);
            continue;
        }
        list = drv_inf_find_section(c->inf, v);
        if (list == NULL) {
            problem(c, e->line, "CopyFiles names section [%s], which does not exist", v);
            continue;
        }
        for (size_t k = 0; k < list->count; k++) {
            const drv_inf_entry *f = &list->entries[k];
            /* destination[,source[,temporary[,flags]]]: the source name is what ships */
            const char *source = drv_inf_field(f, 1);
            copy_file(c, col, *source ? source : drv_inf_field(f, 0), list->name, f->line);
        }
    }
}

/* CopyINF names companion INFs, which must sit beside this one; their files go into their
 * own catalogs. */
static void copy_inf_directive(ctx *c, const drv_inf_entry *e)
{
    for (size_t i = 0; i < e->value_count; i++) {
        const char *name = e->values[i];
        char *path;
        if (*name == 0)
            continue;
        if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL) {
            problem(c, e->line, "CopyINF names '%s', but the INF it copies must sit beside this "
                                "one (no path)",
                    name);
            continue;
        }
        if (c->opts->plan_only)
            continue; /* companions are staged later */
        path = drv_resolve_ci(c->inf_dir, name);
        if (path == NULL)
            problem(c, e->line, "CopyINF names %s, which is not in the package beside this INF",
                    name);
        free(path);
    }
}

/* Room for one more section on the walk's stack. */
static int push_section(const drv_inf_section ***todo, size_t *cap, size_t count)
{
    const drv_inf_section **bigger = drv_grow(*todo, cap, count, 1, sizeof *bigger);
    if (bigger == NULL)
        return -1;
    *todo = bigger;
    return 0;
}

/*
 * Follow an install section and every section its Needs= lines name, as a work list: the
 * depth of a Needs chain is the input's to choose, so no recursion. Needs sections that are
 * not in this INF belong to the INFs named by Include= (inbox INFs such as ks.inf or
 * wudfrd.inf), which are not part of the package.
 */
static void install_section(ctx *c, collect *col, const char *name)
{
    const drv_inf_section **todo = NULL;
    size_t count = 0, cap = 0;
    const drv_inf_section *first = drv_inf_find_section(c->inf, name);
    int added;

    if (first == NULL)
        return;
    added = drv_strmap_put(&col->visited, first->name, 0);
    if (added <= 0 || push_section(&todo, &cap, count) != 0) {
        if (added < 0)
            problem(c, 0, "out of memory");
        free(todo);
        return;
    }
    todo[count++] = first;
    while (count > 0) {
        const drv_inf_section *s = todo[--count];
        for (size_t i = 0; i < s->count; i++) {
            const drv_inf_entry *e = &s->entries[i];
            if (e->key == NULL)
                continue;
            if (drv_strcasecmp(e->key, "CopyFiles") == 0)
                copy_files_directive(c, col, e);
            else if (drv_strcasecmp(e->key, "CopyINF") == 0)
                copy_inf_directive(c, e);
            else if (drv_strcasecmp(e->key, "Needs") == 0)
                for (size_t k = e->value_count; k-- > 0;) { /* in order once popped */
                    const drv_inf_section *next = drv_inf_find_section(c->inf, e->values[k]);
                    if (next == NULL)
                        continue;
                    added = drv_strmap_put(&col->visited, next->name, 0);
                    if (added < 0 ||
                        (added && push_section(&todo, &cap, count) != 0)) {
                        problem(c, 0, "out of memory");
                        free(todo);
                        return;
                    }
                    if (added)
                        todo[count++] = next;
                }
        }
    }
    free(todo);
}

/* An install section with its best platform decoration, and the sections that go with it. */
static int install_with_decoration(ctx *c, collect *col, const char *base, int required,
                                   unsigned line)
{
    static const char *const companions[] = {"", ".CoInstallers", ".Services", ".HW", ".Wdf",
                                             ".Components", ".Software"};
    char name[512], chosen[512] = "";
    const drv_os *t = col->target;
    const char *tries[3];
    char dec[512], nt[512];

    snprintf(dec, sizeof dec, "%s.%s", base, drv_inf_arch_of(t)->nt);
    snprintf(nt, sizeof nt, "%s.NT", base);
    tries[0] = dec;
    tries[1] = nt;
    tries[2] = base;
    for (int i = 0; i < 3 && !chosen[0]; i++)
        if (drv_inf_find_section(c->inf, tries[i]) != NULL)
            snprintf(chosen, sizeof chosen, "%s", tries[i]);
    if (!chosen[0]) {
        if (required)
            problem(c, line, "install section %s does not exist for %s (tried [%s], [%s], [%s])",
                    base, t->arch, dec, nt, base);
        return 0;
    }
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        snprintf(name, sizeof name, "%s%s", chosen, companions[i]);
        install_section(c, col, name);
    }
    return 1;
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
static int models_of_line(ctx *c, collect *col, const drv_inf_entry *e, line_decorations *ld,
                          int *any)
{
    const drv_os *t = col->target;
    const char *base = drv_inf_field(e, 0);
    size_t n = 0;
    int plain = 0, bad = 0;

    for (size_t k = 1; k < e->value_count; k++) {
        if (*e->values[k] == 0)
            continue;
        if (drv_decoration_parse(e->values[k], &ld->decs[n]) != 0) {
            problem(c, e->line,
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
        models = drv_inf_find_section(c->inf, name);
        if (models == NULL) {
            problem(c, e->line, "[Manufacturer] names models section [%s], which does not exist",
                    name);
            continue;
        }
        for (size_t m = 0; m < models->count; m++) {
            const drv_inf_entry *model = &models->entries[m];
            for (size_t k = 1; k < model->value_count; k++)
                if (*model->values[k] && add_hwid(col->cat, model->values[k]) < 0)
                    problem(c, 0, "out of memory");
            install_with_decoration(c, col, drv_inf_field(model, 0), 1, model->line);
        }
    }
    return 0;
}

/* Nothing in [Manufacturer] applies to t: say, per line, what each decoration is for and
 * which OS id would take it. */
static void explain_no_models(ctx *c, const drv_inf_section *mfg, const drv_os *t,
                              drv_decoration *decs)
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
            problem(c, e->line,
                    "no models section of '%s' applies to %s (%s %s, Windows %u.%u build %u and "
                    "later): %s",
                    drv_inf_field(e, 0), t->id, arch->name, t->server ? "server" : "client",
                    t->major, t->minor, t->build, why);
        else {
            const drv_os *x86;
            memset(&decs[0], 0, sizeof decs[0]); /* "NT": what an undecorated line serves */
            x86 = drv_decoration_os_for(&decs[0], t);
            problem(c, e->line,
                    "no models section for %s (%s): [%s] has no decoration, which only x86 takes "
                    "(OS id %s takes it); for %s, decorate it: '%s, NT%s' with [%s.NT%s]",
                    arch->name, t->id, drv_inf_field(e, 0), x86 ? x86->id : "10_X86", arch->name,
                    drv_inf_field(e, 0), arch->name, drv_inf_field(e, 0), arch->name);
        }
    }
}

static void models_for_target(ctx *c, collect *col)
{
    const drv_inf_section *mfg = drv_inf_find_section(c->inf, "Manufacturer");
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
        problem(c, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < mfg->count; i++)
        bad |= models_of_line(c, col, &mfg->entries[i], &ld, &any) != 0;
    if (!any && !bad && mfg->count > 0)
        explain_no_models(c, mfg, col->target, ld.decs);
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

    c->inf = inf;
    c->inf_dir = dir;
    if (version == NULL) {
        problem(c, 0, "no [Version] section");
        return;
    }
    if (!opts->plan_only) /* planning happens before the INF is stamped */
        check_driver_ver(c, version);
    for (size_t i = 0; i < opts->os_count; i++) {
        const drv_os *t = opts->os[i];
        const drv_inf_entry *ce = catalog_entry(version, t);
        const char *cat_name;
        drv_pkg_catalog *cat;
        collect col = {0};
        char osattr[32];

        if (ce == NULL) {
            problem(c, version->line,
                    "missing %s CatalogFile entry (CatalogFile.%s, CatalogFile.nt, CatalogFile) "
                    "in [Version] (22.9.4)",
                    drv_inf_arch_of(t)->upper, drv_inf_arch_of(t)->nt);
            continue;
        }
        cat_name = drv_inf_field(ce, 0);
        if (*cat_name == 0 || strchr(cat_name, '/') || strchr(cat_name, '\\') ||
            strlen(cat_name) < 5 || drv_strcasecmp(cat_name + strlen(cat_name) - 4, ".cat") != 0) {
            problem(c, ce->line, "CatalogFile '%s' must be a plain file name ending in .cat",
                    cat_name);
            continue;
        }
        cat = catalog_named(pkg, inf->path, cat_name);
        if (cat == NULL) {
            problem(c, 0, "out of memory");
            return;
        }
        if (cat->file_count == 0) {
            cat->path = drv_path_join(dir, cat_name);
            col.cat = cat;
            if (cat->path == NULL || add_file(&col, inf->path, inf_name, inf_name) < 0) {
                problem(c, 0, "out of memory");
                return;
            }
        }
        {
            const drv_os **bigger =
                drv_grow(cat->targets, &cat->target_cap, cat->target_count, 1, sizeof *bigger);
            if (bigger == NULL) {
                problem(c, 0, "out of memory");
                return;
            }
            cat->targets = bigger;
            cat->targets[cat->target_count++] = t;
        }
        col.cat = cat;
        col.target = t;
        models_for_target(c, &col);
        install_with_decoration(c, &col, "ClassInstall32", 0, 0);
        install_with_decoration(c, &col, "DefaultInstall", 0, 0);
        snprintf(osattr, sizeof osattr, "2:%s", t->osattr);
        if (drv_join_unique(&cat->os_tokens, t->token) != 0 ||
            drv_join_unique(&cat->os_attr, osattr) != 0)
            problem(c, 0, "out of memory");
        drv_strmap_free(&col.visited);
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

int drv_pkg_analyze(const char *dir, const drv_pkg_opts *opts, drv_pkg *pkg, drvsign_diag *diag)
{
    drv_strlist names = {0};
    size_t infs = 0, skipped = 0;
    int failed = 0;

    memset(pkg, 0, sizeof *pkg);
    if (!drv_is_dir(dir)) {
        drv_error(diag, dir, drv_file_exists(dir) ? "is not a directory" : "does not exist");
        return -1;
    }
    if (drv_list_dir(dir, &names, diag) != 0)
        return -1;
    for (size_t i = 0; i < names.n; i++) {
        char *path;
        drv_inf inf;
        ctx c = {0};
        unsigned before = diag->errors;

        if (!is_inf_name(names.v[i]))
            continue;
        path = drv_path_join(dir, names.v[i]);
        if (path == NULL || drv_is_dir(path)) {
            free(path);
            continue;
        }
        {
            char what[1100];
            if (drv_entry_at(path, what, sizeof what) != DRV_ENTRY_FILE) {
                drv_error(diag, path, "is %s; a package's INF must be a regular file in it",
                          what);
                failed = 1;
                infs++;
                free(path);
                continue;
            }
        }
        c.opts = opts;
        c.diag = diag;
        drv_strmap_init(&c.reported, 0);
        if (drv_inf_load(&inf, path, diag) != 0) {
            infs++;
            failed = 1;
        } else if (!is_driver_inf(&inf)) {
            drv_warn(diag, path, "not a driver INF (its [Version] Signature is not \"$Windows "
                                 "NT$\"); skipped, as Inf2Cat skips it");
            skipped++;
        } else {
            infs++;
            if (diag->errors != before) /* syntax errors, already reported */
                failed = 1;
            analyze_inf(&inf, dir, opts, pkg, &c);
            failed |= c.failed;
        }
        drv_strmap_free(&c.reported);
        drv_inf_free(&inf);
        free(path);
    }
    pkg->inf_count = infs;
    drv_strlist_free(&names);
    if (infs == 0) {
        if (skipped)
            drv_error(diag, dir, "no driver INF in the root of the directory (%zu INF file%s "
                                 "skipped: no \"$Windows NT$\" Signature)",
                      skipped, skipped == 1 ? "" : "s");
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
        drv_free_list(c->hwids, c->hwid_count);
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
