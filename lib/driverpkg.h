/*
 * Inf2Cat's view of a driver package (reference section 3.4): for every INF in the root of a
 * directory and every target OS, the catalog it names, the models that apply, and every file
 * its install sections copy, resolved through SourceDisksFiles/SourceDisksNames. It also runs
 * Inf2Cat's signability checks, reporting each problem as file:line with Inf2Cat's code.
 */
#ifndef DRVSIGN_DRIVERPKG_H
#define DRVSIGN_DRIVERPKG_H

#include <stdint.h>

#include "bytes.h"
#include "diag.h"
#include "ostable.h"
#include "strmap.h"

typedef struct drv_pkg_file {
    char *path; /* on disk */
    char *name; /* the File attribute: the name as the INF gives it, lower-case */
    char *rel;  /* where it sits in the package, relative to the INF ('/' separated) */
    char *source_name; /* the name as written in the INF */
} drv_pkg_file;

typedef struct drv_pkg_catalog {
    char *inf_path;
    char *name; /* the catalog file name from CatalogFile */
    char *path; /* where it belongs: beside the INF */
    const drv_os **targets;
    size_t target_count;
    drv_pkg_file *files; /* the INF first */
    size_t file_count;
    drv_strlist hwids; /* lower-case, each once */
    char *os_tokens; /* the catalog OS attribute, e.g. "_v100_X64,_v100_X64_RS3" */
    char *os_attr;   /* the member OSAttr, e.g. "2:10.0" */
    /* the analysis' own bookkeeping */
    size_t file_cap, target_cap;
    drv_strmap file_index, hwid_index;
} drv_pkg_catalog;

typedef struct drv_pkg {
    drv_pkg_catalog *catalogs;
    size_t count, cap;
    size_t inf_count; /* INF files examined: 0 when there was nothing to check */
} drv_pkg;

typedef struct drv_pkg_opts {
    const drv_os *const *os;
    size_t os_count;
    int use_local_time; /* judge DriverVer's date in local time instead of UTC */
    int64_t now;        /* seconds since the epoch for the DriverVer check; 0 means now */
    int plan_only;      /* lay the package out without requiring its files to exist yet */
} drv_pkg_opts;

/* Returns 0 when every INF passes every check; otherwise -1 after reporting each problem. */
int drv_pkg_analyze(const char *dir, const drv_pkg_opts *opts, drv_pkg *pkg, drvsign_diag *diag);
/* The same for one INF file (its package is the directory it is in), whatever its name. */
int drv_pkg_analyze_inf(const char *inf_path, const drv_pkg_opts *opts, drv_pkg *pkg,
                        drvsign_diag *diag);
void drv_pkg_free(drv_pkg *pkg);



#endif
