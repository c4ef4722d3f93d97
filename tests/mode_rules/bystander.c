/* A module RESET restarts every partition, this one too, with HM_MODULE_RESTART.
 *
 * First run: NORMAL, then it sleeps window after window until the reset (its neighbour's
 * application error is a MODULE-level error whose action is RESET). Second run: COLD_START,
 * HM_MODULE_RESTART, everything reloaded (a reset is a cold start of the module). */
#define XTF_NAME "bystander"
#include "mode_rules.h"

static int first_run(void)
{
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(1u);
    for (;;) {
        next_window();
    }
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
