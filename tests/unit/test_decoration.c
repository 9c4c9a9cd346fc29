/* TargetOSVersion decorations: parsing, applicability, and the union rule as a table of
 * [Manufacturer] decorations x /os targets x the models sections the target takes. */
#include <string.h>

#include "decoration.h"
#include "unit.h"

typedef struct row {
    const char *decorations; /* one [Manufacturer] line's decorations, comma-separated */
    const char *os;          /* the /os id */
    const char *expected;    /* the picks, comma-separated ("plain": the undecorated section) */
} row;

static const row table[] = {
    /* Visual Studio's templates: one build-gated decoration */
    {"NTamd64.10.0...16299", "10_X64", "NTamd64.10.0...16299"},
    {"NTamd64.10.0...16299", "Server10_X64", "NTamd64.10.0...16299"},
    {"NTamd64.10.0...16299", "10_GE_X64", "NTamd64.10.0...16299"},
    {"NTarm64.10.0...16299", "Server10_ARM64", "NTarm64.10.0...16299"},
    {"NTarm64.10.0...16299", "10_GE_ARM64", "NTarm64.10.0...16299"},
    {"NTamd64.10.0...22000", "10_X64", "NTamd64.10.0...22000"},
    {"NTamd64", "10_X64", "NTamd64"},
    /* the union over the builds a target covers */
    {"NTamd64.6.1,NTamd64.10.0...16299", "10_X64", "NTamd64.6.1,NTamd64.10.0...16299"},
    {"NTamd64.6.1,NTamd64.10.0...16299", "10_RS3_X64", "NTamd64.10.0...16299"},
    {"NTamd64.6.1,NTamd64.10.0...16299", "7_X64", "NTamd64.6.1"},
    {"NTamd64.6.1,NTamd64.10.0...16299", "Server10_X64", "NTamd64.6.1,NTamd64.10.0...16299"},
    {"NTamd64.6.1,NTamd64.10.0...16299", "ServerRS5_X64", "NTamd64.10.0...16299"},
    {"NTamd64,NTamd64.10.0...17763,NTamd64.10.0...22000", "10_RS5_X64",
     "NTamd64.10.0...17763,NTamd64.10.0...22000"},
    {"NTamd64,NTamd64.10.0...17763,NTamd64.10.0...22000", "10_X64",
     "NTamd64,NTamd64.10.0...17763,NTamd64.10.0...22000"},
    /* version: a decoration is the oldest version it serves */
    {"NTamd64.10.0", "7_X64", ""},
    {"NTamd64.6.3...20000", "10_X64", "NTamd64.6.3...20000"}, /* 6.3 < 10.0 whatever the build */
    {"NTamd64.6.0,NTamd64.6.1", "10_X64", "NTamd64.6.1"},
    /* product type: 1 clients, 2 domain controllers, 3 servers */
    {"NTamd64.10.0.1,NTamd64.10.0.3", "10_X64", "NTamd64.10.0.1"},
    {"NTamd64.10.0.1,NTamd64.10.0.3", "Server10_X64", "NTamd64.10.0.3"},
    {"NTamd64.10.0.3,NTamd64.10.0", "Server10_X64", "NTamd64.10.0.3,NTamd64.10.0"},
    {"NTamd64.10.0.3", "10_X64", ""},
    {"NTamd64.10.0.1", "ServerRS5_X64", ""},
    /* suite mask: picked where the installation has the suite, else the next best */
    {"NTamd64.10.0..0x10,NTamd64.10.0", "10_X64", "NTamd64.10.0..0x10,NTamd64.10.0"},
    {"NTamd64.10.0..0x10", "10_X64", "NTamd64.10.0..0x10"},
    /* architecture: non-x86 platforms take decorated sections only */
    {"NTx86", "10_X64", ""},
    {"NTamd64", "10_X86", "plain"},
    {"NTx86", "10_X86", "NTx86"},
    {"NT", "10_X86", "NT"},
    {"NT", "10_X64", ""},
    {"NT.6.0,NTx86.6.0", "10_X86", "NTx86.6.0"},
    {"", "10_X86", "plain"},
    {"", "10_X64", ""},
    {"ntAMD64.10.0...16299", "10_RS3_X64", "ntAMD64.10.0...16299"},
};

static size_t split(const char *csv, char out[][64], size_t max)
{
    size_t n = 0;
    while (*csv && n < max) {
        size_t len = strcspn(csv, ",");
        snprintf(out[n++], 64, "%.*s", (int)len, csv);
        csv += len + (csv[len] == ',');
    }
    return n;
}

int main(void)
{
    drv_decoration d;

    CHECK(drv_decoration_parse("NTamd64.10.0...16299", &d) == 0 && strcmp(d.arch, "amd64") == 0 &&
              d.major == 10 && d.minor == 0 && d.ptype == 0 && d.suite == 0 && d.build == 16299,
          "parse the template decoration");
    CHECK(drv_decoration_parse("NTx86.5.1.1.0x0000FFFF.2600", &d) == 0 && d.suite == 0xffff &&
              d.ptype == 1 && d.build == 2600,
          "parse every field, hex suite");
    CHECK(drv_decoration_parse("NT", &d) == 0 && d.arch[0] == 0, "bare NT");
    CHECK(drv_decoration_parse("NTamd64.10.0.3...17763", &d) != 0, "six fields");
    CHECK(drv_decoration_parse("NT$ARCH$.10.0...16299", &d) != 0, "unstamped $ARCH$");
    CHECK(drv_decoration_parse("NTmips", &d) != 0, "unknown architecture");
    CHECK(drv_decoration_parse("Models", &d) != 0, "not NT");
    CHECK(drv_decoration_parse("NTamd64.1x", &d) != 0, "not a number");
    CHECK(drv_decoration_parse("NTamd64.99999999999", &d) != 0, "too big");

    for (size_t r = 0; r < sizeof table / sizeof table[0]; r++) {
        char names[8][64], want[8][64], got[512] = "";
        drv_decoration decs[8];
        unsigned char chosen[8];
        size_t n = split(table[r].decorations, names, 8), w = split(table[r].expected, want, 8);
        const drv_os *t = drv_os_find(table[r].os);
        int plain, ok = 1;
        size_t picks;

        CHECK(t != NULL, "os %s", table[r].os);
        if (t == NULL)
            continue;
        for (size_t i = 0; i < n; i++)
            ok &= drv_decoration_parse(names[i], &decs[i]) == 0;
        CHECK(ok, "row %zu parses", r);
        picks = drv_decoration_choose(decs, n, t, chosen, &plain);
        for (size_t i = 0; i < n; i++)
            if (chosen[i])
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", *got ? "," : "",
                         names[i]);
        if (plain)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%splain", *got ? "," : "");
        CHECK(picks == w && strcmp(got, table[r].expected) == 0,
              "[%s] x %s: got '%s', expected '%s'", table[r].decorations, table[r].os, got,
              table[r].expected);
    }

    /* why a decoration does not apply, and an /os id that takes it */
    {
        static const struct {
            const char *decoration, *os, *why, *other;
        } cases[] = {
            {"NTx86", "10_X64", "is for x86", "10_X86"},
            {"NTarm64.10.0...16299", "10_X64", "is for arm64", "10_RS3_ARM64"},
            {"NTarm64.10.0...16299", "Server10_X64", "is for arm64", "Server10_ARM64"},
            {"NTamd64.10.0.3", "10_X64", "is for servers only (product type 3)", "Server10_X64"},
            {"NTamd64.10.0.1", "Server10_X64", "is for clients only (product type 1)", "10_X64"},
            {"NTamd64.10.0", "7_X64", "is for Windows 10.0 and later", "10_X64"},
            {"NT.6.0", "10_X64", "names no architecture, which only x86 takes", "10_X86"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char why[128];
            const drv_os *t = drv_os_find(cases[i].os), *other;
            CHECK(drv_decoration_parse(cases[i].decoration, &d) == 0, "parse %s",
                  cases[i].decoration);
            CHECK(drv_decoration_why_not(&d, t, why, sizeof why) == 0 &&
                      strcmp(why, cases[i].why) == 0,
                  "%s on %s: '%s'", cases[i].decoration, cases[i].os, why);
            other = drv_decoration_os_for(&d, t);
            CHECK(other != NULL && strcmp(other->id, cases[i].other) == 0, "%s: os %s",
                  cases[i].decoration, other ? other->id : "(none)");
        }
        CHECK(drv_decoration_parse("NTamd64.10.0...22000", &d) == 0 &&
                  drv_decoration_why_not(&d, drv_os_find("10_X64"), (char[8]){0}, 8) != 0,
              "a later build of the target's release applies");
    }
    /* the default ids exist */
    CHECK(drv_os_find("Server10_ARM64") != NULL && drv_os_find("10_X64") != NULL &&
              drv_os_find("10_X86") != NULL,
          "default ids");
    CHECK(drv_os_find("10_ARM64") == NULL, "10_ARM64 is not an Inf2Cat id");
    {
        /* suggestions: nearest first, table order within a distance, none beyond 3 edits,
         * whatever the token's length */
        const char *near[3];
        static char long_token[200001];
        size_t k = drv_os_suggest("10_ARM64", near, 3);
        CHECK(k >= 1 && strcmp(near[0], "10_RS3_ARM64") != 0 && strlen(near[0]) <= 11,
              "10_ARM64: a near id first (%s)", k ? near[0] : "none");
        k = drv_os_suggest("10_x6", near, 3);
        CHECK(k == 3 && ((!strcmp(near[0], "10_X64") && !strcmp(near[1], "10_X86")) ||
                         (!strcmp(near[0], "10_X86") && !strcmp(near[1], "10_X64"))),
              "10_x6: one edit from 10_X64 and 10_X86, those first (%s, %s)", k ? near[0] : "",
              k > 1 ? near[1] : "");
        CHECK(drv_os_suggest("10_X64_EXTRA", near, 3) == 0 ||
                  strlen(near[0]) + 3 >= strlen("10_X64_EXTRA"),
              "no id more than 3 characters shorter is suggested");
        memset(long_token, 'X', sizeof long_token - 1);
        CHECK(drv_os_suggest(long_token, near, 3) == 0, "a 200,000-character token: no id");
        CHECK(drv_os_suggest("", near, 3) == 0 || strlen(near[0]) <= 3, "an empty token");
    }
    return unit_finish();
}
