/*
 * alpha: the first of three partitions, each in its own window and address
 * space. It computes the first Fibonacci numbers, so its output does not
 * depend on the others.
 */
#include "partition.h"

int main(void)
{
    unsigned a = 0, b = 1;
    console_puts("*** BEGIN OF TEST alpha ***\n");
    for (int i = 0; i < 10; i++) {
        console_printf("alpha: fib(%d) = %u\n", i, a);
        unsigned next = a + b;
        a = b;
        b = next;
    }
    console_puts("*** END OF TEST alpha ***\n");
    return 0;
}
