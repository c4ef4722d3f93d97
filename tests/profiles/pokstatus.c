/*
 * pokstatus: reads its ARINC 653 partition status field by field, with the real POK
 * kernel's system calls 405..410 that examples/hypervisors/pok_x86.def declares
 * (tests/test_pok_profile.py), and prints it.
 */
#include "partition.h"

static const char *mode_name(pv_partition_mode_t mode)
{
    switch (mode) {
    case PV_PARTITION_MODE_COLD_START:
        return "COLD_START";
    case PV_PARTITION_MODE_WARM_START:
        return "WARM_START";
    case PV_PARTITION_MODE_NORMAL:
        return "NORMAL";
    default:
        return "?";
    }
}

int main(void)
{
    uint8_t id = 0u;
    pv_pok_time_t period = 0, duration = 0;
    uint32_t lock_level = 99u;
    pv_partition_mode_t mode = 0u;
    pv_start_condition_t condition = 99u;

    if (pv_partition_get_id(&id) != PV_OK || pv_partition_get_period(&period) != PV_OK ||
        pv_partition_get_duration(&duration) != PV_OK ||
        pv_partition_get_lock_level(&lock_level) != PV_OK ||
        pv_partition_get_operating_mode(&mode) != PV_OK ||
        pv_partition_get_start_condition(&condition) != PV_OK) {
        console_puts("a getter failed\n");
        return 1;
    }
    console_printf("id %u, period %u ns, duration %u ns, lock level %u\n", (unsigned)id,
                   (unsigned)period, (unsigned)duration, (unsigned)lock_level);
    console_printf("mode %u (%s), start condition %u (%s)\n", (unsigned)mode, mode_name(mode),
                   (unsigned)condition,
                   condition == PV_START_CONDITION_NORMAL_START ? "NORMAL_START" : "?");
    console_puts("done\n");
    return 0;
}
