/*
 * gamma: prints the partition's view of its own address space: where its
 * code, data and stack are, all partition-relative.
 */
#include "partition.h"

static int marker = 42;

int main(void)
{
    int local = 7;
    console_puts("*** BEGIN OF TEST gamma ***\n");
    console_printf("gamma: main at %x, data at %x, stack near %x\n",
                   (unsigned)(uintptr_t)&main, (unsigned)(uintptr_t)&marker,
                   (unsigned)(uintptr_t)&local);
    console_printf("gamma: marker = %d\n", marker + local - 7);
    console_puts("*** END OF TEST gamma ***\n");
    return 0;
}
