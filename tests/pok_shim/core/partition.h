/* Test stand-in for POK's <core/partition.h>: where each partition lives. */
#ifndef POK_SHIM_CORE_PARTITION_H
#define POK_SHIM_CORE_PARTITION_H

#include <types.h>

/* What a real build's deployment.h (NAME.pok/kernel/deployment.h) says. */
#ifndef POK_CONFIG_NB_PARTITIONS
#define POK_CONFIG_NB_PARTITIONS 4
#endif

typedef struct {
    uint32_t base_addr; /* physical address of the partition's address 0 */
    uint32_t size;      /* bytes the partition may address */
} pok_partition_t;

extern pok_partition_t pok_partitions[];

#endif /* POK_SHIM_CORE_PARTITION_H */
