#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int drv_strncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ca = (unsigned char)drv_ascii_lower(a[i]), cb = (unsigned char)drv_ascii_lower(b[i]);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}

int drv_strcasecmp(const char *a, const char *b)
{
    return drv_strncasecmp(a, b, (size_t)-1);
}

void drv_str_lower(char *s)
{
    for (; *s; s++)
        *s = drv_ascii_lower(*s);
}

char *drv_str_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

int drv_join_unique(char **out, const char *item)
{
    char *s;
    if (*out != NULL) {
        /* exact comma-separated membership */
        const char *p = *out;
        size_t n = strlen(item);
        while (p != NULL) {
            if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == 0))
                return 0;
            p = strchr(p, ',');
            if (p != NULL)
                p++;
        }
    }
    s = *out ? drv_str_printf("%s,%s", *out, item) : drv_str_printf("%s", item);
    if (s == NULL)
        return -1;
    free(*out);
    *out = s;
    return 0;
}

unsigned long drv_utf16le_next(const unsigned char *p, size_t n, size_t *i)
{
    unsigned long u = (unsigned long)p[*i] | (unsigned long)p[*i + 1] << 8;
    *i += 2;
    if (u >= 0xd800 && u <= 0xdbff && *i + 1 < n) {
        unsigned long lo = (unsigned long)p[*i] | (unsigned long)p[*i + 1] << 8;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *i += 2;
            return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        }
        return 0xfffd;
    }
    return u >= 0xd800 && u <= 0xdfff ? 0xfffd : u;
}

size_t drv_utf8_put(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

unsigned long drv_utf8_next(const unsigned char *p, size_t n, size_t *i)
{
    unsigned char c = p[(*i)++];
    size_t len = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                              : (c & 0xf8) == 0xf0 ? 3 : 4;
    unsigned long cp = len == 1 ? c & 0x1fu : len == 2 ? c & 0x0fu : c & 0x07u;
    if (len == 0)
        return c;
    if (len == 4 || *i + len > n)
        return 0xfffd;
    for (size_t k = 0; k < len; k++, (*i)++) {
        if ((p[*i] & 0xc0) != 0x80)
            return 0xfffd;
        cp = cp << 6 | (p[*i] & 0x3fu);
    }
    return cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp;
}

size_t drv_utf16le_put(unsigned long cp, unsigned char out[4])
{
    if (cp < 0x10000) {
        out[0] = (unsigned char)(cp & 0xff);
        out[1] = (unsigned char)(cp >> 8);
        return 2;
    }
    cp -= 0x10000;
    out[0] = (unsigned char)((0xd800 | cp >> 10) & 0xff);
    out[1] = (unsigned char)((0xd800 | cp >> 10) >> 8);
    out[2] = (unsigned char)((0xdc00 | (cp & 0x3ff)) & 0xff);
    out[3] = (unsigned char)((0xdc00 | (cp & 0x3ff)) >> 8);
    return 4;
}
