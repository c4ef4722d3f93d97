/*
 * The structures the emulator's native pieces share with each other and with Python.
 *
 * Both sides' structures come from one description (pvgen/emulator/native/layout.py):
 * pvshared.h is generated from it, with a compile-time check of every member's offset.
 */
#ifndef PVNATIVE_H
#define PVNATIVE_H

#include <stddef.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

typedef uc_err (*pv_ctl_fn)(uc_engine *uc, uc_control_type control, ...);
typedef uc_err (*pv_stop_fn)(uc_engine *uc);
typedef uc_err (*pv_reg_fn)(uc_engine *uc, int regid, void *value);
typedef int64_t (*pv_serve_fn)(uint32_t interrupt);

#define PV_PAGE_SHIFT 12

/* The structures shared with Python, and their layout checks: generated at the library's
 * build from pvgen/emulator/native/layout.py, the one description of them. */
#include "pvshared.h"

/* Add [address, address + size) to what was written (the fast path's writes and the trap
 * hook's alike: one definition, beside the structure, so neither file needs the other). */
static inline void pv_written_add(struct pv_written *written, uint32_t address, uint32_t size)
{
    if (address < written->first)
        written->first = address;
    if (address + size > written->last)
        written->last = address + size;
}

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
                            pv_serve_fn serve, pv_ctl_fn ctl);
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
