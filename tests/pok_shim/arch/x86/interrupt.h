/* Test stand-in for POK's <arch/x86/interrupt.h>: the saved registers of a trap. */
#ifndef POK_SHIM_ARCH_X86_INTERRUPT_H
#define POK_SHIM_ARCH_X86_INTERRUPT_H

#include <types.h>

/* The stack of an interrupt entry, lowest address first. */
typedef struct {
    uint32_t es;
    uint32_t ds;
    uint32_t edi; /* pushed by pusha, from here to eax */
    uint32_t esi;
    uint32_t ebp;
    uint32_t esp_at_pusha;
    uint32_t ebx;
    uint32_t edx;
    uint32_t ecx;
    uint32_t eax;
    uint32_t error; /* the CPU's error code, or padding */
    uint32_t eip;   /* pushed by the CPU, from here on */
    uint32_t cs;
    uint32_t eflags;
    uint32_t esp; /* only on a change of privilege level */
    uint32_t ss;
} interrupt_frame;

/*
 * Declares the entry `name` (in POK, assembly that saves the registers, calls
 * name_handler with them and restores them) and opens the C handler's body.
 */
#define INTERRUPT_HANDLER(name)                      \
    void name(void);                                 \
    void name##_handler(interrupt_frame *frame);     \
    void name##_handler(interrupt_frame *frame)

#endif /* POK_SHIM_ARCH_X86_INTERRUPT_H */
