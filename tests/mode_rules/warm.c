/* NORMAL -> WARM_START -> WARM_START -> COLD_START, with .warm kept by the configuration.
 *
 * Run 1 (NORMAL_START): NORMAL, `kept` = 1, then WARM_START.
 * Run 2 (PARTITION_RESTART, WARM_START): .warm still 1, .data and .bss as at boot; `kept` = 2
 *   and WARM_START again, straight from WARM_START.
 * Run 3 (WARM_START): .warm holds 2; COLD_START.
 * Run 4 (PARTITION_RESTART, COLD_START): .warm back to its initial value. */
#define XTF_NAME "warm"
#include "mode_rules.h"

static int second_run(void)
{
    EXPECT_STATUS(WARM, PV_START_CONDITION_PARTITION_RESTART);
    EXPECT_MEMORY(1u, "after a warm start from NORMAL");
    scribble(2u);
    RESTART(WARM, "WARM_START -> WARM_START");
}

static int third_run(void)
{
    EXPECT_STATUS(WARM, PV_START_CONDITION_PARTITION_RESTART);
    EXPECT_MEMORY(2u, "after a warm start from WARM_START");
    scribble(3u);
    RESTART(COLD, "WARM_START -> COLD_START");
}

static int last_run(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after a cold start from WARM_START");
    return 0;
}

int main(void)
{
    if (status_now().start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, go_normal_then_warm);
    }
    switch (kept) {
    case 1u: return xtf_step(XTF_NAME, second_run);
    case 2u: return xtf_step(XTF_NAME, third_run);
    default: return xtf_run(XTF_NAME, last_run);
    }
}
