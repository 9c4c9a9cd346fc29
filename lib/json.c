#include "json.h"

#include <stddef.h>
#include <string.h>

#include "text.h"

void drv_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = s != NULL ? strlen(s) : 0;
    fputc('"', out);
    while (left > 0) {
        size_t n = drv_utf8_sequence(p, left);
        if (n == 0) {
            /* file names are bytes; a byte that is not UTF-8 becomes U+FFFD */
            fputs("\\ufffd", out);
            n = 1;
        } else if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7F) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fwrite(p, 1, n, out);
        }
        p += n;
        left -= n;
    }
    fputc('"', out);
}
