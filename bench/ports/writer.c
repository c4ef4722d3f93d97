/* The benchmark's writer: each window, bench_per_window 64-byte messages, numbered from 1,
 * sent on its queuing port or written one to each of its sampling ports. */
#include "bench_ports.h"

static struct side writer;

int main(void)
{
    uint32_t kind = bench_kind, rounds = bench_rounds, per = bench_per_window, sequence = 0u;
    MESSAGE_ADDR_TYPE message = (MESSAGE_ADDR_TYPE)writer.message;
    RETURN_CODE_TYPE code;

    start(&writer, "writer", SOURCE);
    for (uint32_t round = 0u; round < rounds; round++) {
        for (uint32_t k = 0u; k < per && kind != KIND_NONE; k++) {
            message_fill(writer.message, ++sequence);
            if (kind == KIND_QUEUING) {
                SEND_QUEUING_MESSAGE(writer.queue, message, MESSAGE_BYTES, 0, &code);
            } else {
                WRITE_SAMPLING_MESSAGE(writer.sampling[k], message, MESSAGE_BYTES, &code);
            }
            count(&writer, code == NO_ERROR, sequence);
        }
        (void)pv_idle(); /* until the next window */
    }
    finish(&writer);
    return 0;
}
