/*
 * The upcall fast path: a partition's timer tick, its delivery, the handler's irq_ack
 * and its irq_return, served without leaving Unicorn, in the steady state only.
 *
 * Why: in Python each of the four costs a stop or a callback and several microseconds
 * of bookkeeping, so a partition taking a tick every few microseconds spends most of its
 * time there. seL4 answers the same problem with a fastpath beside the full kernel
 * path: it handles only the common case, checks every precondition first, and hands
 * anything else to the full path. This is that, for pvgen.emulator.vcpu:
 *
 * - Python (pvgen.emulator.fastpath) arms it only when the partition is in the steady
 *   state: its upcall handler is registered, its vCPU area is shared, the timer's
 *   line is requested, unmasked and not in service, and nothing at all is pending.
 * - At a tick's due time (the budget cannot pay for the next block and the segment
 *   ends at that tick) with the area's level enabled, it raises the tick and enters the
 *   handler exactly as VirtualCpu.deliver does, then starts the next segment as the
 *   module's window loop would. Anything else (interrupts disabled, a cycle in
 *   progress, a frame that would not fit) stops the CPU, as
 *   without the fast path, and Python decides.
 * - During the cycle it serves the handler's irq_ack of the timer line and then its
 *   irq_return, as the dispatcher and VirtualCpu.resume would; any other call, or those
 *   with other arguments, go to Python.
 * - Whenever Python runs for the partition again, it first takes back what was done
 *   here (the ticks taken and a cycle in progress) into its vCPU and timer.
 *
 * The convention is data (pvgen.upcall, as Unicorn register ids): nothing here knows an
 * architecture. Guest memory is the host mapping Unicorn runs from; the host is
 * little-endian, as every guest architecture here.
 */
#include <string.h>

#include "pvnative.h"

static uint32_t pv_word(const struct pv_fast *fast, uint32_t address)
{
    uint32_t word;
    memcpy(&word, fast->ram + address, sizeof word);
    return word;
}

static void pv_set_word(struct pv_fast *fast, uint32_t address, uint32_t word)
{
    memcpy(fast->ram + address, &word, sizeof word);
    pv_written_add(fast->written, address, sizeof word);
}

/* Where a delivery puts the frame and the handler's stack (UpcallConvention.enter);
 * 0 if they would leave the partition. */
static int pv_place(const struct pv_fast *fast, uint32_t interrupted_sp, int64_t *sp,
                    int64_t *frame)
{
    int stack_arguments = fast->argument_registers[0] < 0;
    int64_t call_bytes = stack_arguments ? 12 : 0;
    int64_t frame_size = 4 * (int64_t)fast->frame_count;
    int64_t top = (int64_t)interrupted_sp - fast->scratch - frame_size - call_bytes +
                  fast->call_bias;

    *sp = (top & -(int64_t)fast->stack_alignment) - fast->call_bias;
    *frame = *sp + call_bytes;
    return *sp >= 0 && *frame + frame_size <= fast->memory_size;
}

/* A tick falls at the end of the budget's segment: take it here if the steady state
 * allows; 0 leaves it to Python (the caller stops the CPU). */
int pv_fast_tick(struct pv_fast *fast, struct pv_budget *budget, uc_engine *uc)
{
    uint32_t context[PV_FRAME_REGISTERS];
    int64_t sp, frame;
    int32_t status = fast->status_index;

    if (!fast->armed || fast->phase != PV_FAST_IDLE || budget->until != fast->next_due ||
        fast->next_due >= fast->end || pv_word(fast, fast->area_enabled) == 0)
        return 0;
    for (int32_t i = 0; i < fast->frame_count; i++) {
        context[i] = 0;
        fast->read(uc, fast->frame_registers[i], &context[i]);
    }
    if (!pv_place(fast, context[fast->sp_index], &sp, &frame))
        return 0;
    /* the area's words are written when and as VirtualCpu writes them (a guest may have
     * put its area where the frame or the handler's stack goes): the tick, pending ... */
    fast->ticks++;
    pv_set_word(fast, fast->area_ticks, fast->ticks);
    pv_set_word(fast, fast->area_pending, 1);
    /* the frame resumes enabled: the level it was interrupted at */
    context[status] &= ~fast->level_bit;
    if (fast->level_bit_enables)
        context[status] |= fast->level_bit;
    memcpy(fast->ram + frame, context, 4 * (size_t)fast->frame_count);
    pv_written_add(fast->written, (uint32_t)frame, 4 * (uint32_t)fast->frame_count);
    if (fast->argument_registers[0] < 0) {
        pv_set_word(fast, (uint32_t)sp, fast->return_address);
        pv_set_word(fast, (uint32_t)sp + 4, fast->timer_line);
        pv_set_word(fast, (uint32_t)sp + 8, (uint32_t)frame);
    } else {
        uint32_t line = fast->timer_line, at = (uint32_t)frame;
        fast->write(uc, fast->argument_registers[0], &line);
        fast->write(uc, fast->argument_registers[1], &at);
    }
    if (fast->return_register >= 0)
        fast->write(uc, fast->return_register, &fast->return_address);
    {
        uint32_t stack = (uint32_t)sp, entry = fast->handler;
        fast->write(uc, fast->frame_registers[fast->sp_index], &stack);
        fast->write(uc, fast->pc_register, &entry); /* Unicorn goes on from there */
    }
    /* ... delivered: disabled, and nothing left that enabling would deliver */
    pv_set_word(fast, fast->area_enabled, 0);
    pv_set_word(fast, fast->area_pending, 0);
    fast->phase = PV_FAST_DELIVERED;
    fast->frame = (uint32_t)frame;
    fast->taken++;
    fast->last_due = fast->next_due;

    /* the next segment, as the module's window loop starts it after a tick */
    budget->at = budget->until;
    fast->next_due += fast->period;
    budget->until = fast->next_due < fast->end ? fast->next_due : fast->end;
    budget->granted = budget->left = (budget->until - budget->at) * fast->mips / 1000;
    return 1;
}

/* The call's argument words as the dispatcher would decode them, if it would accept
 * `count` of them; 0 if anything is off (Python then decides, and rejects). */
static int pv_arguments(const struct pv_fast *fast, const uint32_t *values, uint32_t count,
                        uint32_t *first)
{
    uint32_t block = values[1];

    if (!fast->arguments_in_block) {
        *first = values[1];
        return 1;
    }
    if ((int64_t)block > (int64_t)fast->memory_size - fast->block_bytes)
        return 0;
    if (fast->block_counted && pv_word(fast, block) != count)
        return 0;
    *first = pv_word(fast, block + (fast->block_counted ? 4u : 0u));
    return 1;
}

/* irq_return for the cycle in progress (VirtualCpu.resume) */
static void pv_resume(struct pv_fast *fast, uc_engine *uc)
{
    uint32_t words[PV_FRAME_REGISTERS], now = 0;
    int32_t status = fast->status_index;
    uint32_t framed;

    memcpy(words, fast->ram + fast->frame, 4 * (size_t)fast->frame_count);
    framed = words[status];
    fast->read(uc, fast->frame_registers[status], &now);
    words[status] = (now & ~fast->restored_status_bits) | (framed & fast->restored_status_bits);
    for (int32_t i = 0; i < fast->frame_count; i++) {
        if (i != status)
            fast->write(uc, fast->frame_registers[i], &words[i]);
    }
    fast->write(uc, fast->frame_registers[status], &words[status]); /* the status word last */
    pv_set_word(fast, fast->area_enabled,
                ((framed & fast->level_bit) != 0) == (fast->level_bit_enables != 0));
}

/* A hypercall during the cycle: 1 if served here (`result`: the word for the result
 * register, or -1 for none), 0 if Python is to serve it. */
int pv_fast_call(struct pv_fast *fast, const uint32_t *values, uc_engine *uc, int64_t *result)
{
    uint32_t line;

    if (!fast->armed || fast->phase == PV_FAST_IDLE)
        return 0;
    if (fast->phase == PV_FAST_DELIVERED && values[0] == fast->ack_number) {
        if (!pv_arguments(fast, values, 1, &line) || line != fast->timer_line)
            return 0;
        fast->phase = PV_FAST_ACKED;
        pv_set_word(fast, fast->area_pending, 0); /* as VirtualCpu.acknowledge publishes */
        *result = fast->ok;
        return 1;
    }
    if (fast->phase == PV_FAST_ACKED && values[0] == fast->return_number) {
        if (!pv_arguments(fast, values, 0, &line))
            return 0;
        pv_resume(fast, uc);
        fast->phase = PV_FAST_IDLE;
        *result = -1;
        return 1;
    }
    return 0;
}

size_t pv_fast_size(void)
{
    return sizeof(struct pv_fast);
}
