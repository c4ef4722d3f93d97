/* The health monitor's IDLE: the partition never runs again.
 *
 * It prints its verdict, then raises an application error that its HM table answers with
 * IDLE; nothing after that call may appear (the test checks the console and the mode). */
#define XTF_NAME "hm_idle"
#include "mode_rules.h"

#define MESSAGE "giving up"

static int test(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_NORMAL_START);
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    return 0;
}

int main(void)
{
    (void)xtf_run(XTF_NAME, test);
    (void)pv_raise_application_error((const uint8_t *)MESSAGE, sizeof MESSAGE - 1u);
    console_puts("still running after the HM's IDLE\n");
    for (;;) {
        next_window();
    }
}
