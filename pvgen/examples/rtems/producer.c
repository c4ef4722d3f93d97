/*
 * producer: an RTEMS application that publishes a reading on an ARINC 653 sampling port
 * and sends a command on a queuing port, through the BSP's APEX layer (apex.h), every
 * 50 ms of RTEMS's own clock, five times. Its ports are created before the partition
 * goes NORMAL, as ARINC 653 asks.
 */
#include <rtems.h>
#include <stdio.h>
#include <stdlib.h>

#include <apex.h>

#include "rtems_ports.h"

rtems_task Init(rtems_task_argument ignored)
{
    SAMPLING_PORT_ID_TYPE reading_port;
    QUEUING_PORT_ID_TYPE command_port;
    RETURN_CODE_TYPE code;

    (void)ignored;
    printf("\n*** BEGIN OF TEST PRODUCER ***\n");
    CREATE_SAMPLING_PORT("reading_out", MESSAGE_BYTES, SOURCE, REFRESH_NS, &reading_port, &code);
    check("CREATE_SAMPLING_PORT", code);
    CREATE_QUEUING_PORT("command_out", MESSAGE_BYTES, 4, SOURCE, FIFO, &command_port, &code);
    check("CREATE_QUEUING_PORT", code);
    SET_PARTITION_MODE(NORMAL, &code);
    check("SET_PARTITION_MODE", code);
    for (int round = 1; round <= ROUNDS; round++) {
        char message[MESSAGE_BYTES];
        int length = snprintf(message, sizeof message, "reading %d", round * 7);

        WRITE_SAMPLING_MESSAGE(reading_port, (MESSAGE_ADDR_TYPE)message, length, &code);
        check("WRITE_SAMPLING_MESSAGE", code);
        length = snprintf(message, sizeof message, "command %d", round);
        SEND_QUEUING_MESSAGE(command_port, (MESSAGE_ADDR_TYPE)message, length, 0, &code);
        check("SEND_QUEUING_MESSAGE", code);
        printf("producer: sent \"%s\"\n", message);
        (void)rtems_task_wake_after(rtems_clock_get_ticks_per_second() / 20);
    }
    printf("*** END OF TEST PRODUCER ***\n");
    exit(0);
}
