/*
 * The INF install walk (reference section 3.4): an install section with its best platform
 * decoration ([base.NTamd64], [base.NT], [base]), its companions (.Services, .HW, .Wdf, ...)
 * and every section their Needs= lines name in this INF, down to each file CopyFiles names,
 * resolved through SourceDisksFiles/SourceDisksNames to its place in the package and added
 * to a catalog's file list. CopyINF companions must sit beside the INF.
 */
#ifndef DRVSIGN_INSTALL_WALK_H
#define DRVSIGN_INSTALL_WALK_H

#include "driverpkg.h"
#include "inf.h"
#include "inf_problems.h"

typedef struct drv_install_walk {
    const drv_inf *inf;
    const char *inf_dir;  /* the package directory the INF is in */
    int plan_only;        /* say where files will go, without requiring them to exist */
    const drv_os *target; /* the /os target whose decorations apply */
    drv_pkg_catalog *cat; /* the catalog the files join */
    drv_inf_problems *problems;
    drv_strmap visited; /* install sections already followed for this target; zeroed to start */
} drv_install_walk;

/* Walk install section base for w->target. Returns 1 when a decoration of it exists, else 0
 * (a problem at line when required). Problems go to w->problems. */
int drv_install_walk_section(drv_install_walk *w, const char *base, int required, unsigned line);

/* Add a file to cat's list once per path (name lower-cased for the catalog, as written kept in
 * source_name). 0, or -1 out of memory. */
int drv_pkg_add_file(drv_pkg_catalog *cat, const char *path, const char *name, const char *rel);

#endif
