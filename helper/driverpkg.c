#include "driverpkg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inf.h"
#include "port.h"

/* ---- small string helpers ---- */

typedef struct strlist {
    char **items;
    size_t count;
} strlist;

static int strlist_has(const strlist *l, const char *s, int ci)
{
    for (size_t i = 0; i < l->count; i++)
        if (ci ? drv_strcasecmp(l->items[i], s) == 0 : strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

/* Append unless present; returns 1 if added, 0 if present, -1 when out of memory. */
static int strlist_add(strlist *l, const char *s, int ci)
{
    char **bigger;
    if (strlist_has(l, s, ci))
        return 0;
    bigger = realloc(l->items, (l->count + 1) * sizeof *bigger);
    if (bigger == NULL)
        return -1;
    l->items = bigger;
    l->items[l->count] = drv_strdup(s);
    if (l->items[l->count] == NULL)
        return -1;
    l->count++;
    return 1;
}

static void strlist_free(strlist *l)
{
    drv_free_list(l->items, l->count);
    l->items = NULL;
    l->count = 0;
}

static char *str_printf(const char *fmt, ...) DRV_PRINTF(1, 2);
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s += 32;
}

/* ---- the analysis context ---- */

typedef struct ctx {
    const drv_inf *inf;
    const char *inf_dir;
    const drv_pkg_opts *opts;
    drvsign_diag *diag;
    strlist reported; /* each problem once, even when several targets run into it */
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
        char *key = str_printf("%u:%s", line, msg);
        int added = key ? strlist_add(&c->reported, key, 0) : 1;
        free(key);
        if (added == 0)
            return;
    }
    if (line)
        drv_error_at(c->diag, c->inf->path, line, "%s", msg);
    else
        drv_error(c->diag, c->inf->path, "%s", msg);
}

/* ---- /os lists ---- */

int drv_parse_os_list(const char *const *lists, size_t count, const drv_os ***os, size_t *n,
                      drvsign_diag *diag)
{
    const drv_os **out = NULL;
    size_t used = 0;
    int bad = 0;

    *os = NULL;
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        char *copy = drv_strdup(lists[i]), *save = NULL, *tok;
        if (copy == NULL)
            return -1;
        for (tok = strtok_r(copy, ",; ", &save); tok != NULL; tok = strtok_r(NULL, ",; ", &save)) {
            const drv_os *o = drv_os_find(tok);
            int dup = 0;
            if (o == NULL) {
                const char *near[3];
                size_t k = drv_os_suggest(tok, near, 3);
                if (k == 0)
                    drv_error(diag, NULL, "unknown --os id '%s' (see the Inf2Cat /os table in the README)", tok);
                else
                    drv_error(diag, NULL, "unknown --os id '%s'; did you mean %s%s%s%s%s?", tok,
                              near[0], k > 1 ? ", " : "", k > 1 ? near[1] : "", k > 2 ? ", " : "",
                              k > 2 ? near[2] : "");
                bad = 1;
                continue;
            }
            for (size_t j = 0; j < used; j++)
                dup |= out[j] == o;
            if (dup)
                continue;
            {
                const drv_os **bigger = realloc(out, (used + 1) * sizeof *out);
                if (bigger == NULL) {
                    free(copy);
                    free(out);
                    return -1;
                }
                out = bigger;
                out[used++] = o;
            }
        }
        free(copy);
    }
    if (bad || used == 0) {
        if (!bad)
            drv_error(diag, NULL, "--os names no operating system");
        free(out);
        return -1;
    }
    *os = out;
    *n = used;
    return 0;
}

/* ---- [Version] checks ---- */

/* The architectures INF decorations name, with their NT decoration and their display
 * spelling; drv_os entries only use these. */
typedef struct inf_arch {
    const char *name, *nt, *upper;
} inf_arch;

static const inf_arch inf_arches[] = {
    {"x86", "ntx86", "X86"}, {"amd64", "ntamd64", "AMD64"}, {"ia64", "ntia64", "IA64"},
    {"arm", "ntarm", "ARM"}, {"arm64", "ntarm64", "ARM64"},
};

static const inf_arch *arch_named(const char *name)
{
    for (size_t i = 0; i < sizeof inf_arches / sizeof inf_arches[0]; i++)
        if (strcmp(inf_arches[i].name, name) == 0)
            return &inf_arches[i];
    return NULL;
}

/* For a drv_os architecture: always in the table, so the fallback only keeps a mistake in
 * ostable.c from becoming a NULL dereference. */
static const inf_arch *os_arch(const char *name)
{
    const inf_arch *a = arch_named(name);
    return a != NULL ? a : &inf_arches[sizeof inf_arches / sizeof inf_arches[0] - 1];
}

static int parse_uint(const char *s, size_t len, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static void check_driver_ver(ctx *c, const drv_inf_section *version)
{
    const drv_inf_entry *e = drv_inf_key(version, "DriverVer");
    const char *date, *ver, *p;
    unsigned mm, dd, yyyy, part;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm now_tm;
    time_t now;
    long today, stamp;

    if (e == NULL) {
        problem(c, version->line, "DriverVer missing from [Version] (22.9.6)");
        return;
    }
    date = drv_inf_field(e, 0);
    ver = drv_inf_field(e, 1);
    {
        const char *s1 = strchr(date, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (s1 == NULL || s2 == NULL || parse_uint(date, (size_t)(s1 - date), 12, &mm) != 0 ||
            parse_uint(s1 + 1, (size_t)(s2 - s1 - 1), 31, &dd) != 0 || strlen(s2 + 1) != 4 ||
            parse_uint(s2 + 1, 4, 9999, &yyyy) != 0 || mm == 0 || dd == 0 || dd > mdays[mm - 1] ||
            (mm == 2 && dd == 29 && !(yyyy % 4 == 0 && (yyyy % 100 != 0 || yyyy % 400 == 0))) ||
            yyyy < 1980) {
            problem(c, e->line,
                    "DriverVer date '%s' is not a valid mm/dd/yyyy date (22.9.6)", date);
            return;
        }
    }
    if (*ver != 0) {
        unsigned parts = 0;
        for (p = ver;;) {
            const char *dot = strchr(p, '.');
            size_t len = dot ? (size_t)(dot - p) : strlen(p);
            if (parse_uint(p, len, 65535, &part) != 0 || ++parts > 4) {
                problem(c, e->line, "DriverVer version '%s' is not w.x.y.z with numbers up to "
                                    "65535 (22.9.6)",
                        ver);
                return;
            }
            if (dot == NULL)
                break;
            p = dot + 1;
        }
    }
    now = c->opts->now ? (time_t)c->opts->now : time(NULL);
#ifdef _WIN32
    if (c->opts->use_local_time ? localtime_s(&now_tm, &now) != 0 : gmtime_s(&now_tm, &now) != 0)
        return;
#else
    if ((c->opts->use_local_time ? localtime_r(&now, &now_tm) : gmtime_r(&now, &now_tm)) == NULL)
        return;
#endif
    today = (now_tm.tm_year + 1900L) * 10000 + (now_tm.tm_mon + 1L) * 100 + now_tm.tm_mday;
    stamp = (long)yyyy * 10000 + (long)mm * 100 + dd;
    if (stamp > today)
        problem(c, e->line,
                "DriverVer set to a date in the future (%s; today is %04ld-%02ld-%02ld %s)%s "
                "(22.9.7)",
                date, today / 10000, today / 100 % 100, today % 100,
                c->opts->use_local_time ? "local time" : "UTC",
                c->opts->use_local_time ? "" : "; --use-local-time judges it in local time");
}

/* CatalogFile.nt<arch>, then CatalogFile.nt, then CatalogFile (reference 1.4). */
static const drv_inf_entry *catalog_entry(const drv_inf_section *version, const char *arch)
{
    char key[32];
    const drv_inf_entry *e;
    snprintf(key, sizeof key, "CatalogFile.%s", os_arch(arch)->nt);
    if ((e = drv_inf_key(version, key)) != NULL)
        return e;
    if ((e = drv_inf_key(version, "CatalogFile.nt")) != NULL)
        return e;
    return drv_inf_key(version, "CatalogFile");
}

/* ---- TargetOSVersion decorations: NT[arch][.major[.minor[.ptype[.suite[.build]]]]] ---- */

typedef struct decoration {
    char arch[8];
    unsigned major, minor, ptype, build;
    int has_major, has_minor, has_ptype, has_build;
} decoration;

static int parse_decoration(const char *s, decoration *d)
{
    const char *p;
    size_t n;
    memset(d, 0, sizeof *d);
    if ((s[0] != 'N' && s[0] != 'n') || (s[1] != 'T' && s[1] != 't'))
        return -1;
    s += 2;
    p = strchr(s, '.');
    n = p ? (size_t)(p - s) : strlen(s);
    if (n >= sizeof d->arch)
        return -1;
    memcpy(d->arch, s, n);
    d->arch[n] = 0;
    lower(d->arch);
    if (n > 0 && arch_named(d->arch) == NULL)
        return -1;
    for (int field = 0; p != NULL && field < 5; field++) {
        const char *q = strchr(p + 1, '.');
        size_t len = q ? (size_t)(q - p - 1) : strlen(p + 1);
        unsigned v;
        if (len > 0) {
            if (parse_uint(p + 1, len, 0xffffffu, &v) != 0)
                return -1;
            switch (field) {
            case 0: d->major = v, d->has_major = 1; break;
            case 1: d->minor = v, d->has_minor = 1; break;
            case 2: d->ptype = v, d->has_ptype = 1; break;
            case 4: d->build = v, d->has_build = 1; break;
            default: break; /* SuiteMask does not decide applicability for a catalog */
            }
        }
        p = q;
    }
    return p == NULL ? 0 : -1; /* more than major.minor.type.suite.build */
}

/* Does a models section decorated with d apply to target t? Non-x86 platforms need the
 * architecture in the decoration (since Windows Server 2003 SP1). */
static int decoration_applies(const decoration *d, const drv_os *t)
{
    if (d->arch[0] ? strcmp(d->arch, t->arch) != 0 : strcmp(t->arch, "x86") != 0)
        return 0;
    if (d->has_major && (t->major < d->major ||
                         (t->major == d->major && d->has_minor && t->minor < d->minor)))
        return 0;
    if (d->has_build && t->build < d->build)
        return 0;
    if (d->has_ptype && ((d->ptype == 1) == (t->server != 0)))
        return 0;
    return 1;
}

static int decoration_better(const decoration *a, const decoration *b)
{
    if ((a->arch[0] != 0) != (b->arch[0] != 0))
        return a->arch[0] != 0;
    if (a->major != b->major)
        return a->major > b->major;
    if (a->minor != b->minor)
        return a->minor > b->minor;
    return a->build > b->build;
}

/* ---- following install sections to CopyFiles ---- */

typedef struct collect {
    drv_pkg_catalog *cat;
    const drv_os *target;
    strlist visited;
    strlist hwids;
} collect;

static int add_file(ctx *c, collect *col, const char *path, const char *name, const char *rel)
{
    drv_pkg_catalog *cat = col->cat;
    drv_pkg_file *bigger, *f;
    for (size_t i = 0; i < cat->file_count; i++)
        if (strcmp(cat->files[i].path, path) == 0)
            return 0;
    bigger = realloc(cat->files, (cat->file_count + 1) * sizeof *bigger);
    if (bigger == NULL)
        return -1;
    cat->files = bigger;
    f = &bigger[cat->file_count];
    f->path = drv_strdup(path);
    f->name = drv_strdup(name);
    f->rel = drv_strdup(rel);
    f->source_name = drv_strdup(name);
    if (f->path == NULL || f->name == NULL || f->rel == NULL || f->source_name == NULL)
        return -1;
    lower(f->name);
    cat->file_count++;
    (void)c;
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
        if (path == NULL || add_file(c, col, path, file, rel) != 0)
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
        if (add_file(c, col, path, file, r) != 0)
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

static void install_section(ctx *c, collect *col, const char *name)
{
    const drv_inf_section *s = drv_inf_find_section(c->inf, name);
    int added;
    if (s == NULL)
        return;
    added = strlist_add(&col->visited, name, 1);
    if (added <= 0)
        return; /* seen (Needs loops) or out of memory */
    for (size_t i = 0; i < s->count; i++) {
        const drv_inf_entry *e = &s->entries[i];
        if (e->key == NULL)
            continue;
        if (drv_strcasecmp(e->key, "CopyFiles") == 0)
            copy_files_directive(c, col, e);
        else if (drv_strcasecmp(e->key, "Needs") == 0)
            /* Needs sections from other INFs (Include=) are theirs to catalog */
            for (size_t k = 0; k < e->value_count; k++)
                install_section(c, col, e->values[k]);
    }
}

/* An install section with its best platform decoration, and the sections that go with it. */
static int install_with_decoration(ctx *c, collect *col, const char *base, int required,
                                   unsigned line)
{
    static const char *const companions[] = {"", ".CoInstallers", ".Services", ".HW", ".Wdf"};
    char name[256], chosen[256] = "";
    const char *arch = col->target->arch;
    const char *tries[3];
    char dec[256], nt[256];

    snprintf(dec, sizeof dec, "%s.%s", base, os_arch(arch)->nt);
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
                    base, arch, dec, nt, base);
        return 0;
    }
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        snprintf(name, sizeof name, "%s%s", chosen, companions[i]);
        install_section(c, col, name);
    }
    return 1;
}

static void models_for_target(ctx *c, collect *col)
{
    const drv_inf_section *mfg = drv_inf_find_section(c->inf, "Manufacturer");
    const drv_os *t = col->target;
    int any = 0;

    if (mfg == NULL)
        return;
    for (size_t i = 0; i < mfg->count; i++) {
        const drv_inf_entry *e = &mfg->entries[i];
        const char *base = drv_inf_field(e, 0);
        decoration best, d;
        const char *best_text = NULL;
        char name[512];
        const drv_inf_section *models;

        memset(&best, 0, sizeof best);
        for (size_t k = 1; k < e->value_count; k++) {
            if (*e->values[k] == 0)
                continue;
            if (parse_decoration(e->values[k], &d) != 0) {
                problem(c, e->line, "'%s' is not a TargetOSVersion decoration "
                                    "(NT[arch][.major[.minor[.type[.suite[.build]]]]])",
                        e->values[k]);
                continue;
            }
            if (decoration_applies(&d, t) && (best_text == NULL || decoration_better(&d, &best))) {
                best = d;
                best_text = e->values[k];
            }
        }
        if (best_text != NULL)
            snprintf(name, sizeof name, "%s.%s", base, best_text);
        else if (strcmp(t->arch, "x86") == 0)
            snprintf(name, sizeof name, "%s", base);
        else
            continue;
        models = drv_inf_find_section(c->inf, name);
        if (models == NULL) {
            problem(c, e->line, "[Manufacturer] names models section [%s], which does not exist",
                    name);
            continue;
        }
        any = 1;
        for (size_t m = 0; m < models->count; m++) {
            const drv_inf_entry *model = &models->entries[m];
            for (size_t k = 1; k < model->value_count; k++)
                if (*model->values[k]) {
                    char *id = drv_strdup(model->values[k]);
                    if (id != NULL) {
                        lower(id);
                        strlist_add(&col->hwids, id, 0);
                        free(id);
                    }
                }
            install_with_decoration(c, col, drv_inf_field(model, 0), 1, model->line);
        }
    }
    if (!any && strcmp(t->arch, "x86") != 0)
        problem(c, mfg->line,
                "[Manufacturer] has no models section for %s (%s): add an NT%s decoration; "
                "non-x86 platforms ignore undecorated models",
                t->arch, t->id, t->arch);
}

/* ---- one INF ---- */

static drv_pkg_catalog *catalog_named(drv_pkg *pkg, const char *inf_path, const char *name)
{
    drv_pkg_catalog *bigger;
    for (size_t i = 0; i < pkg->count; i++)
        if (drv_strcasecmp(pkg->catalogs[i].name, name) == 0 &&
            strcmp(pkg->catalogs[i].inf_path, inf_path) == 0)
            return &pkg->catalogs[i];
    bigger = realloc(pkg->catalogs, (pkg->count + 1) * sizeof *bigger);
    if (bigger == NULL)
        return NULL;
    pkg->catalogs = bigger;
    memset(&bigger[pkg->count], 0, sizeof bigger[0]);
    bigger[pkg->count].inf_path = drv_strdup(inf_path);
    bigger[pkg->count].name = drv_strdup(name);
    if (bigger[pkg->count].inf_path == NULL || bigger[pkg->count].name == NULL)
        return NULL;
    return &bigger[pkg->count++];
}

int drv_join_unique(char **out, const char *item)
{
    char *s;
    if (*out != NULL) {
        /* exact comma-separated membership */
        const char *p = *out;
        size_t n = strlen(item);
        while (p != NULL) {
            if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == 0))
                return 0;
            p = strchr(p, ',');
            if (p != NULL)
                p++;
        }
    }
    s = *out ? str_printf("%s,%s", *out, item) : drv_strdup(item);
    if (s == NULL)
        return -1;
    free(*out);
    *out = s;
    return 0;
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
        const drv_inf_entry *ce = catalog_entry(version, t->arch);
        const char *cat_name;
        drv_pkg_catalog *cat;
        collect col = {0};
        char osattr[32];

        if (ce == NULL) {
            problem(c, version->line,
                    "missing %s CatalogFile entry (CatalogFile.%s, CatalogFile.nt, CatalogFile) "
                    "in [Version] (22.9.4)",
                    os_arch(t->arch)->upper, os_arch(t->arch)->nt);
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
            if (cat->path == NULL || add_file(c, &col, inf->path, inf_name, inf_name) != 0) {
                problem(c, 0, "out of memory");
                return;
            }
        }
        {
            const drv_os **bigger = realloc(cat->targets, (cat->target_count + 1) * sizeof *bigger);
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
        for (size_t k = 0; k < col.hwids.count; k++) {
            int seen = 0;
            for (size_t j = 0; j < cat->hwid_count; j++)
                seen |= strcmp(cat->hwids[j], col.hwids.items[k]) == 0;
            if (!seen) {
                char **bigger = realloc(cat->hwids, (cat->hwid_count + 1) * sizeof *bigger);
                if (bigger == NULL)
                    break;
                cat->hwids = bigger;
                cat->hwids[cat->hwid_count] = drv_strdup(col.hwids.items[k]);
                if (cat->hwids[cat->hwid_count] != NULL)
                    cat->hwid_count++;
            }
        }
        snprintf(osattr, sizeof osattr, "2:%s", t->osattr);
        if (drv_join_unique(&cat->os_tokens, t->token) != 0 ||
            drv_join_unique(&cat->os_attr, osattr) != 0)
            problem(c, 0, "out of memory");
        strlist_free(&col.visited);
        strlist_free(&col.hwids);
    }
}

static int is_inf_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && drv_strcasecmp(name + n - 4, ".inf") == 0;
}

int drv_pkg_analyze(const char *dir, const drv_pkg_opts *opts, drv_pkg *pkg, drvsign_diag *diag)
{
    char **names = NULL;
    size_t count = 0, infs = 0;
    int failed = 0;

    memset(pkg, 0, sizeof *pkg);
    if (!drv_is_dir(dir)) {
        drv_error(diag, dir, "not a directory");
        return -1;
    }
    if (drv_list_dir(dir, &names, &count, diag) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        char *path;
        drv_inf inf;
        ctx c = {0};
        unsigned before = diag->errors;

        if (!is_inf_name(names[i]))
            continue;
        path = drv_path_join(dir, names[i]);
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
        infs++;
        c.opts = opts;
        c.diag = diag;
        if (drv_inf_load(&inf, path, diag) != 0) {
            failed = 1;
        } else {
            if (diag->errors != before) /* syntax errors, already reported */
                failed = 1;
            analyze_inf(&inf, dir, opts, pkg, &c);
            failed |= c.failed;
        }
        strlist_free(&c.reported);
        drv_inf_free(&inf);
        free(path);
    }
    drv_free_list(names, count);
    if (infs == 0) {
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
