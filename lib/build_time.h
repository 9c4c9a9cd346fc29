/* The time reproducible outputs carry: SOURCE_DATE_EPOCH (reproducible-builds.org). */
#ifndef DRVSIGN_BUILD_TIME_H
#define DRVSIGN_BUILD_TIME_H

#include <stdint.h>

#include "diag.h"

/* SOURCE_DATE_EPOCH in seconds, or 0 when it is unset; a value that is not a positive number
 * of seconds gets a warning and counts as unset. */
int64_t drv_source_date_epoch(drvsign_diag *diag);

#endif
