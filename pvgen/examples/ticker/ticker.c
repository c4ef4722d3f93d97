/*
 * ticker: RTEMS's samples/ticker on the paravirtual clock.
 *
 * Three activities, TA1, TA2 and TA3, wake every 5, 10 and 15 virtual
 * seconds and print the virtual time; the test ends after 35 virtual seconds.
 * Time here is what the virtual timer's ticks say: the partition starts its
 * clock at TICK_NS, enables virtual interrupts and idles between ticks. Ticks
 * that fall while the partition is outside its window are counted by the
 * hypervisor and accounted at the next delivery, so the times printed are
 * exact even though this partition runs only half of each major frame.
 */
#include "partition.h"

#define TICK_NS 10000000u /* 10 ms, RTEMS's default tick */
#define TICKS_PER_SECOND 100u
#define END_SECONDS 35u

struct activity {
    const char *name;
    uint32_t period;    /* ticks between wake-ups */
    uint32_t next_wake; /* the tick it wakes at next */
};

static struct activity activities[] = {
    {"TA1", 5u * TICKS_PER_SECOND, 0u},
    {"TA2", 10u * TICKS_PER_SECOND, 0u},
    {"TA3", 15u * TICKS_PER_SECOND, 0u},
};

#define ACTIVITY_COUNT (sizeof activities / sizeof activities[0])

static void print_time(const struct activity *a, uint32_t tick)
{
    uint32_t seconds = tick / TICKS_PER_SECOND;

    console_printf("%s  - virtual time %02u:%02u:%02u (tick %u)\n", a->name,
                   seconds / 3600u, seconds / 60u % 60u, seconds % 60u, tick);
}

int main(void)
{
    unsigned i;

    console_puts("\n\n*** BEGIN OF TEST CLOCK TICK ***\n");
    if (clock_start(TICK_NS) != PV_OK) {
        return 1;
    }
    (void)pv_irq_enable();
    for (;;) {
        uint32_t now = (uint32_t)clock_ticks();

        for (i = 0u; i < ACTIVITY_COUNT; ++i) {
            struct activity *a = &activities[i];

            if (now >= a->next_wake) {
                print_time(a, a->next_wake);
                a->next_wake += a->period;
            }
        }
        if (now >= END_SECONDS * TICKS_PER_SECOND) {
            break;
        }
        (void)pv_idle(); /* until the next tick */
    }
    console_puts("*** END OF TEST CLOCK TICK ***\n");
    return 0;
}
