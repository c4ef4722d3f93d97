/* The benchmark's reader: each window, the writer's messages of that frame, received from its
 * queuing port until it is empty, or read once from each of its sampling ports. A message
 * counts when it arrived intact with the next sequence number; anything else is bad. */
#include "bench_ports.h"

static struct side reader;

int main(void)
{
    uint32_t kind = bench_kind, rounds = bench_rounds, per = bench_per_window, last = 0u;
    MESSAGE_ADDR_TYPE message = (MESSAGE_ADDR_TYPE)reader.message;
    RETURN_CODE_TYPE code;
    MESSAGE_SIZE_TYPE length;
    VALIDITY_TYPE validity;

    start(&reader, "reader", DESTINATION);
    for (uint32_t round = 0u; round < rounds; round++) {
        if (kind == KIND_QUEUING) {
            for (;;) { /* drain: the queue holds this frame's messages and nothing else */
                RECEIVE_QUEUING_MESSAGE(reader.queue, 0, message, &length, &code);
                if (code == NOT_AVAILABLE) {
                    break;
                }
                uint32_t sequence = code == NO_ERROR ? message_sequence(reader.message, length)
                                                     : 0u;
                count(&reader, sequence != 0u && sequence == last + 1u, sequence);
                last = sequence != 0u ? sequence : last + 1u;
            }
        } else if (kind == KIND_SAMPLING) {
            for (uint32_t k = 0u; k < per; k++) { /* port k holds message round * per + k + 1 */
                uint32_t expected = round * per + k + 1u;

                READ_SAMPLING_MESSAGE(reader.sampling[k], message, &length, &validity, &code);
                count(&reader, code == NO_ERROR && validity == VALID &&
                                   message_sequence(reader.message, length) == expected,
                      expected);
            }
        }
        (void)pv_idle(); /* until the next window */
    }
    finish(&reader);
    return 0;
}
