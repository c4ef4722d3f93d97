/* POK's clock (GETTICK, get_time here: nanoseconds since 2019) in whole milliseconds, rounded: how long a
 * call took, for pokports' guests. POK's tick is about 9 us and the emulator's clock counts
 * instructions, so finer figures would differ between the two for no fault of either. */
#ifndef POKTICKS_H
#define POKTICKS_H

#include "partition.h"

static inline uint64_t now_ns(void)
{
    uint64_t now = 0u;
    (void)pv_get_time(&now);
    return now;
}

static inline unsigned ms_since(uint64_t before)
{
    uint32_t elapsed = (uint32_t)(now_ns() - before); /* < 4.29 s: 32-bit arithmetic */
    return (unsigned)((elapsed + 500000u) / 1000000u);
}

/* Poll the clock until `ms` after boot: the time passes in this partition's windows. */
static inline void run_until_ms(unsigned ms)
{
    while (now_ns() < (uint64_t)ms * 1000000u) {
    }
}

#define MS(n) ((pv_pok_timeout_t)((n) * 1000000u))

#endif
