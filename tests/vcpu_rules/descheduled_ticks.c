/* Ticks missed while descheduled are counted exactly: a 0.5 ms clock in a 1 ms
 * window of a 10 ms major frame. The ticks that fall in the other partition's
 * windows come at the start of the next one, all in one delivery; over five
 * frames clock_ticks() counts every period elapsed, no more, no fewer. */
#define XTF_NAME "descheduled_ticks"
#include "vcpu_rules.h"

#define PERIOD (500u * US)
#define FRAME (10u * MS)
#define FRAMES 5u

static int test(void)
{
    uint32_t started, now, elapsed, fallen;
    uint64_t counted;

    started = now_ns();
    CHECK(clock_start(PERIOD) == PV_OK, "clock_start failed");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    /* Spin through five frames, to half a period after the last whole one. */
    wait_until(started + FRAMES * FRAME + PERIOD / 2u);
    now = now_ns();
    counted = clock_ticks();
    fallen = ticks_fallen();
    elapsed = (now - started) / PERIOD;

    CHECK(elapsed == FRAMES * FRAME / PERIOD, "%u periods elapsed, not %u", elapsed,
          FRAMES * FRAME / PERIOD);
    CHECK(counted == elapsed, "clock_ticks() is %u after %u periods", (unsigned)counted,
          elapsed);
    CHECK(fallen == elapsed, "get_ticks says %u ticks fell in %u periods", fallen, elapsed);
    CHECK(pvrt_vcpu_area.ticks == elapsed, "the area counted %u ticks in %u periods",
          (unsigned)pvrt_vcpu_area.ticks, elapsed);
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
