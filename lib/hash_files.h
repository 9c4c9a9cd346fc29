#ifndef DRVSIGN_HASH_FILES_H
#define DRVSIGN_HASH_FILES_H

#include "formats.h"

/* The member digests (drv_member_hash_file) of count files, on every core: each file is hashed
 * by one worker, the largest files first. hashes[i] belongs to paths[i]; it is zeroed when
 * that file failed, and failed[i] (if failed is not NULL) says so. Each file's messages reach
 * diag in the files' order, whichever worker hashed it; progress ("hashed 12/400 files") when
 * progress is set. 0 when every file was hashed, else -1 after trying them all. */
int drv_hash_files(const char *const *paths, size_t count, int want_sha256, int page_hashes,
                   int progress, drv_member_hash *hashes, unsigned char *failed,
                   drvsign_diag *diag);

#endif
