/* C library calls whose names or presence differ between POSIX and Windows (see port.h). */
#include "port.h"

#ifndef _WIN32
#include <sys/stat.h>
#endif

int drv_broken_down_time(int64_t t, int local, struct tm *out)
{
    time_t tt = (time_t)t;
#ifdef _WIN32
    return (local ? localtime_s(out, &tt) : gmtime_s(out, &tt)) == 0 ? 0 : -1;
#else
    return (local ? localtime_r(&tt, out) : gmtime_r(&tt, out)) != NULL ? 0 : -1;
#endif
}

int drv_make_private(int fd)
{
#ifdef _WIN32
    (void)fd;
    return 0;
#else
    return fchmod(fd, 0600);
#endif
}
