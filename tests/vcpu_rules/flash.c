/* irq_flash lets a pending line in and leaves interrupts disabled: with
 * interrupts disabled and a tick pending, the flash delivers it inside the call,
 * and afterwards interrupts are still disabled. */
#define XTF_NAME "flash"
#include "vcpu_rules.h"

static int test(void)
{
    uint32_t set_at;

    CHECK(attach_timer() == PV_OK, "attaching the timer line failed");
    CHECK(pv_irq_get_level() == 0u, "interrupts are enabled at the start");
    set_at = now_ns();
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    wait_until(set_at + 1u * MS + 500u * US); /* a tick falls, disabled */
    CHECK(deliveries == 0u, "%u deliveries while disabled", deliveries);
    CHECK(pvrt_vcpu_area.pending == 1u, "the area's pending word is not set");

    stage = 1u;
    CHECK(pv_irq_flash() == PV_OK, "irq_flash failed");
    stage = 2u;
    (void)pv_timer_set_period(0);

    CHECK(deliveries == 1u, "%u deliveries in the flash, not 1", deliveries);
    CHECK(delivered_at_stage[0] == 1u, "delivered at stage %u, not in the flash",
          delivered_at_stage[0]);
    CHECK(pv_irq_get_level() == 0u && pvrt_vcpu_area.enabled == 0u,
          "interrupts are enabled after the flash");
    CHECK(pv_trap0(PV_HC_IRQ_GET_LEVEL) == 0u,
          "the hypervisor has interrupts enabled after the flash");
    CHECK(pvrt_vcpu_area.pending == 0u, "the pending word is still set");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
