/*
 * worker: the ticker's neighbour. It never idles and never enables virtual
 * interrupts: it computes in its own window and reports every 10 virtual
 * seconds, read from get_time. Its windows are the time the ticker's ticks
 * fall while the ticker is not running. How much work fits in 10 seconds
 * depends on the architecture's instructions, so it is not printed: the
 * console is the same on x86 and ARM.
 */
#include "partition.h"

#define REPORT_NS 10000000000ull /* 10 virtual seconds */
#define END_REPORTS 3u
#define ROUND 100000u /* steps of work between two readings of the time */

static volatile uint32_t sink; /* where the work goes, so that it is done */

int main(void)
{
    pv_system_time_t now = 0;
    uint64_t next_report = REPORT_NS;
    uint32_t reports = 0u;
    uint32_t x = 1u;

    console_puts("*** BEGIN OF TEST worker ***\n");
    while (reports < END_REPORTS) {
        uint32_t step;

        for (step = 0u; step < ROUND; ++step) {
            x = x * 1103515245u + 12345u; /* some work */
        }
        sink = x;
        (void)pv_get_time(&now);
        if ((uint64_t)now >= next_report) {
            ++reports;
            console_printf("worker: %u virtual seconds of work\n", reports * 10u);
            next_report += REPORT_NS;
        }
    }
    console_puts("*** END OF TEST worker ***\n");
    return 0;
}
