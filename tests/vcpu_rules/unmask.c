/* Unmasking delivers: a tick falls while line 0 is masked; irq_unmask delivers
 * it at once, before the call returns to the statement after it. */
#define XTF_NAME "unmask"
#include "vcpu_rules.h"

static int test(void)
{
    if (masked_ticks_fall(1u) != 0) {
        return 1;
    }
    CHECK(deliveries == 0u, "%u deliveries while masked", deliveries);
    CHECK(pvrt_vcpu_area.ticks == 1u, "the area counted %u ticks, not 1",
          (unsigned)pvrt_vcpu_area.ticks);

    stage = 1u;
    CHECK(pv_irq_unmask(VIRTUAL_TIMER_LINE) == PV_OK, "irq_unmask failed");
    stage = 2u;
    (void)pv_timer_set_period(0);

    CHECK(deliveries == 1u, "%u deliveries after the unmask, not 1", deliveries);
    CHECK(delivered_line[0] == VIRTUAL_TIMER_LINE, "line %u delivered", delivered_line[0]);
    CHECK(delivered_at_stage[0] == 1u, "delivered at stage %u, not in the unmask call",
          delivered_at_stage[0]);
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
