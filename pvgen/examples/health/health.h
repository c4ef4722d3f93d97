/* What the two partitions of the health example share: the names of modes and start
 * conditions, and how a partition says how it started. */
#ifndef HEALTH_H
#define HEALTH_H

#include "partition.h"
#include "apex.h"

#define HEARTBEAT_SIZE 32u
#define REFRESH_NS 8000000u /* the ports' refresh period, as configured */

static const char *const MODE_NAMES[] = {"IDLE", "COLD_START", "WARM_START", "NORMAL"};
static const char *const CONDITION_NAMES[] = {"NORMAL_START", "PARTITION_RESTART",
                                              "HM_MODULE_RESTART", "HM_PARTITION_RESTART"};

/* Print how the partition started ("<name>: COLD_START after NORMAL_START"); its status. */
static inline PARTITION_STATUS_TYPE say_how_it_started(const char *name)
{
    PARTITION_STATUS_TYPE status;
    RETURN_CODE_TYPE code;

    GET_PARTITION_STATUS(&status, &code);
    if (code != NO_ERROR) {
        console_printf("%s: GET_PARTITION_STATUS failed: return code %u\n", name,
                       (unsigned)code);
        pvrt_exit(1);
    }
    console_printf("%s: %s after %s\n", name, MODE_NAMES[status.OPERATING_MODE],
                   CONDITION_NAMES[status.START_CONDITION]);
    return status;
}

/* Give the processor up until the partition's next window. */
static inline void next_window(void)
{
    (void)pv_idle();
}

#endif
