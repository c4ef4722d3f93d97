/* Test stand-in for POK's <types.h>: fixed-width integers and POK's id types. */
#ifndef POK_SHIM_TYPES_H
#define POK_SHIM_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef uint8_t pok_partition_id_t;

#endif /* POK_SHIM_TYPES_H */
