/* watchdog: reads the fault partition's heartbeat every window, and reports a missed deadline
 * (a MODULE-level error here, whose action is SHUTDOWN) once a heartbeat it had is no longer
 * valid: no new one within the refresh period. */
#include "health.h"

static int same_text(const char *a, const char *b, unsigned length)
{
    for (unsigned i = 0u; i < length; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

int main(void)
{
    static const char missed[] = "no heartbeat from fault within 8 ms";
    SAMPLING_PORT_ID_TYPE port;
    RETURN_CODE_TYPE code;
    char last[HEARTBEAT_SIZE + 1u];
    MESSAGE_SIZE_TYPE last_length = 0;

    (void)say_how_it_started("watchdog");
    CREATE_SAMPLING_PORT("heartbeat_in", HEARTBEAT_SIZE, DESTINATION, REFRESH_NS, &port, &code);
    if (code == NO_ERROR) {
        SET_PARTITION_MODE(NORMAL, &code);
    }
    if (code != NO_ERROR) {
        console_printf("watchdog: setting up failed: return code %u\n", (unsigned)code);
        return 1;
    }
    for (;;) {
        char beat[HEARTBEAT_SIZE + 1u];
        MESSAGE_SIZE_TYPE length;
        VALIDITY_TYPE validity;

        READ_SAMPLING_MESSAGE(port, (MESSAGE_ADDR_TYPE)beat, &length, &validity, &code);
        if (code == NO_ERROR && validity == VALID) {
            if (length != last_length || !same_text(beat, last, (unsigned)length)) {
                beat[length] = '\0';
                console_printf("watchdog: heartbeat \"%s\"\n", beat);
                for (MESSAGE_SIZE_TYPE i = 0; i <= length; i++) {
                    last[i] = beat[i];
                }
                last_length = length;
            }
        } else if (code == NO_ERROR) {
            console_puts("watchdog: the heartbeat is stale\n");
            (void)pv_raise_os_error(PV_OS_ERROR_DEADLINE_MISSED, (const uint8_t *)missed,
                                    sizeof missed - 1u);
        }
        next_window();
    }
}
