/* logger: drains the command queue each window and logs what it received. */
#include "ports.h"

int main(void)
{
    QUEUING_PORT_ID_TYPE port;
    RETURN_CODE_TYPE code;
    unsigned logged = 0u;

    console_puts("*** BEGIN OF TEST logger ***\n");
    CREATE_QUEUING_PORT("command_in", 32, 4, DESTINATION, FIFO, &port, &code);
    check("CREATE_QUEUING_PORT", code);
    SET_PARTITION_MODE(NORMAL, &code);
    check("SET_PARTITION_MODE", code);
    while (logged < ROUNDS) {
        char command[33];
        MESSAGE_SIZE_TYPE length;

        RECEIVE_QUEUING_MESSAGE(port, 0, (MESSAGE_ADDR_TYPE)command, &length, &code);
        if (code == NOT_AVAILABLE) {
            next_window(); /* drained */
            continue;
        }
        check("RECEIVE_QUEUING_MESSAGE", code);
        command[length] = '\0';
        logged++;
        console_printf("logger: %u \"%s\"\n", logged, command);
    }
    console_puts("*** END OF TEST logger ***\n");
    return 0;
}
