/* SOURCE_DATE_EPOCH: the date a reproducible build stamps into catalogs, cabinets and DriverVer
 * when no time is given. */
#include "build_time.h"

#include <stdlib.h>

int64_t drv_source_date_epoch(drvsign_diag *diag)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end;
    long long seconds;
    if (sde == NULL || *sde == 0)
        return 0;
    seconds = strtoll(sde, &end, 10);
    if (*end == 0 && seconds > 0)
        return seconds;
    drv_warn(diag, NULL, "SOURCE_DATE_EPOCH '%s' is not a number of seconds; ignored", sde);
    return 0;
}
