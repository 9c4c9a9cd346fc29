#include "bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *drv_grow(void *items, size_t *cap, size_t count, size_t more, size_t size)
{
    size_t want, n;
    void *bigger;

    if (size == 0 || count > (size_t)-1 - more)
        return NULL;
    want = count + more;
    if (want <= *cap)
        return items;
    n = *cap ? *cap : 8;
    while (n < want) {
        if (n > (size_t)-1 / 2)
            return NULL;
        n *= 2;
    }
    if (n > (size_t)-1 / size || (bigger = realloc(items, n * size)) == NULL)
        return NULL;
    *cap = n;
    return bigger;
}

/* Room for n more bytes plus the terminating NUL. */
static int room(drv_buf *b, size_t n)
{
    char *p;
    if (b->failed || n > (size_t)-1 - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    p = drv_grow(b->p, &b->cap, b->len, n + 1, 1);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    return 0;
}

void drv_buf_put(drv_buf *b, const void *data, size_t n)
{
    if (room(b, n) != 0)
        return;
    if (n > 0)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void drv_buf_putc(drv_buf *b, char c)
{
    drv_buf_put(b, &c, 1);
}

void drv_buf_printf(drv_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (room(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void drv_buf_free(drv_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int drv_strlist_take(drv_strlist *l, char *s)
{
    /* room for the NULL after the last string as well */
    char **v = s != NULL ? drv_grow(l->v, &l->cap, l->n, 2, sizeof *v) : NULL;
    if (v == NULL) {
        free(s);
        return -1;
    }
    l->v = v;
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
    return 0;
}

int drv_strlist_add(drv_strlist *l, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return drv_strlist_take(l, copy);
}

void drv_strlist_free(drv_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}
