/* The buffer module: growth that refuses sizes which would wrap, byte strings that stay
 * NUL-terminated, and the string list (copies it owns, the NULL after the last string that
 * lets it serve as an argv, ownership of a taken string on success and on failure). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "unit.h"

static void grow(void)
{
    size_t cap = 0;
    int *v = drv_grow(NULL, &cap, 0, 3, sizeof *v);
    CHECK(v != NULL && cap == 8, "the first growth makes room for 8 (%zu)", cap);
    {
        int *same = drv_grow(v, &cap, 3, 5, sizeof *v);
        CHECK(same == v && cap == 8, "room that is there: the array as it is");
        v = same;
    }
    {
        int *bigger = drv_grow(v, &cap, 8, 1, sizeof *v);
        CHECK(bigger != NULL && cap == 16, "one past: capacity doubles (%zu)", cap);
        if (bigger != NULL)
            v = bigger;
    }
    {
        size_t before = cap;
        CHECK(drv_grow(v, &cap, SIZE_MAX, 1, sizeof *v) == NULL && cap == before,
              "a count that wraps is refused, the capacity kept");
        CHECK(drv_grow(v, &cap, 0, SIZE_MAX / 2, sizeof *v) == NULL && cap == before,
              "a byte size that wraps is refused, the capacity kept");
        CHECK(drv_grow(v, &cap, 0, 1, 0) == NULL, "a zero element size is refused");
    }
    free(v);
}

static void buf(void)
{
    drv_buf b = {0};
    drv_buf_put(&b, "ab", 2);
    drv_buf_putc(&b, 'c');
    drv_buf_printf(&b, "-%d-%s", 42, "x");
    CHECK(!b.failed && b.len == 8 && strcmp(b.p, "abc-42-x") == 0, "put, putc, printf: %s",
          b.p ? b.p : "(null)");
    drv_buf_put(&b, "", 0);
    CHECK(b.len == 8 && b.p[8] == 0, "an empty put keeps the terminator");
    drv_buf_put(&b, "y", SIZE_MAX);
    CHECK(b.failed && b.len == 8 && strcmp(b.p, "abc-42-x") == 0,
          "a size that wraps fails the buffer and leaves its text");
    drv_buf_putc(&b, 'z');
    CHECK(b.failed && b.len == 8, "a failed buffer stays failed");
    drv_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && !b.failed, "freed is empty");
}

static void strlist(void)
{
    drv_strlist l = {0};
    char word[] = "signer";
    int ok = 1;

    CHECK(drv_strlist_add(&l, word) == 0 && l.n == 1 && l.v[0] != word &&
              strcmp(l.v[0], "signer") == 0 && l.v[1] == NULL,
          "add keeps a copy, NULL after it");
    word[0] = 'S';
    CHECK(strcmp(l.v[0], "signer") == 0, "the copy is the list's own");
    for (int i = 0; i < 100; i++) {
        char item[16];
        snprintf(item, sizeof item, "item%d", i);
        ok &= drv_strlist_add(&l, item) == 0;
    }
    CHECK(ok && l.n == 101 && strcmp(l.v[100], "item99") == 0 && l.v[101] == NULL,
          "grows past its first capacity, in order, NULL-terminated (%zu)", l.n);
    CHECK(drv_strlist_add(&l, "") == 0 && l.n == 102 && strcmp(l.v[101], "") == 0,
          "an empty string is an item");
    {
        char *own = malloc(5);
        if (own != NULL)
            memcpy(own, "took", 5);
        CHECK(drv_strlist_take(&l, own) == 0 && l.n == 103 && l.v[102] == own && l.v[103] == NULL,
              "take keeps the string itself");
    }
    CHECK(drv_strlist_take(&l, NULL) == -1 && l.n == 103 && l.v[103] == NULL,
          "taking a failed allocation (NULL) fails and leaves the list");
    drv_strlist_free(&l);
    CHECK(l.v == NULL && l.n == 0 && l.cap == 0, "freed is empty");
    CHECK(drv_strlist_add(&l, "again") == 0 && l.n == 1, "an emptied list is usable");
    drv_strlist_free(&l);
    drv_strlist_free(&l); /* freeing an empty list is a no-op (ASan would see a double free) */
}

int main(void)
{
    grow();
    buf();
    strlist();
    return unit_finish();
}
