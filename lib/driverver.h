/* DriverVer = mm/dd/yyyy[,w.x.y.z], as Inf2Cat checks it (reference 22.9.6, 22.9.7). */
#ifndef DRVSIGN_DRIVERVER_H
#define DRVSIGN_DRIVERVER_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s is min_parts to max_parts numbers (each up to 65535, at most five digits) joined by
 * dots, as DriverVer's version and StampInf's KMDF and UMDF versions are written. */
int drv_dotted_numbers(const char *s, unsigned min_parts, unsigned max_parts);

/* 1 when date is a real calendar date mm/dd/yyyy from 1980 on, as DriverVer's date must be
 * (22.9.6), with *yyyymmdd (if not NULL) set to it as one number. Whether it is in the future
 * is drv_driver_ver_check's to say, at the time the INF is checked. */
int drv_driver_date(const char *date, long *yyyymmdd);

/* 0 when date and version (version may be "") pass: a real date from 1980 on, not after
 * today at now (UTC, or local time when local_time), and up to four numbers up to 65535.
 * Otherwise -1 and the problem, one line, in why. local_time_name: the front end's name for
 * the local-time parameter, for the hint. */
int drv_driver_ver_check(const char *date, const char *version, int64_t now, int local_time,
                         const char *local_time_name, char *why, size_t size);

#endif
