/* libFuzzer target: the INF reader on arbitrary bytes (any encoding), then every lookup the
 * catalog builder makes. */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>

#include "inf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drvsign_diag diag = fuzz_diag();
    drv_inf inf;
    drv_inf_parse(&inf, "fuzz.inf", data, size, &diag);
    for (size_t i = 0; i < inf.count; i++) {
        const drv_inf_section *s = drv_inf_find_section(&inf, inf.sections[i].name);
        for (size_t e = 0; s != NULL && e < s->count; e++) {
            const drv_inf_entry *en = &s->entries[e];
            if (en->key != NULL)
                (void)drv_inf_key(s, en->key);
            for (size_t v = 0; v <= en->value_count; v++)
                (void)drv_inf_field(en, v);
        }
    }
    drv_inf_free(&inf);
    return 0;
}
