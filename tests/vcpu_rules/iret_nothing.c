/* IRET with nothing to return to is an HM error: irq_return from main, outside
 * any upcall. The health monitor logs ILLEGAL_REQUEST for the partition, and with
 * the partition's action IDLE the program never goes on: no verdict, no END
 * banner (the verdict is the test's, read from the HM log). The call is the raw
 * trap, not pv_irq_return, which the compiler knows never returns: if it came
 * back, the program would say so. */
#include "partition.h"

int main(void)
{
    console_puts("*** BEGIN OF TEST iret_nothing ***\n");
    (void)pv_trap0(PV_HC_IRQ_RETURN);
    console_puts("Test result: FAILURE: irq_return with no upcall returned\n");
    console_puts("*** END OF TEST iret_nothing ***\n");
    return 0;
}
