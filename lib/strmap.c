#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static unsigned char fold(unsigned char c, int ci)
{
    return ci ? (unsigned char)drv_ascii_lower((char)c) : c;
}

static uint32_t hash(const char *s, size_t n, int ci)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ fold((unsigned char)s[i], ci)) * 16777619u;
    return h;
}

/* key (n bytes) equals the stored NUL-terminated k? */
static int same(const char *k, const char *key, size_t n, int ci)
{
    for (size_t i = 0; i < n; i++)
        if (k[i] == 0 || fold((unsigned char)k[i], ci) != fold((unsigned char)key[i], ci))
            return 0;
    return k[n] == 0;
}

void drv_strmap_init(drv_strmap *m, int case_insensitive)
{
    memset(m, 0, sizeof *m);
    m->ci = case_insensitive;
}

void drv_strmap_free(drv_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->values);
    m->keys = NULL;
    m->values = NULL;
    m->cap = m->count = 0;
}

static size_t slot(const drv_strmap *m, const char *key, size_t n)
{
    size_t i = hash(key, n, m->ci) & (m->cap - 1);
    while (m->keys[i] != NULL && !same(m->keys[i], key, n, m->ci))
        i = (i + 1) & (m->cap - 1);
    return i;
}

int drv_strmap_get(const drv_strmap *m, const char *key, size_t *value)
{
    size_t i;
    if (m->cap == 0)
        return 0;
    i = slot(m, key, strlen(key));
    if (m->keys[i] == NULL)
        return 0;
    if (value != NULL)
        *value = m->values[i];
    return 1;
}

static int grow(drv_strmap *m)
{
    drv_strmap bigger = *m;
    bigger.cap = m->cap ? m->cap * 2 : 16;
    if (bigger.cap < m->cap)
        return -1;
    bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
    bigger.values = calloc(bigger.cap, sizeof *bigger.values);
    if (bigger.keys == NULL || bigger.values == NULL) {
        free(bigger.keys);
        free(bigger.values);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] != NULL) {
            size_t j = slot(&bigger, m->keys[i], strlen(m->keys[i]));
            bigger.keys[j] = m->keys[i];
            bigger.values[j] = m->values[i];
        }
    free(m->keys);
    free(m->values);
    *m = bigger;
    return 0;
}

int drv_strmap_put_n(drv_strmap *m, const char *key, size_t n, size_t value)
{
    size_t i;
    if ((m->count + 1) * 2 > m->cap && grow(m) != 0)
        return -1;
    i = slot(m, key, n);
    if (m->keys[i] != NULL)
        return 0;
    m->keys[i] = malloc(n + 1);
    if (m->keys[i] == NULL)
        return -1;
    memcpy(m->keys[i], key, n);
    m->keys[i][n] = 0;
    m->values[i] = value;
    m->count++;
    return 1;
}

int drv_strmap_put(drv_strmap *m, const char *key, size_t value)
{
    return drv_strmap_put_n(m, key, strlen(key), value);
}
