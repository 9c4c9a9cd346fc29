#define _DEFAULT_SOURCE /* mkdtemp, popen, mkstemp */
/* Atomic replacement and the thread pool. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port.h"
#include "unit.h"

static char dir[] = "/tmp/drvsign-unit-XXXXXX";

static int count_entries(void)
{
    char cmd[256];
    FILE *p;
    int n = -1;
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    p = popen(cmd, "r");
    if (p != NULL) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static int slurp_equals(const char *path, const char *want)
{
    unsigned char *data;
    size_t len;
    int eq;
    drvsign_diag quiet = {0};
    quiet.quiet = 1;
    if (drv_read_small_file(path, 1 << 20, &data, &len, &quiet) != 0)
        return 0;
    eq = len == strlen(want) && memcmp(data, want, len) == 0;
    free(data);
    return eq;
}

static int hits[1000];
static int mark(void *ctx, size_t i)
{
    (void)ctx;
    __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
    return i == 999 ? -1 : 0; /* one failure must be reported */
}

int main(void)
{
    drvsign_diag diag = {0};
    drv_atomic a;
    char *target;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    target = drv_path_join(dir, "target.bin");
    f = fopen(target, "wb");
    fputs("original", f);
    fclose(f);
    chmod(target, 0640);

    /* abort: the target keeps its bytes and no temp file remains */
    CHECK(drv_atomic_open(&a, target, target, &diag) == 0, "open");
    CHECK(drv_atomic_write(&a, "half-writ", 9, &diag) == 0, "write");
    drv_atomic_abort(&a);
    CHECK(slurp_equals(target, "original"), "abort left the target changed");
    CHECK(count_entries() == 1, "abort left %d entries", count_entries());

    /* commit: replaced, with the mode of the file it replaces */
    CHECK(drv_atomic_open(&a, target, target, &diag) == 0, "open");
    CHECK(drv_atomic_write(&a, "new contents", 12, &diag) == 0, "write");
    CHECK(drv_atomic_pwrite(&a, 0, "NEW", 3, &diag) == 0, "pwrite");
    CHECK(drv_atomic_commit(&a, &diag) == 0, "commit");
    drv_atomic_abort(&a); /* harmless after commit */
    CHECK(slurp_equals(target, "NEW contents"), "commit content");
    {
        struct stat st;
        CHECK(stat(target, &st) == 0 && (st.st_mode & 0777) == 0640, "mode not kept");
    }
    CHECK(count_entries() == 1, "commit left %d entries", count_entries());

    /* a target in a directory that does not exist fails cleanly */
    diag.quiet = 1;
    CHECK(drv_atomic_open(&a, "/nonexistent-dir/x", NULL, &diag) != 0, "open in missing dir");
    CHECK(diag.errors == 1, "one error reported, got %u", diag.errors);

    /* parallel_for: every index exactly once, and a failure is reported */
    CHECK(drv_parallel_for(1000, 4, mark, NULL) != 0, "failure not reported");
    {
        int once = 1;
        for (int i = 0; i < 1000; i++)
            once &= hits[i] == 1;
        CHECK(once, "an index ran other than once");
    }
    /* secrets */
    {
        char *s = drv_strdup("password");
        drv_wipe(s, 8);
        CHECK(memcmp(s, "\0\0\0\0\0\0\0\0", 8) == 0, "wipe");
        free(s);
    }
    remove(target);
    rmdir(dir);
    free(target);
    return unit_finish();
}
