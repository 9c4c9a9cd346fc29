#include "files.h"

#include <stdlib.h>
#include <string.h>

#include "port.h"

int make_dirs(const char *dir, drvsign_diag *diag)
{
    char *copy = drv_strdup(dir);
    int rc = 0;
    if (copy == NULL)
        return -1;
    for (char *p = copy + 1; *p && rc == 0; p++)
        if (*p == '/') {
            *p = 0;
            if (!drv_is_dir(copy))
                rc = drv_mkdir(copy, diag);
            *p = '/';
        }
    if (rc == 0 && !drv_is_dir(copy))
        rc = drv_mkdir(copy, diag);
    free(copy);
    return rc;
}

int make_parent_dirs(const char *path, drvsign_diag *diag)
{
    char *parent = drv_strdup(path), *slash = parent ? strrchr(parent, '/') : NULL;
    int rc = parent == NULL ? -1 : 0;
    if (slash != NULL) {
        *slash = 0;
        if (*parent)
            rc = make_dirs(parent, diag);
    }
    free(parent);
    return rc;
}

int copy_file(const char *from, const char *to, drvsign_diag *diag)
{
    drv_file f;
    drv_atomic a;
    int rc = -1;
    if (drv_file_open(&f, from, diag) != 0)
        return -1;
    if (drv_atomic_open(&a, to, from, diag) == 0) {
        if (drv_atomic_copy(&a, &f, 0, f.size, diag) == 0 && drv_atomic_commit(&a, diag) == 0)
            rc = 0;
        drv_atomic_abort(&a);
    }
    drv_file_close(&f);
    return rc;
}
