/* Disable, then enable, delivers: ticks fall while virtual interrupts are
 * disabled and nothing is delivered; enabling delivers the line at once. All on
 * the fast path: disabling never traps, enabling traps only because the area's
 * pending word was set (the test counts the traps in the trace). */
#define XTF_NAME "disable_enable"
#include "vcpu_rules.h"

static int test(void)
{
    uint32_t set_at, previous;

    CHECK(attach_timer() == PV_OK, "attaching the timer line failed");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed"); /* nothing pending: no trap */
    previous = pv_irq_disable();
    CHECK(previous == 1u, "irq_disable returned %u, not the enabled level", previous);
    set_at = now_ns();
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    wait_until(set_at + 2u * MS + 500u * US); /* two ticks fall, disabled */
    CHECK(deliveries == 0u, "%u deliveries while disabled", deliveries);
    CHECK(pvrt_vcpu_area.pending == 1u, "the area's pending word is not set");
    CHECK(pvrt_vcpu_area.ticks == 2u, "the area counted %u ticks, not 2",
          (unsigned)pvrt_vcpu_area.ticks);

    stage = 1u;
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    stage = 2u;
    (void)pv_timer_set_period(0);

    CHECK(deliveries == 1u, "%u deliveries after enabling, not 1 (the ticks coalesce)",
          deliveries);
    CHECK(delivered_at_stage[0] == 1u, "delivered at stage %u, not in the enable",
          delivered_at_stage[0]);
    CHECK(pvrt_vcpu_area.pending == 0u, "the pending word is still set");
    CHECK(pv_irq_get_level() == 1u, "interrupts are not enabled after the delivery");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
