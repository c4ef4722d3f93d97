/* What a guest may do to the upcall fast path that a well-behaved one never does
 * (tests/test_fastpath.py): the test writes `fh_mode` (and `fh_offset`) before the run, and
 * the runs with and without the fast path must still end alike.
 *
 *   1  the vCPU area shared inside the stack, `fh_offset` bytes below main's frame, where
 *      upcall frames and the handler's stack land on it
 *   2  the hypervisor's `pending` word scribbled on, then disable/enable pairs
 *   3  the handler edits the saved context (a callee-saved register)
 *   4  the timer re-phased from the handler and from main
 *   5  the area shared again, alternately at two addresses
 *   6  a cold restart asked for from inside the handler, mid-cycle
 *   7  idle now and then
 *   8  the line acknowledged twice */
#include "partition.h"

/* Written before the run, so in .data: the runtime's start clears .bss. */
__attribute__((section(".data"))) volatile uint32_t fh_mode = 0u;
volatile uint32_t fh_offset = 64u;
volatile uint32_t fh_handled;
volatile uint32_t fh_edits;
static volatile uint32_t fh_areas[2][3] __attribute__((aligned(4)));

static void fh_upcall(uint32_t line, pvrt_upcall_frame *frame)
{
    uint32_t n = fh_handled + 1u;

    fh_handled = n;
    if (fh_mode == 3u) {
#if defined(__i386__)
        frame->ebx ^= n;
#else
        frame->r4 ^= n;
#endif
        fh_edits ^= n;
    }
    if (fh_mode == 4u && n % 9u == 0u) {
        (void)pv_timer_set_period(30000u + (n % 4u) * 7000u);
    }
    if (fh_mode == 6u && n == 60u) {
        (void)pv_partition_set_mode(PV_PARTITION_MODE_COLD_START);
    }
    (void)pv_irq_ack((pv_irq_line_t)line);
    if (fh_mode == 8u && n % 4u == 0u) {
        (void)pv_irq_ack((pv_irq_line_t)line);
    }
    pv_irq_return();
}

int main(void)
{
    uint32_t x = 12345u, below = 0u;
    volatile pv_vcpu_area_t *area = (volatile pv_vcpu_area_t *)&fh_areas[0][0];

    if (fh_mode == 1u) {
        area = (volatile pv_vcpu_area_t *)(((uintptr_t)&below - fh_offset) & ~(uintptr_t)3u);
    }
    if (pv_vcpu_register((uint32_t)(uintptr_t)fh_upcall) != PV_OK ||
        pv_irq_request(VIRTUAL_TIMER_LINE) != PV_OK ||
        pv_irq_unmask(VIRTUAL_TIMER_LINE) != PV_OK ||
        pv_vcpu_share((pv_vcpu_area_t *)area) != PV_OK || pv_timer_set_period(40000u) != PV_OK) {
        return 1;
    }
    (void)pv_irq_enable();
    if (fh_mode == 2u) {
        area->pending = 1u;
    }
    for (uint32_t round = 1u; round <= 3000u; round++) {
        for (uint32_t i = 0u; i < 100u; i++) {
            x = x * 1664525u + 1013904223u;
            x ^= x >> 13;
        }
        if (fh_mode == 2u && round % 10u == 0u) {
            uint32_t level = pv_irq_disable();
            (void)pv_irq_set_level(level != 0u);
        }
        if (fh_mode == 4u && round % 37u == 0u) {
            (void)pv_timer_set_period(41000u + round);
        }
        if (fh_mode == 5u && round % 23u == 0u) {
            (void)pv_vcpu_share((pv_vcpu_area_t *)&fh_areas[(round / 23u) & 1u][0]);
        }
        if (fh_mode == 7u && round % 29u == 0u) {
            (void)pv_idle();
        }
    }
    (void)pv_irq_disable();
    console_printf("handled %u, result %08x, below %u, edits %u\n", (unsigned)fh_handled,
                   (unsigned)x, (unsigned)below, (unsigned)fh_edits);
    return 0;
}
