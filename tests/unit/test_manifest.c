/* The package manifest reader: a good manifest, the format version, quoting (escapes, and a
 * round trip of what DrvSign.cmake writes: argv[1], from manifest_roundtrip.cmake), corrupt
 * lines (one clear error each, all listed). */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "unit.h"

static int parse(manifest *m, const char *text)
{
    drvsign_diag diag = unit_diag();
    return manifest_parse(m, "m.txt", (const unsigned char *)text, strlen(text), &diag);
}

#define BASE "name \"p\"\ninf \"/s/p.inx\"\noutput \"/o\"\nwork \"/w\"\n"

/* the values manifest_roundtrip.cmake writes: every character a path may hold */
static const char *const tricky[] = {
    "/src/a \"quoted\" path\\with\\backslashes",
    "/line1\nline2\r\ttab",
    "/pipe|semi;colon=equals # hash 'single'",
    "/\xc3\xbcn\xc3\xaf"
    "c\xc3\xb8"
    "d\xc3\xa9/\xe8\xb7\xaf\xe5\xbe\x84/\xf0\x9f\x98\x80",
    "/$<NOT_A_GENEX> [[brackets]] ${dollar} \\n not a newline",
};

int main(int argc, char **argv)
{
    manifest m;

    CHECK(parse(&m, "# comment\r\n\r\ndrvsign-manifest 1\r\n" BASE
                    "os \"10_X64\"\nos \"Server10_ARM64\"\nfile \"/b/t.sys\"\nos \"\"\n"
                    "catalog_version \"2\"\npage_hashes \"1\"\nsign_mode \"production\"\n"
                    "driver_version \"\"\n") == 0,
          "a good manifest reads");
    CHECK(strcmp(m.name, "p") == 0 && strcmp(m.inf, "/s/p.inx") == 0 && m.os.n == 2 &&
              strcmp(m.os.v[1], "Server10_ARM64") == 0 && m.files.n == 1 &&
              m.catalog_version == 2 && m.page_hashes == 1 &&
              strcmp(m.sign_mode, "production") == 0 && m.driver_version == NULL,
          "... every value as written (an empty one is not set)");
    manifest_free(&m);
    CHECK(parse(&m, "drvsign-manifest 1\n" BASE) == 0 && strcmp(m.sign_mode, "test") == 0,
          "sign_mode defaults to test");
    manifest_free(&m);

    /* escapes */
    CHECK(parse(&m, "drvsign-manifest 1\n" BASE
                    "file \"a\\\\b \\\"c\\\" d\\ne\\rf\\tg|h;i=j\"  \n") == 0 &&
              m.files.n == 1 && strcmp(m.files.v[0], "a\\b \"c\" d\ne\rf\tg|h;i=j") == 0,
          "escapes: '%s'", m.files.n ? m.files.v[0] : "");
    manifest_free(&m);

    /* the format version */
    CHECK(
        parse(&m, "drvsign-manifest 2\n" BASE) != 0 &&
            unit_error_is("m.txt:1: manifest format \"2\", but this drvsign reads format 1: the "
                          "DrvSign module that wrote it is from another drvsign version than this "
                          "helper (use the module installed with it, then reconfigure)") &&
            unit_sink.error_count == 1,
        "another format version: one error");
    CHECK(parse(&m, "# old\nname=p\ninf=/s/p.inf\n") != 0 &&
              unit_error_is("m.txt:2: not a drvsign package manifest (it starts with "
                            "\"drvsign-manifest 1\")") &&
              unit_sink.error_count == 1,
          "the old key=value text: one error");
    CHECK(parse(&m, "") != 0 && unit_error_is("m.txt: empty: not a drvsign package manifest"),
          "empty");
    {
        drvsign_diag diag = unit_diag();
        CHECK(manifest_parse(&m, "m.txt", (const unsigned char *)"drvsign-manifest 1\n\0x", 21,
                             &diag) != 0 &&
                  unit_error_is("m.txt: contains a NUL byte: not a drvsign package manifest"),
              "a NUL byte");
    }

    /* corrupt lines: one error each, naming the line, all listed */
    CHECK(parse(&m, "drvsign-manifest 1\n" BASE "os 10_X64\n" /* 6 */
                    "os \"10_X64\n"                           /* 7 */
                    "os \"a\\x\"\n"                           /* 8 */
                    "os \"a\" b\n"                            /* 9 */
                    "colour \"red\"\n"                        /* 10 */
                    "os\"x\"\n"                               /* 11 */
                    "catalog_version \"two\"\n") != 0 &&      /* 12 */
              unit_sink.error_count == 7 &&
              unit_error_is("m.txt:6: os: expected a quoted value after the key (key \"value\")") &&
              unit_error_is("m.txt:7: os: the value's closing quote is missing") &&
              unit_error_is("m.txt:8: os: unknown escape in the value (the escapes are \\\\, \\\", "
                            "\\n, \\r and \\t)") &&
              unit_error_is("m.txt:9: os: text after the value's closing quote") &&
              unit_error_is("m.txt:10: unknown key \"colour\"") &&
              unit_error_is("m.txt:11: expected a space and a quoted value after os") &&
              unit_error_is("m.txt:12: catalog_version is a number, not \"two\""),
          "corrupt lines: one error each (%u)", unit_sink.error_count);
    CHECK(parse(&m, "drvsign-manifest 1\nname \"p\"\n") != 0 &&
              unit_error_is("m.txt: the manifest needs name, inf, output and work"),
          "required keys");
    CHECK(parse(&m, "drvsign-manifest 1\n" BASE "sign_mode \"prod\"\n") != 0 &&
              unit_error_is("m.txt: sign_mode is off, test or production, not 'prod'"),
          "sign_mode checked");
    CHECK(parse(&m, "drvsign-manifest 1\n" BASE "file_from \"/nonexistent/x.path\"\n") != 0 &&
              unit_sink.error_count == 1 &&
              strstr(unit_sink.errors[0], "/nonexistent/x.path") != NULL,
          "file_from a missing file: '%s'", unit_sink.error_count ? unit_sink.errors[0] : "");

    /* the round trip through DrvSign.cmake's writer */
    if (argc > 1) {
        drvsign_diag diag = unit_diag();
        CHECK(manifest_load(&m, argv[1], &diag) == 0, "the module's manifest reads (%s)",
              unit_sink.error_count ? unit_sink.errors[0] : "");
        CHECK(m.name && strcmp(m.name, tricky[2]) == 0, "name: '%s'", m.name ? m.name : "");
        CHECK(m.inf && strcmp(m.inf, tricky[0]) == 0, "inf: '%s'", m.inf ? m.inf : "");
        CHECK(m.output && strcmp(m.output, tricky[1]) == 0, "output");
        CHECK(m.work && strcmp(m.work, tricky[3]) == 0, "work");
        CHECK(m.files.n == 6, "files: %zu", m.files.n);
        for (size_t i = 0; i < 5 && i < m.files.n; i++)
            CHECK(strcmp(m.files.v[i], tricky[i]) == 0, "file %zu: '%s'", i, m.files.v[i]);
        /* file_from: a generator expression's value, written raw by file(WRITE) */
        CHECK(m.files.n == 6 && strcmp(m.files.v[5], tricky[1]) == 0, "file_from");
        manifest_free(&m);
    } else {
        CHECK(0, "usage: test_manifest MANIFEST (from manifest_roundtrip.cmake)");
    }
    return unit_finish();
}
