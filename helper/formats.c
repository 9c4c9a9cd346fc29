#include "formats.h"

/* Formats in detection order; CAT and CAB join this table, no other code changes. */
static const drv_format *const formats[] = {
    &drv_format_pe,
};

#define HEAD_BYTES 4096

const drv_format *drv_format_for(const drv_file *file, drvsign_diag *diag)
{
    unsigned char head[HEAD_BYTES];
    size_t n = file->size < HEAD_BYTES ? (size_t)file->size : HEAD_BYTES;

    if (drv_file_pread(file, 0, head, n, diag) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i]->detect(head, n))
            return formats[i];
    if (n >= 2 && head[0] == 'M' && head[1] == 'Z')
        return &drv_format_pe; /* let the PE parser say precisely what is wrong */
    drv_error(diag, file->path, "unsupported file type (expected a PE image: .sys, .dll, .exe)");
    return NULL;
}
