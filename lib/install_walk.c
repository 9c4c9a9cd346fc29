#include "install_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "decoration.h"
#include "port.h"

int drv_pkg_add_file(drv_pkg_catalog *cat, const char *path, const char *name, const char *rel)
{
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

/* key in [base.arch], else in [base]: how SourceDisksFiles/Names decorations work */
static const drv_inf_entry *lookup_decorated(const drv_inf *inf, const char *base, const char *arch,
                                             const char *key)
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

static void copy_file(drv_install_walk *w, const char *file, const char *where, unsigned line)
{
    const char *arch = w->target->arch;
    const drv_inf_entry *sdf = lookup_decorated(w->inf, "SourceDisksFiles", arch, file);
    const drv_inf_entry *sdn;
    const char *disk_id;
    char rel[1024] = "";
    int escapes = 0;
    char *path;

    if (*file == 0)
        return;
    if (strchr(file, '\\') != NULL || strchr(file, '/') != NULL) {
        drv_inf_problem(w->problems, line,
                        "CopyFiles names '%s', but a file name cannot hold a path", file);
        return;
    }
    if (sdf == NULL) {
        drv_inf_problem(w->problems, line,
                        "CopyFiles names %s, but [SourceDisksFiles] does not list it (22.9.10)",
                        file);
        return;
    }
    disk_id = drv_inf_field(sdf, 0);
    sdn = lookup_decorated(w->inf, "SourceDisksNames", arch, disk_id);
    if (sdn == NULL) {
        drv_inf_problem(w->problems, sdf->line,
                        "%s is on disk '%s', which [SourceDisksNames] does not list (22.9.1)", file,
                        disk_id);
        return;
    }
    if (append_rel(rel, sizeof rel, drv_inf_field(sdn, 3), &escapes) != 0 ||
        append_rel(rel, sizeof rel, drv_inf_field(sdf, 1), &escapes) != 0 ||
        append_rel(rel, sizeof rel, file, &escapes) != 0) {
        drv_inf_problem(w->problems, sdf->line, "the path of %s is too long", file);
        return;
    }
    if (escapes) {
        drv_inf_problem(w->problems, sdf->line, "the path of %s (%s) leaves the package directory",
                        file, rel);
        return;
    }
    if (w->plan_only) {
        /* the files are not built yet: say where they will go */
        path = drv_path_join(w->inf_dir, rel);
        if (path == NULL || drv_pkg_add_file(w->cat, path, file, rel) < 0)
            drv_inf_problem(w->problems, 0, "out of memory");
        free(path);
        return;
    }
    path = drv_resolve_ci(w->inf_dir, rel);
    if (path == NULL) {
        drv_inf_problem(
            w->problems, line,
            "%s in [%s] is missing: SourceDisksNames and SourceDisksFiles place it at %s, "
            "relative to the INF (22.9.1)",
            file, where, rel);
        return;
    }
    char what[1200];
    if (drv_is_dir(path))
        drv_inf_problem(w->problems, line, "%s in [%s] resolves to a directory (%s) (22.9.1)", file,
                        where, rel);
    else if (!drv_inside_package(w->inf_dir, path, what, sizeof what))
        /* a package is a closed world: a link could put any file into the catalog */
        drv_inf_problem(w->problems, line, "%s in [%s] is not a file of the package: %s", file,
                        where, what);
    else {
        /* the relative path as it exists on disk, case and all */
        const char *r = path + strlen(w->inf_dir);
        while (*r == '/')
            r++;
        if (drv_pkg_add_file(w->cat, path, file, r) < 0)
            drv_inf_problem(w->problems, 0, "out of memory");
    }
    free(path);
}

static void copy_files_directive(drv_install_walk *w, const drv_inf_entry *e)
{
    for (size_t i = 0; i < e->value_count; i++) {
        const char *v = e->values[i];
        const drv_inf_section *list;
        if (*v == 0)
            continue;
        if (*v == '@') {
            copy_file(w, v + 1, "CopyFiles", e->line);
            continue;
        }
        list = drv_inf_find_section(w->inf, v);
        if (list == NULL) {
            drv_inf_problem(w->problems, e->line,
                            "CopyFiles names section [%s], which does not exist", v);
            continue;
        }
        for (size_t k = 0; k < list->count; k++) {
            const drv_inf_entry *f = &list->entries[k];
            /* destination[,source[,temporary[,flags]]]: the source name is what ships */
            const char *source = drv_inf_field(f, 1);
            copy_file(w, *source ? source : drv_inf_field(f, 0), list->name, f->line);
        }
    }
}

/* CopyINF names companion INFs, which must sit beside this one; their files go into their
 * own catalogs. */
static void copy_inf_directive(drv_install_walk *w, const drv_inf_entry *e)
{
    for (size_t i = 0; i < e->value_count; i++) {
        const char *name = e->values[i];
        char *path;
        if (*name == 0)
            continue;
        if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL) {
            drv_inf_problem(w->problems, e->line,
                            "CopyINF names '%s', but the INF it copies must sit beside this "
                            "one (no path)",
                            name);
            continue;
        }
        if (w->plan_only)
            continue; /* companions are staged later */
        path = drv_resolve_ci(w->inf_dir, name);
        if (path == NULL)
            drv_inf_problem(w->problems, e->line,
                            "CopyINF names %s, which is not in the package beside this INF", name);
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
static void install_section(drv_install_walk *w, const char *name)
{
    const drv_inf_section **todo = NULL;
    size_t count = 0, cap = 0;
    const drv_inf_section *first = drv_inf_find_section(w->inf, name);
    int added;

    if (first == NULL)
        return;
    added = drv_strmap_put(&w->visited, first->name, 0);
    if (added <= 0 || push_section(&todo, &cap, count) != 0) {
        if (added < 0)
            drv_inf_problem(w->problems, 0, "out of memory");
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
                copy_files_directive(w, e);
            else if (drv_strcasecmp(e->key, "CopyINF") == 0)
                copy_inf_directive(w, e);
            else if (drv_strcasecmp(e->key, "Needs") == 0)
                for (size_t k = e->value_count; k-- > 0;) { /* in order once popped */
                    const drv_inf_section *next = drv_inf_find_section(w->inf, e->values[k]);
                    if (next == NULL)
                        continue;
                    added = drv_strmap_put(&w->visited, next->name, 0);
                    if (added < 0 || (added && push_section(&todo, &cap, count) != 0)) {
                        drv_inf_problem(w->problems, 0, "out of memory");
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
int drv_install_walk_section(drv_install_walk *w, const char *base, int required, unsigned line)
{
    static const char *const companions[] = {"",     ".CoInstallers", ".Services", ".HW",
                                             ".Wdf", ".Components",   ".Software"};
    char name[512], chosen[512] = "";
    const drv_os *t = w->target;
    const char *tries[3];
    char dec[512], nt[512];

    snprintf(dec, sizeof dec, "%s.%s", base, drv_inf_arch_of(t)->nt);
    snprintf(nt, sizeof nt, "%s.NT", base);
    tries[0] = dec;
    tries[1] = nt;
    tries[2] = base;
    for (int i = 0; i < 3 && !chosen[0]; i++)
        if (drv_inf_find_section(w->inf, tries[i]) != NULL)
            snprintf(chosen, sizeof chosen, "%s", tries[i]);
    if (!chosen[0]) {
        if (required)
            drv_inf_problem(w->problems, line,
                            "install section %s does not exist for %s (tried [%s], [%s], [%s])",
                            base, t->arch, dec, nt, base);
        return 0;
    }
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        snprintf(name, sizeof name, "%s%s", chosen, companions[i]);
        install_section(w, name);
    }
    return 1;
}
