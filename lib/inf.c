#include "inf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "port.h"
#include "text.h"

/* INF files are small; anything larger is not an INF. */
#define MAX_INF_BYTES (64u << 20)

/* The growable byte buffer of bytes.h, under the short name this file uses a lot. */
typedef drv_buf buf;
#define buf_put drv_buf_put
#define buf_putc drv_buf_putc

/* ---- decoding to UTF-8 ---- */

static int decode(const char *path, drv_inf_encoding *encoding, const unsigned char *d, size_t n,
                  buf *out, drvsign_diag *diag)
{
    char *text = NULL;
    size_t len;
    if (n >= 2 && d[0] == 0xff && d[1] == 0xfe) {
        *encoding = DRV_INF_UTF16LE;
        if ((text = drv_utf8_from_utf16le(d + 2, n - 2, &len)) != NULL &&
            memchr(text, 0, len) != NULL) {
            drv_error(diag, path, "contains a NUL character");
            free(text);
            return -1;
        }
    } else if (n >= 2 && d[0] == 0xfe && d[1] == 0xff) {
        drv_error(diag, path, "is UTF-16 big-endian, which Windows does not read; save it "
                                   "as UTF-16LE, UTF-8 or ANSI");
        return -1;
    } else if (memchr(d, 0, n) != NULL) {
        drv_error(diag, path, "contains NUL bytes (UTF-16 without a byte order mark?)");
        return -1;
    } else if (n >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf) {
        *encoding = DRV_INF_UTF8_BOM;
        buf_put(out, (const char *)d + 3, n - 3);
        return 0;
    } else if (drv_utf8_valid(d, n)) {
        *encoding = DRV_INF_UTF8;
        buf_put(out, (const char *)d, n);
        return 0;
    } else {
        *encoding = DRV_INF_ANSI;
        text = drv_utf8_from_cp1252(d, n, &len);
    }
    /* a conversion out of memory shows as the buffer's failure, as buf_put's does */
    if (text == NULL)
        out->failed = 1;
    else
        buf_put(out, text, len);
    free(text);
    return 0;
}

/* ---- structure ---- */

static drv_inf_section *section_for(drv_inf *inf, const char *name, unsigned line)
{
    size_t idx;
    if (drv_strmap_get(&inf->index, name, &idx))
        return &inf->sections[idx];
    {
        drv_inf_section *s = drv_grow(inf->sections, &inf->cap, inf->count, 1, sizeof *s);
        if (s == NULL)
            return NULL;
        inf->sections = s;
    }
    memset(&inf->sections[inf->count], 0, sizeof inf->sections[0]);
    inf->sections[inf->count].name = drv_strdup(name);
    inf->sections[inf->count].line = line;
    drv_strmap_init(&inf->sections[inf->count].keys, 1);
    if (inf->sections[inf->count].name == NULL ||
        drv_strmap_put(&inf->index, name, inf->count) < 0)
        return NULL;
    return &inf->sections[inf->count++];
}

static drv_inf_entry *new_entry(drv_inf_section *s)
{
    {
        drv_inf_entry *e = drv_grow(s->entries, &s->cap, s->count, 1, sizeof *e);
        if (e == NULL)
            return NULL;
        s->entries = e;
    }
    memset(&s->entries[s->count], 0, sizeof s->entries[0]);
    return &s->entries[s->count++];
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * One field: unquote ("" inside quotes is a quote) and trim the unquoted white space around
 * it, appended to out with its NUL. *p points at the field start; returns at ',' (or '='
 * when stop_at_eq) or the end.
 */
static void read_field(buf *out, const char **p, int stop_at_eq, int *bad_quote)
{
    const char *s = *p;
    size_t start = out->len, keep = out->len; /* up to the last quoted or non-space byte */
    int quoted = 0;

    while (is_space(*s))
        s++;
    for (; *s; s++) {
        if (quoted) {
            if (*s == '"') {
                if (s[1] == '"') {
                    buf_putc(out, '"');
                    s++;
                } else
                    quoted = 0;
            } else
                buf_putc(out, *s);
            keep = out->len;
            continue;
        }
        if (*s == '"') {
            quoted = 1;
            keep = out->len;
            continue;
        }
        if (*s == ',' || (stop_at_eq && *s == '='))
            break;
        buf_putc(out, *s);
        if (!is_space(*s))
            keep = out->len;
    }
    if (quoted)
        *bad_quote = 1;
    *p = s;
    if (!out->failed)
        out->len = keep < start ? start : keep;
    buf_putc(out, 0);
}

/* Does the logical line (comment removed) have an '=' outside quotes? */
static int has_key(const char *s)
{
    int quoted = 0;
    for (; *s; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (!quoted && *s == '=')
            return 1;
    }
    return 0;
}

/* Scratch space reused for every line, so a line costs its own size and no more. */
typedef struct line_scratch {
    buf text;       /* the key and fields, NUL-separated */
    size_t *starts; /* where each field starts in text */
    size_t cap;
} line_scratch;

static int add_line(drv_inf *inf, drv_inf_section *section, const char *text, unsigned line,
                    line_scratch *sc, drvsign_diag *diag)
{
    drv_inf_entry *e;
    const char *p = text;
    int bad_quote = 0, keyed = has_key(text);
    size_t fields = 0;

    sc->text.len = 0;
    if (keyed) {
        read_field(&sc->text, &p, 1, &bad_quote);
        if (*p == '=')
            p++;
    }
    for (;;) {
        if (fields == DRV_INF_MAX_FIELDS) {
            drv_error_at(diag, inf->path, line,
                         "line has more than %u comma-separated fields, more than an INF line "
                         "holds",
                         (unsigned)DRV_INF_MAX_FIELDS);
            return 0;
        }
        {
            size_t *bigger = drv_grow(sc->starts, &sc->cap, fields, 1, sizeof *bigger);
            if (bigger == NULL)
                return -1;
            sc->starts = bigger;
        }
        sc->starts[fields++] = sc->text.len;
        read_field(&sc->text, &p, 0, &bad_quote);
        if (*p != ',')
            break;
        p++;
    }
    if (sc->text.failed)
        return -1;
    e = new_entry(section);
    if (e == NULL)
        return -1;
    e->line = line;
    e->storage = malloc(sc->text.len);
    e->values = malloc(fields * sizeof *e->values);
    if (e->storage == NULL || e->values == NULL)
        return -1;
    memcpy(e->storage, sc->text.p, sc->text.len);
    e->key = keyed ? e->storage : NULL;
    for (size_t i = 0; i < fields; i++)
        e->values[i] = e->storage + sc->starts[i];
    e->value_count = fields;
    if (bad_quote)
        drv_error_at(diag, inf->path, line, "unterminated quoted string");
    return 0;
}

/*
 * Logical lines: strip comments (';' outside quotes), join '\' continuations, then hand each
 * non-empty line to the section or entry parser.
 */
static int parse_text(drv_inf *inf, const char *text, drvsign_diag *diag)
{
    const char *p = text;
    unsigned line = 1, start_line = 1;
    buf logical = {0};
    line_scratch scratch = {0};
    drv_inf_section *section = NULL;
    size_t open_block = 0; /* 1 + the section whose first block this is, or 0 */
    int rc = 0;

    while (*p || logical.len) {
        int quoted = 0, continued = 0;
        const char *eol;
        size_t content_end;

        if (logical.len == 0)
            start_line = line;
        eol = p;
        /* find the comment start and the line end */
        for (; *eol && *eol != '\n'; eol++) {
            if (*eol == '"')
                quoted = !quoted;
            else if (*eol == ';' && !quoted)
                break;
        }
        content_end = (size_t)(eol - p);
        while (*eol && *eol != '\n')
            eol++;
        while (content_end > 0 && is_space(p[content_end - 1]))
            content_end--;
        if (content_end > 0 && p[content_end - 1] == '\\') {
            /* on the last line the '\\' joins nothing and is dropped, as SetupAPI does */
            continued = *eol != 0;
            content_end--;
        }
        buf_put(&logical, p, content_end);
        p = *eol ? eol + 1 : eol;
        line++;
        if (continued)
            continue;
        if (logical.failed) {
            rc = -1;
            break;
        }
        if (logical.len > 0) {
            char *s = logical.p;
            while (is_space(*s))
                s++;
            if (*s == '[') {
                char *close = strchr(s, ']');
                if (open_block != 0)
                    inf->sections[open_block - 1].end_line = start_line - 1;
                open_block = 0;
                if (close == NULL) {
                    drv_error_at(diag, inf->path, start_line, "section header is missing ']'");
                    section = NULL;
                } else {
                    char *name = s + 1, *end = close;
                    while (is_space(*name))
                        name++;
                    while (end > name && is_space(end[-1]))
                        end--;
                    *end = 0;
                    if (*name == 0) {
                        drv_error_at(diag, inf->path, start_line, "empty section name");
                        section = NULL;
                    } else if ((section = section_for(inf, name, start_line)) == NULL) {
                        rc = -1;
                        break;
                    } else if (section->end_line == 0 && section->line == start_line) {
                        open_block = (size_t)(section - inf->sections) + 1;
                    }
                }
            } else if (*s != 0 && section != NULL) {
                /* Text before the first header is ignored, as SetupAPI ignores it (the
                 * C-style banners of Microsoft's samples); after a broken header, which is
                 * reported, the lines have no section to go to. */
                if (add_line(inf, section, s, start_line, &scratch, diag) != 0) {
                    rc = -1;
                    break;
                }
            }
        }
        logical.len = 0;
        if (logical.p)
            logical.p[0] = 0;
    }
    if (open_block != 0)
        inf->sections[open_block - 1].end_line = line - 1;
    free(logical.p);
    free(scratch.text.p);
    free(scratch.starts);
    if (rc != 0)
        drv_error(diag, inf->path, "out of memory");
    return rc;
}

/* ---- %strkey% substitution ---- */

/* [Strings] or a language section such as [Strings.0409] */
static int is_strings_section(const char *name)
{
    static const char prefix[] = "strings.";
    for (size_t i = 0; i < sizeof prefix - 1; i++) {
        char c = drv_ascii_lower(name[i]);
        if (c != prefix[i])
            return i == 7 && name[i] == 0; /* exactly "strings" */
    }
    return name[sizeof prefix - 1] != 0;
}

typedef struct strings {
    drv_strmap map; /* key -> index into values */
    const char **values;
    size_t count, cap;
} strings;

static int collect_strings(const drv_inf *inf, strings *st)
{
    /* [Strings] first, then the language sections in file order: the first definition wins */
    drv_strmap_init(&st->map, 1);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < inf->count; i++) {
            const drv_inf_section *s = &inf->sections[i];
            int plain = drv_strcasecmp(s->name, "strings") == 0;
            if (!is_strings_section(s->name) || plain != (pass == 0))
                continue;
            for (size_t e = 0; e < s->count; e++) {
                const drv_inf_entry *en = &s->entries[e];
                int added;
                if (en->key == NULL)
                    continue;
                {
                    const char **v = drv_grow(st->values, &st->cap, st->count, 1, sizeof *v);
                    if (v == NULL)
                        return -1;
                    st->values = v;
                }
                added = drv_strmap_put(&st->map, en->key, st->count);
                if (added < 0)
                    return -1;
                if (added)
                    st->values[st->count++] = drv_inf_field(en, 0);
            }
        }
    return 0;
}

/* Append in to out with %strkey% replaced, and its NUL. */
static void substitute(const drv_inf *inf, const strings *st, const char *in, unsigned line,
                       buf *out, drvsign_diag *diag)
{
    const char *p = in;
    while (*p) {
        const char *close;
        size_t idx, n;
        if (*p != '%') {
            const char *next = strchr(p, '%');
            n = next ? (size_t)(next - p) : strlen(p);
            buf_put(out, p, n);
            p += n;
            continue;
        }
        if (p[1] == '%') {
            buf_putc(out, '%');
            p += 2;
            continue;
        }
        close = strchr(p + 1, '%');
        if (close == NULL) {
            buf_put(out, p, strlen(p));
            break;
        }
        n = (size_t)(close - p - 1);
        {
            /* the key, terminated in place of the closing '%' for the lookup */
            size_t at = out->len;
            int found;
            buf_put(out, p + 1, n);
            buf_putc(out, 0);
            if (out->failed)
                return;
            found = drv_strmap_get(&st->map, out->p + at, &idx);
            out->len = at;
            if (found)
                buf_put(out, st->values[idx], strlen(st->values[idx]));
            else {
                if (n == 0 || strspn(p + 1, "0123456789") != n) /* %12% is a DIRID */
                    drv_warn(diag, NULL, "%s:%u: %%%.*s%% is not defined in [Strings]",
                             inf->path, line, (int)n, p + 1);
                buf_put(out, p, n + 2);
            }
        }
        p = close + 1;
    }
    buf_putc(out, 0);
}

/* Rebuild an entry whose key or fields hold a '%' into fresh storage. */
static int substitute_entry(const drv_inf *inf, const strings *st, drv_inf_entry *en,
                            buf *scratch, size_t *starts, drvsign_diag *diag)
{
    char *storage;
    scratch->len = 0;
    if (en->key != NULL)
        substitute(inf, st, en->key, en->line, scratch, diag);
    for (size_t v = 0; v < en->value_count; v++) {
        starts[v] = scratch->len;
        substitute(inf, st, en->values[v], en->line, scratch, diag);
    }
    if (scratch->failed || (storage = malloc(scratch->len)) == NULL)
        return -1;
    memcpy(storage, scratch->p, scratch->len);
    free(en->storage);
    en->storage = storage;
    en->key = en->key != NULL ? storage : NULL;
    for (size_t v = 0; v < en->value_count; v++)
        en->values[v] = storage + starts[v];
    return 0;
}

static int needs_substitution(const drv_inf_entry *en)
{
    if (en->key != NULL && strchr(en->key, '%') != NULL)
        return 1;
    for (size_t v = 0; v < en->value_count; v++)
        if (strchr(en->values[v], '%') != NULL)
            return 1;
    return 0;
}

static int substitute_all(drv_inf *inf, drvsign_diag *diag)
{
    strings st = {0};
    buf scratch = {0};
    size_t *starts = malloc(DRV_INF_MAX_FIELDS * sizeof *starts);
    int rc = -1;

    if (starts == NULL || collect_strings(inf, &st) != 0)
        goto done;
    for (size_t i = 0; i < inf->count; i++) {
        drv_inf_section *s = &inf->sections[i];
        if (is_strings_section(s->name))
            continue;
        for (size_t e = 0; e < s->count; e++)
            if (needs_substitution(&s->entries[e]) &&
                substitute_entry(inf, &st, &s->entries[e], &scratch, starts, diag) != 0)
                goto done;
    }
    rc = 0;
done:
    drv_strmap_free(&st.map);
    free(st.values);
    free(scratch.p);
    free(starts);
    return rc;
}

/* Sections with more entries than this get a key index; smaller ones are scanned. */
#define KEY_INDEX_MIN 16

static int index_keys(drv_inf *inf)
{
    for (size_t i = 0; i < inf->count; i++) {
        drv_inf_section *s = &inf->sections[i];
        if (s->count < KEY_INDEX_MIN)
            continue;
        for (size_t e = 0; e < s->count; e++)
            if (s->entries[e].key != NULL && drv_strmap_put(&s->keys, s->entries[e].key, e) < 0)
                return -1;
    }
    return 0;
}

/* ---- public ---- */

int drv_inf_parse(drv_inf *inf, const char *path, const unsigned char *data, size_t len,
                  drvsign_diag *diag)
{
    buf text = {0};
    int rc = -1;

    memset(inf, 0, sizeof *inf);
    inf->path = drv_strdup(path);
    drv_strmap_init(&inf->index, 1);
    if (inf->path == NULL) {
        drv_error(diag, path, "out of memory");
        return -1;
    }
    if (decode(path, &inf->encoding, data, len, &text, diag) != 0)
        goto done;
    buf_put(&text, "", 0);
    if (text.failed) {
        drv_error(diag, path, "out of memory");
        goto done;
    }
    if (parse_text(inf, text.p, diag) != 0)
        goto done;
    if (substitute_all(inf, diag) != 0 || index_keys(inf) != 0) {
        drv_error(diag, path, "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(text.p);
    return rc;
}

int drv_inf_decode(const char *path, const unsigned char *data, size_t len, char **text,
                   size_t *text_len, drv_inf_encoding *encoding, drvsign_diag *diag)
{
    buf out = {0};
    *text = NULL;
    if (decode(path, encoding, data, len, &out, diag) != 0) {
        free(out.p);
        return -1;
    }
    buf_put(&out, "", 0);
    if (out.failed) {
        free(out.p);
        drv_error(diag, path, "out of memory");
        return -1;
    }
    *text = out.p;
    *text_len = out.len;
    return 0;
}

int drv_inf_load(drv_inf *inf, const char *path, drvsign_diag *diag)
{
    unsigned char *data;
    size_t len;
    int rc;
    if (drv_read_small_file(path, MAX_INF_BYTES, &data, &len, diag) != 0) {
        memset(inf, 0, sizeof *inf);
        return -1;
    }
    rc = drv_inf_parse(inf, path, data, len, diag);
    free(data);
    return rc;
}

void drv_inf_free(drv_inf *inf)
{
    for (size_t i = 0; i < inf->count; i++) {
        drv_inf_section *s = &inf->sections[i];
        for (size_t e = 0; e < s->count; e++) {
            free(s->entries[e].storage);
            free(s->entries[e].values);
        }
        free(s->entries);
        free(s->name);
        drv_strmap_free(&s->keys);
    }
    free(inf->sections);
    drv_strmap_free(&inf->index);
    free(inf->path);
    memset(inf, 0, sizeof *inf);
}

const drv_inf_section *drv_inf_find_section(const drv_inf *inf, const char *name)
{
    size_t idx;
    return drv_strmap_get(&inf->index, name, &idx) ? &inf->sections[idx] : NULL;
}

const drv_inf_entry *drv_inf_key(const drv_inf_section *section, const char *key)
{
    size_t idx;
    if (section != NULL && section->keys.count > 0)
        return drv_strmap_get(&section->keys, key, &idx) ? &section->entries[idx] : NULL;
    for (size_t i = 0; section != NULL && i < section->count; i++)
        if (section->entries[i].key != NULL && drv_strcasecmp(section->entries[i].key, key) == 0)
            return &section->entries[i];
    return NULL;
}

const char *drv_inf_field(const drv_inf_entry *entry, size_t i)
{
    return entry != NULL && i < entry->value_count ? entry->values[i] : "";
}
