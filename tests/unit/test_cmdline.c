/* drv_split_command: words as a POSIX shell splits them, and the refusals. */
#include <string.h>

#include "cmdline.h"
#include "port.h"
#include "unit.h"

/* words: NUL-separated expected words, ending with an empty string */
static void split_ok(const char *text, const char *const *want, size_t want_count)
{
    drv_strlist words;
    const char *problem = NULL;
    int rc = drv_split_command(text, &words, &problem);
    CHECK(rc == 0, "[%s] was refused: %s", text, problem ? problem : "?");
    if (rc != 0)
        return;
    CHECK(words.n == want_count, "[%s] gave %zu words, wanted %zu", text, words.n, want_count);
    for (size_t i = 0; i < words.n && i < want_count; i++)
        CHECK(strcmp(words.v[i], want[i]) == 0, "[%s] word %zu is [%s], wanted [%s]", text, i,
              words.v[i], want[i]);
    CHECK(words.v[words.n] == NULL, "[%s]: no NULL after the last word, as an argv has", text);
    drv_strlist_free(&words);
}

static void split_refused(const char *text, const char *why)
{
    drv_strlist words;
    const char *problem = "";
    int rc = drv_split_command(text, &words, &problem);
    CHECK(rc == -1, "[%s] was accepted", text);
    CHECK(rc != -1 || strstr(problem, why) != NULL, "[%s] refused for [%s], wanted [%s]", text,
          problem, why);
    CHECK(rc != -1 || (words.v == NULL && words.n == 0), "[%s]: refused, but words are left", text);
    drv_strlist_free(&words);
}

#define WORDS(...)                                                                                 \
    (const char *const[]){__VA_ARGS__},                                                            \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

int main(void)
{
    split_ok("openssl pkeyutl -sign", WORDS("openssl", "pkeyutl", "-sign"));
    split_ok("  a \t b\n c  ", WORDS("a", "b", "c"));
    split_ok("'/path with spaces/key.pem'", WORDS("/path with spaces/key.pem"));
    split_ok("\"/path with spaces\"/key.pem", WORDS("/path with spaces/key.pem"));
    split_ok("a\\ b", WORDS("a b"));
    split_ok("'it''s'", WORDS("its"));
    split_ok("'don'\\''t'", WORDS("don't"));
    split_ok("\"say \\\"hi\\\"\"", WORDS("say \"hi\""));
    split_ok("\"back\\\\slash\"", WORDS("back\\slash"));
    split_ok("\"keep \\n as is\"", WORDS("keep \\n as is"));
    split_ok("'single $keeps `all` \\ | literally'", WORDS("single $keeps `all` \\ | literally"));
    split_ok("\"\\$HOME is not expanded\"", WORDS("$HOME is not expanded"));
    split_ok("'' x \"\"", WORDS("", "x", ""));
    split_ok("line\\\ncontinued", WORDS("linecontinued"));
    split_ok("\\|", WORDS("|"));
    split_ok("--query='[0].id'", WORDS("--query=[0].id"));
    split_ok("a*b ~ x#y", WORDS("a*b", "~", "x#y"));
    split_refused("", "empty");
    split_refused("   ", "empty");
    split_refused("'open", "single quote is not closed");
    split_refused("\"open", "double quote is not closed");
    split_refused("trailing\\", "ends with a backslash");
    split_refused("a | b", "no shell");
    split_refused("a > out", "no shell");
    split_refused("a; b", "no shell");
    split_refused("a && b", "no shell");
    split_refused("echo $HOME", "no shell");
    split_refused("echo `id`", "no shell");
    split_refused("x $(id)", "no shell");
    split_refused("\"$HOME\"", "nothing expands them");
    return unit_finish();
}
