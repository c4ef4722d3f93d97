/* Test stand-in for POK's <types.h>: fixed-width integers, POK's truth values (an int
 * bool_t with TRUE and FALSE: POK has no <stdbool.h>, and no uintptr_t) and its id types. */
#ifndef POK_SHIM_TYPES_H
#define POK_SHIM_TYPES_H

#include <stdint.h>

#define FALSE 0
#define TRUE 1
#define bool_t int

typedef uint8_t pok_partition_id_t;

#endif /* POK_SHIM_TYPES_H */
