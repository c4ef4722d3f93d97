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

int main(void)
{
    return two_runs(first_run, check_module_reset);
}
