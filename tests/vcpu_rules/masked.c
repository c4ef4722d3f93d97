/* A masked line stays pending: timer ticks fall while line 0 is masked and
 * virtual interrupts are enabled; nothing is delivered, every tick is counted,
 * and the area's pending word stays 0 (enabling would deliver nothing). */
#define XTF_NAME "masked"
#include "vcpu_rules.h"

static int test(void)
{
    if (masked_ticks_fall(3u) != 0) {
        return 1;
    }
    (void)pv_timer_set_period(0);

    CHECK(deliveries == 0u, "%u deliveries of a masked line", deliveries);
    CHECK(pvrt_vcpu_area.ticks == 3u, "the area counted %u ticks, not 3",
          (unsigned)pvrt_vcpu_area.ticks);
    CHECK(pvrt_vcpu_area.pending == 0u, "pending says enabling would deliver a masked line");
    CHECK(pv_irq_get_level() == 1u, "interrupts are no longer enabled");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
