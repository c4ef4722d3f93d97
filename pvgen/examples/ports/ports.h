/* What the three partitions of the ports example share: how many rounds they run, and
 * a check that ends the partition with the failing call's name and code. */
#ifndef PORTS_H
#define PORTS_H

#include "partition.h"
#include "apex.h"

/* Readings written, commands sent and logged. A build may give its own on the compiler's
 * command line: bench/bench_ports.py runs the example for 1000 major frames with
 * PVGEN_CC="gcc -m32 -DROUNDS=1000u". */
#ifndef ROUNDS
#define ROUNDS 5u
#endif

static inline void check(const char *what, RETURN_CODE_TYPE code)
{
    if (code != NO_ERROR) {
        console_printf("%s failed: return code %u\n", what, (unsigned)code);
        pvrt_exit(1);
    }
}

/* `prefix` then `value` in decimal, into `buffer`; the length (no terminating NUL counted,
 * but one written). The runtime has no snprintf. */
static inline unsigned format_message(char *buffer, const char *prefix, unsigned value)
{
    char digits[10];
    unsigned length = 0u, count = 0u;

    while (*prefix != '\0') {
        buffer[length++] = *prefix++;
    }
    do {
        digits[count++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (count > 0u) {
        buffer[length++] = digits[--count];
    }
    buffer[length] = '\0';
    return length;
}

/* Give the processor up until the partition's next window. */
static inline void next_window(void)
{
    (void)pv_idle();
}

/*
 * Every partition creates its ports in its first window and starts its traffic in its
 * second, so that no message is sent before the port that receives it exists. ARINC 653
 * keeps such a message in its channel; POK drops it (its middleware moves a message only
 * to a port that has been created), and the example prints the same on both.
 */
static inline void wait_for_ports(void)
{
    next_window();
}

#endif
