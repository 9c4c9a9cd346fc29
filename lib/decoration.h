/*
 * TargetOSVersion decorations (NT[arch][.major[.minor[.ptype[.suite[.build]]]]]) and which
 * models sections an Inf2Cat /os target takes. An /os id names a Windows release and every
 * later build of it; on each build Windows picks, per [Manufacturer] line, the most specific
 * decoration that applies, and the target takes the union of those picks over every build,
 * product type and suite it covers (README, "Which models a catalog covers").
 */
#ifndef DRVSIGN_DECORATION_H
#define DRVSIGN_DECORATION_H

#include <stddef.h>

#include "ostable.h"

/* The architectures INF decorations name: the drv_os architecture, the NT decoration and
 * the display spelling. */
typedef struct drv_inf_arch {
    const char *name, *nt, *upper;
} drv_inf_arch;

/* The whole table (x86, amd64, ia64, arm, arm64). */
const drv_inf_arch *drv_inf_arches(size_t *count);
/* NULL for an architecture INF decorations do not name. */
const drv_inf_arch *drv_inf_arch_named(const char *name);
/* For a drv_os architecture (always in the table). */
const drv_inf_arch *drv_inf_arch_of(const drv_os *os);

typedef struct drv_decoration {
    char arch[8]; /* lower case; "" when the decoration names none ("NT.6.0") */
    unsigned major, minor, ptype, suite, build; /* 0 when not given */
} drv_decoration;

/* Parse "NTamd64.10.0...16299" (case-insensitive; numbers decimal or 0x hex). 0 or -1. */
int drv_decoration_parse(const char *text, drv_decoration *d);

/* One installation Windows could be running. ptype is VER_NT_WORKSTATION (1),
 * VER_NT_DOMAIN_CONTROLLER (2) or VER_NT_SERVER (3). */
typedef struct drv_machine {
    const char *arch;
    unsigned major, minor, build, ptype, suite;
} drv_machine;

int drv_decoration_applies(const drv_decoration *d, const drv_machine *m);
/* > 0 when a is more specific than b, < 0 when less, 0 when equally. */
int drv_decoration_compare(const drv_decoration *a, const drv_decoration *b);

/*
 * The union rule for one [Manufacturer] line with n decorations: chosen[i] is set to 1 for
 * each decoration Windows picks on some installation target t covers; *plain to 1 when the
 * undecorated models section is picked somewhere (x86 installations with no applicable
 * decoration). Returns the number of picks (decorations plus plain).
 */
size_t drv_decoration_choose(const drv_decoration *decs, size_t n, const drv_os *t,
                             unsigned char *chosen, int *plain);

/* Why d applies on no installation t covers ("is for arm64", "is for servers", ...), into
 * out; returns 0, or -1 when d does apply somewhere t covers. */
int drv_decoration_why_not(const drv_decoration *d, const drv_os *t, char *out, size_t size);
/* An /os id whose target takes d: of t's product kind if one is, and of those the earliest
 * id of the version closest to t's. NULL when no id does. */
const drv_os *drv_decoration_os_for(const drv_decoration *d, const drv_os *t);

#endif
