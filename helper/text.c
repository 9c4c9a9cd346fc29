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
