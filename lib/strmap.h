/*
 * A string -> index hash map (open addressing), so the INF reader and the package analysis
 * stay linear in their input: section and key lookups, visited install sections, files
 * already in a catalog. Keys are copied; the first insertion of a key wins.
 */
#ifndef DRVSIGN_STRMAP_H
#define DRVSIGN_STRMAP_H

#include <stddef.h>

typedef struct drv_strmap {
    char **keys;
    size_t *values;
    size_t cap, count;
    int ci; /* ASCII case-insensitive keys */
} drv_strmap;

/* Zero-initialised maps work too (case-sensitive). */
void drv_strmap_init(drv_strmap *m, int case_insensitive);
void drv_strmap_free(drv_strmap *m);
/* 1 and *value when present, else 0. value may be NULL. */
int drv_strmap_get(const drv_strmap *m, const char *key, size_t *value);
/* Insert unless present: 1 when added, 0 when present (value untouched), -1 out of memory. */
int drv_strmap_put(drv_strmap *m, const char *key, size_t value);
/* The same for a key of n bytes (not NUL-terminated). */
int drv_strmap_put_n(drv_strmap *m, const char *key, size_t n, size_t value);

#endif
