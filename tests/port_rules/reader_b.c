/* A second destination of the same sampling channel, with a 40 ms refresh
 * period, and a destination whose source never writes.
 *
 * The message written at the start of frame 0 is VALID here in frames 0 and
 * 1 (about 10 and 35 ms old) while reader_a already sees it INVALID, and turns
 * INVALID in frame 2 (about 60 ms old). never_in answers NO_ACTION with length
 * 0 and INVALID. */
#define XTF_NAME "reader_b"
#include "port_rules.h"

static int test(void)
{
    static const pv_validity_t expected[] = {PV_VALIDITY_VALID, PV_VALIDITY_VALID,
                                             PV_VALIDITY_INVALID};
    pv_port_id_t temp = UNTOUCHED, never = UNTOUCHED;
    pv_sampling_port_status_t status;
    uint8_t buf[16];
    uint32_t len = UNTOUCHED;
    pv_validity_t valid = UNTOUCHED;

    EXPECT(create_sampling("temp_in_b", 16u, PV_PORT_DIRECTION_DESTINATION, 40u * MS, &temp),
           PV_OK, "creating temp_in_b");
    EXPECT(create_sampling("never_in", 4u, PV_PORT_DIRECTION_DESTINATION, 10u * MS, &never),
           PV_OK, "creating never_in");
    EXPECT(set_normal(), PV_OK, "going NORMAL");

    fill(buf, sizeof buf, 0xEEu);
    EXPECT(pv_sampling_read(never, buf, sizeof buf, &len, &valid), PV_NO_ACTION,
           "reading a port never written");
    CHECK(len == 0u && valid == PV_VALIDITY_INVALID && all(buf, sizeof buf, 0xEEu),
          "a port never written read %u bytes, validity %u", (unsigned)len, (unsigned)valid);

    for (unsigned frame = 0; frame < 3u; frame++) {
        if (frame != 0u) {
            next_window();
        }
        len = UNTOUCHED;
        valid = UNTOUCHED;
        EXPECT(pv_sampling_read(temp, buf, sizeof buf, &len, &valid), PV_OK, "reading temp_in_b");
        CHECK(len == 7u && same(buf, "temp=21", 7u), "frame %u: read %u bytes, not temp=21",
              frame, (unsigned)len);
        CHECK(valid == expected[frame], "frame %u: validity %u, expected %u", frame,
              (unsigned)valid, (unsigned)expected[frame]);
        EXPECT(pv_sampling_status(temp, &status), PV_OK, "temp_in_b's status");
        CHECK(status.last_msg_validity == expected[frame], "frame %u: the status says %u",
              frame, (unsigned)status.last_msg_validity);
    }
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
