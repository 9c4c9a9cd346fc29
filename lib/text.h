/*
 * Text: the UTF-8 and UTF-16LE codecs (INF files, catalog names, file names), ASCII case
 * folding and comparison (INF names, file extensions, Windows' case-blind file names),
 * formatted strings, and comma-separated lists of unique items.
 */
#ifndef DRVSIGN_TEXT_H
#define DRVSIGN_TEXT_H

#include <stddef.h>

#include "diag.h" /* DRV_PRINTF */

/* 'A'..'Z' to 'a'..'z'; every other byte as it is. */
static inline char drv_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive comparison (INF names are ASCII in practice). */
int drv_strcasecmp(const char *a, const char *b);
/* The same over at most n bytes. */
int drv_strncasecmp(const char *a, const char *b, size_t n);
/* s lowered in place (ASCII). */
void drv_str_lower(char *s);
/* A malloc'd formatted string, NULL when out of memory. */
char *drv_str_printf(const char *fmt, ...) DRV_PRINTF(1, 2);
/* Append item to the comma-separated list *csv (malloc'd, NULL for empty) unless it is
 * already there. 0, or -1 when out of memory (*csv as it was). */
int drv_join_unique(char **csv, const char *item);

/* The code point of the UTF-16LE unit (or surrogate pair) at p[*i], advancing *i past it;
 * unpaired surrogates become U+FFFD. Needs *i + 1 < n. */
unsigned long drv_utf16le_next(const unsigned char *p, size_t n, size_t *i);
/* Encode a code point as UTF-8 into out; returns the byte count (1 to 4). */
size_t drv_utf8_put(unsigned long cp, char out[4]);
/* The code point of the UTF-8 sequence at p[*i], advancing *i past it; a malformed
 * sequence becomes U+FFFD. Needs *i < n. */
unsigned long drv_utf8_next(const unsigned char *p, size_t n, size_t *i);
/* Encode a code point as UTF-16LE into out; returns the byte count (2 or 4). */
size_t drv_utf16le_put(unsigned long cp, unsigned char out[4]);

#endif
