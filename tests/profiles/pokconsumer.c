/*
 * pokconsumer: the destination end of tests/profiles/pokports.xml (see pokproducer.c). It
 * creates its ports in its first window, polls for the sample, takes the queued message,
 * finds the queue empty, then polls for the one pokproducer could send only in its next
 * window.
 */
#include "partition.h"
#include "pokticks.h"

static pv_status_t receive(pv_port_id_t queue, uint8_t message[9], uint32_t *length)
{
    *length = 0u;
    for (unsigned i = 0u; i < 9u; i++) {
        message[i] = 0u;
    }
    return pv_queuing_receive(queue, 0u, 8u, message, length);
}

int main(void)
{
    pv_port_id_t sample = 0u, queue = 0u;
    pv_queuing_port_status_t status;
    uint8_t message[512] = { 0 };
    uint32_t length = 0u;
    pv_validity_t valid = PV_VALIDITY_INVALID;

    if (pv_sampling_create((const uint8_t *)"sample_in", 16u, PV_PORT_DIRECTION_DESTINATION,
                           MS(20), &sample) != PV_OK ||
        pv_queuing_create((const uint8_t *)"queue_in", 8u, PV_PORT_DIRECTION_DESTINATION,
                          PV_QUEUING_DISCIPLINE_FIFO, &queue) != PV_OK) {
        console_puts("creation failed\n");
        return 1;
    }
    console_printf("priority queue: status %d\n", (int)pv_queuing_create(
                       (const uint8_t *)"queue_in", 8u, PV_PORT_DIRECTION_DESTINATION,
                       PV_QUEUING_DISCIPLINE_PRIORITY, &queue));
    if (pv_queuing_status(queue, &status) != PV_OK) {
        console_puts("no status\n");
        return 1;
    }
    console_printf("queue_in: max %u, direction %u, waiting %u\n",
                   (unsigned)status.max_message_size, (unsigned)status.direction,
                   (unsigned)status.waiting_processes);

    uint64_t waited = now_ns();
    pv_status_t read;
    while ((read = pv_sampling_read(sample, message, &length, &valid)) == PV_EMPTY) {
        /* the sample comes in pokproducer's second window */
    }
    console_printf("read: status %d, \"%s\", length %u, valid %u after %u ms\n", (int)read,
                   (const char *)message, (unsigned)length, (unsigned)valid,
                   ms_since(waited));
    uint8_t got[9];
    pv_status_t status_m = receive(queue, got, &length);
    console_printf("receive: status %d, \"%s\", length %u\n", (int)status_m,
                   (const char *)got, (unsigned)length);
    status_m = receive(queue, got, &length); /* empty */
    console_printf("receive: status %d, \"%s\", length %u\n", (int)status_m,
                   (const char *)got, (unsigned)length);

    uint64_t before = now_ns();
    while ((status_m = receive(queue, got, &length)) == PV_EMPTY) {
        /* m2 comes in pokproducer's next window */
    }
    console_printf("receive again: status %d, \"%s\", length %u after %u ms\n",
                   (int)status_m, (const char *)got, (unsigned)length, ms_since(before));
    console_puts("done\n");
    return 0;
}
