#define _DEFAULT_SOURCE /* mkdtemp, ftruncate */
/* drv_file_stream: mapped and read paths give the same bytes, ranges are bounds-checked, and
 * a mapped file that shrinks under the reader is an error, not a SIGBUS. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "port.h"
#include "unit.h"

typedef struct collected {
    unsigned char *data;
    size_t len, cap, calls;
    uint64_t next_off;
    int fd_to_truncate;
} collected;

static int collect(void *ctx, uint64_t off, const unsigned char *p, size_t n)
{
    collected *c = ctx;
    c->calls++;
    if (c->fd_to_truncate < 0 && off != c->next_off && c->len > 0 && off < c->next_off)
        return -1; /* pieces come in file order */
    c->next_off = off + n;
    if (c->fd_to_truncate >= 0) {
        volatile unsigned char last;
        if (ftruncate(c->fd_to_truncate, 0) != 0)
            return -1;
        last = p[n - 1]; /* beyond the end of the file now: SIGBUS if mapped */
        (void)last;
        return 0;
    }
    if (c->len + n > c->cap)
        return -1;
    memcpy(c->data + c->len, p, n);
    c->len += n;
    return 0;
}

/* Writes n pseudo-random bytes to path and returns them. */
static unsigned char *make_file(const char *path, size_t n)
{
    unsigned char *bytes = malloc(n);
    FILE *out = fopen(path, "wb");
    unsigned x = 12345;
    for (size_t i = 0; bytes != NULL && i < n; i++) {
        x = x * 1103515245u + 12345u;
        bytes[i] = (unsigned char)(x >> 16);
    }
    if (out != NULL) {
        if (bytes != NULL)
            fwrite(bytes, 1, n, out);
        fclose(out);
    }
    return bytes;
}

static void check_size(const char *dir, size_t size)
{
    char path[256];
    drv_file f;
    drvsign_diag diag = unit_diag();
    unsigned char *want;
    collected c = {0};
    drv_range ranges[3] = {{0, 100}, {104, size / 2 - 104}, {size / 2 + 8, size - size / 2 - 8}};

    snprintf(path, sizeof path, "%s/f%zu", dir, size);
    want = make_file(path, size);
    c.data = malloc(size);
    c.cap = size;
    c.fd_to_truncate = -1;
    CHECK(want != NULL && c.data != NULL && drv_file_open(&f, path, &diag) == 0, "setup %zu",
          size);
    CHECK(drv_file_stream(&f, ranges, 3, collect, &c, &diag) == 0, "stream %zu: %s", size,
          unit_sink.last_error);
    CHECK(c.len == size - 12 && memcmp(c.data, want, 100) == 0 &&
              memcmp(c.data + 100, want + 104, size / 2 - 104) == 0 &&
              memcmp(c.data + size / 2 - 4, want + size / 2 + 8, size - size / 2 - 8) == 0,
          "bytes of the ranges, in order (%zu)", size);

    /* a range past the end is refused before any byte goes to the consumer */
    {
        drv_range past = {size - 10, 11};
        size_t calls = c.calls;
        CHECK(drv_file_stream(&f, &past, 1, collect, &c, &diag) == -1 && c.calls == calls &&
                  strstr(unit_sink.last_error, "truncated") != NULL,
              "range past the end (%zu): %s", size, unit_sink.last_error);
    }
    drv_file_close(&f);
    free(want);
    free(c.data);
}

int main(void)
{
    char dir[] = "/tmp/drvsign-unit-XXXXXX";
    char path[256];
    drv_file f;
    drvsign_diag diag = unit_diag();

    if (mkdtemp(dir) == NULL)
        return 1;
    check_size(dir, 5000);                            /* read */
    check_size(dir, (size_t)DRV_STREAM_MAP_MIN * 3 + 17); /* mapped, one window */
    check_size(dir, ((size_t)20 << 20) + 4099);           /* mapped, three windows */

    /* shrinks while mapped: one error naming the file, and the process lives on */
    snprintf(path, sizeof path, "%s/shrinks", dir);
    free(make_file(path, (size_t)DRV_STREAM_MAP_MIN * 4));
    if (drv_file_open(&f, path, &diag) == 0) {
        int fd = open(path, O_RDWR);
        collected c = {0};
        drv_range all = {0, f.size};
        c.fd_to_truncate = fd;
        unit_sink.last_error[0] = 0;
        CHECK(drv_file_stream(&f, &all, 1, collect, &c, &diag) == -1 &&
                  strstr(unit_sink.last_error, "shrank while it was read") != NULL &&
                  strstr(unit_sink.last_error, "shrinks") != NULL,
              "a file that shrinks under the mapping: %s", unit_sink.last_error);
        close(fd);
        drv_file_close(&f);
    } else {
        CHECK(0, "open %s", path);
    }
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return unit_finish();
}
