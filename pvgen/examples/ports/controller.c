/* controller: reads the latest reading each window and sends a command about each fresh one. */
#include "ports.h"

int main(void)
{
    SAMPLING_PORT_ID_TYPE reading_port;
    QUEUING_PORT_ID_TYPE command_port;
    RETURN_CODE_TYPE code;
    unsigned sent = 0u;

    console_puts("*** BEGIN OF TEST controller ***\n");
    CREATE_SAMPLING_PORT("reading_in", 16, DESTINATION, 20000000, &reading_port, &code);
    check("CREATE_SAMPLING_PORT", code);
    CREATE_QUEUING_PORT("command_out", 32, 4, SOURCE, FIFO, &command_port, &code);
    check("CREATE_QUEUING_PORT", code);
    SET_PARTITION_MODE(NORMAL, &code);
    check("SET_PARTITION_MODE", code);
    wait_for_ports();
    while (sent < ROUNDS) {
        char reading[17], command[32];
        MESSAGE_SIZE_TYPE length;
        VALIDITY_TYPE validity;

        READ_SAMPLING_MESSAGE(reading_port, (MESSAGE_ADDR_TYPE)reading, &length, &validity,
                              &code);
        if (code == NO_ERROR && validity == VALID) {
            reading[length] = '\0';
            sent++;
            length = format_message(command, "set fan ", sent);
            SEND_QUEUING_MESSAGE(command_port, (MESSAGE_ADDR_TYPE)command, length, 0, &code);
            check("SEND_QUEUING_MESSAGE", code);
            console_printf("controller: read \"%s\", sent \"%s\"\n", reading, command);
        } else {
            console_printf("controller: no fresh reading (return code %u)\n", (unsigned)code);
        }
        next_window();
    }
    console_puts("*** END OF TEST controller ***\n");
    return 0;
}
