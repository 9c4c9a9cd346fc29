/*
 * Text: the one place that knows encodings: UTF-8 well-formedness, the UTF-8, UTF-16LE and
 * Windows-1252 conversions (INF files, catalog names and values, file names, JSON output),
 * ASCII case folding and comparison (INF names, file extensions, Windows' case-blind file
 * names), formatted strings, and comma-separated lists of unique items.
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

/* The length of the well-formed UTF-8 sequence that starts s[0..n) (1 to 4), or 0 when it
 * starts none: overlong forms, surrogates (U+D800..DFFF), code points above U+10FFFF and
 * sequences cut off by n are not UTF-8. */
size_t drv_utf8_sequence(const unsigned char *s, size_t n);
/* Whether s[0..n) is well-formed UTF-8 throughout. */
int drv_utf8_valid(const unsigned char *s, size_t n);
/* Where to cut s to at most n bytes without splitting a UTF-8 character: n, moved back to the
 * start of the sequence s[n] continues. s holds more than n bytes. */
size_t drv_utf8_boundary(const char *s, size_t n);

/*
 * The conversions. Each returns a malloc'd result (NULL when out of memory or its size would
 * overflow) and its length in *len; the result is sized exactly for the worst case of its
 * input, never grown, and is always followed by a terminator that *len does not count.
 */
/* UTF-16LE p[0..n) as UTF-8, NUL-terminated: at most 3 bytes a 2-byte unit (a surrogate pair
 * gives 4 for its 4), so n / 2 * 3 + 1 bytes. Unpaired surrogates become U+FFFD, a trailing
 * odd byte is dropped, and a NUL unit is kept as a NUL byte (a caller that reads a C string
 * stops there; one that must not hold NULs can look for one). */
char *drv_utf8_from_utf16le(const unsigned char *p, size_t n, size_t *len);
/* UTF-8 s[0..n) as UTF-16LE followed by a NUL unit: no input byte yields more than two bytes
 * (a 4-byte sequence is one surrogate pair), so 2n + 2 bytes. A byte that does not start a
 * well-formed sequence becomes U+FFFD, and decoding goes on at the next byte. */
unsigned char *drv_utf16le_from_utf8(const char *s, size_t n, size_t *len);
/* Windows-1252 p[0..n) (ANSI text) as UTF-8, NUL-terminated: at most 3 bytes a byte, so
 * 3n + 1. The five bytes 1252 leaves undefined become U+FFFD. */
char *drv_utf8_from_cp1252(const unsigned char *p, size_t n, size_t *len);

#endif
