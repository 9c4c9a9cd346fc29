/* The attribute certificate table: reading the signature, writing an image with one. */
#include "pe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bytes.h"

#define WIN_CERT_REVISION_2_0 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002
/* A certificate table larger than this is not a signature but an attack on our memory. */
#define MAX_CERT_TABLE (64u << 20)

int drv_pe_signature(const drv_pe *pe, unsigned char **der, size_t *der_len, drvsign_diag *diag)
{
    unsigned char head[8];
    uint32_t len;

    *der = NULL;
    *der_len = 0;
    if (pe->cert_off == 0 && pe->cert_size == 0)
        return 0;
    if (pe->cert_size > MAX_CERT_TABLE) {
        drv_error(diag, pe->file->path, "the certificate table is implausibly large (%u bytes)",
                  pe->cert_size);
        return -1;
    }
    if (drv_file_pread(pe->file, pe->cert_off, head, 8, diag) != 0)
        return -1;
    len = drv_le32(head);
    if (len < 8 || len > pe->cert_size) {
        drv_error(diag, pe->file->path,
                  "the attribute certificate length (%u) does not fit the certificate table (%u)",
                  len, pe->cert_size);
        return -1;
    }
    if (drv_le16(head + 6) != WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
        drv_error(diag, pe->file->path,
                  "the attribute certificate is of type %u, not PKCS#7 signed data",
                  drv_le16(head + 6));
        return -1;
    }
    *der_len = len - 8;
    *der = malloc(*der_len ? *der_len : 1);
    if (*der == NULL) {
        drv_error(diag, pe->file->path, "out of memory");
        return -1;
    }
    if (drv_file_pread(pe->file, (uint64_t)pe->cert_off + 8, *der, *der_len, diag) != 0) {
        free(*der);
        *der = NULL;
        return -1;
    }
    return 0;
}

int drv_pe_write_signature(const drv_pe *pe, const drv_pe_scan *scan, const unsigned char *der,
                           size_t der_len, drv_atomic *out, drvsign_diag *diag)
{
    static const unsigned char zeros[8] = {0};
    uint64_t content_end = pe->content_end;
    size_t pad = (size_t)((8 - content_end % 8) % 8);
    size_t sig_pad = (8 - der_len % 8) % 8;
    uint64_t cert_off = content_end + pad;
    uint64_t cert_len = 8 + (uint64_t)der_len + sig_pad;
    unsigned char win_cert[8], dir[8], ck[4];
    uint64_t sum;

    if (cert_off + cert_len > UINT32_MAX) {
        drv_error(diag, pe->file->path, "the signed image would exceed 4 GiB");
        return -1;
    }
    if (out->pos != content_end) {
        drv_error(diag, pe->file->path, "internal error: the image was not staged completely");
        return -1;
    }
    drv_put_le32(win_cert, (uint32_t)cert_len);
    drv_put_le16(win_cert + 4, WIN_CERT_REVISION_2_0);
    drv_put_le16(win_cert + 6, WIN_CERT_TYPE_PKCS_SIGNED_DATA);
    drv_put_le32(dir, (uint32_t)cert_off);
    drv_put_le32(dir + 4, (uint32_t)cert_len);

    /* The CheckSum of the final file, from the content sums and the bytes we add. */
    sum = scan->sum_content + drv_pe_word_sum(dir, 8, pe->certdir_off) +
          drv_pe_word_sum(win_cert, 8, cert_off) + drv_pe_word_sum(der, der_len, cert_off + 8);
    drv_put_le32(ck, drv_pe_fold_checksum(sum, cert_off + cert_len));

    if (drv_atomic_write(out, zeros, pad, diag) != 0 ||
        drv_atomic_write(out, win_cert, 8, diag) != 0 ||
        drv_atomic_write(out, der, der_len, diag) != 0 ||
        drv_atomic_write(out, zeros, sig_pad, diag) != 0 ||
        drv_atomic_pwrite(out, pe->certdir_off, dir, 8, diag) != 0 ||
        drv_atomic_pwrite(out, pe->checksum_off, ck, 4, diag) != 0)
        return -1;
    return 0;
}

int drv_pe_write_unsigned(const drv_pe *pe, const drv_pe_scan *scan, drv_atomic *out,
                          drvsign_diag *diag)
{
    static const unsigned char dir[8] = {0};
    unsigned char ck[4];
    /* sum_content counts the directory entry as zero, which it now is */
    drv_put_le32(ck, drv_pe_fold_checksum(scan->sum_content, pe->content_end));
    if (drv_atomic_copy(out, pe->file, 0, pe->content_end, diag) != 0 ||
        drv_atomic_pwrite(out, pe->certdir_off, dir, 8, diag) != 0 ||
        drv_atomic_pwrite(out, pe->checksum_off, ck, 4, diag) != 0)
        return -1;
    return 0;
}
