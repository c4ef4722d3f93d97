/* A MODULE-level error whose action is RESET: every partition restarts, HM_MODULE_RESTART.
 *
 * First run (in the second window of frame 0, after its neighbour went NORMAL): NORMAL,
 * then RAISE_APPLICATION_ERROR, a MODULE-level error in this module. Second run: COLD_START,
 * HM_MODULE_RESTART, everything reloaded. */
#define XTF_NAME "resetter"
#include "mode_rules.h"

#define MESSAGE "module fault"

static int first_run(void)
{
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(1u);
    (void)pv_raise_application_error((const uint8_t *)MESSAGE, sizeof MESSAGE - 1u);
    FAIL("still running after an error the module resets for");
}

static int second_run(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_HM_MODULE_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after the module's reset");
    return 0;
}

int main(void)
{
    if (status_now().start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, first_run);
    }
    return xtf_run(XTF_NAME, second_run);
}
