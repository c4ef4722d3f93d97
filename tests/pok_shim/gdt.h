/* Test stand-in for POK's kernel/arch/x86/gdt.h: the segment layout. */
#ifndef POK_SHIM_GDT_H
#define POK_SHIM_GDT_H

#define GDT_CORE_CODE_SEGMENT 1

/* Partition n has a code and a data segment after the kernel's and the TSS. */
#define GDT_PARTITION_CODE_SEGMENT(n) (4 + 2 * (n))

#endif /* POK_SHIM_GDT_H */
