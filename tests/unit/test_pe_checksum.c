/*
 * The streaming CheckSum (positional word sums folded once at the end) must equal the
 * loader's algorithm from reference 4.2: fold after every 16-bit word, then add the length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"
#include "unit.h"

static uint32_t reference_checksum(const unsigned char *b, size_t n, size_t skip_off)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t w = b[i] | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0);
        if (i == skip_off || i == skip_off + 2)
            w = 0;
        sum += w;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    return sum + (uint32_t)n;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned char next_byte(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned char)rng;
}

int main(void)
{
    static unsigned char buf[1 << 16];
    for (int round = 0; round < 400; round++) {
        size_t n = 1 + (size_t)(round * 163) % sizeof buf;
        size_t skip = ((size_t)round * 37) % (n > 8 ? n - 4 : 1) & ~(size_t)1;
        uint64_t sum = 0;
        size_t split1, split2;
        for (size_t i = 0; i < n; i++)
            buf[i] = round % 7 == 0 ? 0xff : next_byte(); /* all-ones stresses the carries */
        /* Sum in three pieces cut at odd places, with the CheckSum field zeroed. */
        {
            unsigned char saved[4];
            size_t k = n >= skip + 4 ? 4 : n - skip;
            memcpy(saved, buf + skip, k);
            memset(buf + skip, 0, k);
            split1 = n / 3 | 1;
            split2 = split1 + (n - split1) / 2;
            if (split1 > n)
                split1 = n;
            if (split2 > n)
                split2 = n;
            sum = drv_pe_word_sum(buf, split1, 0) + drv_pe_word_sum(buf + split1, split2 - split1, split1) +
                  drv_pe_word_sum(buf + split2, n - split2, split2);
            memcpy(buf + skip, saved, k);
        }
        CHECK(drv_pe_fold_checksum(sum, n) == reference_checksum(buf, n, skip),
              "round %d (n=%zu): 0x%08x != 0x%08x", round, n, drv_pe_fold_checksum(sum, n),
              reference_checksum(buf, n, skip));
    }
    /* A known value: an all-zero image's checksum is its length. */
    memset(buf, 0, 4096);
    CHECK(drv_pe_fold_checksum(drv_pe_word_sum(buf, 4096, 0), 4096) == 4096, "zeros");
    return unit_finish();
}
