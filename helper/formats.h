/* The table of file-format handlers, and picking one by content (never by file name). */
#ifndef DRVSIGN_FORMATS_H
#define DRVSIGN_FORMATS_H

#include "handler.h"

/* The handler whose detect accepts the file's first bytes; reports and returns NULL if none. */
const drv_format *drv_format_for(const drv_file *file, drvsign_diag *diag);

#endif
