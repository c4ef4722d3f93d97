/*
 * consumer: an RTEMS application that polls its ARINC 653 ports (apex.h) every 10 ms of
 * RTEMS's clock: it prints each new reading of the sampling port and each command of
 * the queuing port, until it has the producer's five commands. It polls (a zero
 * timeout) so that its own RTEMS tasks, not the hypervisor, decide when it waits.
 */
#include <rtems.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apex.h>

#include "rtems_ports.h"

rtems_task Init(rtems_task_argument ignored)
{
    SAMPLING_PORT_ID_TYPE reading_port;
    QUEUING_PORT_ID_TYPE command_port;
    RETURN_CODE_TYPE code;
    char last[MESSAGE_BYTES + 1] = "";
    int commands = 0;

    (void)ignored;
    printf("\n*** BEGIN OF TEST CONSUMER ***\n");
    CREATE_SAMPLING_PORT("reading_in", MESSAGE_BYTES, DESTINATION, REFRESH_NS, &reading_port,
                         &code);
    check("CREATE_SAMPLING_PORT", code);
    CREATE_QUEUING_PORT("command_in", MESSAGE_BYTES, 4, DESTINATION, FIFO, &command_port,
                        &code);
    check("CREATE_QUEUING_PORT", code);
    SET_PARTITION_MODE(NORMAL, &code);
    check("SET_PARTITION_MODE", code);
    while (commands < ROUNDS) {
        char message[MESSAGE_BYTES + 1];
        MESSAGE_SIZE_TYPE length;
        VALIDITY_TYPE validity;

        READ_SAMPLING_MESSAGE(reading_port, (MESSAGE_ADDR_TYPE)message, &length, &validity,
                              &code);
        if (code == NO_ERROR) {
            message[length] = '\0';
            if (strcmp(message, last) != 0) {
                printf("consumer: read \"%s\"\n", message);
                strcpy(last, message);
            }
        }
        RECEIVE_QUEUING_MESSAGE(command_port, 0, (MESSAGE_ADDR_TYPE)message, &length, &code);
        if (code == NO_ERROR) {
            message[length] = '\0';
            printf("consumer: received \"%s\"\n", message);
            commands++;
        }
        (void)rtems_task_wake_after(rtems_clock_get_ticks_per_second() / 100);
    }
    printf("*** END OF TEST CONSUMER ***\n");
    exit(0);
}
