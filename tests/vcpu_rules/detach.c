/* Detaching stops delivery: after irq_detach the timer's ticks keep falling
 * (get_ticks counts them) but none is raised or delivered. */
#define XTF_NAME "detach"
#include "vcpu_rules.h"

static int test(void)
{
    uint32_t set_at, fallen;

    CHECK(attach_timer() == PV_OK, "attaching the timer line failed");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    set_at = now_ns();
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    while (deliveries == 0u && now_ns() < set_at + 2u * MS) {
    }
    CHECK(deliveries == 1u, "%u deliveries of the first tick, not 1", deliveries);

    CHECK(pv_irq_detach(VIRTUAL_TIMER_LINE) == PV_OK, "irq_detach failed");
    wait_until(set_at + 4u * MS + 500u * US); /* three more ticks fall */
    fallen = ticks_fallen();
    (void)pv_timer_set_period(0);

    CHECK(fallen == 4u, "get_ticks says %u ticks fell, not 4", fallen);
    CHECK(deliveries == 1u, "%u deliveries: the detached line was delivered", deliveries);
    CHECK(pvrt_vcpu_area.ticks == 1u, "the area counted %u ticks: detached ones were raised",
          (unsigned)pvrt_vcpu_area.ticks);
    CHECK(pvrt_vcpu_area.pending == 0u, "the pending word is set for a detached line");
    CHECK(pv_irq_detach(VIRTUAL_TIMER_LINE) == PV_NO_ACTION,
          "detaching again is not NO_ACTION");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
