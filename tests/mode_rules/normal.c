/* COLD_START -> NORMAL -> IDLE, the status, and GET_TIME.
 *
 * At its first start the partition reads COLD_START and NORMAL_START, its identifier, and
 * its period and duration (the 35 ms major frame, its one 5 ms window). Going NORMAL is OK;
 * NORMAL again is NO_ACTION; a mode that does not exist is refused (INVALID_PARAM, by the
 * generated check: an ILLEGAL_REQUEST the health monitor ignores). GET_TIME reads virtual
 * nanoseconds inside its window, never going back, and in the next frame's window after
 * an idle. The verdict printed, it sets IDLE: it never runs again. */
#define XTF_NAME "normal"
#include "mode_rules.h"

#define IDENTIFIER 1u
#define FRAME_NS (7u * WINDOW_NS) /* seven partitions, one window each */

static int test(void)
{
    pv_partition_status_t status = status_now();
    pv_system_time_t first = 0u, later = 0u, next = 0u;

    EXPECT_STATUS(COLD, PV_START_CONDITION_NORMAL_START);
    CHECK(status.identifier == IDENTIFIER && status.period == FRAME_NS &&
          status.duration == WINDOW_NS && status.lock_level == 0u,
          "identifier %u period %u duration %u lock %u", (unsigned)status.identifier,
          (unsigned)status.period, (unsigned)status.duration, (unsigned)status.lock_level);
    EXPECT(pv_get_time(&first), PV_OK, "GET_TIME");
    CHECK(first < WINDOW_NS, "GET_TIME %u outside the first window", (unsigned)first);
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    EXPECT_STATUS(PV_PARTITION_MODE_NORMAL, PV_START_CONDITION_NORMAL_START);
    EXPECT(set_normal(), PV_NO_ACTION, "NORMAL -> NORMAL");
    EXPECT(pv_partition_set_mode((pv_partition_mode_t)7u), PV_INVALID_PARAM, "mode 7");
    EXPECT_STATUS(PV_PARTITION_MODE_NORMAL, PV_START_CONDITION_NORMAL_START);
    EXPECT(pv_get_time(&later), PV_OK, "GET_TIME again");
    CHECK(later > first, "GET_TIME went from %u to %u", (unsigned)first, (unsigned)later);
    next_window();
    EXPECT(pv_get_time(&next), PV_OK, "GET_TIME in the next window");
    CHECK(next >= FRAME_NS && next < FRAME_NS + WINDOW_NS,
          "GET_TIME %u outside the second frame's window", (unsigned)next);
    return 0;
}

int main(void)
{
    (void)xtf_run(XTF_NAME, test);
    (void)pv_partition_set_mode(PV_PARTITION_MODE_IDLE);
    console_puts("still running after IDLE\n");
    return 0;
}
