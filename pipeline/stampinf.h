/*
 * StampInf, as the WDK's tool does it: replace $ARCH$, $KMDFVERSION$ and $UMDFVERSION$, and set
 * DriverVer in [Version]. The INF is read with the INF reader's decoder and written back in
 * the encoding it came in (UTF-16LE with its BOM, UTF-8 with or without BOM, ANSI byte for
 * byte), every character kept.
 */
#ifndef DRVSIGN_PIPELINE_STAMPINF_H
#define DRVSIGN_PIPELINE_STAMPINF_H

#include <stddef.h>

#include "drvsign/drvsign.h"

typedef struct stampinf_opts {
    const char *source;         /* the .inx or .inf as the user names it: messages name it */
    const char *arch;           /* $ARCH$ */
    const char *kmdf_version;   /* $KMDFVERSION$ */
    const char *umdf_version;   /* $UMDFVERSION$ */
    const char *driver_version; /* DriverVer's version; NULL keeps the INF's */
    const char *driver_date;    /* mm/dd/yyyy; NULL: SOURCE_DATE_EPOCH's day, else today (UTC) */
} stampinf_opts;

/*
 * Stamp data (the source INF as read) into *out, allocated, in the same encoding. With a
 * driver_version or driver_date, DriverVer is always set; without, only where the INF leaves
 * it to the stamping (no DriverVer, or one without a date, as Visual Studio's templates
 * have). *inserted: the output line of a DriverVer line the source did not have, else 0;
 * every other line keeps its number, so problems in the output map back to the source.
 */
int stampinf_buffer(const stampinf_opts *o, const unsigned char *data, size_t len,
                    unsigned char **out, size_t *out_len, unsigned *inserted, drvsign_diag *diag);

/* Read o->source, stamp it, and write out_path (atomically). inserted as above; may be NULL. */
int stampinf_file(const stampinf_opts *o, const char *out_path, unsigned *inserted,
                  drvsign_diag *diag);

/* The stamped INF's file name: the source's, with .inx become .inf. */
char *stampinf_output_name(const char *source);

#endif
