/* Cabinets: detection, the CFDATA checksum, and the bounds-checked reader. */
#include "cab.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "cab_layout.h"


uint32_t drv_cab_checksum(const unsigned char *data, size_t n, uint32_t seed)
{
    uint32_t sum = seed, tail = 0;
    size_t words = n / 4;
    for (size_t i = 0; i < words; i++, data += 4)
        sum ^= drv_le32(data);
    /* the 1-3 leftover bytes form one more word, first byte highest */
    for (size_t i = 0; i < n % 4; i++)
        tail = tail << 8 | data[i];
    return sum ^ tail;
}

int drv_cab_detect(const unsigned char *head, size_t n)
{
    return n >= CAB_HEADER && memcmp(head, "MSCF", 4) == 0 && head[0x19] == 1;
}

/* ---- reading ---- */

/* Skip one NUL-terminated string of at most 255 bytes starting at *off. */
static int skip_string(const drv_file *f, uint32_t *off, drvsign_diag *diag)
{
    unsigned char buf[256];
    size_t n = f->size - *off < sizeof buf ? (size_t)(f->size - *off) : sizeof buf;
    unsigned char *nul;
    if (*off >= f->size || drv_file_pread(f, *off, buf, n, diag) != 0 ||
        (nul = memchr(buf, 0, n)) == NULL) {
        drv_error(diag, f->path, "a cabinet set name at offset %u is not terminated", *off);
        return -1;
    }
    *off += (uint32_t)(nul - buf) + 1;
    return 0;
}

int drv_cab_open(drv_cab *cab, const drv_file *f, drvsign_diag *diag)
{
    unsigned char h[CAB_HEADER + 4];
    uint32_t off = CAB_HEADER;
    size_t folder_size, folders_bytes;
    unsigned char *raw = NULL;

    memset(cab, 0, sizeof *cab);
    cab->file = f;
    if (f->size < CAB_HEADER || f->size > UINT32_MAX) {
        drv_error(diag, f->path, "not a cabinet: %llu bytes", (unsigned long long)f->size);
        return -1;
    }
    if (drv_file_pread(f, 0, h, CAB_HEADER, diag) != 0)
        return -1;
    if (memcmp(h, "MSCF", 4) != 0 || h[0x19] != 1) {
        drv_error(diag, f->path, "not a cabinet: no MSCF version 1 header");
        return -1;
    }
    cab->cb_cabinet = drv_le32(h + 8);
    cab->coff_files = drv_le32(h + 16);
    cab->folder_count = drv_le16(h + 0x1a);
    cab->file_count = drv_le16(h + 0x1c);
    cab->flags = drv_le16(h + 0x1e);
    cab->set_id = drv_le16(h + 0x20);
    cab->cabinet_index = drv_le16(h + 0x22);
    if (cab->cb_cabinet < CAB_HEADER || cab->cb_cabinet > f->size) {
        drv_error(diag, f->path, "the cabinet claims %u bytes, but the file has %llu", cab->cb_cabinet,
                  (unsigned long long)f->size);
        return -1;
    }
    if (cab->flags & FLAG_RESERVE) {
        if (drv_file_pread(f, CAB_HEADER, h + CAB_HEADER, 4, diag) != 0)
            return -1;
        cab->header_reserve = drv_le16(h + CAB_HEADER);
        cab->folder_reserve = h[CAB_HEADER + 2];
        cab->data_reserve = h[CAB_HEADER + 3];
        off += 4;
        if (cab->header_reserve > 60000 || (uint64_t)off + cab->header_reserve > cab->cb_cabinet) {
            drv_error(diag, f->path, "the header reserve (%u bytes) does not fit the cabinet",
                      cab->header_reserve);
            return -1;
        }
        if (cab->header_reserve == SLOT) {
            if (drv_file_pread(f, off, cab->sig_slot, SLOT, diag) != 0)
                return -1;
            if (memcmp(cab->sig_slot, "\0\0\x10\0", 4) == 0) {
                cab->has_slot = 1;
                cab->sig_offset = drv_le32(cab->sig_slot + 4);
                cab->sig_size = drv_le32(cab->sig_slot + 8);
            }
        }
        off += cab->header_reserve;
    }
    cab->strings_offset = off;
    for (int i = 0; i < ((cab->flags & FLAG_PREV) ? 2 : 0) + ((cab->flags & FLAG_NEXT) ? 2 : 0); i++)
        if (skip_string(f, &off, diag) != 0)
            return -1;
    cab->strings_len = off - cab->strings_offset;
    cab->folders_offset = off;
    folder_size = 8 + (size_t)cab->folder_reserve;
    folders_bytes = cab->folder_count * folder_size;
    if ((uint64_t)off + folders_bytes > cab->cb_cabinet) {
        drv_error(diag, f->path, "%u folder entries do not fit the cabinet", cab->folder_count);
        return -1;
    }
    cab->folders_end = off + (uint32_t)folders_bytes;
    if (cab->coff_files < cab->folders_end || cab->coff_files > cab->cb_cabinet) {
        drv_error(diag, f->path, "the file table offset (%u) is outside the cabinet", cab->coff_files);
        return -1;
    }
    if (cab->sig_offset != 0 || cab->sig_size != 0) {
        if (cab->sig_offset != cab->cb_cabinet || cab->sig_size < 8 || cab->sig_size > MAX_SIGNATURE ||
            (uint64_t)cab->sig_offset + cab->sig_size != f->size) {
            drv_error(diag, f->path,
                      "the signature (offset %u, %u bytes) is not where a signed cabinet keeps it: "
                      "right after the cabinet's %u bytes, to the end of the file",
                      cab->sig_offset, cab->sig_size, cab->cb_cabinet);
            return -1;
        }
    } else if (cab->cb_cabinet != f->size) {
        drv_error(diag, f->path, "%llu bytes follow the end of the cabinet",
                  (unsigned long long)(f->size - cab->cb_cabinet));
        return -1;
    }
    cab->folders = calloc(cab->folder_count ? cab->folder_count : 1, sizeof *cab->folders);
    raw = malloc(folders_bytes ? folders_bytes : 1);
    if (cab->folders == NULL || raw == NULL) {
        free(raw);
        drv_cab_close(cab);
        drv_error(diag, f->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(f, cab->folders_offset, raw, folders_bytes, diag) != 0) {
        free(raw);
        drv_cab_close(cab);
        return -1;
    }
    for (unsigned i = 0; i < cab->folder_count; i++) {
        const unsigned char *e = raw + i * folder_size;
        cab->folders[i].data_offset = drv_le32(e);
        cab->folders[i].data_blocks = drv_le16(e + 4);
        cab->folders[i].compression = drv_le16(e + 6);
        if (cab->folders[i].data_offset < cab->coff_files ||
            cab->folders[i].data_offset > cab->cb_cabinet) {
            drv_error(diag, f->path, "folder %u's data offset (%u) is outside the cabinet", i + 1,
                      cab->folders[i].data_offset);
            free(raw);
            drv_cab_close(cab);
            return -1;
        }
    }
    free(raw);
    return 0;
}

void drv_cab_close(drv_cab *cab)
{
    free(cab->folders);
    cab->folders = NULL;
}

void drv_cab_free_members(drv_cab_member *members, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(members[i].name);
    free(members);
}

int drv_cab_members(const drv_cab *cab, drv_cab_member **out, size_t *count, drvsign_diag *diag)
{
    const drv_file *f = cab->file;
    drv_cab_member *m = calloc(cab->file_count ? cab->file_count : 1, sizeof *m);
    uint64_t off = cab->coff_files; /* 64-bit: the last name may end past a 4 GiB cb_cabinet */
    size_t n = 0;

    *out = NULL;
    *count = 0;
    if (m == NULL)
        return -1;
    for (; n < cab->file_count; n++) {
        unsigned char e[16 + 257];
        size_t avail = cab->cb_cabinet - off < sizeof e ? cab->cb_cabinet - off : sizeof e;
        unsigned char *nul;
        if (off >= cab->cb_cabinet || avail < 17 || drv_file_pread(f, off, e, avail, diag) != 0 ||
            (nul = memchr(e + 16, 0, avail - 16)) == NULL) {
            drv_error(diag, f->path, "file entry %zu is truncated or its name is too long", n + 1);
            drv_cab_free_members(m, n);
            return -1;
        }
        m[n].size = drv_le32(e);
        m[n].folder_offset = drv_le32(e + 4);
        m[n].folder = drv_le16(e + 8);
        m[n].date = drv_le16(e + 10);
        m[n].time = drv_le16(e + 12);
        m[n].attribs = drv_le16(e + 14);
        m[n].name = malloc((size_t)(nul - (e + 16)) + 1);
        if (m[n].name == NULL) {
            drv_cab_free_members(m, n);
            return -1;
        }
        memcpy(m[n].name, e + 16, (size_t)(nul - (e + 16)) + 1);
        off += (uint64_t)(nul - e) + 1;
    }
    *out = m;
    *count = n;
    return 0;
}

int drv_cab_check_files(const drv_cab *cab, drvsign_diag *diag)
{
    drv_cab_member *m;
    size_t count;
    uint64_t table_end = cab->coff_files, data_start = cab->cb_cabinet;
    int multi = (cab->flags & (FLAG_PREV | FLAG_NEXT)) != 0, rc = 0;

    if (drv_cab_members(cab, &m, &count, diag) != 0)
        return -1;
    for (unsigned i = 0; i < cab->folder_count; i++)
        if (cab->folders[i].data_offset < data_start)
            data_start = cab->folders[i].data_offset;
    for (size_t i = 0; i < count; i++) {
        table_end += 16 + strlen(m[i].name) + 1;
        if (m[i].folder >= cab->folder_count && !(multi && m[i].folder >= 0xfffd)) {
            drv_error(diag, cab->file->path,
                      "file entry %zu (%s) names folder %u, but the cabinet has %u", i + 1,
                      m[i].name, m[i].folder, cab->folder_count);
            rc = -1;
        } else if (m[i].folder < cab->folder_count &&
                   (uint64_t)m[i].folder_offset + m[i].size >
                       (uint64_t)cab->folders[m[i].folder].data_blocks * DRV_CAB_BLOCK) {
            drv_error(diag, cab->file->path,
                      "file entry %zu (%s) ends at byte %llu of folder %u, which holds at most "
                      "%llu",
                      i + 1, m[i].name, (unsigned long long)m[i].folder_offset + m[i].size,
                      m[i].folder + 1,
                      (unsigned long long)cab->folders[m[i].folder].data_blocks * DRV_CAB_BLOCK);
            rc = -1;
        }
        if (rc != 0)
            break; /* one line: a damaged table would repeat the same problem many times */
    }
    if (rc == 0 && table_end > data_start) {
        drv_error(diag, cab->file->path,
                  "the file table (%u entries) runs into the file data at offset %llu",
                  cab->file_count, (unsigned long long)data_start);
        rc = -1;
    }
    drv_cab_free_members(m, count);
    return rc;
}
