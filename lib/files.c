/*
 * The file helpers drvsign.h offers front ends, over the platform layer, so that a front end's
 * files are read, made and replaced as the library's are (and its messages read the same).
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "port.h"

drvsign_status drvsign_read_file(const char *path, size_t max, unsigned char **data, size_t *len,
                                 drvsign_diag *diag)
{
    return drv_read_small_file(path, max, data, len, diag) == 0 ? DRVSIGN_OK : DRVSIGN_FAILED;
}

void drvsign_free(void *p)
{
    free(p);
}

drvsign_status drvsign_make_dirs(const char *dir, drvsign_diag *diag)
{
    char *copy = drv_strdup(dir);
    int rc = 0;
    if (copy == NULL) {
        drv_error(diag, dir, "out of memory");
        return DRVSIGN_FAILED;
    }
    /* each parent in turn, from the top: mkdir makes one level */
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
    return rc == 0 ? DRVSIGN_OK : DRVSIGN_FAILED;
}

drvsign_status drvsign_copy_file(const char *from, const char *to, drvsign_diag *diag)
{
    drv_file f;
    drv_atomic a;
    drvsign_status rc = DRVSIGN_FAILED;
    if (drv_file_open(&f, from, diag) != 0)
        return DRVSIGN_FAILED;
    if (drv_atomic_open(&a, to, from, diag) == 0) {
        if (drv_atomic_copy(&a, &f, 0, f.size, diag) == 0 && drv_atomic_commit(&a, diag) == 0)
            rc = DRVSIGN_OK;
        drv_atomic_abort(&a);
    }
    drv_file_close(&f);
    return rc;
}
