/* The text module on fixed bytes: what is well-formed UTF-8, where a name may be cut, the
 * UTF-16LE and Windows-1252 conversions (exact output, exact worst-case sizes, invalid input
 * replaced rather than swallowed), and the ASCII case-blind compare. */
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unit.h"

#define BYTES(s) (const unsigned char *)(s), sizeof(s) - 1
#define TEXT(s) (s), sizeof(s) - 1

static int same(const void *got, size_t got_len, const void *want, size_t want_len)
{
    return got != NULL && got_len == want_len && memcmp(got, want, want_len) == 0;
}

static void sequences(void)
{
    static const struct {
        const char *bytes;
        size_t n, want;
        const char *what;
    } cases[] = {
        {"A", 1, 1, "ASCII"},
        {"\xc3\xa9", 2, 2, "U+00E9"},
        {"\xe2\x82\xac", 3, 3, "U+20AC"},
        {"\xf0\x9f\x98\x80", 4, 4, "U+1F600"},
        {"\xf4\x8f\xbf\xbf", 4, 4, "U+10FFFF"},
        {"\xc0\x80", 2, 0, "an overlong NUL"},
        {"\xc1\xbf", 2, 0, "an overlong 2-byte form"},
        {"\xe0\x80\xaf", 3, 0, "an overlong 3-byte form"},
        {"\xf0\x80\x80\xaf", 4, 0, "an overlong 4-byte form"},
        {"\xed\xa0\x80", 3, 0, "a surrogate"},
        {"\xf4\x90\x80\x80", 4, 0, "past U+10FFFF"},
        {"\xf8\x88\x80\x80\x80", 5, 0, "a 5-byte form"},
        {"\x80", 1, 0, "a lone continuation byte"},
        {"\xe2\x82", 2, 0, "a sequence cut off by the length"},
        {"\xe2\x28\xa1", 3, 0, "a lead byte without its continuation"},
        {"", 0, 0, "nothing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(drv_utf8_sequence((const unsigned char *)cases[i].bytes, cases[i].n) == cases[i].want,
              "%s: %zu", cases[i].what,
              drv_utf8_sequence((const unsigned char *)cases[i].bytes, cases[i].n));
    CHECK(drv_utf8_valid(BYTES("plain \xc3\xa9 \xf0\x9f\x98\x80")), "well-formed text");
    CHECK(drv_utf8_valid(BYTES("")), "empty text");
    CHECK(!drv_utf8_valid(BYTES("caf\xe9")), "Windows-1252 text is not UTF-8");
    CHECK(!drv_utf8_valid(BYTES("ok \xed\xa0\x80")), "an encoded surrogate is not UTF-8");
    CHECK(!drv_utf8_valid(BYTES("ok \xe2\x82")), "text cut inside a character is not UTF-8");
}

static void boundaries(void)
{
    const char *s = "ab\xc3\xa9z\xf0\x9f\x98\x80y";
    CHECK(drv_utf8_boundary(s, 2) == 2, "before a lead byte: as it is");
    CHECK(drv_utf8_boundary(s, 3) == 2, "inside U+00E9: back to its start");
    CHECK(drv_utf8_boundary(s, 4) == 4, "after U+00E9");
    CHECK(drv_utf8_boundary(s, 8) == 5, "inside U+1F600: back to its start (%zu)",
          drv_utf8_boundary(s, 8));
    CHECK(drv_utf8_boundary("\x80\x80\x80x", 2) == 0, "all continuation bytes: nothing kept");
}

static void to_utf16(void)
{
    size_t len = 99;
    unsigned char *u = drv_utf16le_from_utf8(TEXT("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), &len);
    CHECK(same(u, len + 2, "a\0\xe9\0\xac\x20\x3d\xd8\x00\xde\0\0", 12),
          "ASCII, U+00E9, U+20AC, a surrogate pair, then the NUL unit (%zu bytes)", len);
    free(u);
    /* each bad byte is one U+FFFD and the text after it is kept, never swallowed */
    u = drv_utf16le_from_utf8(TEXT("\xff\x61\x80\x62\xe2\x82"), &len);
    CHECK(same(u, len, "\xfd\xff\x61\0\xfd\xff\x62\0\xfd\xff\xfd\xff", 12),
          "invalid bytes become U+FFFD (%zu bytes)", len);
    free(u);
    /* the worst case is exactly 2 bytes an input byte (ASCII, or bytes that are all bad) */
    u = drv_utf16le_from_utf8(TEXT("\x80\x80\x80"), &len);
    CHECK(u != NULL && len == 6 && u[6] == 0 && u[7] == 0, "three bad bytes: 6 bytes (%zu)", len);
    free(u);
    u = drv_utf16le_from_utf8("", 0, &len);
    CHECK(same(u, len + 2, "\0\0", 2), "empty text: the NUL unit alone");
    free(u);
    CHECK(drv_utf16le_from_utf8("x", (size_t)-1 / 2, &len) == NULL,
          "a length whose output size would wrap is refused before any allocation");
}

/* UTF-16LE and Windows-1252 to UTF-8 */
static void to_utf8(void)
{
    size_t len = 99;
    char *s = drv_utf8_from_utf16le(BYTES("a\0\xe9\0\xac\x20\x3d\xd8\x00\xde"), &len);
    CHECK(same(s, len + 1, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 11),
          "ASCII, U+00E9, U+20AC and a surrogate pair (%zu bytes)", len);
    free(s);
    s = drv_utf8_from_utf16le(BYTES("\x3d\xd8\x61\0\x00\xde\x62\0\x3d\xd8"), &len);
    CHECK(same(s, len + 1, "\xef\xbf\xbd\x61\xef\xbf\xbd\x62\xef\xbf\xbd", 12),
          "unpaired surrogates become U+FFFD (%zu bytes)", len);
    free(s);
    s = drv_utf8_from_utf16le(BYTES("o\0d\0d"), &len);
    CHECK(same(s, len + 1, "od", 3), "a trailing odd byte is dropped");
    free(s);
    s = drv_utf8_from_utf16le(BYTES("a\0\0\0b\0"), &len);
    CHECK(same(s, len + 1, "a\0b", 4) && strcmp(s, "a") == 0,
          "a NUL unit is kept: the C string ends there, the length says what follows");
    free(s);
    /* the worst case: 3 bytes a unit (U+FFFF) fills n / 2 * 3 exactly */
    s = drv_utf8_from_utf16le(BYTES("\xff\xff\xff\xff"), &len);
    CHECK(same(s, len + 1, "\xef\xbf\xbf\xef\xbf\xbf", 7), "U+FFFF twice: 6 bytes");
    free(s);
    s = drv_utf8_from_cp1252(BYTES("caf\xe9 \x80 \x81 \x9f \xff"), &len);
    CHECK(same(s, len + 1, "caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xc5\xb8 \xc3\xbf", 20),
          "Latin-1, the euro sign, an undefined byte and 0x9F (%zu bytes)", len);
    free(s);
}

static void case_blind(void)
{
    CHECK(drv_strcasecmp("CopyFiles", "copyfiles") == 0, "equal but for case");
    CHECK(drv_strcasecmp("a", "B") < 0 && drv_strcasecmp("B", "a") > 0, "ordered as lower case");
    CHECK(drv_strcasecmp("ab", "a") > 0, "a prefix sorts first");
    CHECK(drv_strncasecmp("NTamd64", "ntx86", 2) == 0, "within n bytes");
    CHECK(drv_strcasecmp("\xc3\xa9", "\xc3\x89") != 0, "only ASCII folds");
    CHECK(drvsign_same_name("Toaster.SYS", "toaster.sys") &&
              !drvsign_same_name("toaster.sys", "toaster.sy") &&
              !drvsign_same_name("toaster.sy", "toaster.sys"),
          "the front ends' name match is the same compare");
}

int main(void)
{
    sequences();
    boundaries();
    to_utf16();
    to_utf8();
    case_blind();
    return unit_finish();
}
