/*
 * pokproducer: the source end of tests/profiles/pokports.xml, with the real POK kernel's
 * port system calls that examples/hypervisors/pok_x86.def declares (times in POK's
 * milliseconds). It publishes a sample, fills the queue, times out waiting for room inside
 * its own window, then waits for room across windows until pokconsumer makes some.
 */
#include "partition.h"
#include "pokticks.h"

/* Messages are two characters: "m1", "m2"... */
static void send(pv_port_id_t queue, const char *text, pv_pok_timeout_t timeout)
{
    uint32_t before = ticks();
    pv_status_t status = pv_queuing_send(queue, (const uint8_t *)text, 2u, timeout);
    console_printf("send %s, timeout %u ms: status %d after %u ticks\n", text,
                   (unsigned)timeout, (int)status, (unsigned)(ticks() - before));
}

int main(void)
{
    pv_port_id_t sample = 0u, queue = 0u;
    pv_sampling_port_status_t status;

    if (pv_sampling_create((const uint8_t *)"sample_out", 16u, PV_PORT_DIRECTION_SOURCE, 20u,
                           &sample) != PV_OK ||
        pv_queuing_create((const uint8_t *)"queue_out", 32u, PV_PORT_DIRECTION_SOURCE,
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
                   (unsigned)status.refresh_period);
    (void)pv_partition_set_mode(PV_PARTITION_MODE_NORMAL);

    console_printf("write: status %d\n",
                   (int)pv_sampling_write(sample, (const uint8_t *)"s1", 2u));
    send(queue, "m1", 0u);
    send(queue, "m2", 0u);
    send(queue, "m3", 0u);   /* full: no waiting */
    send(queue, "m3", 3u);   /* full for 3 ms: times out inside this window */
    send(queue, "m3", 100u); /* room comes in pokconsumer's window */
    console_puts("done\n");
    return 0;
}
