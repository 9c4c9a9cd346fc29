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

int drvsign_same_name(const char *a, const char *b)
{
    return drv_strcasecmp(a, b) == 0;
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

/* ---- UTF-8 ---- */

/* The length of the well-formed sequence at s[0..n) (0 for none) and its code point. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *code_point)
{
    size_t len;
    unsigned long cp;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        len = 1, cp = s[0];
    else if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    /* overlong forms would let one text have two encodings (an overlong NUL ends nothing) */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *code_point = cp;
    return len;
}

size_t drv_utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned long cp;
    return utf8_decode(s, n, &cp);
}

int drv_utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0, len; i < n; i += len)
        if ((len = drv_utf8_sequence(s + i, n - i)) == 0)
            return 0;
    return 1;
}

size_t drv_utf8_boundary(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static size_t utf8_put(unsigned long cp, char *out)
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

/* ---- UTF-16LE ---- */

/* The code point of the unit (or surrogate pair) at p[*i], advancing *i past it; unpaired
 * surrogates become U+FFFD. Needs *i + 1 < n. */
static unsigned long utf16le_next(const unsigned char *p, size_t n, size_t *i)
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

static size_t utf16le_put(unsigned long cp, unsigned char *out)
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

/* ---- conversions ---- */

char *drv_utf8_from_utf16le(const unsigned char *p, size_t n, size_t *len)
{
    char *out = n / 2 <= ((size_t)-1 - 1) / 3 ? malloc(n / 2 * 3 + 1) : NULL;
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i + 1 < n;)
        o += utf8_put(utf16le_next(p, n, &i), out + o);
    out[o] = 0;
    *len = o;
    return out;
}

unsigned char *drv_utf16le_from_utf8(const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char *out = n <= ((size_t)-1 - 2) / 2 ? malloc(n * 2 + 2) : NULL;
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned long cp = 0xfffd;
        size_t seq = utf8_decode(u + i, n - i, &cp);
        /* a 4-byte sequence gives 4 bytes, any shorter one (or one bad byte) 2 */
        o += utf16le_put(cp, out + o);
        i += seq ? seq : 1;
    }
    out[o] = 0;
    out[o + 1] = 0;
    *len = o;
    return out;
}

/* Windows-1252 0x80-0x9F; the rest of the upper half is Latin-1. */
static const unsigned short cp1252_high[32] = {
    0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd, 0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178};

char *drv_utf8_from_cp1252(const unsigned char *p, size_t n, size_t *len)
{
    char *out = n <= ((size_t)-1 - 1) / 3 ? malloc(n * 3 + 1) : NULL;
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        o += utf8_put(p[i] < 0x80 || p[i] >= 0xa0 ? p[i] : cp1252_high[p[i] - 0x80], out + o);
    out[o] = 0;
    *len = o;
    return out;
}
