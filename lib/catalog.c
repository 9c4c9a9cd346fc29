/*
 * drvsign_catalog: Inf2Cat (from the INF files of a package) and makecat (from a file list).
 * Member digests come from the format handlers, computed in parallel across files.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_time.h"
#include "ctl.h"
#include "driverpkg.h"
#include "formats.h"
#include "hash_files.h"
#include "port.h"

static int64_t catalog_time(const drvsign_params *p, drvsign_diag *diag)
{
    int64_t sde;
    if (p->time != 0)
        return p->time;
    sde = drv_source_date_epoch(diag);
    return sde != 0 ? sde : (int64_t)time(NULL);
}

/* Hash the files and write one catalog. */
static int write_catalog(const drvsign_params *p, const char *out_path, const char **paths,
                         const char **names, size_t count, const char *os_attr,
                         const drv_ctl_attr *attrs, size_t attr_count, int64_t when,
                         drvsign_diag *diag)
{
    drv_member_hash *hashes = calloc(count ? count : 1, sizeof *hashes);
    drv_ctl_file *files = calloc(count ? count : 1, sizeof *files);
    drv_ctl_build build = {0};
    unsigned char *der = NULL;
    size_t der_len;
    drv_atomic out = {0};
    int v2 = p->catalog_version == 2, rc = -1;

    out.fd = -1;
    if (hashes == NULL || files == NULL) {
        drv_error(diag, out_path, "out of memory");
        goto done;
    }
    /* progress only when it takes a while (the sink decides who sees it) */
    if (drv_hash_files(paths, count, v2, p->page_hashes, !p->quiet && !diag->quiet && count > 20,
                       hashes, NULL, diag) != 0)
        goto done;
    for (size_t i = 0; i < count; i++) {
        files[i].name = names[i];
        files[i].sip = hashes[i].sip;
        memcpy(files[i].sha1, hashes[i].sha1, sizeof files[i].sha1);
        memcpy(files[i].sha256, hashes[i].sha256, sizeof files[i].sha256);
        files[i].page_hashes_sha1 = hashes[i].page_hashes_sha1;
        files[i].page_hashes_sha1_len = hashes[i].page_hashes_sha1_len;
        files[i].page_hashes_sha256 = hashes[i].page_hashes_sha256;
        files[i].page_hashes_sha256_len = hashes[i].page_hashes_sha256_len;
    }
    build.version = v2 ? 2 : 1;
    build.this_update = when;
    build.files = files;
    build.file_count = count;
    build.os_attr = os_attr;
    build.attrs = attrs;
    build.attr_count = attr_count;
    if (drv_ctl_write(&build, &der, &der_len, out_path, diag) != 0)
        goto done;
    if (drv_atomic_open(&out, out_path, NULL, diag) != 0 ||
        drv_atomic_write(&out, der, der_len, diag) != 0 || drv_atomic_commit(&out, diag) != 0)
        goto done;
    rc = 0;
done:
    drv_atomic_abort(&out);
    OPENSSL_free(der);
    for (size_t i = 0; hashes != NULL && i < count; i++)
        drv_member_hash_free(&hashes[i]);
    free(hashes);
    free(files);
    return rc;
}

static drvsign_status catalog_driver(const drvsign_params *p, const drv_os **os, size_t os_count,
                                     FILE *report, drvsign_diag *diag)
{
    drv_pkg pkg;
    drv_pkg_opts opts = {os, os_count, p->use_local_time, 0, 0};
    int64_t when = catalog_time(p, diag);
    drvsign_status status = DRVSIGN_OK;

    if (drv_pkg_analyze(p->driver_dir, &opts, &pkg, diag) != 0) {
        /* Inf2Cat's verdict is about INF checks: none ran for a missing directory or no INF */
        if (!p->quiet && pkg.inf_count > 0)
            fprintf(report, "Signability test failed.\n");
        drv_pkg_free(&pkg);
        return DRVSIGN_FAILED;
    }
    if (p->out != NULL && pkg.count != 1) {
        drv_error(diag, p->driver_dir, "%s needs exactly one catalog, but the INF files name %zu",
                  drv_param(diag, DRVSIGN_PARAM_OUT), pkg.count);
        drv_pkg_free(&pkg);
        return DRVSIGN_USAGE;
    }
    if (!p->quiet)
        fprintf(report, "Signability test complete.\n");
    for (size_t i = 0; i < pkg.count && !p->no_catalog; i++) {
        drv_pkg_catalog *c = &pkg.catalogs[i];
        /* calloc(0) may be NULL, which is not "out of memory" */
        const char **paths = calloc(c->file_count ? c->file_count : 1, sizeof *paths);
        const char **names = calloc(c->file_count ? c->file_count : 1, sizeof *names);
        drv_ctl_attr *attrs = calloc(c->hwids.n + 1, sizeof *attrs);
        char (*hwid_names)[32] = calloc(c->hwids.n + 1, sizeof *hwid_names);
        size_t n = 0;
        char *in_dir = p->catalog_dir ? drv_path_join(p->catalog_dir, c->name) : NULL;
        const char *out_path = p->out ? p->out : in_dir ? in_dir : c->path;

        if (paths == NULL || names == NULL || attrs == NULL || hwid_names == NULL) {
            drv_error(diag, c->path, "out of memory");
            status = DRVSIGN_FAILED;
        } else {
            for (size_t k = 0; k < c->file_count; k++) {
                paths[k] = c->files[k].path;
                names[k] = c->files[k].name;
            }
            attrs[n].name = (char *)"OS";
            attrs[n++].value = c->os_tokens;
            for (size_t k = 0; k < c->hwids.n; k++) {
                snprintf(hwid_names[k], sizeof hwid_names[k], "HWID%zu", k + 1);
                attrs[n].name = hwid_names[k];
                attrs[n++].value = c->hwids.v[k];
            }
            if (write_catalog(p, out_path, paths, names, c->file_count, c->os_attr, attrs, n, when,
                              diag) != 0)
                status = DRVSIGN_FAILED;
            else if (!p->quiet)
                fprintf(report, "%s: %zu files (OS %s)\n", out_path, c->file_count,
                        c->os_tokens);
        }
        free(paths);
        free(names);
        free(attrs);
        free(hwid_names);
        free(in_dir);
    }
    drv_pkg_free(&pkg);
    return status;
}

static drvsign_status catalog_files(const drvsign_params *p, const char *const *files,
                                    size_t count, const drv_os **os, size_t os_count,
                                    FILE *report, drvsign_diag *diag)
{
    const char **paths = calloc(count ? count : 1, sizeof *paths);
    const char **names = calloc(count ? count : 1, sizeof *names);
    char *tokens = NULL, *osattr = NULL;
    drv_ctl_attr attr = {(char *)"OS", NULL};
    drvsign_status status = DRVSIGN_FAILED;

    if (paths == NULL || names == NULL)
        goto done;
    for (size_t i = 0; i < count; i++) {
        paths[i] = files[i];
        names[i] = drv_base_name(files[i]);
    }
    for (size_t i = 0; i < os_count; i++) {
        /* the same OS / OSAttr strings as the INF mode */
        char item[32];
        snprintf(item, sizeof item, "2:%s", os[i]->osattr);
        if (drv_join_unique(&tokens, os[i]->token) != 0 || drv_join_unique(&osattr, item) != 0)
            goto done;
    }
    attr.value = tokens;
    if (write_catalog(p, p->out, paths, names, count, osattr, tokens ? &attr : NULL, tokens ? 1 : 0,
                      catalog_time(p, diag), diag) == 0) {
        status = DRVSIGN_OK;
        if (!p->quiet)
            fprintf(report, "%s: %zu files\n", p->out, count);
    }
done:
    free(tokens);
    free(osattr);
    free(paths);
    free(names);
    return status;
}

drvsign_status drvsign_catalog(const drvsign_params *p, const char *const *files, size_t count,
                               FILE *report, drvsign_diag *diag)
{
    const drv_os **os = NULL;
    size_t os_count = 0;
    drvsign_status status;

    if (drvsign_check_params(DRVSIGN_OP_CATALOG, p, count, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    if (p->os_list_count > 0 &&
        drv_parse_os_list(p->os_lists, p->os_list_count, &os, &os_count, diag) != 0)
        return DRVSIGN_USAGE;
    status = p->driver_dir ? catalog_driver(p, os, os_count, report, diag)
                           : catalog_files(p, files, count, os, os_count, report, diag);
    free(os);
    return status;
}
