/* The health monitor's COLD_START: the start condition is HM_PARTITION_RESTART.
 *
 * First run: NORMAL, then RAISE_APPLICATION_ERROR, which this partition's HM table answers
 * with COLD_START (the call does not return). Second run: COLD_START, HM_PARTITION_RESTART,
 * everything reloaded. */
#define XTF_NAME "hm_cold"
#include "mode_rules.h"

#define MESSAGE "sensor value out of range"

static int first_run(void)
{
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(1u);
    (void)pv_raise_application_error((const uint8_t *)MESSAGE, sizeof MESSAGE - 1u);
    FAIL("still running after an application error the HM restarts");
}

static int second_run(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_HM_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after the HM's cold start");
    return 0;
}

int main(void)
{
    if (status_now().start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, first_run);
    }
    return xtf_run(XTF_NAME, second_run);
}
