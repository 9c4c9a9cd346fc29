/*
 * Bytes in memory: growable arrays, byte strings and string lists (the one place that grows
 * memory, always geometrically and overflow-checked), and little-endian fields as PE and CAB
 * files store them, read and written a byte at a time so neither byte order nor alignment
 * matters.
 */
#ifndef DRVSIGN_BYTES_H
#define DRVSIGN_BYTES_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define DRV_BYTES_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DRV_BYTES_PRINTF(a, b)
#endif

/*
 * Room for `more` elements of `size` bytes after the first `count` of an array that has room
 * for *cap: the array itself (moved when it had to grow, capacity at least doubled), or NULL
 * when out of memory or the size would overflow, and then items and *cap are as they were.
 */
void *drv_grow(void *items, size_t *cap, size_t count, size_t more, size_t size);

/* A growable byte string, NUL-terminated once anything is in it. A failed allocation sticks
 * in failed, so a caller checks once at the end. Zero-initialised is empty. */
typedef struct drv_buf {
    char *p;
    size_t len, cap;
    int failed;
} drv_buf;

void drv_buf_put(drv_buf *b, const void *data, size_t n);
void drv_buf_putc(drv_buf *b, char c);
void drv_buf_printf(drv_buf *b, const char *fmt, ...) DRV_BYTES_PRINTF(2, 3);
void drv_buf_free(drv_buf *b);

/* A growable list of strings, each one the list's own. v[n] is NULL once anything is in it, so
 * v serves as an argv too. Zero-initialised is empty. */
typedef struct drv_strlist {
    char **v;
    size_t n, cap;
} drv_strlist;

/* Append a copy of s. 0, or -1 when out of memory (and the list is as it was). */
int drv_strlist_add(drv_strlist *l, const char *s);
/* Append s itself, a malloc'd string the list then owns (and frees, as it is, when out of
 * memory: -1). */
int drv_strlist_take(drv_strlist *l, char *s);
/* Free every string and the list; it is empty again. */
void drv_strlist_free(drv_strlist *l);

static inline uint16_t drv_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t drv_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void drv_put_le16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void drv_put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

#endif
