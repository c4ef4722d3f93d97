/* A MODULE-level error whose action is RESET: every partition restarts, HM_MODULE_RESTART.
 *
 * First run (in the second window of frame 0, after its neighbour went NORMAL): NORMAL,
 * then RAISE_APPLICATION_ERROR, a MODULE-level error in this module. Second run: COLD_START,
 * HM_MODULE_RESTART, everything reloaded. */
#define XTF_NAME "resetter"
#include "mode_rules.h"

static int first_run(void)
{
    return go_normal_then_raise("module fault");
}

int main(void)
{
    return two_runs(first_run, check_module_reset);
}
