/*
 * beta: sums a table it keeps in its own .data, and checks that its .bss
 * started cleared, as the runtime promises.
 */
#include "partition.h"

static const unsigned table[] = {3, 1, 4, 1, 5, 9, 2, 6};
static unsigned cleared[16];

int main(void)
{
    unsigned sum = 0, dirty = 0;
    console_puts("*** BEGIN OF TEST beta ***\n");
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
        sum += table[i];
    }
    for (unsigned i = 0; i < sizeof cleared / sizeof cleared[0]; i++) {
        dirty |= cleared[i];
    }
    console_printf("beta: sum = %u, bss %s\n", sum, dirty ? "DIRTY" : "clear");
    console_puts("*** END OF TEST beta ***\n");
    return 0;
}
