#include "cmdline.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "port.h"

typedef struct word_list {
    char **v;
    size_t n, cap;
    char *cur; /* the word being built: text may only shrink, so strlen(text)+1 is room */
    size_t len;
    int open; /* a word has started (even an empty '' one) */
} word_list;

static int end_word(word_list *w)
{
    char **bigger;
    if (!w->open)
        return 0;
    bigger = drv_grow(w->v, &w->cap, w->n, 1, sizeof *bigger);
    if (bigger == NULL)
        return -1;
    w->v = bigger;
    w->cur[w->len] = 0;
    w->v[w->n] = drv_strdup(w->cur);
    if (w->v[w->n] == NULL)
        return -1;
    w->n++;
    w->len = 0;
    w->open = 0;
    return 0;
}

static void put(word_list *w, char c)
{
    w->cur[w->len++] = c;
    w->open = 1;
}

int drv_split_command(const char *text, char ***words, size_t *count, const char **problem)
{
    word_list w = {0};
    const char *p = text;
    int rc = -1;

    *words = NULL;
    *count = 0;
    *problem = "out of memory";
    w.cur = malloc(strlen(text) + 1);
    if (w.cur == NULL)
        return -1;
    while (*p) {
        char c = *p++;
        if (c == ' ' || c == '\t' || c == '\n') {
            if (end_word(&w) != 0)
                goto done;
        } else if (c == '\\') {
            if (*p == 0) {
                *problem = "it ends with a backslash";
                goto done;
            }
            if (*p != '\n')
                put(&w, *p);
            p++;
        } else if (c == '\'') {
            w.open = 1;
            while (*p && *p != '\'')
                put(&w, *p++);
            if (*p == 0) {
                *problem = "a single quote is not closed";
                goto done;
            }
            p++;
        } else if (c == '"') {
            w.open = 1;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1] != 0 && strchr("\\\"$`\n", p[1]) != NULL) {
                    if (p[1] != '\n')
                        put(&w, p[1]);
                    p += 2;
                } else if (*p == '$' || *p == '`') {
                    *problem = "it uses $ or ` inside double quotes, but nothing expands them "
                               "(no shell runs the command): use single quotes, or a script";
                    goto done;
                } else
                    put(&w, *p++);
            }
            if (*p == 0) {
                *problem = "a double quote is not closed";
                goto done;
            }
            p++;
        } else if (strchr("|&;<>()$`", c) != NULL) {
            *problem = "it uses a shell operator or expansion (| & ; < > ( ) $ `), but no shell "
                       "runs the command: quote the character, or put the pipeline in a script";
            goto done;
        } else
            put(&w, c);
    }
    if (end_word(&w) != 0)
        goto done;
    if (w.n == 0) {
        *problem = "it is empty";
        goto done;
    }
    *words = w.v;
    *count = w.n;
    w.v = NULL;
    w.n = 0;
    rc = 0;
done:
    drv_free_list(w.v, w.n);
    free(w.cur);
    return rc;
}
