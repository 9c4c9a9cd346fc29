/*
 * Cabinet files (MS-CAB, reference section 5): a bounds-checked reader, a writer (one folder,
 * MSZIP or stored, reproducible), and the Authenticode signature in the 20-byte header
 * reserve (5.3). The signing handler itself is drv_format_cab (handler.h).
 */
#ifndef DRVSIGN_CAB_H
#define DRVSIGN_CAB_H

#include <stdint.h>

#include "port.h"

#define DRV_CAB_MAX_FILES 65535u
#define DRV_CAB_BLOCK 32768u

typedef struct drv_cab_folder {
    uint32_t data_offset; /* coffCabStart */
    uint16_t data_blocks; /* cCFData */
    uint16_t compression; /* typeCompress */
} drv_cab_folder;

typedef struct drv_cab_member {
    char *name; /* as stored ('\' separators); UTF-8 when the 0x80 attribute is set */
    uint32_t size;
    uint32_t folder_offset;
    uint16_t folder;
    uint16_t date, time, attribs;
} drv_cab_member;

typedef struct drv_cab {
    const drv_file *file;
    uint32_t cb_cabinet, coff_files;
    uint16_t folder_count, file_count, flags, set_id, cabinet_index;
    uint16_t header_reserve; /* cbCFHeader */
    uint8_t folder_reserve, data_reserve;
    unsigned char sig_slot[20]; /* the header reserve when it is the 20-byte signature slot */
    int has_slot;
    uint32_t sig_offset, sig_size; /* 0 when unsigned */
    uint32_t strings_offset, strings_len; /* szCabinetPrev/DiskPrev/Next strings */
    uint32_t folders_offset, folders_end;
    drv_cab_folder *folders;
} drv_cab;

/* Quick test on the first bytes: "MSCF" and version 1.x. */
int drv_cab_detect(const unsigned char *head, size_t n);
int drv_cab_open(drv_cab *cab, const drv_file *file, drvsign_diag *diag);
void drv_cab_close(drv_cab *cab);
/* The CFFILE entries; free with drv_cab_free_members. */
int drv_cab_members(const drv_cab *cab, drv_cab_member **members, size_t *count,
                    drvsign_diag *diag);
void drv_cab_free_members(drv_cab_member *members, size_t count);
/* The file table is sound: every entry inside the cabinet, before the data, in a folder that
 * exists and within what that folder can hold. One error naming the first problem. */
int drv_cab_check_files(const drv_cab *cab, drvsign_diag *diag);

/* What goes into a cabinet. */
typedef struct drv_cab_input {
    const char *path; /* on disk */
    const char *name; /* in the cabinet, '\' separated */
    int64_t mtime;
} drv_cab_input;

typedef struct drv_cab_write_opts {
    int mszip;       /* MSZIP (1) or stored (0) */
    int64_t time;    /* every file's date; 0 keeps each file's mtime */
    unsigned threads;
} drv_cab_write_opts;

/* One folder, files in the given order, CFDATA blocks of 32 KiB, checksums, unsigned. */
int drv_cab_write(const drv_cab_input *inputs, size_t count, const drv_cab_write_opts *opts,
                  drv_atomic *out, drvsign_diag *diag);

/* The CFDATA checksum (reference 5.2), exposed for tests. */
uint32_t drv_cab_checksum(const unsigned char *data, size_t n, uint32_t seed);

#endif
