#include "inf_problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"

void drv_inf_problems_init(drv_inf_problems *p, const char *path, drvsign_diag *diag)
{
    p->path = path;
    p->diag = diag;
    p->failed = 0;
    drv_strmap_init(&p->reported, 0);
}

void drv_inf_problem(drv_inf_problems *p, unsigned line, const char *fmt, ...)
{
    char msg[768];
    char *key;
    int added;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->failed = 1;
    key = drv_str_printf("%u:%s", line, msg);
    /* out of memory for the bookkeeping: better a repeated line than a lost one */
    added = key ? drv_strmap_put(&p->reported, key, 0) : 1;
    free(key);
    if (added == 0)
        return;
    if (line)
        drv_error_at(p->diag, p->path, line, "%s", msg);
    else
        drv_error(p->diag, p->path, "%s", msg);
}

void drv_inf_problems_free(drv_inf_problems *p)
{
    drv_strmap_free(&p->reported);
}
