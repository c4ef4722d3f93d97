/* POK's tick count (GETTICK, 1 ms), in 32 bits: how long a call took, for pokports' guests. */
#ifndef POKTICKS_H
#define POKTICKS_H

#include "partition.h"

static inline uint32_t ticks(void)
{
    uint64_t now = 0u;
    (void)pv_get_ticks(&now);
    return (uint32_t)now;
}

#endif
