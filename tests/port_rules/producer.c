/* The source side: sampling_write and queuing_send, refused and accepted.
 *
 * Runs first in the module's frame, once: it writes the sampling message
 * "temp=21" to temp_out (read by reader_a, reader_b and restarter), sends
 * "one", "two", "three" to cmd_out, whose destination (reader_a's cmd_in) holds
 * 3, so that "four" finds the queue full, and "r1", "r2" to restarter's r_in.
 * Two of its calls pass a buffer outside the partition: the generated checks
 * refuse them (INVALID_PARAM) before any handler, as an ILLEGAL_REQUEST. */
#define XTF_NAME "producer"
#include "port_rules.h"

static const char message[] = "temp=21";
static const char seventeen[] = "0123456789abcdefg";
static const char *const commands[] = {"one", "two", "three", "four"};
static const unsigned lengths[] = {3u, 3u, 5u, 4u};

static int test(void)
{
    pv_port_id_t temp = UNTOUCHED, cmd = UNTOUCHED, reset = UNTOUCHED;
    pv_queuing_port_status_t status;
    uint8_t buf[16];
    uint32_t len = UNTOUCHED;
    pv_validity_t valid = UNTOUCHED;

    EXPECT(create_sampling("temp_out", 16u, PV_PORT_DIRECTION_SOURCE, 10u * MS, &temp), PV_OK,
           "creating temp_out");
    EXPECT(create_queuing("cmd_out", 8u, 4u, PV_PORT_DIRECTION_SOURCE, &cmd), PV_OK,
           "creating cmd_out");
    EXPECT(create_queuing("reset_out", 8u, 4u, PV_PORT_DIRECTION_SOURCE, &reset), PV_OK,
           "creating reset_out");
    CHECK(temp == 1u && cmd == 2u && reset == 3u, "ids %u %u %u, not 1 2 3", (unsigned)temp,
          (unsigned)cmd, (unsigned)reset);
    EXPECT(set_normal(), PV_OK, "going NORMAL");

    /* sampling_write: refusals, then the message */
    EXPECT(pv_sampling_write(temp, BYTES(message), 0u), PV_INVALID_PARAM, "a zero-length write");
    EXPECT(pv_sampling_write(temp, BYTES(seventeen), 17u), PV_INVALID_CONFIG,
           "a write longer than the port's 16 bytes");
    EXPECT(pv_sampling_write(9u, BYTES(message), 7u), PV_INVALID_PARAM,
           "a write to a port never created");
    EXPECT(pv_sampling_write(0u, BYTES(message), 7u), PV_INVALID_PARAM, "a write to port 0");
    EXPECT(pv_sampling_write(cmd, BYTES(message), 7u), PV_INVALID_PARAM,
           "a sampling write to a queuing port");
    EXPECT(pv_sampling_write(temp, OUTSIDE, 16u), PV_INVALID_PARAM,
           "a write from a buffer outside the partition");
    EXPECT(pv_sampling_read(temp, buf, sizeof buf, &len, &valid), PV_INVALID_MODE,
           "reading a SOURCE port");
    CHECK(len == UNTOUCHED && valid == UNTOUCHED, "a refused read wrote its outputs");
    EXPECT(pv_sampling_write(temp, BYTES(message), 7u), PV_OK, "writing temp=21");

    /* queuing_send: refusals, then FIFO until the destination's 3 are full */
    EXPECT(pv_queuing_send(cmd, BYTES("x"), 0u), PV_INVALID_PARAM, "a zero-length send");
    EXPECT(pv_queuing_send(cmd, BYTES(seventeen), 9u), PV_INVALID_CONFIG,
           "a send longer than the port's 8 bytes");
    EXPECT(pv_queuing_send(temp, BYTES("x"), 1u), PV_INVALID_PARAM,
           "a queuing send to a sampling port");
    EXPECT(pv_queuing_send(cmd, OUTSIDE, 8u), PV_INVALID_PARAM,
           "a send from a buffer outside the partition");
    EXPECT(pv_queuing_receive(cmd, buf, sizeof buf, &len), PV_INVALID_MODE,
           "receiving on a SOURCE port");
    for (unsigned i = 0; i < 3u; i++) {
        EXPECT(pv_queuing_send(cmd, BYTES(commands[i]), lengths[i]), PV_OK, commands[i]);
    }
    EXPECT(pv_queuing_send(cmd, BYTES(commands[3]), lengths[3]), PV_NOT_AVAILABLE,
           "a send to a full queue");
    EXPECT(pv_queuing_status(cmd, &status), PV_OK, "cmd_out's status");
    CHECK(status.nb_message == 0u && status.max_nb_message == 4u &&
          status.max_message_size == 8u && status.direction == PV_PORT_DIRECTION_SOURCE &&
          status.overflowed == 0u,
          "cmd_out's status: %u messages of %u, size %u, direction %u, overflowed %u",
          (unsigned)status.nb_message, (unsigned)status.max_nb_message,
          (unsigned)status.max_message_size, (unsigned)status.direction,
          (unsigned)status.overflowed);

    EXPECT(pv_queuing_send(reset, BYTES("r1"), 2u), PV_OK, "sending r1");
    EXPECT(pv_queuing_send(reset, BYTES("r2"), 2u), PV_OK, "sending r2");
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
