/* Creating ports: the configuration decides, identifiers count from 1, and
 * creation is for the partition's initialisation only.
 *
 * creator's ports (none connected to another partition but silent_out):
 *   s_out  sampling SOURCE       16 bytes, refresh 10 ms
 *   s_in   sampling DESTINATION  16 bytes, refresh 10 ms
 *   q_out  queuing  SOURCE        8 bytes, depth 2
 *   q_in   queuing  DESTINATION   8 bytes, depth 2
 *   silent_out sampling SOURCE    4 bytes, refresh 10 ms (to reader_b's never_in)
 * temp_in_a is reader_a's. */
#define XTF_NAME "creator"
#include "port_rules.h"

#define S PV_PORT_DIRECTION_SOURCE
#define D PV_PORT_DIRECTION_DESTINATION

static int refused_create(pv_status_t status, pv_port_id_t id, pv_status_t expected,
                          const char *what)
{
    CHECK(status == expected, "%s: status %u, expected %u", what, (unsigned)status,
          (unsigned)expected);
    CHECK(id == UNTOUCHED, "%s: an id (%u) was written", what, (unsigned)id);
    return 0;
}

#define REFUSED(call, expected, what)                                       \
    do {                                                                    \
        pv_port_id_t id_ = UNTOUCHED;                                       \
        pv_status_t status_ = (call);                                       \
        if (refused_create(status_, id_, (expected), (what)) != 0) {        \
            return 1;                                                       \
        }                                                                   \
    } while (0)

static int test(void)
{
    pv_port_id_t s_out = UNTOUCHED, s_in = UNTOUCHED, q_out = UNTOUCHED, q_in = UNTOUCHED;
    pv_port_id_t again = UNTOUCHED, found = UNTOUCHED;
    pv_sampling_port_status_t sampling;
    pv_queuing_port_status_t queuing;
    uint8_t buf[16];
    uint32_t len = UNTOUCHED;
    pv_validity_t valid = UNTOUCHED;

    /* nothing created yet */
    REFUSED(pv_sampling_port_id(BYTES("s_out"), &id_), PV_INVALID_CONFIG,
            "the id of a port not created");
    EXPECT(pv_sampling_status(1u, &sampling), PV_INVALID_PARAM, "the status of port 1");
    EXPECT(pv_queuing_status(0u, &queuing), PV_INVALID_PARAM, "the status of port 0");

    /* what the configuration does not give this partition */
    REFUSED(create_sampling("nope", 16u, S, 10u * MS, &id_), PV_INVALID_CONFIG,
            "a sampling port of no such name");
    REFUSED(create_queuing("nope", 8u, 2u, S, &id_), PV_INVALID_CONFIG,
            "a queuing port of no such name");
    REFUSED(create_sampling("temp_in_a", 16u, D, 8u * MS, &id_), PV_INVALID_CONFIG,
            "another partition's port");
    REFUSED(create_sampling("s_out", 16u, D, 10u * MS, &id_), PV_INVALID_CONFIG,
            "a SOURCE port created as a DESTINATION");
    REFUSED(create_sampling("s_out", 15u, S, 10u * MS, &id_), PV_INVALID_CONFIG,
            "a sampling port with the wrong size");
    REFUSED(create_sampling("s_out", 16u, S, 20u * MS, &id_), PV_INVALID_CONFIG,
            "a sampling port with the wrong refresh period");
    REFUSED(create_sampling("q_out", 8u, S, 10u * MS, &id_), PV_INVALID_CONFIG,
            "a queuing port created as a sampling port");
    REFUSED(create_queuing("s_out", 16u, 2u, S, &id_), PV_INVALID_CONFIG,
            "a sampling port created as a queuing port");
    REFUSED(create_queuing("q_out", 8u, 3u, S, &id_), PV_INVALID_CONFIG,
            "a queuing port with the wrong depth");
    REFUSED(create_queuing("q_out", 9u, 2u, S, &id_), PV_INVALID_CONFIG,
            "a queuing port with the wrong size");
    REFUSED(create_queuing("q_in", 8u, 2u, S, &id_), PV_INVALID_CONFIG,
            "a DESTINATION queuing port created as a SOURCE");

    /* as configured: ids 1, 2, 3, 4 in creation order, over both kinds */
    EXPECT(create_sampling("s_out", 16u, S, 10u * MS, &s_out), PV_OK, "creating s_out");
    EXPECT(create_queuing("q_out", 8u, 2u, S, &q_out), PV_OK, "creating q_out");
    EXPECT(create_sampling("s_in", 16u, D, 10u * MS, &s_in), PV_OK, "creating s_in");
    EXPECT(create_queuing("q_in", 8u, 2u, D, &q_in), PV_OK, "creating q_in");
    CHECK(s_out == 1u && q_out == 2u && s_in == 3u && q_in == 4u, "ids %u %u %u %u, not 1 2 3 4",
          (unsigned)s_out, (unsigned)q_out, (unsigned)s_in, (unsigned)q_in);

    /* created twice: NO_ACTION and the same id; with other attributes still INVALID_CONFIG */
    EXPECT(create_sampling("s_out", 16u, S, 10u * MS, &again), PV_NO_ACTION, "s_out again");
    CHECK(again == s_out, "s_out again gave id %u", (unsigned)again);
    EXPECT(create_queuing("q_in", 8u, 2u, D, &again), PV_NO_ACTION, "q_in again");
    CHECK(again == q_in, "q_in again gave id %u", (unsigned)again);
    REFUSED(create_sampling("s_out", 8u, S, 10u * MS, &id_), PV_INVALID_CONFIG,
            "s_out again with the wrong size");

    /* look-ups by name, of the right kind only */
    EXPECT(pv_sampling_port_id(BYTES("s_in"), &found), PV_OK, "the id of s_in");
    CHECK(found == s_in, "s_in's id is %u", (unsigned)found);
    EXPECT(pv_queuing_port_id(BYTES("q_out"), &found), PV_OK, "the id of q_out");
    CHECK(found == q_out, "q_out's id is %u", (unsigned)found);
    REFUSED(pv_sampling_port_id(BYTES("q_out"), &id_), PV_INVALID_CONFIG,
            "a queuing port's id as a sampling port");
    REFUSED(pv_queuing_port_id(BYTES("s_in"), &id_), PV_INVALID_CONFIG,
            "a sampling port's id as a queuing port");
    REFUSED(pv_sampling_port_id(BYTES("temp_in_a"), &id_), PV_INVALID_CONFIG,
            "another partition's port's id");
    REFUSED(pv_sampling_port_id(BYTES("silent_out"), &id_), PV_INVALID_CONFIG,
            "the id of a port configured but not created");

    /* ids name a port of one kind */
    EXPECT(pv_sampling_status(q_out, &sampling), PV_INVALID_PARAM,
           "a queuing port's status as a sampling port");
    EXPECT(pv_queuing_status(s_out, &queuing), PV_INVALID_PARAM,
           "a sampling port's status as a queuing port");
    EXPECT(pv_queuing_receive(5u, buf, sizeof buf, &len), PV_INVALID_PARAM,
           "receiving on port 5");
    EXPECT(pv_sampling_read(0u, buf, sizeof buf, &len, &valid), PV_INVALID_PARAM,
           "reading port 0");

    /* the status structures */
    EXPECT(pv_sampling_status(s_out, &sampling), PV_OK, "s_out's status");
    CHECK(sampling.refresh_period == 10 * (pv_system_time_t)MS &&
          sampling.max_message_size == 16u && sampling.direction == S &&
          sampling.last_msg_validity == PV_VALIDITY_INVALID && sampling.reserved == 0u,
          "s_out's status: refresh %u, size %u, direction %u, validity %u",
          (unsigned)sampling.refresh_period, (unsigned)sampling.max_message_size,
          (unsigned)sampling.direction, (unsigned)sampling.last_msg_validity);
    EXPECT(pv_queuing_status(q_in, &queuing), PV_OK, "q_in's status");
    CHECK(queuing.nb_message == 0u && queuing.max_nb_message == 2u &&
          queuing.max_message_size == 8u && queuing.direction == D && queuing.overflowed == 0u &&
          queuing.reserved0 == 0u && queuing.reserved1 == 0u,
          "q_in's status: %u of %u, size %u, direction %u, overflowed %u",
          (unsigned)queuing.nb_message, (unsigned)queuing.max_nb_message,
          (unsigned)queuing.max_message_size, (unsigned)queuing.direction,
          (unsigned)queuing.overflowed);

    /* ports the configuration connects to nothing */
    EXPECT(pv_sampling_write(s_out, BYTES("kept"), 4u), PV_OK, "writing unconnected s_out");
    EXPECT(pv_sampling_read(s_in, buf, sizeof buf, &len, &valid), PV_NO_ACTION,
           "reading unconnected s_in");
    EXPECT(pv_queuing_send(q_out, BYTES("lost"), 4u), PV_INVALID_CONFIG,
           "sending on unconnected q_out");
    EXPECT(pv_queuing_receive(q_in, buf, sizeof buf, &len), PV_NOT_AVAILABLE,
           "receiving on unconnected q_in");

    /* NORMAL mode: no more creation; what exists stays */
    EXPECT(set_normal(), PV_OK, "going NORMAL");
    REFUSED(create_sampling("silent_out", 4u, S, 10u * MS, &id_), PV_INVALID_MODE,
            "creating a port in NORMAL mode");
    EXPECT(create_sampling("s_out", 16u, S, 10u * MS, &again), PV_NO_ACTION,
           "s_out again in NORMAL mode");
    EXPECT(pv_sampling_port_id(BYTES("s_out"), &found), PV_OK, "the id of s_out in NORMAL mode");
    CHECK(found == s_out, "s_out's id is %u in NORMAL mode", (unsigned)found);
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
