/* Nested enable/disable levels restore correctly: disable, disable again, then
 * restore the inner level (still disabled: nothing delivered), then the outer one
 * (enabled: the pending tick is delivered in that call). get_level agrees with the
 * hypervisor's view at every step. */
#define XTF_NAME "nested_levels"
#include "vcpu_rules.h"

/* The level as the hypervisor sees it: the raw hypercall, not the fast path. */
static uint32_t hypervisor_level(void)
{
    return pv_trap0(PV_HC_IRQ_GET_LEVEL);
}

#define LEVEL_IS(expected, step)                                                   \
    do {                                                                           \
        uint32_t level = pv_irq_get_level(), seen = hypervisor_level();            \
        CHECK(level == (expected) && seen == (expected),                           \
              "after %s get_level is %u and the hypervisor's level %u, not %u",    \
              step, level, seen, (unsigned)(expected));                            \
    } while (0)

static int test(void)
{
    uint32_t set_at, outer, inner;

    CHECK(attach_timer() == PV_OK, "attaching the timer line failed");
    LEVEL_IS(0u, "the start");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    LEVEL_IS(1u, "irq_enable");

    outer = pv_irq_disable();
    LEVEL_IS(0u, "the outer irq_disable");
    inner = pv_irq_disable();
    LEVEL_IS(0u, "the inner irq_disable");
    CHECK(outer == 1u && inner == 0u, "irq_disable returned %u then %u, not 1 then 0",
          outer, inner);

    set_at = now_ns();
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    wait_until(set_at + 1u * MS + 500u * US); /* a tick falls, disabled */
    CHECK(deliveries == 0u, "%u deliveries while disabled", deliveries);

    stage = 1u;
    CHECK(pv_irq_set_level(inner != 0u) == PV_OK, "restoring the inner level failed");
    stage = 2u;
    CHECK(deliveries == 0u, "restoring the inner level delivered");
    LEVEL_IS(0u, "restoring the inner level");

    stage = 3u;
    CHECK(pv_irq_set_level(outer != 0u) == PV_OK, "restoring the outer level failed");
    stage = 4u;
    (void)pv_timer_set_period(0);
    CHECK(deliveries == 1u, "%u deliveries after restoring the outer level, not 1",
          deliveries);
    CHECK(delivered_at_stage[0] == 3u, "delivered at stage %u, not in the outer restore",
          delivered_at_stage[0]);
    LEVEL_IS(1u, "restoring the outer level");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
