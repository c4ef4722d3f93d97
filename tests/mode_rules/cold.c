/* COLD_START -> WARM_START is refused; COLD_START -> COLD_START reloads everything.
 *
 * First run (NORMAL_START): WARM_START is INVALID_MODE and changes nothing; the partition
 * writes its three variables and asks for COLD_START. Second run (PARTITION_RESTART, mode
 * COLD_START): .data and .warm hold their initial values, .bss is clear, though the
 * configuration keeps .warm across a warm start: a cold start keeps nothing. */
#define XTF_NAME "cold"
#include "mode_rules.h"

static int first_run(void)
{
    EXPECT(pv_partition_set_mode(WARM), PV_INVALID_MODE, "COLD_START -> WARM_START");
    EXPECT_STATUS(COLD, PV_START_CONDITION_NORMAL_START);
    scribble(33u);
    RESTART(COLD, "COLD_START -> COLD_START");
}

static int second_run(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after a cold start");
    return 0;
}

int main(void)
{
    return two_runs(first_run, second_run);
}
