#include "cmdline.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "port.h"

typedef struct word_list {
    drv_strlist words;
    char *cur; /* the word being built: text may only shrink, so strlen(text)+1 is room */
    size_t len;
    int open; /* a word has started (even an empty '' one) */
} word_list;

static int end_word(word_list *w)
{
    if (!w->open)
        return 0;
    w->cur[w->len] = 0;
    if (drv_strlist_add(&w->words, w->cur) != 0)
        return -1;
    w->len = 0;
    w->open = 0;
    return 0;
}

static void put(word_list *w, char c)
{
    w->cur[w->len++] = c;
    w->open = 1;
}

int drv_split_command(const char *text, drv_strlist *words, const char **problem)
{
    word_list w = {0};
    const char *p = text;
    int rc = -1;

    memset(words, 0, sizeof *words);
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
    if (w.words.n == 0) {
        *problem = "it is empty";
        goto done;
    }
    *words = w.words;
    memset(&w.words, 0, sizeof w.words);
    rc = 0;
done:
    drv_strlist_free(&w.words);
    free(w.cur);
    return rc;
}
