/* fault: triggers, start after start, each action of the health monitor's tables.
 *
 * Every start writes a heartbeat naming it, then does what its start calls for; what the
 * health monitor then does decides the next start (examples/health/module.xml). */
#include "health.h"

/* How many faults it has made: .warm, which its configuration keeps across a warm start. */
static volatile unsigned faults PVRT_WARM_KEPT;
static volatile unsigned dividend = 100u, divisor; /* unknown to the compiler: a real division */

static void heartbeat(const char *text)
{
    SAMPLING_PORT_ID_TYPE port;
    RETURN_CODE_TYPE code;
    unsigned length = 0u;

    CREATE_SAMPLING_PORT("heartbeat_out", HEARTBEAT_SIZE, SOURCE, REFRESH_NS, &port, &code);
    if (code == NO_ERROR) {
        SET_PARTITION_MODE(NORMAL, &code);
    }
    while (text[length] != '\0') {
        length++;
    }
    if (code == NO_ERROR) {
        WRITE_SAMPLING_MESSAGE(port, (MESSAGE_ADDR_TYPE)text, (MESSAGE_SIZE_TYPE)length, &code);
    }
    if (code != NO_ERROR) {
        console_printf("fault: the heartbeat failed: return code %u\n", (unsigned)code);
        pvrt_exit(1);
    }
}

static void first_start(void)
{
    static const char message[] = "sensor value out of range";
    static const char not_mine[] = "a refused hypercall";
    RETURN_CODE_TYPE code;
    pv_status_t status;

    heartbeat("first start");
    faults++;
    RAISE_APPLICATION_ERROR(APPLICATION_ERROR, (MESSAGE_ADDR_TYPE)message,
                            (ERROR_MESSAGE_SIZE_TYPE)(sizeof message - 1u), &code);
    console_printf("fault: RAISE_APPLICATION_ERROR returned %u; going on\n", (unsigned)code);
    faults++;
    /* 13 is ILLEGAL_REQUEST, which the hypervisor detects itself: no OS may report it */
    status = pv_raise_os_error((pv_os_error_t)13u, (const uint8_t *)not_mine,
                               sizeof not_mine - 1u);
    console_printf("fault: raise_os_error(ILLEGAL_REQUEST) returned %u; going on\n",
                   (unsigned)status);
    faults++;
    console_printf("fault: %u faults so far; dividing by zero\n", faults);
    console_printf("fault: 100 / 0 = %u\n", dividend / divisor);
}

static void warm_start(void)
{
    heartbeat("warm start");
    console_printf("fault: %u faults kept across the warm start; writing outside the "
                   "partition\n", faults);
    faults++;
    *(volatile uint32_t *)(uintptr_t)PVRT_PARTITION_SIZE = 1u;
}

static void cold_start(void)
{
    heartbeat("cold start");
    console_printf("fault: %u faults kept across the cold start; a breakpoint\n", faults);
    __asm__ volatile("int3");
}

static void module_restart(void)
{
    static const char message[] = "task 3 overflowed its stack";

    heartbeat("module restart");
    console_puts("fault: the OS reports a stack overflow\n");
    (void)pv_raise_os_error(PV_OS_ERROR_STACK_OVERFLOW, (const uint8_t *)message,
                            sizeof message - 1u);
}

int main(void)
{
    PARTITION_STATUS_TYPE status = say_how_it_started("fault");

    switch (status.START_CONDITION) {
    case NORMAL_START: first_start(); break;
    case HM_MODULE_RESTART: module_restart(); break;
    default:
        if (status.OPERATING_MODE == WARM_START) {
            warm_start();
        } else {
            cold_start();
        }
        break;
    }
    console_puts("fault: still running after its fault\n");
    return 1;
}
