/*
 * pokproducer: the source end of tests/profiles/pokports.xml, with the real POK kernel's
 * port system calls that examples/hypervisors/pok_x86.def declares. Its messages fill
 * their ports (8 bytes a queued message, 16 a sample), and the queue holds one: there POK's
 * ports, which carry bytes, and ARINC's, which carry messages, agree. It sends nothing
 * before its second window (20 ms), once pokconsumer has created its ports: POK drops what
 * reaches a port not yet created. Then it publishes a sample, queues a message, finds the
 * queue full, and polls until pokconsumer has taken the first message. It never waits in
 * a call: on POK b2e1cc3 a port call that waits stops the whole module (docs/porting.md).
 */
#include "partition.h"
#include "pokticks.h"

static pv_status_t send(pv_port_id_t queue, const char *text)
{
    char message[8] = { 0 };
    message[0] = text[0];
    message[1] = text[1];
    return pv_queuing_send(queue, (const uint8_t *)message, sizeof message, 0u);
}

int main(void)
{
    static const char sample_text[16] = "s1";
    pv_port_id_t sample = 0u, queue = 0u;
    pv_sampling_port_status_t status;

    if (pv_sampling_create((const uint8_t *)"sample_out", 16u, PV_PORT_DIRECTION_SOURCE, MS(20),
                           &sample) != PV_OK ||
        pv_queuing_create((const uint8_t *)"queue_out", 8u, PV_PORT_DIRECTION_SOURCE,
                          PV_QUEUING_DISCIPLINE_FIFO, &queue) != PV_OK) {
        console_puts("creation failed\n");
        return 1;
    }
    if (pv_sampling_status(sample, &status) != PV_OK) {
        console_puts("no status\n");
        return 1;
    }
    console_printf("sample_out: max %u, direction %u, refresh %u ms\n",
                   (unsigned)status.max_message_size, (unsigned)status.direction,
                   (unsigned)((uint32_t)status.refresh_period / 1000000u));

    run_until_ms(20u);
    console_printf("write: status %d\n", (int)pv_sampling_write(
                       sample, (const uint8_t *)sample_text, sizeof sample_text));
    console_printf("send m1: status %d\n", (int)send(queue, "m1"));
    console_printf("send m2: status %d\n", (int)send(queue, "m2")); /* full */

    uint64_t before = now_ns();
    pv_status_t status_m2;
    while ((status_m2 = send(queue, "m2")) == PV_FULL) {
        /* room comes once pokconsumer has taken m1, in its window */
    }
    console_printf("send m2 again: status %d after %u ms\n", (int)status_m2,
                   ms_since(before));
    console_puts("done\n");
    return 0;
}
