/*
 * The structures the emulator's native pieces share with each other and with Python.
 *
 * Python mirrors the fields it reads and writes as ctypes structures
 * (pvgen.emulator.native); pv_fast_size() lets a test check the two layouts agree.
 */
#ifndef PVNATIVE_H
#define PVNATIVE_H

#include <stddef.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

typedef uc_err (*pv_ctl_fn)(uc_engine *uc, uc_control_type control, ...);
typedef uc_err (*pv_stop_fn)(uc_engine *uc);
typedef uc_err (*pv_reg_fn)(uc_engine *uc, int regid, void *value);

#define PV_BLOCK_CACHE 4096 /* a power of two */
#define PV_PAGE_SHIFT 12

/* [first, last) of guest memory the hypervisor wrote since the translations there were last
 * dropped (first > last: none). Python and the fast path write guest memory directly, which
 * Unicorn does not see; the trap hook and the next run drop what it had translated there. */
struct pv_written {
    uint32_t first;
    uint32_t last;
};

/* Add [address, address + size) to what was written (the fast path's writes and the trap
 * hook's alike: one definition, beside the structure, so neither file needs the other). */
static inline void pv_written_add(struct pv_written *written, uint32_t address, uint32_t size)
{
    if (address < written->first)
        written->first = address;
    if (address + size > written->last)
        written->last = address + size;
}

struct pv_block {
    uint64_t pc;
    uint32_t size;
    uint32_t icount; /* 0: empty */
};

struct pv_fast;

/* The fields up to `fast` are read and written from Python (BudgetHeader). */
struct pv_budget {
    int64_t left;      /* instructions the CPU may still execute */
    uint64_t executed; /* instructions executed since the budget was made */
    /* The running segment of deterministic time (pvgen.emulator.clock.InstructionClock): it
     * began at virtual time `at` with `granted` instructions and ends at `until`. */
    int64_t at;
    int64_t granted;
    int64_t until;
    int64_t exhausted; /* 1 once the hook stopped the CPU for want of budget (Python clears it) */
    struct pv_fast *fast; /* the upcall fast path, or NULL */
    pv_ctl_fn ctl;
    pv_stop_fn stop;
    /* a byte per page of the partition: 1 once a block there ran (a write there may have
     * to drop translations; one elsewhere never does) */
    uint8_t *ran;
    uint32_t pages;
    struct pv_block cache[PV_BLOCK_CACHE];
};

#define PV_TRAP_REGISTERS 8

/* The fields up to `written` are read and written from Python (TrapHeader). */
struct pv_trap {
    uint32_t values[PV_TRAP_REGISTERS]; /* the trap registers, read at each hypercall */
    uint64_t served;                    /* hypercalls served */
    struct pv_budget *budget;           /* charged `cost` instructions per hypercall, or NULL */
    int64_t cost;
    struct pv_fast *fast; /* the upcall fast path, or NULL */
    struct pv_written written;
    int32_t registers[PV_TRAP_REGISTERS];
    int32_t count;
    int32_t result_register;
    uint32_t trap;
    int32_t faulted; /* 1 once the CPU raised an exception: it serves nothing more */
    pv_reg_fn read;
    pv_reg_fn write;
    int64_t (*serve)(uint32_t interrupt); /* Python: the result word, or -1 for none */
    pv_ctl_fn ctl;
};

/* An instruction Unicorn lets through where the CPU would raise an exception at the
 * partition's privilege level (pvgen.emulator.arch.Unraised): its hook raises `exception`
 * through the trap hook. Allocated by Python (pvgen.emulator.native.UnraisedHeader). */
struct pv_unraised {
    struct pv_trap *trap;
    uint32_t exception;
};

#define PV_FRAME_REGISTERS 20

/*
 * The upcall fast path of one partition (pvupcall.c), allocated and filled by Python
 * (pvgen.emulator.fastpath.FastHeader, field for field).
 */
struct pv_fast {
    /* Python arms it when the partition is in the steady state, and takes back what
     * it did (reconciles) whenever Python looks at the partition again. */
    int32_t armed;
    int32_t phase;     /* of the cycle in progress: PV_FAST_IDLE, _DELIVERED, _ACKED */
    uint64_t taken;    /* ticks taken natively since Python last reconciled */
    int64_t last_due;  /* the virtual time the last of them fell at */
    int64_t period;    /* of the partition's timer, ns */
    int64_t next_due;  /* its next tick */
    int64_t end;       /* the window's end */
    int64_t mips;      /* the virtual CPU rate */
    uint32_t frame;    /* the frame of the cycle in progress */
    uint32_t ticks;    /* the tick count the shared area shows */
    uint32_t handler;  /* the upcall entry point */
    uint32_t area_enabled; /* guest addresses of the shared area's words */
    uint32_t area_pending;
    uint32_t area_ticks;
    uint32_t timer_line;
    /* Fixed for the partition's CPU. */
    uint8_t *ram; /* the partition's memory, [0, memory_size) */
    struct pv_written *written; /* the trap's: what the fast path writes is added */
    uint32_t memory_size;
    uint32_t ack_number; /* irq_ack and irq_return, in the ABI's numbering */
    uint32_t return_number;
    uint32_t ok;         /* the definition's OK status */
    int32_t arguments_in_block; /* 1: in a block the second trap register points at */
    int32_t block_bytes;        /* its size: the dispatcher's bound on the block's address */
    int32_t block_counted;      /* 1: it starts with the count of argument words */
    /* The upcall convention (pvgen.upcall.UpcallConvention), registers as Unicorn ids. */
    int32_t frame_count;
    int32_t frame_registers[PV_FRAME_REGISTERS];
    int32_t status_index;
    int32_t sp_index;
    int32_t pc_register;
    int32_t argument_registers[2]; /* line, frame; -1: stack arguments */
    int32_t return_register;       /* holds return_address on entry; -1: on the stack */
    uint32_t return_address;
    uint32_t level_bit;
    int32_t level_bit_enables;
    uint32_t restored_status_bits;
    uint32_t scratch;
    uint32_t stack_alignment;
    uint32_t call_bias;
    pv_reg_fn read;
    pv_reg_fn write;
};

enum { PV_FAST_IDLE = 0, PV_FAST_DELIVERED = 1, PV_FAST_ACKED = 2 };

/* pvclock.c: the entry points Python calls (pvgen.emulator.native.library) */
struct pv_watchdog;
struct pv_budget *pv_budget_new(pv_ctl_fn ctl, pv_stop_fn stop, uint32_t memory_size);
void pv_budget_free(struct pv_budget *budget);
void pv_budget_block(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);
struct pv_watchdog *pv_watchdog_new(pv_stop_fn stop);
void pv_watchdog_arm(struct pv_watchdog *dog, uc_engine *uc, int64_t ns);
void pv_watchdog_disarm(struct pv_watchdog *dog);
void pv_watchdog_free(struct pv_watchdog *dog);
int pv_watchdog_fired(struct pv_watchdog *dog);
struct pv_trap *pv_trap_new(uint32_t trap, const int32_t *registers, int32_t count,
                            int32_t result_register, pv_reg_fn read, pv_reg_fn write,
                            int64_t (*serve)(uint32_t interrupt), pv_ctl_fn ctl);
void pv_trap_free(struct pv_trap *hook);
void pv_trap_drop_written(struct pv_trap *hook, uc_engine *uc);
void pv_written_drop(struct pv_written *written, struct pv_budget *budget, pv_ctl_fn ctl,
                     uc_engine *uc);
void pv_trap_interrupt(uc_engine *uc, uint32_t interrupt, void *user_data);
uint32_t pv_unraised_in(uc_engine *uc, uint32_t port, int size, void *user_data);
void pv_unraised_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user_data);
void pv_unraised_plain(uc_engine *uc, void *user_data);

/* pvupcall.c */
int pv_fast_tick(struct pv_fast *fast, struct pv_budget *budget, uc_engine *uc);
int pv_fast_call(struct pv_fast *fast, const uint32_t *values, uc_engine *uc, int64_t *result);
size_t pv_fast_size(void);

#endif
