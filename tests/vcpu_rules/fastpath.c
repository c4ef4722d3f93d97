/* The fast path makes no trap: 1000 irq_disable/irq_enable pairs with nothing
 * pending, once as raw hypercalls, once through the stubs with the vCPU area put
 * aside (as before vcpu_share: they trap), once through the stubs with the area
 * the runtime shared at start (they must not trap). get_time calls mark the
 * phases, so the test counts the hypercalls between them in the trace. */
#define XTF_NAME "fastpath"
#include "vcpu_rules.h"

#define PAIRS 1000u

static int test(void)
{
    pv_vcpu_area_t *const area = pv_fastpath_area;
    uint32_t marks[4];

    CHECK(area == (pv_vcpu_area_t *)(uintptr_t)&pvrt_vcpu_area,
          "the runtime did not share its vCPU area");
    marks[0] = now_ns();
    for (unsigned i = 0; i < PAIRS; i++) {
        (void)pv_trap0(PV_HC_IRQ_DISABLE);
        (void)pv_trap0(PV_HC_IRQ_ENABLE);
    }
    marks[1] = now_ns();
    pv_fastpath_area = 0; /* the stubs as they are before vcpu_share */
    for (unsigned i = 0; i < PAIRS; i++) {
        (void)pv_irq_disable();
        (void)pv_irq_enable();
    }
    pv_fastpath_area = area;
    marks[2] = now_ns();
    for (unsigned i = 0; i < PAIRS; i++) {
        (void)pv_irq_disable();
        (void)pv_irq_enable();
    }
    marks[3] = now_ns();

    /* Each hypercall costs 1 us of virtual time: 2 ms for the trapping loops. */
    CHECK(marks[1] - marks[0] >= 2u * PAIRS * US, "the raw loop took %u ns",
          (unsigned)(marks[1] - marks[0]));
    CHECK(marks[2] - marks[1] >= 2u * PAIRS * US, "the unshared loop took %u ns",
          (unsigned)(marks[2] - marks[1]));
    CHECK(marks[3] - marks[2] < PAIRS * US, "the fast-path loop took %u ns: it trapped",
          (unsigned)(marks[3] - marks[2]));
    CHECK(pvrt_vcpu_area.enabled == 1u && pv_trap0(PV_HC_IRQ_GET_LEVEL) == 1u,
          "the loops did not end enabled");
    (void)pv_irq_disable();
    CHECK(pv_trap0(PV_HC_IRQ_GET_LEVEL) == 0u,
          "the hypervisor does not see a fast-path disable");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
