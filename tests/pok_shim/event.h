/* Test stand-in for POK's kernel/arch/x86/event.h: installing IDT gates. */
#ifndef POK_SHIM_EVENT_H
#define POK_SHIM_EVENT_H

#include <types.h>

typedef enum {
    IDTE_INTERRUPT = 6
} e_idte_type;

void pok_idt_set_gate(uint16_t index, uint16_t segsel, uint32_t offset, e_idte_type t, int dpl);

#endif /* POK_SHIM_EVENT_H */
