/*
 * What the vCPU rule programs share (tests/test_vcpu_rules.py). Each checks one rule
 * of the virtual CPU as a Xen Test Framework test (tests/harness/xtf.h).
 *
 * The only line source is the virtual timer, line 0. Virtual time passes as the
 * program spins on get_time (each call costs 1 us of it); a handler attached
 * with pvrt_irq_attach runs inside the upcall, and records its deliveries here.
 */
#ifndef VCPU_RULES_H
#define VCPU_RULES_H

#include "xtf.h"

#define US 1000u

/* Virtual time in ns; 32 bits are plenty, the programs end within a second. */
static inline uint32_t now_ns(void)
{
    pv_system_time_t now;

    (void)pv_get_time(&now);
    return (uint32_t)now;
}

/* Let virtual time pass, spinning: a few microseconds of instructions between reads of
 * the clock (each read is a hypercall, which costs the emulator more than instructions). */
static inline void wait_until(uint32_t ns)
{
    while (now_ns() < ns) {
        for (volatile unsigned i = 0; i < 100u; i++) {
        }
    }
}

/* The ticks of the partition's timer fallen by now (get_ticks), raised or not. */
static inline uint32_t ticks_fallen(void)
{
    uint64_t ticks;

    (void)pv_get_ticks(&ticks);
    return (uint32_t)ticks;
}

/* Where main is: a handler records it, to show which statement a delivery came in. */
static volatile unsigned stage;

/* What record_delivery saw: how many deliveries, and for the first ones the line and
 * the stage main was at. */
#define RECORDED 4u
static volatile unsigned deliveries;
static volatile unsigned delivered_line[RECORDED];
static volatile unsigned delivered_at_stage[RECORDED];

static inline void record_delivery(uint32_t line, void *arg)
{
    unsigned n = deliveries;

    (void)arg;
    if (n < RECORDED) {
        delivered_line[n] = line;
        delivered_at_stage[n] = stage;
    }
    deliveries = n + 1u;
}

/* Route the timer's line to record_delivery (irq_request, irq_unmask). */
static inline pv_status_t attach_timer(void)
{
    return pvrt_irq_attach(VIRTUAL_TIMER_LINE, record_delivery, 0);
}

/* Line 0 attached and masked, interrupts enabled, a 1 ms timer started, and the time
 * waited until `ticks` ticks have fallen (plus half a period): what the masking rules start
 * from. FAILs (returning 1) if a call refuses. */
static inline int masked_ticks_fall(uint32_t ticks)
{
    uint32_t set_at;

    CHECK(attach_timer() == PV_OK, "attaching the timer line failed");
    CHECK(pv_irq_mask(VIRTUAL_TIMER_LINE) == PV_OK, "irq_mask failed");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    set_at = now_ns();
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    wait_until(set_at + ticks * MS + 500u * US);
    return 0;
}

#endif /* VCPU_RULES_H */
