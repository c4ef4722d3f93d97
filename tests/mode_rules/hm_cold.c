/* The health monitor's COLD_START: the start condition is HM_PARTITION_RESTART.
 *
 * First run: NORMAL, then RAISE_APPLICATION_ERROR, which this partition's HM table answers
 * with COLD_START (the call does not return). Second run: COLD_START, HM_PARTITION_RESTART,
 * everything reloaded. */
#define XTF_NAME "hm_cold"
#include "mode_rules.h"

static int first_run(void)
{
    return go_normal_then_raise("sensor value out of range");
}

static int second_run(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_HM_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after the HM's cold start");
    return 0;
}

int main(void)
{
    return two_runs(first_run, second_run);
}
