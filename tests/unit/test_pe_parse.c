#define _DEFAULT_SOURCE /* mkdtemp, popen, mkstemp */
/* The PE parser on crafted headers: what it accepts, and the exact complaint for each defect. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pe.h"
#include "unit.h"

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

#define L 0x80
/* A minimal PE32+ image: headers in 0x200 bytes, one section of 0x200 bytes. */
static size_t build(unsigned char *b, int pe32plus)
{
    unsigned p = pe32plus ? 16 : 0, opt = pe32plus ? 240 : 224;
    memset(b, 0, 0x400);
    b[0] = 'M';
    b[1] = 'Z';
    put32(b + 0x3c, L);
    memcpy(b + L, "PE\0\0", 4);
    b[L + 6] = 1;                                        /* one section */
    b[L + 20] = (unsigned char)opt;                      /* SizeOfOptionalHeader */
    b[L + 24] = 0x0b;
    b[L + 25] = pe32plus ? 2 : 1;                        /* magic */
    put32(b + L + 56, 0x1000);                           /* SectionAlignment */
    put32(b + L + 60, 0x200);                            /* FileAlignment */
    put32(b + L + 84, 0x200);                            /* SizeOfHeaders */
    put32(b + L + 116 + p, 16);                          /* NumberOfRvaAndSizes */
    memcpy(b + L + 24 + opt, ".text\0\0\0", 8);
    put32(b + L + 24 + opt + 16, 0x200);                 /* SizeOfRawData */
    put32(b + L + 24 + opt + 20, 0x200);                 /* PointerToRawData */
    for (int i = 0x200; i < 0x400; i++)
        b[i] = (unsigned char)i;
    return 0x400;
}

static int try_open(const unsigned char *b, size_t n)
{
    char path[] = "/tmp/drvsign-pe-XXXXXX";
    int fd = mkstemp(path), rc;
    drv_file f;
    drv_pe pe;
    drvsign_diag diag = unit_diag();
    if (fd < 0 || write(fd, b, n) != (ssize_t)n)
        return -2;
    close(fd);
    rc = drv_file_open(&f, path, &diag) == 0 ? drv_pe_open(&pe, &f, &diag) : -1;
    if (f.fd >= 0)
        drv_file_close(&f);
    unlink(path);
    return rc;
}

int main(void)
{
    static unsigned char b[0x400];
    size_t n;

    n = build(b, 1);
    CHECK(try_open(b, n) == 0, "valid PE32+ rejected: %s", unit_sink.last_error);
    n = build(b, 0);
    CHECK(try_open(b, n) == 0, "valid PE32 rejected: %s", unit_sink.last_error);

    n = build(b, 1);
    CHECK(try_open(b, 40) != 0 && strstr(unit_sink.last_error, "only 40 bytes"), "tiny: %s",
          unit_sink.last_error);
    b[0] = 'X';
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "no MZ header"), "MZ: %s",
          unit_sink.last_error);

    n = build(b, 1);
    put32(b + 0x3c, 0xfffffff0);
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "points outside the file"),
          "lfanew: %s", unit_sink.last_error);
    n = build(b, 1);
    put32(b + 0x3c, 0x40);
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "does not point at a PE signature"),
          "PE sig: %s", unit_sink.last_error);

    n = build(b, 1);
    b[L + 24] = 0x07;
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "magic"), "magic: %s",
          unit_sink.last_error);

    n = build(b, 1);
    put32(b + L + 116 + 16, 4);
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "NumberOfRvaAndSizes is 4"),
          "rva: %s", unit_sink.last_error);

    n = build(b, 1);
    b[L + 20] = 64;
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "too small"), "optsize: %s",
          unit_sink.last_error);

    n = build(b, 1);
    b[L + 6] = 200;
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "200 sections"), "nsec: %s",
          unit_sink.last_error);

    n = build(b, 1);
    b[L + 6] = 20; /* section table would run past the end of the file */
    CHECK(try_open(b, 0x1c0) != 0 && strstr(unit_sink.last_error, "section table runs past"),
          "sectab: %s", unit_sink.last_error);

    n = build(b, 1);
    put32(b + L + 24 + 240 + 16, 0x201);
    CHECK(try_open(b, n) != 0 &&
              strstr(unit_sink.last_error, "section 1 (.text) points past the end"),
          "section: %s", unit_sink.last_error);

    n = build(b, 1);
    put32(b + L + 24 + 240 + 20, 0xffffff00); /* pointer + size overflows 32 bits */
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "points past the end"),
          "overflow: %s", unit_sink.last_error);

    n = build(b, 1);
    put32(b + L + 152 + 16, 0x3f8); /* certificate table of 8 bytes at the end: accepted */
    put32(b + L + 156 + 16, 8);
    put32(b + L + 24 + 240 + 16, 0x1f8);
    CHECK(try_open(b, n) == 0, "cert table at the end rejected: %s", unit_sink.last_error);
    put32(b + L + 152 + 16, 0x3f0);
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "not at the end"), "cert end: %s",
          unit_sink.last_error);
    put32(b + L + 152 + 16, 0xfffffff8);
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "lies outside the file"),
          "cert out: %s", unit_sink.last_error);
    put32(b + L + 152 + 16, 0x10); /* inside the headers */
    CHECK(try_open(b, n) != 0 && strstr(unit_sink.last_error, "lies outside the file"),
          "cert hdr: %s", unit_sink.last_error);
    return unit_finish();
}
