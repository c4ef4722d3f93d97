/* What the writer and reader partitions of bench/bench_ports.py share: the settings the
 * benchmark patches into .data before the run, the 64-byte messages and how each is checked.
 *
 * Every message carries its sequence number (1, 2, ... in the order the writer sent or wrote
 * them) and words derived from it, so the reader can tell a message that arrived intact and in
 * its place from a lost, repeated, stale or damaged one without trusting the emulator. */
#ifndef BENCH_PORTS_H
#define BENCH_PORTS_H

#include "partition.h"
#include "apex.h"

#define MESSAGE_BYTES 64
#define MAX_PER_WINDOW 48 /* sampling channels the configuration may give (APEX ids < 64) */
#define KIND_NONE 1u      /* windows only: the frames' own cost */
#define KIND_QUEUING 2u   /* one queue, per_window messages a window */
#define KIND_SAMPLING 3u  /* per_window sampling channels, one fresh message on each a window */

/* Set by the benchmark before the run: in .data, which start.S leaves as loaded (it clears
 * .bss, so none of these may start at 0). */
volatile uint32_t bench_kind = KIND_NONE;
volatile uint32_t bench_rounds = 1u;     /* windows that move messages */
volatile uint32_t bench_per_window = 1u; /* messages a window */
volatile uint32_t bench_refresh_ns = 1u; /* the sampling ports' refresh period */

/* Read by the benchmark after the run; written once, at the end. */
volatile uint32_t bench_moved;   /* messages sent/written OK, or received/read intact */
volatile uint32_t bench_sum;     /* sum of their sequence numbers, mod 2^32 */
volatile uint32_t bench_bad;     /* refused, lost, repeated, stale or damaged */

/* A message is MESSAGE_WORDS words: its sequence number, then words derived from it. Words,
 * not bytes: the guest's own work per message stays small beside the two hypercalls. */
#define MESSAGE_WORDS (MESSAGE_BYTES / 4)

static inline uint32_t message_word(uint32_t sequence, uint32_t i)
{
    return sequence * 2654435761u + i;
}

static inline void message_fill(uint32_t *message, uint32_t sequence)
{
    message[0] = sequence;
    for (uint32_t i = 1u; i < MESSAGE_WORDS; i++) {
        message[i] = message_word(sequence, i);
    }
}

/* The message's sequence number, or 0 when it is not MESSAGE_BYTES long or its words are
 * not those of that number. */
static inline uint32_t message_sequence(const uint32_t *message, MESSAGE_SIZE_TYPE length)
{
    if (length != MESSAGE_BYTES) {
        return 0u;
    }
    for (uint32_t i = 1u; i < MESSAGE_WORDS; i++) {
        if (message[i] != message_word(message[0], i)) {
            return 0u;
        }
    }
    return message[0];
}

/* Sampling port `k`'s name, "s<k>" in two digits, the same at both ends of its channel. */
static inline const char *sampling_name(char *name, uint32_t k)
{
    name[0] = 's';
    name[1] = (char)('0' + k / 10u);
    name[2] = (char)('0' + k % 10u);
    name[3] = '\0';
    return name;
}

/* What one side counted: messages moved, the sum of their sequence numbers, the bad ones. */
struct tally {
    uint32_t moved, sum, bad;
};

/* One end of the channels: its name, its ports, the message it sends or receives, its counts. */
struct side {
    const char *who;
    QUEUING_PORT_ID_TYPE queue;
    SAMPLING_PORT_ID_TYPE sampling[MAX_PER_WINDOW];
    uint32_t message[MESSAGE_WORDS];
    struct tally tally;
};

/* The partition's start, the same at both ends but for the direction: its banner, its ports
 * for bench_kind (one queue bench_per_window deep, or bench_per_window sampling ports), then
 * NORMAL mode. A refusal ends the partition with its return code. */
static inline void start(struct side *side, const char *who, PORT_DIRECTION_TYPE direction)
{
    uint32_t kind = bench_kind, per = bench_per_window;
    RETURN_CODE_TYPE code = NO_ERROR;
    char name[4];

    side->who = who;
    console_printf("*** BEGIN OF TEST %s ***\n", who);
    if (kind == KIND_QUEUING) {
        CREATE_QUEUING_PORT("queue", MESSAGE_BYTES, (MESSAGE_RANGE_TYPE)per, direction, FIFO,
                            &side->queue, &code);
    } else if (kind == KIND_SAMPLING) {
        for (uint32_t k = 0u; k < per && code == NO_ERROR; k++) {
            CREATE_SAMPLING_PORT(sampling_name(name, k), MESSAGE_BYTES, direction,
                                 bench_refresh_ns, &side->sampling[k], &code);
        }
    }
    if (code == NO_ERROR) {
        SET_PARTITION_MODE(NORMAL, &code);
    }
    if (code != NO_ERROR) {
        console_printf("%s: creating its ports or going NORMAL failed: return code %u\n", who,
                       (unsigned)code);
        pvrt_exit(1);
    }
}

static inline void count(struct side *side, int good, uint32_t sequence)
{
    if (good) {
        side->tally.moved++;
        side->tally.sum += sequence;
    } else {
        side->tally.bad++;
    }
}

/* The counts, for the benchmark to read and on the console, and the closing banner. */
static inline void finish(const struct side *side)
{
    const struct tally *tally = &side->tally;

    bench_moved = tally->moved;
    bench_sum = tally->sum;
    bench_bad = tally->bad;
    console_printf("%s: %u messages, sequence sum %x, %u bad\n", side->who,
                   (unsigned)tally->moved, (unsigned)tally->sum, (unsigned)tally->bad);
    console_printf("*** END OF TEST %s ***\n", side->who);
}

#endif
