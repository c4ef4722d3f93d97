/*
 * What the partition-mode rule programs share (tests/test_partition_modes.py). Each checks
 * ARINC 653's mode transitions, start conditions and warm-start retention from inside one
 * partition, as a Xen Test Framework test (tests/harness/xtf.h). Most restart themselves on
 * the way: a run that ends in a restart prints nothing unless it fails (xtf_step), and the
 * last run prints the verdict.
 *
 * Three variables tell a warm start from a cold one: `plain` (.data, reloaded by every
 * start), `kept` (.warm: kept by a warm start only where the configuration says
 * Warm_Start_Keeps Section=".warm") and `cleared` (.bss, cleared at every start).
 */
#ifndef MODE_RULES_H
#define MODE_RULES_H

#include "xtf.h"

#define WINDOW_NS (5u * MS) /* every partition of the test modules has one 5 ms window */

#define PLAIN_INITIAL 11u
#define KEPT_INITIAL 22u

static volatile uint32_t plain = PLAIN_INITIAL;
static volatile uint32_t kept PVRT_WARM_KEPT = KEPT_INITIAL;
static volatile uint32_t cleared;

#define COLD PV_PARTITION_MODE_COLD_START
#define WARM PV_PARTITION_MODE_WARM_START

/* The partition's status now; a failed call reads as an impossible mode. */
static inline pv_partition_status_t status_now(void)
{
    pv_partition_status_t status;

    if (pv_partition_get_status(&status) != PV_OK) {
        status.operating_mode = (pv_partition_mode_t)0xFFu;
        status.start_condition = (pv_start_condition_t)0xFFu;
    }
    return status;
}

/* The partition reads this mode and start condition now. */
#define EXPECT_STATUS(mode, condition)                                                  \
    do {                                                                                \
        pv_partition_status_t st_ = status_now();                                       \
        if (st_.operating_mode != (mode) || st_.start_condition != (condition)) {       \
            FAIL("mode %u start condition %u, expected mode %u start condition %u",     \
                 (unsigned)st_.operating_mode, (unsigned)st_.start_condition,           \
                 (unsigned)(mode), (unsigned)(condition));                              \
        }                                                                               \
    } while (0)

/* What the start left of the three variables: `kept_value` in .warm, the image's value in
 * .data, zero in .bss. */
#define EXPECT_MEMORY(kept_value, what)                                                 \
    do {                                                                                \
        CHECK(plain == PLAIN_INITIAL, "%s: .data holds %u, not its initial %u", what,   \
              (unsigned)plain, PLAIN_INITIAL);                                          \
        CHECK(cleared == 0u, "%s: .bss holds %u, not 0", what, (unsigned)cleared);      \
        CHECK(kept == (kept_value), "%s: .warm holds %u, not %u", what, (unsigned)kept, \
              (unsigned)(kept_value));                                                  \
    } while (0)

/* Write all three, `kept_value` into .warm, before a restart. */
static inline void scribble(uint32_t kept_value)
{
    plain = 99u;
    cleared = 99u;
    kept = kept_value;
}

/* Ask for a mode that restarts the partition: the call must not return. */
#define RESTART(mode, what)                                                             \
    do {                                                                                \
        pv_status_t got_ = pv_partition_set_mode(mode);                                 \
        FAIL("%s: set_mode returned %u and the partition went on", what,               \
             (unsigned)got_);                                                           \
    } while (0)

/* Write past the partition's end: a MEMORY_VIOLATION, for the health monitor. */
static inline void violate_memory(void)
{
    *(volatile uint32_t *)(uintptr_t)PVRT_PARTITION_SIZE = 1u;
}

/* NORMAL, `kept` = 1, then WARM_START: how a program's first run asks for a warm start. */
static inline int go_normal_then_warm(void)
{
    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(1u);
    RESTART(WARM, "NORMAL -> WARM_START");
}

/* NORMAL, `kept` = 1, then an application error whose action restarts the partition (its
 * own HM table's, or the module's): the call must not return. */
static inline int go_normal_then_raise(const char *message)
{
    uint32_t length = 0u;

    EXPECT(set_normal(), PV_OK, "COLD_START -> NORMAL");
    scribble(1u);
    while (message[length] != '\0') {
        length++;
    }
    (void)pv_raise_application_error((const uint8_t *)message, length);
    FAIL("still running after an application error whose action restarts");
}

/* After a module RESET: a cold start of every partition, HM_MODULE_RESTART. */
static inline int check_module_reset(void)
{
    EXPECT_STATUS(COLD, PV_START_CONDITION_HM_MODULE_RESTART);
    EXPECT_MEMORY(KEPT_INITIAL, "after the module's reset");
    return 0;
}

/* A program of two runs: `first` at the partition's first start, ending in a restart it
 * asks for or causes; `second` after that restart, which gives the verdict. */
static inline int two_runs(int (*first)(void), int (*second)(void))
{
    if (status_now().start_condition == PV_START_CONDITION_NORMAL_START) {
        return xtf_step(XTF_NAME, first);
    }
    return xtf_run(XTF_NAME, second);
}

#endif /* MODE_RULES_H */
