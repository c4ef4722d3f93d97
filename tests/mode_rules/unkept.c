/* A warm start keeps only what the configuration says: this partition's keeps nothing.
 *
 * First run: NORMAL, `kept` = 1, WARM_START. Second run (PARTITION_RESTART, WARM_START):
 * all three variables as in the image, .warm included. */
#define XTF_NAME "unkept"
#include "mode_rules.h"

static int second_run(void)
{
    EXPECT_STATUS(WARM, PV_START_CONDITION_PARTITION_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after a warm start that keeps nothing");
    return 0;
}

int main(void)
{
    return two_runs(go_normal_then_warm, second_run);
}
