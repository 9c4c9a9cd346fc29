/* PE/COFF images: detection and bounds-checked header parsing (drv_pe_open). */
#include "pe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"


int drv_pe_detect(const unsigned char *head, size_t n)
{
    uint32_t l;
    if (n < 64 || head[0] != 'M' || head[1] != 'Z')
        return 0;
    l = drv_le32(head + 0x3c);
    return l <= n - 4 && memcmp(head + l, "PE\0\0", 4) == 0;
}

int drv_pe_open(drv_pe *pe, const drv_file *f, drvsign_diag *diag)
{
    unsigned char dos[64], hdr[24 + 256];
    uint32_t l, opt_size, rva_count, hdr_end;
    unsigned p;
    uint16_t magic;
    unsigned char *sec = NULL;
    size_t sec_bytes;

    memset(pe, 0, sizeof *pe);
    pe->file = f;
    if (f->size < sizeof dos) {
        drv_error(diag, f->path, "not a PE file: only %llu bytes", (unsigned long long)f->size);
        return -1;
    }
    if (f->size > UINT32_MAX) {
        drv_error(diag, f->path, "PE files are limited to 4 GiB");
        return -1;
    }
    if (drv_file_pread(f, 0, dos, sizeof dos, diag) != 0)
        return -1;
    if (dos[0] != 'M' || dos[1] != 'Z') {
        drv_error(diag, f->path, "not a PE file: no MZ header");
        return -1;
    }
    l = drv_le32(dos + 0x3c);
    if (l < 4 || (uint64_t)l + 24 > f->size) {
        drv_error(diag, f->path, "e_lfanew (0x%x) points outside the file", l);
        return -1;
    }
    if (drv_file_pread(f, l, hdr, 24, diag) != 0)
        return -1;
    if (memcmp(hdr, "PE\0\0", 4) != 0) {
        drv_error(diag, f->path, "e_lfanew (0x%x) does not point at a PE signature", l);
        return -1;
    }
    pe->lfanew = l;
    pe->section_count = drv_le16(hdr + 6);
    opt_size = drv_le16(hdr + 20);
    if (pe->section_count > DRV_PE_MAX_SECTIONS) {
        drv_error(diag, f->path, "%u sections; a PE image has at most %d", pe->section_count,
                  DRV_PE_MAX_SECTIONS);
        return -1;
    }
    if ((uint64_t)l + 24 + opt_size > f->size) {
        drv_error(diag, f->path, "the optional header runs past the end of the file");
        return -1;
    }
    if (opt_size < 2 || drv_file_pread(f, (uint64_t)l + 24, hdr + 24,
                                       opt_size < 256 ? opt_size : 256, diag) != 0) {
        if (opt_size < 2)
            drv_error(diag, f->path, "no optional header");
        return -1;
    }
    magic = drv_le16(hdr + 24);
    if (magic == 0x20b)
        pe->pe32plus = 1;
    else if (magic != 0x10b) {
        drv_error(diag, f->path, "unknown optional header magic 0x%x (neither PE32 nor PE32+)",
                  magic);
        return -1;
    }
    p = pe->pe32plus ? 16 : 0;
    /* Offsets below are relative to L (reference 4.1); hdr holds L .. L+24+min(opt,256). */
    if (opt_size < 96 + p + 4 + 5 * 8) {
        drv_error(diag, f->path,
                  "the optional header (%u bytes) is too small to hold a certificate table entry",
                  opt_size);
        return -1;
    }
    rva_count = drv_le32(hdr + 116 + p);
    if (rva_count < 5) {
        drv_error(diag, f->path,
                  "NumberOfRvaAndSizes is %u: the image has no certificate table entry", rva_count);
        return -1;
    }
    pe->section_alignment = drv_le32(hdr + 56);
    pe->size_of_headers = drv_le32(hdr + 84);
    pe->header_checksum = drv_le32(hdr + 88);
    pe->checksum_off = l + 88;
    pe->certdir_off = l + 152 + p;
    pe->cert_off = drv_le32(hdr + 152 + p);
    pe->cert_size = drv_le32(hdr + 156 + p);

    hdr_end = l + 24 + opt_size;
    sec_bytes = (size_t)pe->section_count * 40;
    if ((uint64_t)hdr_end + sec_bytes > f->size) {
        drv_error(diag, f->path, "the section table runs past the end of the file");
        return -1;
    }
    pe->content_end = f->size;
    if (pe->cert_off != 0 || pe->cert_size != 0) {
        if (pe->cert_off < hdr_end + sec_bytes || pe->cert_size < 8 ||
            (uint64_t)pe->cert_off + pe->cert_size > f->size) {
            drv_error(diag, f->path,
                      "the certificate table (offset 0x%x, size %u) lies outside the file",
                      pe->cert_off, pe->cert_size);
            return -1;
        }
        if ((uint64_t)pe->cert_off + pe->cert_size != f->size) {
            /* MS12-024: anything after the certificate table would be unsigned, so Windows
             * and osslsigncode refuse such files; so do we. */
            drv_error(diag, f->path,
                      "the certificate table is not at the end of the file (%llu bytes follow it)",
                      (unsigned long long)(f->size - pe->cert_off - pe->cert_size));
            return -1;
        }
        pe->content_end = pe->cert_off;
    }
    sec = malloc(sec_bytes ? sec_bytes : 1);
    if (sec == NULL) {
        drv_error(diag, f->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(f, hdr_end, sec, sec_bytes, diag) != 0) {
        free(sec);
        return -1;
    }
    for (unsigned i = 0; i < pe->section_count; i++) {
        drv_pe_section *s = &pe->sections[i];
        const unsigned char *e = sec + (size_t)i * 40;
        memcpy(s->name, e, 8);
        s->name[8] = 0;
        for (char *c = s->name; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
        s->raw_size = drv_le32(e + 16);
        s->raw_ptr = drv_le32(e + 20);
        if (s->raw_size != 0 && (uint64_t)s->raw_ptr + s->raw_size > pe->content_end) {
            drv_error(diag, f->path,
                      "section %u (%s) points past the end of the file: raw data 0x%x+0x%x, "
                      "image data ends at 0x%llx",
                      i + 1, s->name, s->raw_ptr, s->raw_size,
                      (unsigned long long)pe->content_end);
            free(sec);
            return -1;
        }
    }
    free(sec);
    return 0;
}
