/* sensor: writes a reading to its sampling port once per window. */
#include "ports.h"

int main(void)
{
    SAMPLING_PORT_ID_TYPE port;
    RETURN_CODE_TYPE code;

    console_puts("*** BEGIN OF TEST sensor ***\n");
    CREATE_SAMPLING_PORT("reading_out", 16, SOURCE, 20000000, &port, &code);
    check("CREATE_SAMPLING_PORT", code);
    SET_PARTITION_MODE(NORMAL, &code);
    check("SET_PARTITION_MODE", code);
    wait_for_ports();
    for (unsigned round = 1u; round <= ROUNDS; round++) {
        char reading[16];
        unsigned length = format_message(reading, "temp ", 20u + 3u * round);

        WRITE_SAMPLING_MESSAGE(port, (MESSAGE_ADDR_TYPE)reading, (MESSAGE_SIZE_TYPE)length,
                               &code);
        check("WRITE_SAMPLING_MESSAGE", code);
        console_printf("sensor: wrote \"%s\"\n", reading);
        next_window();
    }
    console_puts("*** END OF TEST sensor ***\n");
    return 0;
}
