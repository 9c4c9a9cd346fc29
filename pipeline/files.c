#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *str_copy(const char *s)
{
    size_t size = strlen(s) + 1;
    char *copy = malloc(size);
    return copy ? memcpy(copy, s, size) : NULL;
}

char *path_join(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *joined = malloc(size);
    if (joined != NULL)
        snprintf(joined, size, "%s/%s", dir, name);
    return joined;
}

const char *base_name(const char *path)
{
    const char *after = path;
    for (const char *p = path; *p; p++)
#ifdef _WIN32
        if (*p == '/' || *p == '\\')
#else
        if (*p == '/')
#endif
            after = p + 1;
    return after;
}

int make_parent_dirs(const char *path, drvsign_diag *diag)
{
    char *parent = str_copy(path), *slash = parent ? strrchr(parent, '/') : NULL;
    int rc = parent == NULL ? -1 : 0;
    if (slash != NULL) {
        *slash = 0;
        if (*parent)
            rc = drvsign_make_dirs(parent, diag) == DRVSIGN_OK ? 0 : -1;
    }
    free(parent);
    return rc;
}
