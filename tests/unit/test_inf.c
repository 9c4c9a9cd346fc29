/* The INF reader: encodings, syntax, substitution, merging, line numbers, malformed input. */
#include <stdlib.h>
#include <string.h>

#include "inf.h"
#include "unit.h"

static int parse(drv_inf *inf, const void *data, size_t len)
{
    drvsign_diag diag = unit_diag();
    return drv_inf_parse(inf, "t.inf", data, len, &diag);
}

static int parse_str(drv_inf *inf, const char *text)
{
    return parse(inf, text, strlen(text));
}

static const char *field(const drv_inf *inf, const char *section, const char *key, size_t i)
{
    return drv_inf_field(drv_inf_key(drv_inf_find_section(inf, section), key), i);
}

int main(void)
{
    drv_inf inf;

    /* syntax: case-insensitive names, comments, quotes, keyless lines */
    CHECK(parse_str(&inf, "[Version]\r\nSignature = \"$WINDOWS NT$\" ; comment\r\n"
                          "Class=Net\r\n[files]\r\na.sys\r\nb.sys,c.sys,,2\r\n") == 0, "parse");
    CHECK(strcmp(field(&inf, "VERSION", "signature", 0), "$WINDOWS NT$") == 0, "quoted value");
    CHECK(strcmp(field(&inf, "version", "CLASS", 0), "Net") == 0, "case-insensitive");
    {
        const drv_inf_section *s = drv_inf_find_section(&inf, "Files");
        CHECK(s != NULL && s->count == 2, "keyless lines");
        CHECK(s && s->entries[1].key == NULL && s->entries[1].value_count == 4 &&
                  strcmp(s->entries[1].values[1], "c.sys") == 0 &&
                  strcmp(s->entries[1].values[2], "") == 0 && s->entries[1].line == 6,
              "fields and line");
    }
    CHECK(unit_sink.error_count == 0, "no errors: %s", unit_sink.errors[0]);
    drv_inf_free(&inf);

    /* quotes: commas and semicolons inside, doubled quotes, mixed quoted and bare text */
    parse_str(&inf, "[s]\nk = \"a, b\", \"say \"\"hi\"\"\", x\"y;z\"w , \" padded \" ; c\n");
    CHECK(strcmp(field(&inf, "s", "k", 0), "a, b") == 0, "comma in quotes: %s",
          field(&inf, "s", "k", 0));
    CHECK(strcmp(field(&inf, "s", "k", 1), "say \"hi\"") == 0, "doubled quotes: %s",
          field(&inf, "s", "k", 1));
    CHECK(strcmp(field(&inf, "s", "k", 2), "xy;zw") == 0, "semicolon in quotes: %s",
          field(&inf, "s", "k", 2));
    CHECK(strcmp(field(&inf, "s", "k", 3), " padded ") == 0, "quoted spaces kept");
    drv_inf_free(&inf);

    /* continuation lines keep the first line's number; later lines keep theirs */
    parse_str(&inf, "[s]\nCopyFiles = A, \\\n    B, \\\n  C\nNext = 1\n");
    {
        const drv_inf_entry *e = drv_inf_key(drv_inf_find_section(&inf, "s"), "CopyFiles");
        CHECK(e != NULL && e->value_count == 3 && strcmp(e->values[2], "C") == 0 && e->line == 2,
              "continuation");
        e = drv_inf_key(drv_inf_find_section(&inf, "s"), "Next");
        CHECK(e != NULL && e->line == 5, "line after continuation: %u", e ? e->line : 0);
    }
    drv_inf_free(&inf);

    /* %strkey%, %%, DIRIDs, [Strings.lcid], repeated sections */
    parse_str(&inf, "[Strings.0409]\nOnlyHere = \"from 0409\"\nBoth = \"0409 loses\"\n"
                    "[a]\nx = %Prov%, %%literal%%, %12%\\toaster.sys, %OnlyHere%, %Both%, %Nope%\n"
                    "[Strings]\nProv = \"Contoso\"\n[A]\ny = 2\n[strings]\nBoth = \"Strings wins\"\n");
    CHECK(strcmp(field(&inf, "a", "x", 0), "Contoso") == 0, "substitution");
    CHECK(strcmp(field(&inf, "a", "x", 1), "%literal%") == 0, "%%%%: %s", field(&inf, "a", "x", 1));
    CHECK(strcmp(field(&inf, "a", "x", 2), "%12%\\toaster.sys") == 0, "DIRID untouched");
    CHECK(strcmp(field(&inf, "a", "x", 3), "from 0409") == 0, "language strings");
    CHECK(strcmp(field(&inf, "a", "x", 4), "Strings wins") == 0, "[Strings] first, merged");
    CHECK(strcmp(field(&inf, "a", "x", 5), "%Nope%") == 0, "undefined left as is");
    CHECK(unit_sink.warning_count == 1 &&
              strstr(unit_sink.warnings[0], "t.inf:5: %Nope% is not defined"),
          "one warning for the undefined key: %s", unit_sink.warnings[0]);
    CHECK(strcmp(field(&inf, "a", "y", 0), "2") == 0, "repeated sections merge");
    drv_inf_free(&inf);

    /* UTF-16LE with BOM, with a non-ASCII character */
    {
        const char *text = "[Strings]\nName = \"Caf\xc3\xa9\"\n";
        unsigned char buf[128];
        size_t n = 2;
        buf[0] = 0xff;
        buf[1] = 0xfe;
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
            unsigned cp = *p;
            if (*p == 0xc3) {
                cp = 0xe9;
                p++;
            }
            buf[n++] = (unsigned char)cp;
            buf[n++] = 0;
        }
        CHECK(parse(&inf, buf, n) == 0 && inf.encoding == DRV_INF_UTF16LE, "utf-16le");
        CHECK(strcmp(field(&inf, "strings", "name", 0), "Caf\xc3\xa9") == 0, "utf-16le text");
        drv_inf_free(&inf);
    }
    /* UTF-8 with BOM, and ANSI (Windows-1252) */
    parse_str(&inf, "\xef\xbb\xbf[s]\nk = v\n");
    CHECK(inf.encoding == DRV_INF_UTF8_BOM && strcmp(field(&inf, "s", "k", 0), "v") == 0, "bom");
    drv_inf_free(&inf);
    parse_str(&inf, "[s]\nk = caf\xe9 \x80\n");
    CHECK(inf.encoding == DRV_INF_ANSI &&
              strcmp(field(&inf, "s", "k", 0), "caf\xc3\xa9 \xe2\x82\xac") == 0,
          "cp1252: %s", field(&inf, "s", "k", 0));
    drv_inf_free(&inf);

    /* malformed input: each problem named with its line, parsing goes on; text before the
     * first header is ignored, as SetupAPI ignores it */
    parse_str(&inf, "orphan = 1\n[good]\na = 1\n[broken\nb = \"open\n[fine]\nc = 3\n");
    CHECK(!unit_error_contains("t.inf:1:"), "text before the first section is no error: %s",
          unit_sink.errors[0]);
    CHECK(unit_error_contains("t.inf:4: section header is missing ']'"), "header");
    CHECK(unit_sink.error_count == 1,
          "one error for the broken header, not one per line after it (%u)", unit_sink.error_count);
    CHECK(strcmp(field(&inf, "fine", "c", 0), "3") == 0, "parsing continues");
    drv_inf_free(&inf);
    /* a C-style banner, as Microsoft's samples open with, with quotes, ';', '=' and '\\' */
    CHECK(parse_str(&inf, "/*++\n\nCopyright (c) \"Contoso\" = 1; all rights\n\nModule Name:\n"
                          "    toaster.inf \\\n--*/\n[Version]\nSignature=\"$WINDOWS NT$\"\n") == 0,
          "banner parses");
    CHECK(unit_sink.error_count == 0 && unit_sink.warning_count == 0,
          "banner: no error or warning (%u, %u)", unit_sink.error_count, unit_sink.warning_count);
    CHECK(strcmp(field(&inf, "Version", "Signature", 0), "$WINDOWS NT$") == 0 &&
              drv_inf_find_section(&inf, "Version")->line == 8,
          "banner: [Version] keeps its line");
    drv_inf_free(&inf);
    /* the rest of SetupAPI's syntax */
    parse_str(&inf, "[s]\nk = a , \"b ; c\" , , d\"q\"\"x\"e   \nk = second\nempty=\n"
                    "pct = 100%%, %%x%%\nlast = z \\");
    CHECK(strcmp(field(&inf, "s", "k", 0), "a") == 0 && strcmp(field(&inf, "s", "k", 1), "b ; c") == 0 &&
              strcmp(field(&inf, "s", "k", 2), "") == 0 &&
              strcmp(field(&inf, "s", "k", 3), "dq\"xe") == 0,
          "quoting, empty fields, trailing spaces: '%s'", field(&inf, "s", "k", 3));
    CHECK(drv_inf_key(drv_inf_find_section(&inf, "s"), "k")->line == 2, "duplicate keys: the first");
    CHECK(drv_inf_key(drv_inf_find_section(&inf, "s"), "empty")->value_count == 1 &&
              strcmp(field(&inf, "s", "empty", 0), "") == 0,
          "an empty value is one empty field");
    CHECK(strcmp(field(&inf, "s", "pct", 0), "100%") == 0 && strcmp(field(&inf, "s", "pct", 1), "%x%") == 0,
          "%%%% is a literal %%: %s", field(&inf, "s", "pct", 1));
    CHECK(strcmp(field(&inf, "s", "last", 0), "z") == 0, "'\\' on the last line is dropped: '%s'",
          field(&inf, "s", "last", 0));
    drv_inf_free(&inf);
    parse_str(&inf, "[Strings]\nNoValue=\nBare\n[s]\nk=<%NoValue%>\n");
    CHECK(strcmp(field(&inf, "s", "k", 0), "<>") == 0 && unit_sink.warning_count == 0,
          "a [Strings] key with no value is the empty string");
    drv_inf_free(&inf);
    {
        /* a long line: memory per field is its text plus a pointer; the limit is an error */
        size_t n = 200000;
        char *text = malloc(n + 16);
        memcpy(text, "[s]\nk=", 6);
        memset(text + 6, ',', n);
        text[n + 6] = 0;
        parse_str(&inf, text);
        CHECK(unit_error_contains("t.inf:2: line has more than 65536 comma-separated fields"),
              "field limit: %s", unit_sink.errors[0]);
        drv_inf_free(&inf);
        text[6 + 60000] = 0;
        CHECK(parse_str(&inf, text) == 0 && unit_sink.error_count == 0 &&
                  drv_inf_key(drv_inf_find_section(&inf, "s"), "k")->value_count == 60001,
              "60000 commas: 60001 fields");
        drv_inf_free(&inf);
        free(text);
    }
    {
        /* a big section is looked up through its key index */
        char text[64 * 24 + 16];
        size_t len = (size_t)snprintf(text, sizeof text, "[big]\n");
        for (int i = 0; i < 64; i++)
            len += (size_t)snprintf(text + len, sizeof text - len, "Key%d = %d\n", i, i);
        len += (size_t)snprintf(text + len, sizeof text - len, "KEY5 = dup\n");
        parse_str(&inf, text);
        CHECK(strcmp(field(&inf, "BIG", "key63", 0), "63") == 0 &&
                  strcmp(field(&inf, "big", "Key5", 0), "5") == 0 &&
                  drv_inf_key(drv_inf_find_section(&inf, "big"), "nokey") == NULL,
              "indexed keys, first wins");
        drv_inf_free(&inf);
    }
    parse_str(&inf, "[s]\nb = \"open\n");
    CHECK(unit_error_contains("t.inf:2: unterminated quoted string"), "quote: %s",
          unit_sink.errors[0]);
    drv_inf_free(&inf);
    CHECK(parse(&inf, "[s]\0x", 5) != 0 && unit_error_contains("NUL"), "NUL bytes");
    drv_inf_free(&inf);
    CHECK(parse(&inf, "\xfe\xff\0[", 4) != 0 && unit_error_contains("big-endian"), "UTF-16BE");
    drv_inf_free(&inf);
    CHECK(parse(&inf, "", 0) == 0 && inf.count == 0, "empty");
    drv_inf_free(&inf);
    parse_str(&inf, "[]\n");
    CHECK(unit_error_contains("empty section name"), "empty name");
    drv_inf_free(&inf);
    /* a trailing backslash on the last line, and a lone odd byte in UTF-16 */
    CHECK(parse_str(&inf, "[s]\nk = a \\") == 0 && strcmp(field(&inf, "s", "k", 0), "a") == 0,
          "continuation at EOF");
    drv_inf_free(&inf);
    CHECK(parse(&inf, "\xff\xfe[\0s\0]\0\n", 9) == 0, "odd UTF-16 length");
    drv_inf_free(&inf);
    return unit_finish();
}
