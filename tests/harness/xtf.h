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

#endif /* XTF_H */
