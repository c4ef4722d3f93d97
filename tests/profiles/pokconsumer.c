/*
 * pokconsumer: the destination end of tests/profiles/pokports.xml (see pokproducer.c). It
 * reads the sample, takes the queued messages, waits across windows for the one
 * pokproducer could send only then, and times out waiting for another inside its window.
 */
#include "partition.h"
#include "pokticks.h"

static void receive(pv_port_id_t queue, pv_pok_timeout_t timeout)
{
    uint8_t message[33] = { 0 };
    uint32_t length = 0u, before = ticks();
    pv_status_t status = pv_queuing_receive(queue, timeout, 32u, message, &length);
    console_printf("receive, timeout %u ms: status %d, \"%s\" after %u ticks\n",
                   (unsigned)timeout, (int)status, (const char *)message,
                   (unsigned)(ticks() - before));
}

int main(void)
{
    pv_port_id_t sample = 0u, queue = 0u;
    pv_queuing_port_status_t status;
    uint8_t message[512] = { 0 };
    uint32_t length = 0u;
    pv_validity_t valid = PV_VALIDITY_INVALID;

    if (pv_sampling_create((const uint8_t *)"sample_in", 16u, PV_PORT_DIRECTION_DESTINATION,
                           20u, &sample) != PV_OK ||
        pv_queuing_create((const uint8_t *)"queue_in", 32u, PV_PORT_DIRECTION_DESTINATION,
                          PV_QUEUING_DISCIPLINE_PRIORITY, &queue) != PV_OK) {
        console_puts("creation failed\n");
        return 1;
    }
    if (pv_queuing_status(queue, &status) != PV_OK) {
        console_puts("no status\n");
        return 1;
    }
    console_printf("queue_in: max %u, direction %u, waiting %u\n",
                   (unsigned)status.max_message_size, (unsigned)status.direction,
                   (unsigned)status.waiting_processes);
    (void)pv_partition_set_mode(PV_PARTITION_MODE_NORMAL);

    pv_status_t read = pv_sampling_read(sample, message, &length, &valid);
    console_printf("read: status %d, \"%s\", length %u, valid %u\n", (int)read,
                   (const char *)message, (unsigned)length, (unsigned)valid);
    receive(queue, 0u);
    receive(queue, 50u);  /* m2 is there: no waiting */
    receive(queue, 50u);  /* m3 comes in pokproducer's next window */
    receive(queue, 2u);   /* nothing more: times out inside this window */
    console_puts("done\n");
    return 0;
}
