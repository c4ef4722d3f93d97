/*
 * The emulator tests' partition program (tests/emulator_harness.py): one
 * program, many behaviours, so that a single build serves every image. The
 * partition's identifier modulo 100 picks the behaviour:
 *
 *    1  calm: banners and one line per window for three windows, with the time it sees
 *    2  returns at once
 *    3  BEGIN OF TEST without END
 *    4  BEGIN OF TEST, then FATAL
 *    5  one line per window, forever
 *    6  ends with half a line
 *    7  reads the time 12000 times, counting how often it went backwards
 *    8  BEGIN OF TEST, TEST STATE: USER_INPUT, no END
 *    9  BEGIN OF TEST, TEST STATE: EXPECTED_FAIL, no END
 *   11  reads PVRT_PARTITION_SIZE + 0x1000      12  writes there
 *   13  reads 0xFFFFFFF0                        14  writes there
 *   15  an undefined instruction (x86 ud2, ARM udf)
 *   16  divides by zero (x86 div; nothing on ARM, whose division does not trap)
 *   17  console_write with a buffer outside the partition
 *   18  hypercall 9999, which does not exist
 *   19  stop with error code 7
 *   20  raise_application_error
 *   21  reads PVRT_PARTITION_SIZE + 0x1000 at every start, not only the first
 *   22  prints half a line, then reads PVRT_PARTITION_SIZE + 0x1000
 *   23  a software interrupt that is not the hypercall trap (x86 int $0x80)
 *   24  irq_return with no upcall to return from
 *   31  partition_set_mode NORMAL twice, then IDLE
 *   32  partition_set_mode COLD_START
 *   33  partition_set_mode WARM_START, then NORMAL and WARM_START
 *   29  shuts the module down (a SystemPartition may)
 *   41  spins in its window               42  disables virtual interrupts and spins
 *
 * Every run first prints its count of runs, kept in .data from 40, with the mode
 * and start condition it reads: a partition reloaded from the image prints
 * "run 41" again. Behaviours other than 21 happen only after a normal start,
 * so that a restarted partition then simply ends.
 */
#include "partition.h"

static volatile unsigned runs = 40; /* .data */

static void returned(const char *what, uint32_t value)
{
    console_printf("%s returned %u\n", what, (unsigned)value);
}

static void print_status(void)
{
    pv_partition_status_t st;

    returned("partition_get_status", (uint32_t)pv_partition_get_status(&st));
    console_printf("period %u duration %u identifier %u mode %u start %u lock %u\n",
                   (unsigned)st.period, (unsigned)st.duration, (unsigned)st.identifier,
                   (unsigned)st.operating_mode, (unsigned)st.start_condition,
                   (unsigned)st.lock_level);
}

static void calm(void)
{
    console_puts("*** BEGIN OF TEST calm ***\n");
    for (unsigned i = 0; i < 3; i++) {
        pv_system_time_t now;

        (void)pv_get_time(&now);
        console_printf("window %u at %u ns\n", i, (unsigned)now);
        if (i < 2) {
            (void)pv_idle();
        }
    }
    console_puts("*** END OF TEST calm ***\n");
}

int main(void);

static void misbehave(unsigned behaviour)
{
    volatile unsigned *past_end = (volatile unsigned *)(PVRT_PARTITION_SIZE + 0x1000u);
    volatile unsigned *top = (volatile unsigned *)0xFFFFFFF0u;

    switch (behaviour) {
    case 22: console_puts("half a line"); /* fall through */
    case 11: case 21: console_printf("read %x\n", *past_end); break;
    case 12: *past_end = 1; break;
    case 13: console_printf("read %x\n", *top); break;
    case 14: *top = 1; break;
#if defined(__i386__)
    case 15: __asm__ __volatile__("ud2"); break;
    case 16: {
        unsigned quotient = 1, remainder = 0, zero = 0;
        __asm__ __volatile__("divl %2" : "+a"(quotient), "+d"(remainder) : "r"(zero));
        console_printf("quotient %u\n", quotient);
        break;
    }
    case 23: __asm__ __volatile__("int $0x80"); break;
#elif defined(__thumb__)
    case 15: __asm__ __volatile__(".inst.w 0xf7f0a000"); break; /* udf.w #0 */
#else
    case 15: __asm__ __volatile__(".inst 0xe7f000f0"); break; /* udf #0 */
#endif
    case 17:
        returned("console_write", (uint32_t)pv_console_write((const uint8_t *)0xFFFFFF00u, 64));
        break;
    case 18: returned("hypercall 9999", pv_trap0(9999)); break;
    case 29: pv_shutdown();
    case 24: pv_irq_return();
    case 19: pv_stop(7);
    case 20:
        returned("raise_application_error",
                 (uint32_t)pv_raise_application_error((const uint8_t *)"oops", 4));
        break;
    case 31:
        returned("set_mode NORMAL", (uint32_t)pv_partition_set_mode(PV_PARTITION_MODE_NORMAL));
        print_status();
        returned("set_mode NORMAL", (uint32_t)pv_partition_set_mode(PV_PARTITION_MODE_NORMAL));
        returned("set_mode IDLE", (uint32_t)pv_partition_set_mode(PV_PARTITION_MODE_IDLE));
        break;
    case 32: (void)pv_partition_set_mode(PV_PARTITION_MODE_COLD_START); break;
    case 33:
        returned("set_mode WARM_START", (uint32_t)pv_partition_set_mode(PV_PARTITION_MODE_WARM_START));
        returned("set_mode NORMAL", (uint32_t)pv_partition_set_mode(PV_PARTITION_MODE_NORMAL));
        (void)pv_partition_set_mode(PV_PARTITION_MODE_WARM_START);
        break;
    default: console_printf("no behaviour %u\n", behaviour); break;
    }
    console_puts("resumed\n");
}

int main(void)
{
    pv_partition_status_t st;
    unsigned behaviour;

    (void)pv_partition_get_status(&st);
    behaviour = st.identifier % 100u;
    runs++;
    console_printf("run %u mode %u start %u\n", runs, (unsigned)st.operating_mode,
                   (unsigned)st.start_condition);
    if (st.start_condition != PV_START_CONDITION_NORMAL_START && behaviour != 21) {
        return 0;
    }
    switch (behaviour) {
    case 1: calm(); return 0;
    case 2: return 0;
    case 3: console_puts("*** BEGIN OF TEST unfinished ***\n"); return 0;
    case 4: console_puts("*** BEGIN OF TEST doomed ***\n*** FATAL: it went wrong\n"); return 0;
    case 6: console_puts("half a line"); return 0;
    case 8:
        console_puts("*** BEGIN OF TEST waiting ***\n*** TEST STATE: USER_INPUT\n");
        return 0;
    case 9:
        console_puts("*** BEGIN OF TEST broken ***\n*** TEST STATE: EXPECTED_FAIL\n");
        return 0;
    case 7: {
        pv_system_time_t last = 0, now = 0;
        unsigned backwards = 0;
        for (unsigned i = 0; i < 12000; i++) {
            (void)pv_get_time(&now);
            backwards += now < last;
            last = now;
        }
        console_printf("last read %u ns, backwards %u times\n", (unsigned)last, backwards);
        return 0;
    }
    case 5:
        for (unsigned i = 0;; i++) {
            console_printf("window %u\n", i);
            (void)pv_idle();
        }
    case 42: returned("irq_disable", pv_irq_disable()); /* fall through */
    case 41:
        for (;;) {
        }
    default: misbehave(behaviour); return 0;
    }
}
