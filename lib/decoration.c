#include "decoration.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

static const drv_inf_arch inf_arches[] = {
    {"x86", "ntx86", "X86"}, {"amd64", "ntamd64", "AMD64"}, {"ia64", "ntia64", "IA64"},
    {"arm", "ntarm", "ARM"}, {"arm64", "ntarm64", "ARM64"},
};
#define ARCH_COUNT (sizeof inf_arches / sizeof inf_arches[0])

const drv_inf_arch *drv_inf_arches(size_t *count)
{
    *count = ARCH_COUNT;
    return inf_arches;
}

const drv_inf_arch *drv_inf_arch_named(const char *name)
{
    for (size_t i = 0; i < ARCH_COUNT; i++)
        if (strcmp(inf_arches[i].name, name) == 0)
            return &inf_arches[i];
    return NULL;
}

const drv_inf_arch *drv_inf_arch_of(const drv_os *os)
{
    const drv_inf_arch *a = drv_inf_arch_named(os->arch);
    /* ostable.c only uses these architectures; the fallback keeps a slip there from
     * becoming a NULL dereference */
    return a != NULL ? a : &inf_arches[ARCH_COUNT - 1];
}

/* A decimal or 0x-hex field of at most 10 characters. */
static int parse_number(const char *s, size_t len, unsigned *out)
{
    unsigned long v = 0;
    int hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    size_t i = hex ? 2 : 0;
    if (len == 0 || len > 10 || i == len)
        return -1;
    for (; i < len; i++) {
        char c = s[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = (unsigned)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            digit = (unsigned)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            digit = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v * (hex ? 16 : 10) + digit;
        if (v > 0xffffffffUL)
            return -1;
    }
    *out = (unsigned)v;
    return 0;
}

int drv_decoration_parse(const char *s, drv_decoration *d)
{
    const char *p;
    size_t n;
    unsigned *fields[5];

    memset(d, 0, sizeof *d);
    fields[0] = &d->major;
    fields[1] = &d->minor;
    fields[2] = &d->ptype;
    fields[3] = &d->suite;
    fields[4] = &d->build;
    if (drv_strncasecmp(s, "nt", 2) != 0)
        return -1;
    s += 2;
    p = strchr(s, '.');
    n = p ? (size_t)(p - s) : strlen(s);
    if (n >= sizeof d->arch)
        return -1;
    for (size_t i = 0; i < n; i++)
        d->arch[i] = drv_ascii_lower(s[i]);
    d->arch[n] = 0;
    if (n > 0 && drv_inf_arch_named(d->arch) == NULL)
        return -1;
    for (int field = 0; p != NULL; field++) {
        const char *q = strchr(p + 1, '.');
        size_t len = q ? (size_t)(q - p - 1) : strlen(p + 1);
        if (field == 5)
            return -1; /* more than major.minor.ptype.suite.build */
        if (len > 0 && parse_number(p + 1, len, fields[field]) != 0)
            return -1;
        p = q;
    }
    return 0;
}

int drv_decoration_applies(const drv_decoration *d, const drv_machine *m)
{
    /* Non-x86 platforms take only decorations naming their architecture (since Windows
     * Server 2003 SP1); x86 also takes "NT" without one. */
    if (d->arch[0] ? strcmp(d->arch, m->arch) != 0 : strcmp(m->arch, "x86") != 0)
        return 0;
    /* the decoration's version is the oldest it applies to: compare (major, minor, build) */
    if (d->major != m->major ? d->major > m->major
        : d->minor != m->minor ? d->minor > m->minor
                               : d->build > m->build)
        return 0;
    if (d->ptype != 0 && d->ptype != m->ptype)
        return 0;
    return (m->suite & d->suite) == d->suite;
}

int drv_decoration_compare(const drv_decoration *a, const drv_decoration *b)
{
    const unsigned ka[] = {a->arch[0] != 0, a->major, a->minor, a->build, a->ptype != 0,
                           a->suite != 0};
    const unsigned kb[] = {b->arch[0] != 0, b->major, b->minor, b->build, b->ptype != 0,
                           b->suite != 0};
    for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++)
        if (ka[i] != kb[i])
            return ka[i] > kb[i] ? 1 : -1;
    return 0;
}

/* The installations t covers that can differ in their pick: its first build and each later
 * build a decoration names, each product type of its kind, no suite, each named suite mask
 * and all of them at once. Calls pick() for each; stops when it returns nonzero. */
typedef int (*machine_fn)(const drv_machine *m, void *ctx);

static int each_machine(const drv_decoration *decs, size_t n, const drv_os *t, machine_fn fn,
                        void *ctx)
{
    static const unsigned client[] = {1}, server[] = {2, 3};
    const unsigned *ptypes = t->server ? server : client;
    size_t ptype_count = t->server ? 2 : 1;
    unsigned all_suites = 0;
    drv_machine m;

    for (size_t i = 0; i < n; i++)
        all_suites |= decs[i].suite;
    m.arch = t->arch;
    m.major = t->major;
    m.minor = t->minor;
    for (size_t b = 0; b <= n; b++) {
        if (b > 0 && decs[b - 1].build <= t->build)
            continue;
        m.build = b == 0 ? t->build : decs[b - 1].build;
        for (size_t p = 0; p < ptype_count; p++) {
            m.ptype = ptypes[p];
            for (size_t s = 0; s <= n + 1; s++) {
                if (s > 0 && s <= n && decs[s - 1].suite == 0)
                    continue;
                m.suite = s == 0 ? 0 : s <= n ? decs[s - 1].suite : all_suites;
                if (fn(&m, ctx) != 0)
                    return 1;
            }
        }
    }
    return 0;
}

typedef struct choice {
    const drv_decoration *decs;
    size_t n;
    unsigned char *chosen;
    int *plain;
} choice;

static int pick(const drv_machine *m, void *ctx)
{
    choice *c = ctx;
    size_t best = c->n;
    for (size_t i = 0; i < c->n; i++)
        if (drv_decoration_applies(&c->decs[i], m) &&
            (best == c->n || drv_decoration_compare(&c->decs[i], &c->decs[best]) > 0))
            best = i;
    if (best < c->n)
        c->chosen[best] = 1;
    else if (strcmp(m->arch, "x86") == 0)
        *c->plain = 1; /* the undecorated section */
    return 0;
}

size_t drv_decoration_choose(const drv_decoration *decs, size_t n, const drv_os *t,
                             unsigned char *chosen, int *plain)
{
    choice c = {decs, n, chosen, plain};
    size_t count;
    memset(chosen, 0, n);
    *plain = 0;
    each_machine(decs, n, t, pick, &c);
    count = (size_t)*plain;
    for (size_t i = 0; i < n; i++)
        count += chosen[i];
    return count;
}

static int applies_here(const drv_machine *m, void *ctx)
{
    return drv_decoration_applies(ctx, m);
}

static int takes(const drv_decoration *d, const drv_os *t)
{
    return each_machine(d, 1, t, applies_here, (void *)d);
}

int drv_decoration_why_not(const drv_decoration *d, const drv_os *t, char *out, size_t size)
{
    if (takes(d, t))
        return -1;
    if (d->arch[0] == 0 && strcmp(t->arch, "x86") != 0)
        snprintf(out, size, "names no architecture, which only x86 takes");
    else if (d->arch[0] != 0 && strcmp(d->arch, t->arch) != 0)
        snprintf(out, size, "is for %s", d->arch);
    else if (d->ptype != 0 && (d->ptype == 1) == (t->server != 0))
        snprintf(out, size, "is for %s only (product type %u)", d->ptype == 1 ? "clients" : "servers",
                 d->ptype);
    else
        snprintf(out, size, "is for Windows %u.%u and later", d->major, d->minor);
    return 0;
}

/* How far apart two Windows versions are (builds do not count: the first id of a version,
 * such as 10_X64, covers its later builds). */
static unsigned long version_distance(const drv_os *a, const drv_os *b)
{
    unsigned long va = a->major * 100ul + a->minor, vb = b->major * 100ul + b->minor;
    return va > vb ? va - vb : vb - va;
}

const drv_os *drv_decoration_os_for(const drv_decoration *d, const drv_os *t)
{
    size_t count;
    const drv_os *table = drv_os_table(&count), *best = NULL;
    /* t's product kind if one of that kind takes it; of those, the version closest to t's,
     * and the earliest id of that version */
    for (int same_kind = 1; same_kind >= 0 && best == NULL; same_kind--)
        for (size_t i = 0; i < count; i++) {
            const drv_os *o = &table[i];
            if (((o->server != 0) == (t->server != 0)) != same_kind || !takes(d, o))
                continue;
            if (best == NULL || version_distance(o, t) < version_distance(best, t))
                best = o;
        }
    return best;
}
