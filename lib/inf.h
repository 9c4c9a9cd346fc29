/*
 * The INF reader, following SetupAPI: decodes ANSI (Windows-1252), UTF-8 (with or without
 * BOM) and UTF-16LE with BOM into UTF-8; ignores text before the first section header (the
 * comment banners of Microsoft's samples); handles ';' comments, quoted strings ("" inside
 * quotes is a quote), '\' continuation lines (also on the last line), case-insensitive section
 * and key names, repeated sections (merged), repeated keys (the first one counts) and
 * %strkey% substitution from [Strings] and [Strings.<lcid>] ('%%' is a literal '%'). Every
 * entry keeps the line it came from, so problems can be reported as file:line.
 *
 * Limits, each reported as a clear error: 64 MiB per INF, DRV_INF_MAX_FIELDS fields per line.
 * Memory is linear in the input: an entry's key and fields share one allocation.
 */
#ifndef DRVSIGN_INF_H
#define DRVSIGN_INF_H

#include <stddef.h>

#include "diag.h"
#include "strmap.h"
#include "text.h"

#define DRV_INF_MAX_FIELDS 65536

typedef enum drv_inf_encoding {
    DRV_INF_ANSI,
    DRV_INF_UTF8,
    DRV_INF_UTF8_BOM,
    DRV_INF_UTF16LE
} drv_inf_encoding;

typedef struct drv_inf_entry {
    char *key;      /* NULL when the line has no '=' */
    char **values;  /* the comma-separated fields, unquoted and substituted */
    size_t value_count;
    unsigned line;  /* first physical line of the logical line */
    char *storage;  /* key and values, NUL-separated: what key and values point into */
} drv_inf_entry;

typedef struct drv_inf_section {
    char *name; /* as first written */
    unsigned line;
    unsigned end_line; /* the last line of its first block: before the next header, or the last */
    drv_inf_entry *entries;
    size_t count, cap;
    drv_strmap keys; /* key -> first entry with it; built for large sections only */
} drv_inf_section;

typedef struct drv_inf {
    char *path;
    drv_inf_encoding encoding;
    drv_inf_section *sections;
    size_t count, cap;
    drv_strmap index; /* section name (case-insensitive) -> index */
} drv_inf;

/* Parse an INF held in memory; path is used in messages. Syntax problems are reported
 * (file:line) and counted in diag->errors; the parse still returns what it could read. */
int drv_inf_parse(drv_inf *inf, const char *path, const unsigned char *data, size_t len,
                  drvsign_diag *diag);
int drv_inf_load(drv_inf *inf, const char *path, drvsign_diag *diag);
/* The text of an INF as the reader sees it: UTF-8, NUL-terminated (free it); *encoding is
 * what the file was written in. Undecodable input is one error naming path. */
int drv_inf_decode(const char *path, const unsigned char *data, size_t len, char **text,
                   size_t *text_len, drv_inf_encoding *encoding, drvsign_diag *diag);
void drv_inf_free(drv_inf *inf);

/* Case-insensitive lookups; NULL when absent. */
const drv_inf_section *drv_inf_find_section(const drv_inf *inf, const char *name);
const drv_inf_entry *drv_inf_key(const drv_inf_section *section, const char *key);
/* Field i of an entry, or "" when the entry has fewer fields. */
const char *drv_inf_field(const drv_inf_entry *entry, size_t i);


#endif
