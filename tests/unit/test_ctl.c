/*
 * The catalog writer and reader at hostile sizes: member counts whose table size would wrap,
 * page-hash tables that add up past what a catalog may hold (4 GiB-class drivers), lengths a
 * long cannot carry, and names that round-trip through UTF-16.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "unit.h"

static drvsign_diag diag_new(void)
{
    drvsign_diag d = unit_diag();
    d.quiet = 1;
    return d;
}

static int write_ctl(drv_ctl_build *b, unsigned char **der, size_t *len)
{
    drvsign_diag d = diag_new();
    return drv_ctl_write(b, der, len, "x.cat", &d);
}

/* The CTL inside a catalog drv_ctl_write made: ContentInfo, [0], SignedData, version,
 * digestAlgorithms, then the encapsulated ContentInfo's [0]. A tiny walk over our own
 * output, not a DER parser. */
static const unsigned char *skip_header(const unsigned char *p, size_t *len)
{
    size_t n = p[1] & 0x80 ? (size_t)(p[1] & 0x7f) : 0, l = n ? 0 : p[1];
    for (size_t i = 0; i < n; i++)
        l = l << 8 | p[2 + i];
    *len = l;
    return p + 2 + n;
}

static const unsigned char *ctl_of(const unsigned char *der, size_t *len)
{
    size_t l;
    const unsigned char *p = skip_header(der, &l); /* ContentInfo */
    p += 2 + p[1];                                 /* OID signedData */
    p = skip_header(p, &l);                        /* [0] */
    p = skip_header(p, &l);                        /* SignedData */
    p += 2 + p[1];                                 /* version */
    p += 2 + p[1];                                 /* digestAlgorithms (empty) */
    p = skip_header(p, &l);                        /* encapContentInfo */
    p += 2 + p[1];                                 /* OID CTL */
    p = skip_header(p, &l);                        /* [0] */
    *len = (size_t)(skip_header(p, &l) - p) + l;   /* the CTL SEQUENCE, header included */
    return p;
}

int main(void)
{
    drv_ctl_file files[6];
    drv_ctl_build b;
    unsigned char *der = NULL;
    size_t len = 0;
    drvsign_diag d;
    drv_ctl ctl;

    memset(files, 0, sizeof files);
    for (int i = 0; i < 6; i++) {
        files[i].sip = &drv_sip_flat;
        memset(files[i].sha1, 0x10 + i, sizeof files[i].sha1);
        memset(files[i].sha256, 0x20 + i, sizeof files[i].sha256);
    }

    /* ---- a normal catalog round-trips (the baseline the hostile cases are measured by) ---- */
    /* U+1F600 (a surrogate pair in UTF-16), U+00E9, and a lead byte cut off at the end */
    files[0].name = "smile-\xf0\x9f\x98\x80-\xc3\xa9.sys";
    files[1].name = "cut-\xe2\x82";
    for (int version = 1; version <= 2; version++) {
        memset(&b, 0, sizeof b);
        b.version = version;
        b.this_update = 1700000000;
        b.files = files;
        b.file_count = 2;
        b.os_attr = "2:10.0";
        CHECK(write_ctl(&b, &der, &len) == 0, "v%d catalog not written: %s", version,
              unit_sink.last_error);
        if (der != NULL) {
            size_t ctl_len;
            const unsigned char *ctl_der = ctl_of(der, &ctl_len);
            d = diag_new();
            CHECK(drv_ctl_parse(ctl_der, ctl_len, &ctl, "x.cat", &d) == 0,
                  "v%d catalog not parsed: %s", version, unit_sink.last_error);
            CHECK(ctl.count == (size_t)(version == 2 ? 4 : 2), "v%d: %zu members", version,
                  ctl.count);
            {
                const drv_ctl_member *m =
                    drv_ctl_find(&ctl, version == 2 ? files[0].sha256 : files[0].sha1,
                                 version == 2 ? 32 : 20);
                CHECK(m != NULL && m->file != NULL && strcmp(m->file, files[0].name) == 0,
                      "v%d: the supplementary-plane name did not round-trip: %s", version,
                      m && m->file ? m->file : "(none)");
            }
            drv_ctl_free(&ctl);
        }
        OPENSSL_free(der);
        der = NULL;
    }

    /* ---- a member count whose table (2 entries a file, plus one) would wrap ---- */
    memset(&b, 0, sizeof b);
    b.version = 2;
    b.files = NULL; /* never read: the count is refused first */
    b.file_count = SIZE_MAX / 2 + 1;
    CHECK(write_ctl(&b, &der, &len) == -1, "a wrapping member count was accepted");
    CHECK(strstr(unit_sink.last_error, "x.cat: ") != NULL &&
              strstr(unit_sink.last_error, "files") != NULL,
          "the member-count error does not say so: %s", unit_sink.last_error);
    CHECK(unit_sink.error_count == 1, "%u error lines for one problem", unit_sink.error_count);
    b.version = 1;
    b.file_count = SIZE_MAX;
    CHECK(write_ctl(&b, &der, &len) == -1, "SIZE_MAX members were accepted (v1)");
    b.file_count = (size_t)INT_MAX + 1;
    CHECK(write_ctl(&b, &der, &len) == -1, "2^31 members were accepted");

    /* ---- page-hash tables of six 5 GiB-class drivers: 288 MiB, more than a catalog holds ---- */
    {
        size_t table_len = 48u << 20; /* the PE parser's bound for one image's table */
        unsigned char *table = calloc(1, table_len);
        CHECK(table != NULL, "no memory for the table");
        for (int i = 0; table != NULL && i < 6; i++) {
            files[i].name = "big.sys";
            files[i].sip = drv_sip_by_member_kind(0); /* [0]: PE */
            files[i].page_hashes_sha1 = table;
            files[i].page_hashes_sha1_len = table_len;
        }
        memset(&b, 0, sizeof b);
        b.version = 1;
        b.files = files;
        b.file_count = 6;
        CHECK(write_ctl(&b, &der, &len) == -1, "a %zu-byte catalog was written", len);
        CHECK(strstr(unit_sink.last_error, "x.cat: ") != NULL &&
                  strstr(unit_sink.last_error, "MiB") != NULL,
              "the catalog-size error does not say so: %s", unit_sink.last_error);
        CHECK(unit_sink.error_count == 1, "%u error lines for one problem", unit_sink.error_count);
        OPENSSL_free(der);
        der = NULL;
        /* the same six files with one content are one member: 48 MiB, within bounds */
        for (int i = 0; i < 6; i++)
            memset(files[i].sha1, 0x55, sizeof files[i].sha1);
        CHECK(write_ctl(&b, &der, &len) == 0, "six copies of one driver were refused: %s",
              unit_sink.last_error);
        CHECK(der != NULL && len > table_len && len < table_len + 4096,
              "six copies of one driver: a %zu-byte catalog", len);
        OPENSSL_free(der);
        der = NULL;
        /* one table whose length wraps any sum */
        files[0].page_hashes_sha1_len = SIZE_MAX;
        b.file_count = 1;
        CHECK(write_ctl(&b, &der, &len) == -1, "a SIZE_MAX page-hash table was accepted");
        CHECK(strstr(unit_sink.last_error, "x.cat: ") != NULL, "no error naming the catalog: %s",
              unit_sink.last_error);
        free(table);
    }

    /* ---- a 130 MiB name is 260 MiB of UTF-16: refused before it is converted ---- */
    {
        size_t name_len = 130u << 20;
        char *name = malloc(name_len + 1);
        CHECK(name != NULL, "no memory for the name");
        if (name != NULL) {
            memset(name, 'n', name_len);
            name[name_len] = 0;
            memset(&files[0], 0, sizeof files[0]);
            files[0].name = name;
            files[0].sip = &drv_sip_flat;
            memset(&b, 0, sizeof b);
            b.version = 2;
            b.files = files;
            b.file_count = 1;
            CHECK(write_ctl(&b, &der, &len) == -1, "a catalog with a 130 MiB name was written");
            CHECK(strstr(unit_sink.last_error, "x.cat: ") != NULL &&
                      strstr(unit_sink.last_error, "MiB") != NULL,
                  "the name-size error does not say so: %s", unit_sink.last_error);
            OPENSSL_free(der);
            der = NULL;
            free(name);
        }
    }

    /* ---- the reader: a length no long can carry is refused before anything is read ---- */
    {
        static const unsigned char one[1] = {0x30};
        d = diag_new();
        CHECK(drv_ctl_parse(one, (size_t)LONG_MAX + 1, &ctl, "x.cat", &d) == -1,
              "a LONG_MAX + 1 length was parsed");
        CHECK(strstr(unit_sink.last_error, "x.cat: ") != NULL, "no error naming the catalog: %s",
              unit_sink.last_error);
        drv_ctl_free(&ctl);
    }
    return unit_finish();
}
