/* Writing JSON reports: the one string-escaping rule, shared by every report. */
#ifndef DRVSIGN_JSON_H
#define DRVSIGN_JSON_H

#include <stdio.h>

/* s as a JSON string literal (NULL as ""), quotes and control characters escaped. */
void drv_json_string(FILE *out, const char *s);

#endif
