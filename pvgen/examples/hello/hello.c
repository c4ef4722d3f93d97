/*
 * hello: the smallest partition, in the spirit of RTEMS's samples/hello.
 * It prints the RTEMS tester's banners around its greeting and returns, which
 * ends the partition (mode IDLE).
 */
#include "partition.h"

int main(void)
{
    console_puts("\n\n*** BEGIN OF TEST hello ***\n");
    console_puts("Hello World\n");
    console_puts("\n*** END OF TEST hello ***\n");
    return 0;
}
