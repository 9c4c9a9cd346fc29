/* libFuzzer target: the package analysis (Inf2Cat's rules) on a whole INF plus a directory
 * layout: decorations, install sections, Needs/Include, CopyFiles, CopyINF,
 * SourceDisksNames/SourceDisksFiles resolved against real files.
 *
 * Input: the layout, one relative path per line ("dir/file.sys"; a trailing '/' makes a
 * directory), then a line "--", then the INF. Without "--" it is all INF. The layout is
 * written into a private temp directory for each input and removed after it. */
#include "fuzz_common.h"

#include <string.h>
#include <sys/stat.h>

#include "driverpkg.h"

#define MAX_ENTRIES 32
#define MAX_PATH_LEN 96

/* The builds each input is analysed for: x64 client and server, ARM64 server, and x86 with an
 * older x64, given as one /os list. One analysis walks every target the separate lists did,
 * so each input's INF is read and parsed twice (planning and checking), not six times. */
static const char *const os_lists[] = {"10_X64,Server10_X64,10_RS3_X64", "Server10_ARM64",
                                       "10_X86,7_X64"};

static char root[256];
static char made[MAX_ENTRIES * 4][sizeof root + MAX_PATH_LEN + 8];
static size_t made_count;

static void cleanup(void)
{
    /* made in creation order: remove in reverse, so files go before their directories */
    while (made_count > 0) {
        const char *p = made[--made_count];
        if (remove(p) != 0)
            rmdir(p);
    }
}

static void remove_root(void)
{
    cleanup();
    rmdir(root);
}

/* Plain relative paths only: no "..", no absolute paths, a few levels. */
static int safe_path(const char *p, size_t n)
{
    if (n == 0 || n >= MAX_PATH_LEN || p[0] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return 0;
        if (c == '.' && i + 1 < n && p[i + 1] == '.')
            return 0;
    }
    return 1;
}

/* Create path (relative to root) and its parent directories. */
static void make_entry(const char *rel, size_t n)
{
    char path[sizeof made[0]];
    size_t base = strlen(root);
    int dir = rel[n - 1] == '/';
    if (made_count + 4 > sizeof made / sizeof made[0])
        return;
    memcpy(path, root, base);
    path[base] = '/';
    memcpy(path + base + 1, rel, n);
    path[base + 1 + n] = 0;
    for (char *s = path + base + 1; *s; s++)
        if (*s == '/' && s[1] != 0) {
            *s = 0;
            if (mkdir(path, 0700) == 0 && made_count < sizeof made / sizeof made[0])
                snprintf(made[made_count++], sizeof made[0], "%s", path);
            *s = '/';
        }
    if (dir) {
        path[base + n] = 0;
        if (mkdir(path, 0700) == 0)
            snprintf(made[made_count++], sizeof made[0], "%s", path);
    } else {
        FILE *f = fopen(path, "wb");
        if (f != NULL) {
            fputs("MZ not really a PE", f);
            fclose(f);
            snprintf(made[made_count++], sizeof made[0], "%s", path);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drvsign_diag diag = fuzz_diag();
    const char *text = (const char *)data, *inf = text, *end = text + size;
    char inf_path[sizeof root + 16];
    size_t entries = 0, os_count;
    const drv_os **os;

    if (root[0] == 0) {
        fuzz_temp_template(root, sizeof root, "pkg");
        if (mkdtemp(root) == NULL)
            abort();
        atexit(remove_root);
    }
    /* the layout, up to a "--" line */
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n == 2 && p[0] == '-' && p[1] == '-') {
            inf = nl ? nl + 1 : end;
            break;
        }
        if (nl == NULL)
            break;
        if (safe_path(p, n) && entries++ < MAX_ENTRIES)
            make_entry(p, n);
        p = nl + 1;
    }
    if (inf == text)
        cleanup(); /* no "--" line: the whole input is the INF, and no layout */
    snprintf(inf_path, sizeof inf_path, "%s/fuzz.inf", root);
    {
        FILE *f = fopen(inf_path, "wb");
        if (f == NULL || fwrite(inf, 1, (size_t)(end - inf), f) != (size_t)(end - inf) ||
            fclose(f) != 0)
            abort();
    }
    if (drv_parse_os_list(os_lists, sizeof os_lists / sizeof os_lists[0], &os, &os_count, &diag) !=
        0)
        abort();
    for (int plan_only = 0; plan_only <= 1; plan_only++) {
        drv_pkg pkg;
        drv_pkg_opts opts = {os, os_count, 0, 1700000000, plan_only};
        drv_pkg_analyze(root, &opts, &pkg, &diag);
        drv_pkg_free(&pkg);
    }
    free(os);
    remove(inf_path);
    cleanup();
    return 0;
}
