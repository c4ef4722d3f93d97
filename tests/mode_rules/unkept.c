/* A warm start keeps only what the configuration says: this partition's keeps nothing.
 *
 * First run: NORMAL, `kept` = 1, WARM_START. Second run (PARTITION_RESTART, WARM_START):
 * all three variables as in the image, .warm included. */
#define XTF_NAME "unkept"
#include "mode_rules.h"

static int first_run(void)
{
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(1u);
    RESTART(WARM, "NORMAL -> WARM_START");
}

static int second_run(void)
{
    EXPECT_STATUS(WARM, PV_START_CONDITION_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after a warm start that keeps nothing");
    return 0;
}

int main(void)
{
    if (status_now().start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, first_run);
    }
    return xtf_run(XTF_NAME, second_run);
}
