/* What the producer and the consumer agree on: how many rounds, the ports' message size
 * and refresh period, and a check that ends the partition with the failing call. */
#ifndef ROUNDS_H
#define ROUNDS_H

#include <stdio.h>
#include <stdlib.h>

#include <apex.h>

#define ROUNDS 5
#define MESSAGE_BYTES 16
#define REFRESH_NS 100000000 /* a reading is valid for 100 ms */

static inline void check(const char *what, RETURN_CODE_TYPE code)
{
    if (code != NO_ERROR) {
        printf("%s failed: return code %d\n", what, (int)code);
        exit(1);
    }
}

#endif
