/* The upcall fast path's workout (tests/test_fastpath.py): a timer every 40 us and a
 * computation in registers that every tick interrupts, with every way out of the steady
 * state mixed in, so that a run with the fast path and one without must agree on all of it:
 *
 * - a hypercall in the handler, before its acknowledge (every 7th tick);
 * - a hypercall after the acknowledge, before irq_return (every 5th);
 * - a handler running past the next tick (every 11th), which then stays pending;
 * - interrupts disabled across ticks, and the line masked across ticks (main loop);
 * - windows ending wherever the code is, handlers included.
 * The partition prints what it counted and computed. */
#include "partition.h"

#define PERIOD_NS 40000u
#define ROUNDS 150u

volatile uint32_t fc_handled; /* the handler's runs */
volatile uint32_t fc_ticks;   /* the ticks they accounted for */
volatile uint32_t fc_sink;
static pvrt_clock fc_clock;

static uint32_t compute(uint32_t x, uint32_t steps)
{
    for (uint32_t i = 0u; i < steps; i++) {
        x = x * 1664525u + 1013904223u;
        x ^= x >> 13;
    }
    return x;
}

static void fc_tick(uint32_t line, void *arg)
{
    uint32_t n = fc_handled + 1u;

    (void)line;
    fc_ticks = fc_ticks + pvrt_clock_elapsed(arg);
    fc_handled = n;
    if (n % 7u == 0u) {
        pv_system_time_t now;
        (void)pv_get_time(&now);
    }
    if (n % 11u == 0u) {
        fc_sink = compute(fc_sink, 1500u); /* longer than a period */
    }
}

static void fc_upcall(uint32_t line, pvrt_upcall_frame *frame)
{
    (void)frame;
    pvrt_irq_dispatch(line); /* fc_tick, then irq_ack */
    if (fc_handled % 5u == 0u) {
        pv_system_time_t now;
        (void)pv_get_time(&now);
    }
    pv_irq_return();
}

int main(void)
{
    uint32_t x = 12345u;

    if (pvrt_upcall_register(fc_upcall) != PV_OK ||
        pvrt_irq_attach(VIRTUAL_TIMER_LINE, fc_tick, &fc_clock) != PV_OK ||
        pvrt_clock_start(&fc_clock, PERIOD_NS) != PV_OK) {
        return 1;
    }
    (void)pv_irq_enable();
    for (uint32_t round = 1u; round <= ROUNDS; round++) {
        x = compute(x, 2000u);
        if (round % 13u == 0u) {
            uint32_t level = pv_irq_disable();
            x = compute(x, 3000u);
            (void)pv_irq_set_level(level != 0u);
        }
        if (round % 17u == 0u) {
            (void)pvrt_irq_disable(VIRTUAL_TIMER_LINE);
            x = compute(x, 3000u);
            (void)pvrt_irq_enable(VIRTUAL_TIMER_LINE);
        }
    }
    (void)pv_irq_disable();
    console_printf("handled %u, ticks %u, area %u, result %08x\n", (unsigned)fc_handled,
                   (unsigned)fc_ticks, (unsigned)pvrt_vcpu_area.ticks, (unsigned)x);
    return 0;
}
