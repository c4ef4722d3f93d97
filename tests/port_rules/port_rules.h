/*
 * What the port rule programs share (tests/test_emulator_ports.py). Each checks the
 * APEX rules of sampling and queuing ports from inside one partition, as a Xen Test
 * Framework test (tests/harness/xtf.h).
 *
 * The partitions of the test module run one after the other in their windows;
 * next_window() (xtf.h) gives up the processor until the partition's next window,
 * so a program can check what its neighbours did meanwhile.
 * No library: the runtime has no memcpy or memset, so buffers are filled and
 * compared byte by byte through volatile pointers.
 */
#ifndef PORT_RULES_H
#define PORT_RULES_H

#include "xtf.h"

/* A port name or message as the stubs take it. */
#define BYTES(s) ((const uint8_t *)(s))

/* 4 bytes before the partition's end: a longer buffer there runs out of it, which the
 * generated checks refuse (INVALID_PARAM) before any handler runs. */
#define OUTSIDE ((uint8_t *)(uintptr_t)(PVRT_PARTITION_SIZE - 4u))

/* A value no call writes: an output still holding it was left alone. */
#define UNTOUCHED 0xA5A5A5A5u

static inline pv_status_t create_sampling(const char *name, uint32_t max_size,
                                          pv_port_direction_t direction, uint32_t refresh_ns,
                                          pv_port_id_t *id)
{
    pv_system_time_t refresh = (pv_system_time_t)refresh_ns;

    return pv_sampling_create(BYTES(name), max_size, direction, &refresh, id);
}

static inline pv_status_t create_queuing(const char *name, uint32_t max_size, uint32_t depth,
                                         pv_port_direction_t direction, pv_port_id_t *id)
{
    return pv_queuing_create(BYTES(name), max_size, depth, direction, id);
}

/* Fill a buffer with a byte, and whether `n` bytes of it equal a string's. */
static inline void fill(uint8_t *buf, unsigned n, uint8_t value)
{
    volatile uint8_t *p = buf;

    for (unsigned i = 0; i < n; i++) {
        p[i] = value;
    }
}

static inline int same(const uint8_t *buf, const char *text, unsigned n)
{
    const volatile uint8_t *p = buf;

    for (unsigned i = 0; i < n; i++) {
        if (p[i] != (uint8_t)text[i]) {
            return 0;
        }
    }
    return 1;
}

/* Whether `n` bytes of a buffer all hold `value` (nothing was copied there). */
static inline int all(const uint8_t *buf, unsigned n, uint8_t value)
{
    const volatile uint8_t *p = buf;

    for (unsigned i = 0; i < n; i++) {
        if (p[i] != value) {
            return 0;
        }
    }
    return 1;
}

#endif /* PORT_RULES_H */
