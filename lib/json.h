/* Writing JSON reports: the one string-escaping rule, shared by every report. */
#ifndef DRVSIGN_JSON_H
#define DRVSIGN_JSON_H

#include <stdio.h>

/*
 * s as a JSON string literal (NULL as ""): quotes, backslashes and control characters
 * escaped, and every byte that is not part of well-formed UTF-8 written as \ufffd, so the
 * output is valid JSON whatever bytes a file name holds.
 */
void drv_json_string(FILE *out, const char *s);

#endif
