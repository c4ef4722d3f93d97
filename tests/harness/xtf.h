/*
 * The shape of a Xen Test Framework test on the bare-metal runtime, shared by the rule
 * programs (tests/vcpu_rules, tests/port_rules): each prints exactly one verdict line
 * between the RTEMS banners the emulator's verdict logic reads:
 *
 *     *** BEGIN OF TEST <name> ***
 *     Test result: SUCCESS          (or: Test result: FAILURE: <why>)
 *     *** END OF TEST <name> ***
 *
 * Each program defines XTF_NAME, its test's name, before including its directory's header.
 */
#ifndef XTF_H
#define XTF_H

#include "partition.h"

#ifndef XTF_NAME
#error "define XTF_NAME before including the rule header"
#endif

/* Whether the BEGIN banner is out: a failure before xtf_run (a program's first run
 * before a restart) prints it first. */
static int xtf_began;

static inline void xtf_begin(const char *name)
{
    if (!xtf_began) {
        console_printf("*** BEGIN OF TEST %s ***\n", name);
        xtf_began = 1;
    }
}

/* The verdict: FAIL prints the failure line and leaves the test function. */
#define FAIL(...)                                   \
    do {                                            \
        xtf_begin(XTF_NAME);                        \
        console_puts("Test result: FAILURE: ");     \
        console_printf(__VA_ARGS__);                \
        console_puts("\n");                         \
        return 1;                                   \
    } while (0)

#define CHECK(condition, ...)                       \
    do {                                            \
        if (!(condition)) {                         \
            FAIL(__VA_ARGS__);                      \
        }                                           \
    } while (0)

/* A call must answer this status (the generated PV_* codes). */
#define EXPECT(call, expected, what)                                        \
    do {                                                                    \
        pv_status_t got_ = (call);                                          \
        if (got_ != (expected)) {                                           \
            FAIL("%s: status %u, expected %u", what, (unsigned)got_,        \
                 (unsigned)(expected));                                     \
        }                                                                   \
    } while (0)

#define MS 1000000u

/* Sleep until the partition's next window (with no timer, idle waits for the window). */
static inline void next_window(void)
{
    (void)pv_idle();
}

static inline pv_status_t set_normal(void)
{
    return pv_partition_set_mode(PV_PARTITION_MODE_NORMAL);
}

/* Run a test between the banners: SUCCESS unless it printed a FAILURE. */
static inline int xtf_run(const char *name, int (*test)(void))
{
    xtf_begin(name);
    if (test() == 0) {
        console_puts("Test result: SUCCESS\n");
    }
    console_printf("*** END OF TEST %s ***\n", name);
    return 0;
}

/* One run of a program that restarts itself on the way to its verdict: `step` returns only
 * if it failed (having printed BEGIN and its FAILURE), and then the END banner follows; a
 * run that ends in a restart as planned prints nothing. */
static inline int xtf_step(const char *name, int (*step)(void))
{
    (void)step();
    console_printf("*** END OF TEST %s ***\n", name);
    return 0;
}

#endif /* XTF_H */
