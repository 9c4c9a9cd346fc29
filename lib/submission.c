/*
 * drvsign_cab and drvsign_archive: package directories into a Partner Center submission
 * cabinet (signed in the same step when a signer is given), or into a zip/tar/7z archive.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive_writer.h"
#include "build_time.h"
#include "bytes.h"
#include "cab.h"
#include "inf.h"
#include "pe.h"
#include "port.h"
#include "submission_rules.h"

typedef struct item {
    char *path; /* on disk; NULL for a directory */
    char *name; /* in the archive: "<package>/<relative path>" with '/' */
    int64_t mtime;
} item;

typedef struct items {
    item *v;
    size_t count, cap;
} items;

static int push(items *l, const char *path, const char *name, int64_t mtime)
{
    item *bigger = drv_grow(l->v, &l->cap, l->count, 1, sizeof *bigger);
    if (bigger == NULL)
        return -1;
    l->v = bigger;
    bigger[l->count].path = path ? drv_strdup(path) : NULL;
    bigger[l->count].name = drv_strdup(name);
    bigger[l->count].mtime = mtime;
    if ((path && bigger[l->count].path == NULL) || bigger[l->count].name == NULL) {
        free(bigger[l->count].path);
        free(bigger[l->count].name);
        return -1;
    }
    l->count++;
    return 0;
}

static void items_free(items *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->v[i].path);
        free(l->v[i].name);
    }
    free(l->v);
    l->v = NULL;
    l->count = l->cap = 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const item *)a)->name, ((const item *)b)->name);
}

/* A package is a closed world: nothing outside its directory may be packed. So the walk
 * takes regular files and real directories only; a symbolic link (which may lead anywhere), a
 * FIFO (which would block) or a device is refused by name. */
static void refuse_entry(const char *path, const char *what, drvsign_diag *diag)
{
    drv_error(diag, path,
              "is %s; a package holds only regular files and directories, and nothing from "
              "outside it: copy the file into the package instead",
              what);
}

/* Everything below dir, files (and directories when with_dirs), named prefix/relative; every
 * refused entry reported, then -1. */
static int walk(const char *dir, const char *prefix, int depth, int with_dirs, items *out,
                drvsign_diag *diag)
{
    drv_strlist names;
    int rc = 0;

    if (depth > 32) {
        drv_error(diag, dir, "directories nest too deep");
        return -1;
    }
    if (drv_list_dir(dir, &names, diag) != 0)
        return -1;
    for (size_t i = 0; i < names.n; i++) {
        char *path = drv_path_join(dir, names.v[i]);
        char *name = drv_path_join(prefix, names.v[i]);
        char what[1100];
        drv_entry kind = path ? drv_entry_at(path, what, sizeof what) : DRV_ENTRY_NONE;
        if (path == NULL || name == NULL) {
            free(path);
            free(name);
            rc = -1;
            break;
        }
        if (kind == DRV_ENTRY_DIR) {
            if (with_dirs && push(out, NULL, name, drv_file_mtime(path)) != 0)
                rc = -1;
            else if (walk(path, name, depth + 1, with_dirs, out, diag) != 0)
                rc = -1;
        } else if (kind == DRV_ENTRY_FILE) {
            if (push(out, path, name, drv_file_mtime(path)) != 0)
                rc = -1;
        } else {
            refuse_entry(path, what, diag);
            rc = -1;
        }
        free(path);
        free(name);
    }
    drv_strlist_free(&names);
    return rc;
}

/* The folder name a package directory gets: its last path component. */
static char *package_name(const char *dir)
{
    size_t n = strlen(dir);
    const char *start;
    char *name;
    while (n > 1 && (dir[n - 1] == '/' || dir[n - 1] == '\\'))
        n--;
    start = dir + n;
    while (start > dir && start[-1] != '/' && start[-1] != '\\')
        start--;
    name = malloc((size_t)(dir + n - start) + 1);
    if (name != NULL) {
        memcpy(name, start, (size_t)(dir + n - start));
        name[dir + n - start] = 0;
    }
    return name;
}

static int64_t fixed_time(const drvsign_params *p, drvsign_diag *diag)
{
    return p->time != 0 ? p->time : drv_source_date_epoch(diag);
}

static int has_pe_extension(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && (drv_strcasecmp(name + n - 4, ".sys") == 0 ||
                     drv_strcasecmp(name + n - 4, ".dll") == 0 ||
                     drv_strcasecmp(name + n - 4, ".exe") == 0);
}

/* For every driver binary, its .pdb from pdb_dir (same base name), placed beside it. */
static int add_pdbs(items *files, const char *pdb_dir, drvsign_diag *diag)
{
    drv_strlist names;
    size_t original = files->count;
    int rc = 0;
    if (!drv_is_dir(pdb_dir)) {
        drv_error(diag, pdb_dir, "%s needs a directory",
                  drv_param(diag, DRVSIGN_PARAM_INCLUDE_PDB));
        return -1;
    }
    if (drv_list_dir(pdb_dir, &names, diag) != 0)
        return -1;
    for (size_t i = 0; i < original && rc == 0; i++) {
        const char *name = files->v[i].name, *slash = strrchr(name, '/');
        const char *base = slash ? slash + 1 : name;
        size_t stem = strlen(base) - 4;
        if (!has_pe_extension(base))
            continue;
        for (size_t k = 0; k < names.n; k++) {
            char want[512], target[1024];
            int present = 0;
            snprintf(want, sizeof want, "%.*s.pdb", (int)stem, base);
            if (drv_strcasecmp(names.v[k], want) != 0)
                continue;
            snprintf(target, sizeof target, "%.*s%s", (int)(base - name), name, names.v[k]);
            for (size_t j = 0; j < files->count; j++)
                present |= drv_strcasecmp(files->v[j].name, target) == 0;
            if (!present) {
                char *path = drv_path_join(pdb_dir, names.v[k]), what[1100];
                if (path != NULL && drv_entry_at(path, what, sizeof what) != DRV_ENTRY_FILE) {
                    refuse_entry(path, what, diag);
                    rc = -1;
                } else
                    rc = path ? push(files, path, target, drv_file_mtime(path)) : -1;
                free(path);
            }
            break;
        }
    }
    drv_strlist_free(&names);
    return rc;
}

/* Collect each package directory as a folder of its name; with_dirs adds directory entries. */
static int collect(const char *const *dirs, size_t count, int with_dirs, items *out,
                   char **names, drvsign_diag *diag)
{
    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        names[i] = package_name(dirs[i]);
        if (names[i] == NULL)
            return -1;
        if (!drv_is_dir(dirs[i])) {
            drv_error(diag, dirs[i], "not a package directory; files at the root of a "
                                     "submission are refused, so give directories");
            failed = 1;
            continue;
        }
        for (size_t k = 0; k < i; k++)
            if (names[k] != NULL && drv_strcasecmp(names[k], names[i]) == 0) {
                drv_error(diag, dirs[i], "another package directory is also named %s", names[i]);
                failed = 1;
            }
        if ((with_dirs && push(out, NULL, names[i], drv_file_mtime(dirs[i])) != 0) ||
            walk(dirs[i], names[i], 0, with_dirs, out, diag) != 0)
            failed = 1;
    }
    return failed ? -1 : 0;
}

drvsign_status drvsign_cab(const drvsign_params *p, const char *const *dirs, size_t count,
                           FILE *report, drvsign_diag *diag)
{
    items files = {0};
    char **names = calloc(count ? count : 1, sizeof *names);
    unsigned first_arches = 0;
    drv_cab_input *inputs = NULL;
    drv_cab_write_opts opts = {1, 0, drv_cpu_count()};
    drv_atomic out = {0};
    int failed = 0, sign = p->pfx != NULL || p->cert != NULL;
    drvsign_status status = DRVSIGN_FAILED;

    out.fd = -1;
    if (names == NULL) {
        drv_error(diag, NULL, "out of memory");
        goto done;
    }
    if (drvsign_check_params(DRVSIGN_OP_CAB, p, count, diag) != DRVSIGN_OK) {
        status = DRVSIGN_USAGE;
        goto done;
    }
    opts.mszip = p->compression == NULL || strcmp(p->compression, "mszip") == 0;
    opts.time = fixed_time(p, diag);
    if (collect(dirs, count, 0, &files, names, diag) != 0)
        failed = 1;
    /* Partner Center's rules, each with its own error */
    for (size_t i = 0; i < count && !failed; i++) {
        int infs = 0;
        unsigned arches = 0, before;
        if (!drv_pc_folder_name_ok(names[i])) {
            drv_error(diag, dirs[i],
                      "the folder name '%s' is not accepted by Partner Center: under 40 "
                      "characters, letters, digits, '.', '_' and '-' only",
                      names[i]);
            failed = 1;
        }
        for (size_t k = 0; k < files.count; k++) {
            size_t nl = strlen(names[i]);
            const char *rel = files.v[k].name + nl + 1;
            if (strncmp(files.v[k].name, names[i], nl) != 0 || files.v[k].name[nl] != '/' ||
                strchr(rel, '/') != NULL || !drv_pc_is_inf(rel))
                continue;
            infs++;
            before = diag->errors;
            arches |= drv_pc_inf_arches(files.v[k].path, diag);
            if (diag->errors != before)
                failed = 1; /* an INF Partner Center cannot read */
        }
        if (infs == 0) {
            drv_error(diag, dirs[i], "no .inf file at the root of the package folder %s; Partner "
                                     "Center refuses it (\"No .inf files found in driver "
                                     "directory\")",
                      names[i]);
            failed = 1;
        } else if (first_arches == 0)
            first_arches = arches;
        else if (first_arches != arches) {
            char mine[64], theirs[64];
            drv_pc_arch_text(arches, mine, sizeof mine);
            drv_pc_arch_text(first_arches, theirs, sizeof theirs);
            drv_error(diag, dirs[i],
                      "package %s supports %s, but %s supports %s; every package in a "
                      "submission must support the same architectures",
                      names[i], mine, names[0], theirs);
            failed = 1;
        }
    }
    if (!failed && p->include_pdb != NULL && add_pdbs(&files, p->include_pdb, diag) != 0)
        failed = 1;
    if (failed)
        goto done;
    qsort(files.v, files.count, sizeof *files.v, by_name);
    inputs = calloc(files.count ? files.count : 1, sizeof *inputs);
    if (inputs == NULL) {
        drv_error(diag, p->out, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < files.count; i++) {
        for (char *c = files.v[i].name; *c; c++)
            if (*c == '/')
                *c = '\\'; /* CFFILE names use backslashes */
        inputs[i].path = files.v[i].path;
        inputs[i].name = files.v[i].name;
        inputs[i].mtime = files.v[i].mtime;
    }
    if (drv_atomic_open(&out, p->out, NULL, diag) != 0 ||
        drv_cab_write(inputs, files.count, &opts, &out, diag) != 0)
        goto done;
    if (sign) {
        /* sign the finished temp file into the target: the target only ever sees the signed
         * cabinet, and a failed signing leaves it as it was */
        const char *unsigned_cab;
        drvsign_params sp = *p;
        if (drv_atomic_close(&out, diag) != 0)
            goto done;
        unsigned_cab = out.tmp;
        sp.append = 0;
        if (drvsign_sign(&sp, &unsigned_cab, 1, diag) != DRVSIGN_OK)
            goto done;
    } else if (drv_atomic_commit(&out, diag) != 0)
        goto done;
    if (!p->quiet)
        fprintf(report, "%s: %zu package%s, %zu files (%s)%s\n", p->out, count,
                count == 1 ? "" : "s", files.count, opts.mszip ? "mszip" : "stored",
                sign ? ", signed" : "");
    status = DRVSIGN_OK;
done:
    drv_atomic_abort(&out);
    for (size_t i = 0; names != NULL && i < count; i++)
        free(names[i]);
    free(names);
    free(inputs);
    items_free(&files);
    return status;
}

drvsign_status drvsign_archive(const drvsign_params *p, const char *const *dirs, size_t count,
                               FILE *report, drvsign_diag *diag)
{
    items entries = {0};
    char **names = calloc(count ? count : 1, sizeof *names);
    drv_archive_entry *list = NULL;
    drv_atomic out = {0};
    drvsign_status status = DRVSIGN_FAILED;

    out.fd = -1;
    if (names == NULL)
        return DRVSIGN_FAILED;
    if (drvsign_check_params(DRVSIGN_OP_ARCHIVE, p, count, diag) != DRVSIGN_OK) {
        free(names);
        return DRVSIGN_USAGE;
    }
    if (collect(dirs, count, 1, &entries, names, diag) != 0)
        goto done;
    qsort(entries.v, entries.count, sizeof *entries.v, by_name);
    list = calloc(entries.count ? entries.count : 1, sizeof *list);
    if (list == NULL)
        goto done;
    for (size_t i = 0; i < entries.count; i++) {
        list[i].path = entries.v[i].path;
        list[i].name = entries.v[i].name;
        list[i].mtime = entries.v[i].mtime;
    }
    if (drv_atomic_open(&out, p->out, NULL, diag) != 0 ||
        drv_archive_write(p->archive_format, list, entries.count, fixed_time(p, diag), &out,
                          diag) != 0 ||
        drv_atomic_commit(&out, diag) != 0)
        goto done;
    if (!p->quiet)
        fprintf(report, "%s: %zu entries (%s)\n", p->out, entries.count, p->archive_format);
    status = DRVSIGN_OK;
done:
    drv_atomic_abort(&out);
    for (size_t i = 0; names != NULL && i < count; i++)
        free(names[i]);
    free(names);
    free(list);
    items_free(&entries);
    return status;
}
