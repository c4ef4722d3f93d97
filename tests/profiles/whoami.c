/*
 * whoami: asks the hypervisor its own name with partition_get_name, the call the
 * XtratuM profile (examples/hypervisors/xtratum_x86.def) has and hypercalls.def lacks,
 * and checks the answer: the configured name when it fits, INVALID_PARAM and the
 * length it needs when it does not. Its banners make the run's verdict.
 */
#include "partition.h"

static int checks_failed;

static void check(int ok, const char *what)
{
    if (!ok) {
        console_printf("FAIL: %s\n", what);
        ++checks_failed;
    }
}

int main(void)
{
    uint8_t name[16] = { 0u };
    uint8_t small[3] = { 0u };
    uint32_t len = 0u;
    pv_status_t status;

    console_puts("*** BEGIN OF TEST whoami ***\n");
    status = pv_partition_get_name(name, (uint32_t)sizeof name - 1u, &len);
    console_printf("partition_get_name: status %d, length %u, name \"%s\"\n", (int)status,
                   (unsigned)len, (const char *)name);
    check(status == PV_OK && len == 6u, "the name fits");
    check(name[0] == 'w' && name[5] == 'i' && name[6] == 0u, "it is the configured one");

    len = 0u;
    status = pv_partition_get_name(small, (uint32_t)sizeof small, &len);
    console_printf("with room for 3: status %d, length %u\n", (int)status, (unsigned)len);
    check(status == PV_INVALID_PARAM && len == 6u, "a short buffer learns the length");
    check(small[0] == 0u, "and gets nothing written");
    if (checks_failed == 0) {
        console_puts("*** END OF TEST whoami ***\n");
    }
    return checks_failed;
}
