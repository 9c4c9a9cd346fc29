#include "ostable.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "inf.h"
#include "port.h" /* drv_strdup, strtok_r */

/* Tokens and versions as observed in catalogs (reference 3.3); builds are the first release
 * of each version, which is what TargetOSVersion build decorations compare against. */
static const drv_os table[] = {
    {"2000", "x86", "2000", "5.00", 5, 0, 2195, 0},
    {"XP_X86", "x86", "XPX86", "5.1", 5, 1, 2600, 0},
    {"XP_X64", "amd64", "XPX64", "5.2", 5, 2, 3790, 0},
    {"Server2003_X86", "x86", "Server2003X86", "5.2", 5, 2, 3790, 1},
    {"Server2003_X64", "amd64", "Server2003X64", "5.2", 5, 2, 3790, 1},
    {"Server2003_IA64", "ia64", "Server2003IA64", "5.2", 5, 2, 3790, 1},
    {"Vista_X86", "x86", "VistaX86", "6.0", 6, 0, 6000, 0},
    {"Vista_X64", "amd64", "VistaX64", "6.0", 6, 0, 6000, 0},
    {"Server2008_X86", "x86", "Server2008X86", "6.0", 6, 0, 6001, 1},
    {"Server2008_X64", "amd64", "Server2008X64", "6.0", 6, 0, 6001, 1},
    {"Server2008_IA64", "ia64", "Server2008IA64", "6.0", 6, 0, 6001, 1},
    {"7_X86", "x86", "7X86", "6.1", 6, 1, 7600, 0},
    {"7_X64", "amd64", "7X64", "6.1", 6, 1, 7600, 0},
    {"Server2008R2_X64", "amd64", "Server2008R2X64", "6.1", 6, 1, 7600, 1},
    {"Server2008R2_IA64", "ia64", "Server2008R2IA64", "6.1", 6, 1, 7600, 1},
    {"8_X86", "x86", "8X86", "6.2", 6, 2, 9200, 0},
    {"8_X64", "amd64", "8X64", "6.2", 6, 2, 9200, 0},
    {"8_ARM", "arm", "8ARM", "6.2", 6, 2, 9200, 0},
    {"Server8_X64", "amd64", "Server2012X64", "6.2", 6, 2, 9200, 1},
    {"6_3_X86", "x86", "_v63", "6.3", 6, 3, 9600, 0},
    {"6_3_X64", "amd64", "_v63_X64", "6.3", 6, 3, 9600, 0},
    {"6_3_ARM", "arm", "_v63_ARM", "6.3", 6, 3, 9600, 0},
    {"Server6_3_X64", "amd64", "_v63_Server_X64", "6.3", 6, 3, 9600, 1},
    {"10_X86", "x86", "_v100", "10.0", 10, 0, 10240, 0},
    {"10_X64", "amd64", "_v100_X64", "10.0", 10, 0, 10240, 0},
    {"Server10_X64", "amd64", "Server_v100_X64", "10.0", 10, 0, 14393, 1},
    {"Server10_ARM64", "arm64", "Server_v100_ARM64", "10.0", 10, 0, 16299, 1},
    {"SERVER2016_X64", "amd64", "Server_v100_X64_RS1", "10.0", 10, 0, 14393, 1},
    {"10_AU_X86", "x86", "_v100_RS1", "10.0", 10, 0, 14393, 0},
    {"10_AU_X64", "amd64", "_v100_X64_RS1", "10.0", 10, 0, 14393, 0},
    {"10_RS2_X86", "x86", "_v100_RS2", "10.0", 10, 0, 15063, 0},
    {"10_RS2_X64", "amd64", "_v100_X64_RS2", "10.0", 10, 0, 15063, 0},
    {"10_RS3_X86", "x86", "_v100_RS3", "10.0", 10, 0, 16299, 0},
    {"10_RS3_X64", "amd64", "_v100_X64_RS3", "10.0", 10, 0, 16299, 0},
    {"10_RS3_ARM64", "arm64", "_v100_ARM64_RS3", "10.0", 10, 0, 16299, 0},
    {"10_RS4_X86", "x86", "_v100_RS4", "10.0", 10, 0, 17134, 0},
    {"10_RS4_X64", "amd64", "_v100_X64_RS4", "10.0", 10, 0, 17134, 0},
    {"10_RS4_ARM64", "arm64", "_v100_ARM64_RS4", "10.0", 10, 0, 17134, 0},
    {"10_RS5_X86", "x86", "_v100_RS5", "10.0", 10, 0, 17763, 0},
    {"10_RS5_X64", "amd64", "_v100_X64_RS5", "10.0", 10, 0, 17763, 0},
    {"10_RS5_ARM64", "arm64", "_v100_ARM64_RS5", "10.0", 10, 0, 17763, 0},
    {"ServerRS5_X64", "amd64", "Server_v100_X64_RS5", "10.0", 10, 0, 17763, 1},
    {"ServerRS5_ARM64", "arm64", "Server_v100_ARM64_RS5", "10.0", 10, 0, 17763, 1},
    {"10_19H1_X86", "x86", "_v100_19H1", "10.0", 10, 0, 18362, 0},
    {"10_19H1_X64", "amd64", "_v100_X64_19H1", "10.0", 10, 0, 18362, 0},
    {"10_19H1_ARM64", "arm64", "_v100_ARM64_19H1", "10.0", 10, 0, 18362, 0},
    {"10_VB_X86", "x86", "_v100_Vb", "10.0", 10, 0, 19041, 0},
    {"10_VB_X64", "amd64", "_v100_X64_Vb", "10.0", 10, 0, 19041, 0},
    {"10_VB_ARM64", "arm64", "_v100_ARM64_Vb", "10.0", 10, 0, 19041, 0},
    {"10_CO_X64", "amd64", "_v100_X64_21H2", "10.0", 10, 0, 22000, 0},
    {"10_CO_ARM64", "arm64", "_v100_ARM64_21H2", "10.0", 10, 0, 22000, 0},
    {"ServerFE_X64", "amd64", "Server_v100_X64_21H2", "10.0", 10, 0, 20348, 1},
    {"ServerFE_ARM64", "arm64", "Server_v100_ARM64_21H2", "10.0", 10, 0, 20348, 1},
    {"10_NI_X64", "amd64", "_v100_X64_22H2", "10.0", 10, 0, 22621, 0},
    {"10_NI_ARM64", "arm64", "_v100_ARM64_22H2", "10.0", 10, 0, 22621, 0},
    {"10_GE_X64", "amd64", "_v100_X64_24H2", "10.0", 10, 0, 26100, 0},
    {"10_GE_ARM64", "arm64", "_v100_ARM64_24H2", "10.0", 10, 0, 26100, 0},
    {"Server2025_X64", "amd64", "Server_v100_X64_24H2", "10.0", 10, 0, 26100, 1},
    {"Server2025_ARM64", "arm64", "Server_v100_ARM64_24H2", "10.0", 10, 0, 26100, 1},
    {"10_25H2_X64", "amd64", "_v100_X64_25H2", "10.0", 10, 0, 26200, 0},
    {"10_25H2_ARM64", "arm64", "_v100_ARM64_25H2", "10.0", 10, 0, 26200, 0},
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

const drv_os *drv_os_find(const char *id)
{
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (drv_strcasecmp(table[i].id, id) == 0)
            return &table[i];
    return NULL;
}

const drv_os *drv_os_table(size_t *count)
{
    *count = TABLE_SIZE;
    return table;
}

static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            size_t sub;
            if (ca >= 'a' && ca <= 'z')
                ca -= 32;
            if (cb >= 'a' && cb <= 'z')
                cb -= 32;
            sub = prev[j - 1] + (ca != cb);
            cur[j] = sub;
            if (prev[j] + 1 < cur[j])
                cur[j] = prev[j] + 1;
            if (cur[j - 1] + 1 < cur[j])
                cur[j] = cur[j - 1] + 1;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

size_t drv_os_suggest(const char *id, const char **out, size_t max)
{
    /* each id's distance, worked out once; ids whose length differs by more than 3 cannot be
     * within 3 edits, so a long or odd token costs a length comparison per id, not a table */
    unsigned char near[TABLE_SIZE];
    size_t n = 0, len = strlen(id);
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        size_t other = strlen(table[i].id);
        size_t d = (len > other ? len - other : other - len) > 3 ? 4 : distance(id, table[i].id);
        near[i] = (unsigned char)(d > 4 ? 4 : d);
    }
    for (unsigned d = 0; d <= 3 && n < max; d++)
        for (size_t i = 0; i < TABLE_SIZE && n < max; i++)
            if (near[i] == d)
                out[n++] = table[i].id;
    return n;
}

int drv_parse_os_list(const char *const *lists, size_t count, const drv_os ***os, size_t *n,
                      drvsign_diag *diag)
{
    const drv_os **out = NULL;
    size_t used = 0, cap = 0;
    int bad = 0;

    *os = NULL;
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        char *copy = drv_strdup(lists[i]), *save = NULL, *tok;
        if (copy == NULL)
            return -1;
        for (tok = strtok_r(copy, ",; ", &save); tok != NULL; tok = strtok_r(NULL, ",; ", &save)) {
            const drv_os *o = drv_os_find(tok);
            int dup = 0;
            if (o == NULL) {
                const char *near[3];
                size_t k = drv_os_suggest(tok, near, 3);
                if (k == 0)
                    drv_error(diag, NULL,
                              "unknown %s id '%s' (see the Inf2Cat /os table in the README)",
                              drv_param(diag, DRVSIGN_PARAM_OS_LISTS), tok);
                else
                    drv_error(diag, NULL, "unknown %s id '%s'; did you mean %s%s%s%s%s?",
                              drv_param(diag, DRVSIGN_PARAM_OS_LISTS), tok, near[0],
                              k > 1 ? ", " : "", k > 1 ? near[1] : "", k > 2 ? ", " : "",
                              k > 2 ? near[2] : "");
                bad = 1;
                continue;
            }
            for (size_t j = 0; j < used; j++)
                dup |= out[j] == o;
            if (dup)
                continue;
            {
                const drv_os **bigger = drv_grow(out, &cap, used, 1, sizeof *out);
                if (bigger == NULL) {
                    free(copy);
                    free(out);
                    return -1;
                }
                out = bigger;
                out[used++] = o;
            }
        }
        free(copy);
    }
    if (bad || used == 0) {
        if (!bad)
            drv_error(diag, NULL, "%s names no operating system",
                      drv_param(diag, DRVSIGN_PARAM_OS_LISTS));
        free(out);
        return -1;
    }
    *os = out;
    *n = used;
    return 0;
}
