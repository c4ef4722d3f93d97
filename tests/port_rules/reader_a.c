/* A sampling destination with a short refresh period, and a queuing destination.
 *
 * Frame 0 (the producer has written temp=21 and queued one, two, three, and
 * was refused four): the sampling message is there and VALID (younger than the
 * 8 ms refresh period); the queue is full and says it overflowed; messages come
 * out in FIFO order, a buffer too small leaves the message queued, and the
 * empty queue answers NOT_AVAILABLE. Frame 1 (25 ms later, nothing written
 * since): the same message, now INVALID. */
#define XTF_NAME "reader_a"
#include "port_rules.h"

static int check_queue(pv_port_id_t cmd, uint32_t nb, uint8_t overflowed, const char *when)
{
    pv_queuing_port_status_t status;

    EXPECT(pv_queuing_status(cmd, &status), PV_OK, "cmd_in's status");
    CHECK(status.nb_message == nb && status.max_nb_message == 3u &&
          status.max_message_size == 8u && status.direction == PV_PORT_DIRECTION_DESTINATION &&
          status.overflowed == overflowed,
          "cmd_in %s: %u messages of %u, size %u, direction %u, overflowed %u", when,
          (unsigned)status.nb_message, (unsigned)status.max_nb_message,
          (unsigned)status.max_message_size, (unsigned)status.direction,
          (unsigned)status.overflowed);
    return 0;
}

static int read_temp(pv_port_id_t temp, pv_validity_t expected, const char *when)
{
    static const char *const names[] = {"INVALID", "VALID"};
    pv_sampling_port_status_t status;
    uint8_t buf[16];
    uint32_t len = UNTOUCHED;
    pv_validity_t valid = UNTOUCHED;

    fill(buf, sizeof buf, 0xEEu);
    EXPECT(pv_sampling_read(temp, buf, sizeof buf, &len, &valid), PV_OK, when);
    CHECK(len == 7u && same(buf, "temp=21", 7u) && all(buf + 7, 9u, 0xEEu),
          "%s: read %u bytes, not temp=21", when, (unsigned)len);
    CHECK(valid == expected, "%s: the message is %u, not %s", when, (unsigned)valid,
          names[expected]);
    EXPECT(pv_sampling_status(temp, &status), PV_OK, "temp_in_a's status");
    CHECK(status.refresh_period == 8 * (pv_system_time_t)MS && status.max_message_size == 16u &&
          status.direction == PV_PORT_DIRECTION_DESTINATION &&
          status.last_msg_validity == expected && status.reserved == 0u,
          "%s: temp_in_a's status: refresh %u, size %u, direction %u, validity %u", when,
          (unsigned)status.refresh_period, (unsigned)status.max_message_size,
          (unsigned)status.direction, (unsigned)status.last_msg_validity);
    return 0;
}

static int test(void)
{
    static const char *const fifo[] = {"one", "two", "three"};
    pv_port_id_t temp = UNTOUCHED, cmd = UNTOUCHED;
    uint8_t buf[16];
    uint32_t len = UNTOUCHED;
    pv_validity_t valid = UNTOUCHED;

    EXPECT(create_sampling("temp_in_a", 16u, PV_PORT_DIRECTION_DESTINATION, 8u * MS, &temp),
           PV_OK, "creating temp_in_a");
    EXPECT(create_queuing("cmd_in", 8u, 3u, PV_PORT_DIRECTION_DESTINATION, &cmd), PV_OK,
           "creating cmd_in");
    EXPECT(set_normal(), PV_OK, "going NORMAL");
    EXPECT(pv_sampling_write(temp, BYTES("x"), 1u), PV_INVALID_MODE,
           "writing a DESTINATION port");
    EXPECT(pv_queuing_send(cmd, BYTES("x"), 1u), PV_INVALID_MODE, "sending on a DESTINATION port");

    /* sampling: a buffer too small gets nothing, one outside is refused before the handler */
    fill(buf, sizeof buf, 0xEEu);
    EXPECT(pv_sampling_read(temp, buf, 6u, &len, &valid), PV_INVALID_PARAM,
           "a read into 6 bytes");
    CHECK(all(buf, sizeof buf, 0xEEu) && len == UNTOUCHED && valid == UNTOUCHED,
          "a read into too small a buffer copied something");
    EXPECT(pv_sampling_read(temp, OUTSIDE, 16u, &len, &valid), PV_INVALID_PARAM,
           "a read into a buffer outside the partition");
    if (read_temp(temp, PV_VALIDITY_VALID, "frame 0") != 0) {
        return 1;
    }

    /* queuing: full and overflowed, FIFO, a buffer too small, then empty */
    if (check_queue(cmd, 3u, 1u, "full") != 0) {
        return 1;
    }
    EXPECT(pv_queuing_receive(cmd, buf, 2u, &len), PV_INVALID_PARAM, "receiving into 2 bytes");
    if (check_queue(cmd, 3u, 1u, "after a receive into too small a buffer") != 0) {
        return 1;
    }
    for (unsigned i = 0; i < 3u; i++) {
        unsigned n = i == 2u ? 5u : 3u;

        fill(buf, sizeof buf, 0xEEu);
        len = UNTOUCHED;
        EXPECT(pv_queuing_receive(cmd, buf, sizeof buf, &len), PV_OK, fifo[i]);
        CHECK(len == n && same(buf, fifo[i], n) && all(buf + n, 16u - n, 0xEEu),
              "message %u: %u bytes, not %s", i, (unsigned)len, fifo[i]);
    }
    if (check_queue(cmd, 0u, 0u, "emptied") != 0) {
        return 1;
    }
    len = UNTOUCHED;
    EXPECT(pv_queuing_receive(cmd, buf, sizeof buf, &len), PV_NOT_AVAILABLE,
           "receiving from an empty queue");
    CHECK(len == 0u, "an empty queue gave length %u", (unsigned)len);

    next_window();
    return read_temp(temp, PV_VALIDITY_INVALID, "frame 1");
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
