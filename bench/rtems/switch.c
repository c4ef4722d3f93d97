/*
 * The RTEMS costs bench/bench_rtems.py measures: YIELDS yields to another ready task of
 * the same priority, which yields back (two context switches and the scheduler each), and
 * PAIRS local interrupt disable/enable pairs; each 0 in a baseline build. It prints the
 * CPU counter's (virtual) nanoseconds each loop took.
 */
#include <rtems.h>
#include <rtems/counter.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef YIELDS
#define YIELDS 0
#endif
#ifndef PAIRS
#define PAIRS 0
#endif

static rtems_task other(rtems_task_argument ignored)
{
    (void)ignored;
    for (;;) {
        (void)rtems_task_wake_after(RTEMS_YIELD_PROCESSOR);
    }
}

static unsigned long long elapsed_ns(rtems_counter_ticks since)
{
    return (unsigned long long)rtems_counter_ticks_to_nanoseconds(
        rtems_counter_difference(rtems_counter_read(), since));
}

static rtems_task Init(rtems_task_argument ignored)
{
    rtems_id id;
    rtems_counter_ticks start;
    unsigned long long yields, pairs;

    (void)ignored;
    printf("\n*** BEGIN OF TEST SWITCH ***\n");
    if (rtems_task_create(rtems_build_name('O', 'T', 'H', 'R'), 1, RTEMS_MINIMUM_STACK_SIZE,
                          RTEMS_DEFAULT_MODES, RTEMS_DEFAULT_ATTRIBUTES, &id) != RTEMS_SUCCESSFUL ||
        rtems_task_start(id, other, 0) != RTEMS_SUCCESSFUL) {
        printf("cannot start the other task\n");
        exit(1);
    }
    start = rtems_counter_read();
    for (int i = 0; i < YIELDS; i++) {
        (void)rtems_task_wake_after(RTEMS_YIELD_PROCESSOR);
    }
    yields = elapsed_ns(start);
    start = rtems_counter_read();
    for (int i = 0; i < PAIRS; i++) {
        rtems_interrupt_level level;

        rtems_interrupt_local_disable(level);
        rtems_interrupt_local_enable(level);
    }
    pairs = elapsed_ns(start);
    printf("%d yields %llu ns, %d pairs %llu ns\n", YIELDS, yields, PAIRS, pairs);
    printf("*** END OF TEST SWITCH ***\n");
    exit(0);
}

#define CONFIGURE_APPLICATION_NEEDS_SIMPLE_CONSOLE_DRIVER
#define CONFIGURE_APPLICATION_NEEDS_CLOCK_DRIVER
#define CONFIGURE_MAXIMUM_TASKS 2
#define CONFIGURE_INIT_TASK_PRIORITY 1
#define CONFIGURE_RTEMS_INIT_TASKS_TABLE
#define CONFIGURE_INIT
#include <rtems/confdefs.h>
