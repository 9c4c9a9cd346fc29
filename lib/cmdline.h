/*
 * Command lines given as one string (--signer-command, DRVSIGN_SIGNER_COMMAND): split into
 * words the way a POSIX shell does, so users quote as they are used to, but without a shell:
 * no expansions, no pipes, no redirections.
 */
#ifndef DRVSIGN_CMDLINE_H
#define DRVSIGN_CMDLINE_H

#include <stddef.h>

#include "bytes.h"

/*
 * Blanks separate words; '...' keeps everything literally; "..." keeps everything but \\, \",
 * \$, \` and \<newline>, which lose their backslash; outside quotes a backslash keeps the next
 * character literally (and \<newline> joins lines). Unquoted | & ; < > ( ) $ ` are refused,
 * since nothing would pipe, redirect or expand them. Returns 0 with the words in *words (free
 * with drv_strlist_free), or -1 with *words empty and *problem saying why (a static string).
 */
int drv_split_command(const char *text, drv_strlist *words, const char **problem);

#endif
