/* A line raised while its handler runs is delivered after IRET: the first tick's
 * handler spins past the second tick, which stays pending (interrupts disabled,
 * line in service); it is delivered once, right after the first irq_return, as a
 * new upcall and not nested in the first. */
#define XTF_NAME "raised_in_handler"
#include "vcpu_rules.h"

static volatile unsigned calls, nested, active;
static volatile uint32_t entered[2], left[2];

static void slow_handler(uint32_t line, void *arg)
{
    unsigned n = calls;

    (void)line;
    (void)arg;
    nested += active;
    active = 1u;
    if (n < 2u) {
        entered[n] = now_ns();
    }
    if (n == 0u) {
        wait_until(entered[0] + 1200u * US); /* past the next tick */
    }
    if (n < 2u) {
        left[n] = now_ns();
    }
    calls = n + 1u;
    active = 0u; /* the runtime acknowledges the line, then irq_return */
}

static int test(void)
{
    uint32_t set_at;

    CHECK(pvrt_irq_attach(VIRTUAL_TIMER_LINE, slow_handler, 0) == PV_OK,
          "attaching the timer line failed");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    set_at = now_ns();
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    while (calls < 2u && now_ns() < set_at + 2u * MS + 800u * US) {
    }
    (void)pv_timer_set_period(0);

    CHECK(calls == 2u, "%u deliveries, not 2", calls);
    CHECK(nested == 0u, "the second delivery was nested in the first handler");
    CHECK(left[0] - set_at >= 2u * MS, "the first handler did not run past the second tick");
    CHECK(entered[1] >= left[0], "the second delivery came before the first handler ended");
    CHECK(entered[1] - left[0] < 50u * US, "the second delivery came %u ns after the first "
          "handler ended, not right after its irq_return", (unsigned)(entered[1] - left[0]));
    CHECK(pvrt_vcpu_area.ticks == 2u, "the area counted %u ticks, not 2",
          (unsigned)pvrt_vcpu_area.ticks);
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
