/* The health monitor's WARM_START, which keeps .warm, and cannot warm a cold start.
 *
 * Run 1 (NORMAL_START, still COLD_START): `kept` = 1, then a memory violation, which this
 * partition's HM table answers with WARM_START. A cold start cannot become a warm one, so
 * run 2 starts cold (COLD_START, HM_PARTITION_RESTART, .warm reloaded); it goes NORMAL,
 * sets `kept` = 2 and faults again. Run 3: WARM_START, HM_PARTITION_RESTART, .warm = 2. */
#define XTF_NAME "hm_warm"
#include "mode_rules.h"

static int first_run(void)
{
    scribble(1u);
    violate_memory();
    FAIL("still running after a memory violation");
}

static int second_run(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_HM_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after the HM's warm start of a cold start");
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(2u);
    violate_memory();
    FAIL("still running after a second memory violation");
}

static int last_run(void)
{
    EXPECT_STATUS(WARM, PV_START_CONDITION_HM_PARTITION_RESTART);
    EXPECT_MEMORY(2u, "after the HM's warm start from NORMAL");
    return 0;
}

int main(void)
{
    if (status_now().start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, first_run);
    }
    if (kept == 2u) {
        return xtf_run(XTF_NAME, last_run);
    }
    return xtf_step(XTF_NAME, second_run);
}
