/*
 * Partner Center's rules for a submission cabinet (reference 5.1): folder names, an INF at
 * each package's root, and the architectures each package's INFs serve, read through the
 * shared decoration module.
 */
#include "submission_rules.h"

#include <stdio.h>
#include <string.h>

#include "decoration.h"
#include "inf.h"
#include "port.h"

int drv_pc_folder_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= 40 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int drv_pc_is_inf(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && drv_strcasecmp(name + n - 4, ".inf") == 0;
}

/* "NTamd64" or "NTamd64.10.0...16299" -> index into drv_inf_arches(), or -1 */
static int decoration_arch(const char *text)
{
    drv_decoration d;
    size_t count;
    const drv_inf_arch *arches = drv_inf_arches(&count), *a;
    if (drv_decoration_parse(text, &d) != 0 || (a = drv_inf_arch_named(d.arch)) == NULL)
        return -1;
    return (int)(a - arches);
}

unsigned drv_pc_inf_arches(const char *path, drvsign_diag *diag)
{
    static const char catalog_prefix[] = "CatalogFile.", install_prefix[] = "DefaultInstall.";
    unsigned mask = 0;
    drv_inf inf;
    drvsign_diag quiet;
    const drv_inf_section *mfg, *ver;

    drv_diag_errors_only(&quiet, diag);
    if (drv_inf_load(&inf, path, &quiet) != 0) {
        drv_inf_free(&inf);
        return 0;
    }
    mfg = drv_inf_find_section(&inf, "Manufacturer");
    ver = drv_inf_find_section(&inf, "Version");
    for (size_t e = 0; mfg != NULL && e < mfg->count; e++)
        for (size_t v = 1; v < mfg->entries[e].value_count; v++) {
            int a = decoration_arch(mfg->entries[e].values[v]);
            mask |= a >= 0 ? 1u << a : 0;
        }
    for (size_t e = 0; ver != NULL && e < ver->count; e++) {
        const char *key = ver->entries[e].key;
        if (key != NULL && strlen(key) > sizeof catalog_prefix - 1 &&
            drv_strncasecmp(key, catalog_prefix, sizeof catalog_prefix - 1) == 0) {
            int a = decoration_arch(key + sizeof catalog_prefix - 1);
            mask |= a >= 0 ? 1u << a : 0;
        }
    }
    /* primitive drivers: [DefaultInstall.NT<arch>] */
    for (size_t i = 0; i < inf.count; i++) {
        const char *name = inf.sections[i].name;
        if (strlen(name) > sizeof install_prefix - 1 &&
            drv_strncasecmp(name, install_prefix, sizeof install_prefix - 1) == 0) {
            int a = decoration_arch(name + sizeof install_prefix - 1);
            mask |= a >= 0 ? 1u << a : 0;
        }
    }
    drv_inf_free(&inf);
    return mask ? mask : 1u; /* x86 alone when it decorates nothing */
}

void drv_pc_arch_text(unsigned mask, char *out, size_t size)
{
    size_t count;
    const drv_inf_arch *arches = drv_inf_arches(&count);
    out[0] = 0;
    for (size_t a = 0; a < count; a++)
        if (mask & (1u << a))
            snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? ", " : "",
                     arches[a].name);
}
