/* What the producer and the consumer agree on: how many rounds, the ports' message size
 * and refresh period, a check that ends the partition with the failing call, and their
 * RTEMS configuration (one Init task, the console and the clock driver). */
#ifndef RTEMS_PORTS_H
#define RTEMS_PORTS_H

#include <stdio.h>
#include <stdlib.h>

#include <rtems.h>

#include <apex.h>

#define ROUNDS 5
#define MESSAGE_BYTES 16
#define REFRESH_NS 100000000 /* a reading is valid for 100 ms */

static inline void check(const char *what, RETURN_CODE_TYPE code)
{
    if (code != NO_ERROR) {
        printf("%s failed: return code %d\n", what, (int)code);
        exit(1);
    }
}

rtems_task Init(rtems_task_argument ignored);

#define CONFIGURE_APPLICATION_NEEDS_SIMPLE_CONSOLE_DRIVER
#define CONFIGURE_APPLICATION_NEEDS_CLOCK_DRIVER
#define CONFIGURE_MAXIMUM_TASKS 1
#define CONFIGURE_RTEMS_INIT_TASKS_TABLE
#define CONFIGURE_INIT
#include <rtems/confdefs.h>

#endif
