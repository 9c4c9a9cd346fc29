/* The [Version] DriverVer value as Inf2Cat checks it (reference 22.9.6, 22.9.7). */
#include "driverver.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "port.h"

static int parse_uint(const char *s, size_t len, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int drv_dotted_numbers(const char *s, unsigned min_parts, unsigned max_parts)
{
    unsigned parts = 0, part;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (parse_uint(s, len, 65535, &part) != 0 || ++parts > max_parts)
            return 0;
        if (dot == NULL)
            return parts >= min_parts;
        s = dot + 1;
    }
}

int drv_driver_date(const char *date, long *yyyymmdd)
{
    unsigned mm, dd, yyyy;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s1 = strchr(date, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

    if (s1 == NULL || s2 == NULL || parse_uint(date, (size_t)(s1 - date), 12, &mm) != 0 ||
        parse_uint(s1 + 1, (size_t)(s2 - s1 - 1), 31, &dd) != 0 || strlen(s2 + 1) != 4 ||
        parse_uint(s2 + 1, 4, 9999, &yyyy) != 0 || mm == 0 || dd == 0 || dd > mdays[mm - 1] ||
        (mm == 2 && dd == 29 && !(yyyy % 4 == 0 && (yyyy % 100 != 0 || yyyy % 400 == 0))) ||
        yyyy < 1980)
        return 0;
    if (yyyymmdd != NULL)
        *yyyymmdd = (long)yyyy * 10000 + (long)mm * 100 + dd;
    return 1;
}

int drv_driver_ver_check(const char *date, const char *ver, int64_t now, int local_time,
                         const char *local_time_name, char *why, size_t size)
{
    struct tm now_tm;
    long today, stamp;

    if (!drv_driver_date(date, &stamp)) {
        snprintf(why, size, "DriverVer date '%s' is not a valid mm/dd/yyyy date (22.9.6)", date);
        return -1;
    }
    if (*ver != 0 && !drv_dotted_numbers(ver, 1, 4)) {
        snprintf(why, size,
                 "DriverVer version '%s' is not w.x.y.z with numbers up to 65535 (22.9.6)", ver);
        return -1;
    }
    if (drv_broken_down_time(now, local_time, &now_tm) != 0)
        return 0;
    today = (now_tm.tm_year + 1900L) * 10000 + (now_tm.tm_mon + 1L) * 100 + now_tm.tm_mday;
    if (stamp > today) {
        snprintf(why, size,
                 "DriverVer set to a date in the future (%s; today is %04ld-%02ld-%02ld %s)%s%s%s "
                 "(22.9.7)",
                 date, today / 10000, today / 100 % 100, today % 100,
                 local_time ? "local time" : "UTC", local_time ? "" : "; ",
                 local_time ? "" : local_time_name, local_time ? "" : " judges it in local time");
        return -1;
    }
    return 0;
}
