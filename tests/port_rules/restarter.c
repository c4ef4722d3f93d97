/* A restart forgets the partition's ports and empties the queues it receives
 * on; sampling messages stay in their channels.
 *
 * First run (frame 0, after the producer sent r1 and r2 and wrote temp=21):
 * r_in holds 2 messages; the partition goes NORMAL, then COLD_START, which
 * reloads it. It prints nothing unless something is wrong.
 * Second run (frame 1, start condition PARTITION_RESTART): its ports are gone
 * (ids and names), creating them again numbers them from 1 in the new order,
 * r_in is empty, and r_temp_in still reads temp=21. */
#define XTF_NAME "restarter"
#include "port_rules.h"

#define D PV_PORT_DIRECTION_DESTINATION

static int first_run(void)
{
    pv_port_id_t queue = UNTOUCHED, temp = UNTOUCHED;
    pv_queuing_port_status_t status;

    EXPECT(create_queuing("r_in", 8u, 4u, D, &queue), PV_OK, "creating r_in");
    EXPECT(create_sampling("r_temp_in", 16u, D, 10u * MS, &temp), PV_OK, "creating r_temp_in");
    CHECK(queue == 1u && temp == 2u, "ids %u %u, not 1 2", (unsigned)queue, (unsigned)temp);
    EXPECT(pv_queuing_status(queue, &status), PV_OK, "r_in's status");
    CHECK(status.nb_message == 2u, "r_in holds %u messages, not 2", (unsigned)status.nb_message);
    EXPECT(set_normal(), PV_OK, "going NORMAL");
    EXPECT(pv_partition_set_mode(PV_PARTITION_MODE_COLD_START), PV_OK, "restarting");
    FAIL("still running after COLD_START");
}

static int second_run(void)
{
    pv_port_id_t queue = UNTOUCHED, temp = UNTOUCHED, found = UNTOUCHED;
    pv_queuing_port_status_t status;
    uint8_t buf[16];
    uint32_t len = UNTOUCHED;
    pv_validity_t valid = UNTOUCHED;

    EXPECT(pv_queuing_port_id(BYTES("r_in"), &found), PV_INVALID_CONFIG,
           "r_in's id after the restart");
    EXPECT(pv_queuing_status(1u, &status), PV_INVALID_PARAM, "port 1's status after the restart");
    EXPECT(create_sampling("r_temp_in", 16u, D, 10u * MS, &temp), PV_OK,
           "creating r_temp_in again");
    EXPECT(create_queuing("r_in", 8u, 4u, D, &queue), PV_OK, "creating r_in again");
    CHECK(temp == 1u && queue == 2u, "ids %u %u, not 1 2", (unsigned)temp, (unsigned)queue);
    EXPECT(pv_queuing_status(queue, &status), PV_OK, "r_in's status");
    CHECK(status.nb_message == 0u && status.overflowed == 0u,
          "r_in holds %u messages after the restart", (unsigned)status.nb_message);
    EXPECT(pv_queuing_receive(queue, buf, sizeof buf, &len), PV_NOT_AVAILABLE,
           "receiving after the restart");
    EXPECT(pv_sampling_read(temp, buf, sizeof buf, &len, &valid), PV_OK,
           "reading r_temp_in after the restart");
    CHECK(len == 7u && same(buf, "temp=21", 7u), "read %u bytes, not temp=21", (unsigned)len);
    return 0;
}

int main(void)
{
    pv_partition_status_t status;

    if (pv_partition_get_status(&status) == PV_OK &&
        status.start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, first_run);
    }
    return xtf_run(XTF_NAME, second_run);
}
