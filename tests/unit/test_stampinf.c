/* StampInf: tokens, DriverVer replaced, kept or inserted, encodings written back as they came
 * (UTF-16LE with non-ASCII text, UTF-8 with and without BOM, ANSI byte for byte), line
 * numbers of errors and of the inserted line. */
#include <stdlib.h>
#include <string.h>

#include "params.h" /* the pipeline's names for the parameters, which its users see */
#include "text.h"
#include "unit.h"

/* one case: the INF's name in messages, and StampInf's parameters */
typedef struct stampinf_opts {
    const char *source, *arch, *kmdf_version, *umdf_version, *driver_version, *driver_date;
} stampinf_opts;

static stampinf_opts opts(void)
{
    stampinf_opts o = {0};
    o.source = "src/t.inx";
    o.arch = "amd64";
    o.kmdf_version = "1.15";
    o.driver_date = "01/02/2024";
    return o;
}

/* stamp text (len bytes); *out NUL-terminated, or NULL on failure */
static int stamp(const stampinf_opts *o, const void *in, size_t len, unsigned char **out,
                 size_t *out_len, unsigned *inserted)
{
    drvsign_diag diag = unit_diag();
    drvsign_params p = {0};
    unsigned char *raw;
    int rc;
    diag.param_name = pipeline_param_name;
    p.arch = o->arch;
    p.kmdf_version = o->kmdf_version;
    p.umdf_version = o->umdf_version;
    p.driver_version = o->driver_version;
    p.driver_date = o->driver_date;
    rc = drvsign_stampinf_buffer(&p, o->source, in, len, &raw, out_len, inserted, &diag) ==
                 DRVSIGN_OK
             ? 0
             : -1;
    *out = NULL;
    if (rc == 0) {
        *out = malloc(*out_len + 1);
        memcpy(*out, raw, *out_len);
        (*out)[*out_len] = 0;
        drvsign_free(raw);
    }
    return rc;
}

/* the stamped INF's file name, malloc'd */
static char *stampinf_output_name(const char *source)
{
    size_t size = drvsign_stampinf_name(source, NULL, 0) + 1;
    char *name = malloc(size);
    drvsign_stampinf_name(source, name, size);
    return name;
}

static int stamps_to(const stampinf_opts *o, const char *in, const char *expected,
                     unsigned expected_inserted)
{
    unsigned char *out;
    size_t len;
    unsigned inserted = 99;
    int ok = stamp(o, in, strlen(in), &out, &len, &inserted) == 0 && len == strlen(expected) &&
             memcmp(out, expected, len) == 0 && inserted == expected_inserted;
    if (!ok)
        printf("got (inserted %u):\n%s\n", inserted, out ? (char *)out : "(failed)");
    free(out);
    return ok;
}

/* UTF-8 text to UTF-16LE with a BOM */
static unsigned char *utf16(const char *s, size_t *len)
{
    size_t n = 0;
    unsigned char *units = drv_utf16le_from_utf8(s, strlen(s), &n), *out = malloc(2 + n);
    if (units == NULL || out == NULL) {
        free(out);
        out = NULL;
    } else {
        out[0] = 0xff;
        out[1] = 0xfe;
        memcpy(out + 2, units, n);
    }
    free(units);
    *len = 2 + n;
    return out;
}

int main(void)
{
    stampinf_opts o = opts();

    /* ASCII: tokens replaced; no DriverVer: one inserted before the next section, its line
     * reported; every other line keeps its number */
    CHECK(stamps_to(
              &o,
              "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\n\r\n[Manufacturer]\r\n"
              "%M%=Std,NT$ARCH$.10.0...16299\r\n[W.Wdf]\r\nKmdfLibraryVersion=$KMDFVERSION$\r\n",
              "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\n\r\nDriverVer = 01/02/2024\r\n"
              "[Manufacturer]\r\n%M%=Std,NTamd64.10.0...16299\r\n[W.Wdf]\r\n"
              "KmdfLibraryVersion=1.15\r\n",
              4),
          "ASCII: tokens and an inserted DriverVer");
    /* a date given: a dated DriverVer is restamped, its version kept */
    CHECK(stamps_to(&o, "[Version]\nDriverVer = 03/04/2020,1.0.0.0 ; keep\n",
                    "[Version]\nDriverVer = 01/02/2024,1.0.0.0\r\n", 0),
          "DRIVER_DATE restamps a dated DriverVer and keeps its version");
    /* a dated DriverVer, nothing asked: as written */
    o.driver_date = NULL;
    CHECK(stamps_to(&o, "[Version]\nDriverVer = 03/04/2020,1.0.0.0\n",
                    "[Version]\nDriverVer = 03/04/2020,1.0.0.0\n", 0),
          "... also without a date of the caller's");
    o = opts();
    /* DRIVER_VERSION given: replaced, at its own line */
    o.driver_version = "2.3.4.5";
    CHECK(stamps_to(&o, "; c\n[Version]\nClass=X\ndriverver=03/04/2020,1.0.0.0\n[S]\n",
                    "; c\n[Version]\nClass=X\nDriverVer = 01/02/2024,2.3.4.5\r\n[S]\n", 0),
          "DriverVer replaced with the version given");
    o = opts();
    /* undated (Visual Studio's templates): the date goes in, the version stays */
    o.driver_date = "05/06/2025";
    CHECK(stamps_to(&o, "[Version]\nDriverVer = ,1.2.3.4\n[S]\n",
                    "[Version]\nDriverVer = 05/06/2025,1.2.3.4\r\n[S]\n", 0),
          "an undated DriverVer gets the date, keeps its version");
    o = opts();
    /* [Version] last, no final newline: the line goes on a line of its own */
    CHECK(stamps_to(&o, "[S]\nA=1\n[Version]\nClass=X",
                    "[S]\nA=1\n[Version]\nClass=X\r\n"
                    "DriverVer = 01/02/2024\r\n",
                    5),
          "DriverVer inserted at the end");
    /* a later [Version] block: the first one gets the DriverVer */
    CHECK(stamps_to(
              &o, "[Version]\nClass=X\n[S]\n[Version]\nDriverVer=,1.0\n",
              "[Version]\nClass=X\nDriverVer = 01/02/2024\r\n[S]\n[Version]\nDriverVer=,1.0\n", 3),
          "DriverVer goes into the first [Version] block");

    /* a missing token value: one error naming the source and its line, nothing written */
    {
        unsigned char *out;
        size_t len;
        const char *in = "[Version]\nClass=X\n[W]\nUmdfLibraryVersion=$UMDFVERSION$\n";
        CHECK(stamp(&o, in, strlen(in), &out, &len, NULL) != 0 && out == NULL &&
                  unit_sink.error_count == 1 &&
                  strcmp(unit_sink.errors[0], "src/t.inx:4: the INF uses $UMDFVERSION$, but no "
                                              "UMDF_VERSION was given") == 0,
              "missing UMDF_VERSION: '%s'", unit_sink.error_count ? unit_sink.errors[0] : "");
    }

    /* UTF-16LE with non-ASCII text (Latin, CJK, and a surrogate pair): every character kept,
     * the BOM too, DriverVer inserted */
    {
        size_t in_len, want_len, len;
        unsigned char *in = utf16("[Version]\r\nProvider=%P%\r\n[Strings]\r\n"
                                  "P=\"Grüße 驱动 😀 $ARCH$\"\r\n",
                                  &in_len);
        unsigned char *want = utf16("[Version]\r\nProvider=%P%\r\nDriverVer = 01/02/2024\r\n"
                                    "[Strings]\r\nP=\"Grüße 驱动 😀 amd64\"\r\n",
                                    &want_len);
        unsigned char *out;
        unsigned inserted = 0;
        CHECK(stamp(&o, in, in_len, &out, &len, &inserted) == 0 && len == want_len &&
                  memcmp(out, want, len) == 0 && inserted == 3,
              "UTF-16LE: non-ASCII text kept, BOM kept (%zu bytes, want %zu)", len, want_len);
        free(in);
        free(want);
        free(out);
    }
    /* UTF-8 with BOM and without */
    CHECK(stamps_to(&o, "\xef\xbb\xbf[Version]\nProvider=\"Caf\xc3\xa9\"\n",
                    "\xef\xbb\xbf[Version]\nProvider=\"Caf\xc3\xa9\"\nDriverVer = 01/02/2024\r\n",
                    3),
          "UTF-8 with BOM: BOM and text kept");
    CHECK(stamps_to(
              &o, "[Version]\nProvider=\"\xe9\xa9\xb1\xe5\x8a\xa8\"\n[S]\n",
              "[Version]\nProvider=\"\xe9\xa9\xb1\xe5\x8a\xa8\"\nDriverVer = 01/02/2024\r\n[S]\n",
              3),
          "UTF-8 without BOM");
    /* ANSI (Windows-1252), bytes above 0x7f kept as they are, 0x81 (undefined) too */
    CHECK(stamps_to(&o, "[Version]\nProvider=\"Gr\xfc\xdf\x81 \x80\"\n",
                    "[Version]\nProvider=\"Gr\xfc\xdf\x81 \x80\"\nDriverVer = 01/02/2024\r\n", 3),
          "ANSI: bytes kept");
    /* no [Version]: only the tokens */
    CHECK(stamps_to(&o, "[S]\nA=$ARCH$\n", "[S]\nA=amd64\n", 0), "no [Version]: no DriverVer");
    /* undecodable: one error naming the source */
    {
        unsigned char *out;
        size_t len;
        CHECK(stamp(&o, "\xfe\xff\0[", 4, &out, &len, NULL) != 0 && unit_sink.error_count == 1 &&
                  strncmp(unit_sink.errors[0], "src/t.inx: is UTF-16 big-endian", 31) == 0,
              "UTF-16BE refused: '%s'", unit_sink.error_count ? unit_sink.errors[0] : "");
    }
    {
        char *name = stampinf_output_name("/a/b/Toast.INX"), *same = stampinf_output_name("x.inf");
        CHECK(strcmp(name, "Toast.inf") == 0 && strcmp(same, "x.inf") == 0, "output names");
        free(name);
        free(same);
    }
    return unit_finish();
}
