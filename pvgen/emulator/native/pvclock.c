/*
 * The emulator's native clock: small pieces of C that Python cannot do fast.
 *
 * 1. An instruction budget, charged per translated block. Unicorn's own
 *    `count=` hooks every instruction; this hook runs once per block and looks
 *    the block's instruction count up in a small cache (asking Unicorn on a
 *    miss). A block the budget cannot pay for is not started: Unicorn stops
 *    before executing a block whose hook asked it to, so the executed count is
 *    exact and never exceeds the budget.
 * 2. A host-time watchdog: one thread for the whole run that stops a CPU when
 *    its window's host time is over. Unicorn's `timeout=` starts a thread per
 *    emu_start, which costs more than a short window. The watchdog keeps
 *    stopping the CPU until it is disarmed, because a stop that lands just
 *    before emu_start begins would otherwise be lost.
 *
 * 3. The interrupt hook: for the hypercall trap it reads the ABI's trap registers
 *    before calling Python, and writes the result register after, so that a
 *    hypercall costs one call into Python and none back into Unicorn for them.
 *    Then it drops the translations of guest memory the call wrote (struct
 *    pv_written), so that the guest executes what the hypervisor wrote, wherever
 *    its code lies; the budget's record of the pages blocks ran in keeps that free
 *    for writes to data.
 *
 * 4. Hooks for the instructions Unicorn lets through where the CPU, at the partition's
 *    privilege level, raises an exception (x86 port I/O, sysenter, syscall): they
 *    raise it through the interrupt hook, as the CPU's own exceptions arrive.
 *
 * Both hooks first offer their event to the upcall fast path (pvupcall.c), when the
 * partition has one: a tick at a segment's end, an irq_ack or irq_return.
 *
 * The Unicorn entry points arrive as function pointers from the Python binding's
 * library, so this file needs Unicorn's header but not its link name.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "pvnative.h"

struct pv_budget *pv_budget_new(pv_ctl_fn ctl, pv_stop_fn stop, uint32_t memory_size)
{
    struct pv_budget *budget = calloc(1, sizeof *budget);
    if (budget == NULL)
        return NULL;
    budget->pages = (uint32_t)(((uint64_t)memory_size + (1u << PV_PAGE_SHIFT) - 1) >>
                               PV_PAGE_SHIFT);
    budget->ran = calloc(budget->pages ? budget->pages : 1, 1);
    if (budget->ran == NULL) {
        free(budget);
        return NULL;
    }
    budget->ctl = ctl;
    budget->stop = stop;
    return budget;
}

void pv_budget_free(struct pv_budget *budget)
{
    free(budget->ran);
    free(budget);
}

/* A block of `size` bytes at `address` runs: its pages may hold translations from now on. */
static void pv_budget_ran(struct pv_budget *budget, uint64_t address, uint32_t size)
{
    uint64_t last = (address + (size ? size - 1 : 0)) >> PV_PAGE_SHIFT;
    for (uint64_t page = address >> PV_PAGE_SHIFT; page <= last && page < budget->pages; page++)
        budget->ran[page] = 1;
}

/* Whether a block ran in [first, last) (first < last). */
static int pv_budget_has_run(const struct pv_budget *budget, uint32_t first, uint32_t last)
{
    uint32_t end = (last - 1) >> PV_PAGE_SHIFT;
    for (uint32_t page = first >> PV_PAGE_SHIFT; page <= end && page < budget->pages; page++) {
        if (budget->ran[page])
            return 1;
    }
    return 0;
}

/* Drop the translations of what the hypervisor wrote, if any can be there: with a budget,
 * only where a block ran; without one, Unicorn is asked every time. Unicorn drops only the
 * blocks the bytes overlap. The budget's cache tells a rewritten block by its size, as it
 * does when the guest rewrites its own code (emptying it here would cost every call that
 * writes near code its cache). */
void pv_written_drop(struct pv_written *written, struct pv_budget *budget, pv_ctl_fn ctl,
                     uc_engine *uc)
{
    if (written->first < written->last &&
        (budget == NULL || pv_budget_has_run(budget, written->first, written->last)))
        ctl(uc, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), (uint64_t)written->first,
            (uint64_t)written->last);
    written->first = UINT32_MAX;
    written->last = 0;
}

/* A UC_HOOK_BLOCK callback; user_data is the budget. */
void pv_budget_block(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct pv_budget *budget = user_data;
    struct pv_block *block = &budget->cache[(address ^ (address >> 12)) & (PV_BLOCK_CACHE - 1)];

    /* A block rewritten since it was cached has a new translation; its size tells most
     * such rewrites apart, and a miss asks Unicorn for the translation's own count. */
    if (block->icount == 0 || block->pc != address || block->size != size) {
        uc_tb tb;
        block->pc = address;
        block->size = size;
        block->icount = 1;
        pv_budget_ran(budget, address, size);
        if (budget->ctl(uc, UC_CTL_READ_WRITE(UC_CTL_TB_REQUEST_CACHE, 2), address, &tb) ==
                UC_ERR_OK &&
            tb.icount > 0)
            block->icount = tb.icount;
    }
    if (budget->left < (int64_t)block->icount) {
        /* the segment's time is over: a tick the upcall fast path takes goes on at once */
        if (budget->fast == NULL || !pv_fast_tick(budget->fast, budget, uc)) {
            budget->exhausted = 1;
            budget->stop(uc);
        } else {
            pv_written_drop(budget->fast->written, budget, budget->ctl, uc);
        }
        return;
    }
    budget->left -= block->icount;
    budget->executed += block->icount;
}

struct pv_watchdog {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pv_stop_fn stop;
    uc_engine *uc; /* NULL: disarmed */
    struct timespec deadline;
    int quit;
    int fired; /* it has stopped the CPU it is armed for */
};

#define PV_RESTOP_NS 50000L /* how often a late stop is repeated until disarmed */

static void pv_add_ns(struct timespec *t, long ns)
{
    t->tv_nsec += ns % 1000000000L;
    t->tv_sec += ns / 1000000000L + t->tv_nsec / 1000000000L;
    t->tv_nsec %= 1000000000L;
}

static int pv_passed(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *pv_watchdog_main(void *arg)
{
    struct pv_watchdog *dog = arg;
    pthread_mutex_lock(&dog->lock);
    while (!dog->quit) {
        if (dog->uc == NULL) {
            pthread_cond_wait(&dog->changed, &dog->lock);
        } else if (pv_passed(&dog->deadline)) {
            dog->stop(dog->uc);
            dog->fired = 1;
            pv_add_ns(&dog->deadline, PV_RESTOP_NS);
        } else {
            pthread_cond_timedwait(&dog->changed, &dog->lock, &dog->deadline);
        }
    }
    pthread_mutex_unlock(&dog->lock);
    return NULL;
}

struct pv_watchdog *pv_watchdog_new(pv_stop_fn stop)
{
    struct pv_watchdog *dog = calloc(1, sizeof *dog);
    pthread_condattr_t attributes;
    if (dog == NULL)
        return NULL;
    dog->stop = stop;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&dog->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_init(&dog->lock, NULL);
    if (pthread_create(&dog->thread, NULL, pv_watchdog_main, dog) != 0) {
        free(dog);
        return NULL;
    }
    return dog;
}

/* Stop `uc` once `ns` nanoseconds of host time have passed, and again until disarmed. */
void pv_watchdog_arm(struct pv_watchdog *dog, uc_engine *uc, int64_t ns)
{
    pthread_mutex_lock(&dog->lock);
    clock_gettime(CLOCK_MONOTONIC, &dog->deadline);
    pv_add_ns(&dog->deadline, (long)ns);
    dog->uc = uc;
    dog->fired = 0;
    pthread_cond_signal(&dog->changed);
    pthread_mutex_unlock(&dog->lock);
}

void pv_watchdog_disarm(struct pv_watchdog *dog)
{
    pthread_mutex_lock(&dog->lock);
    dog->uc = NULL;
    pthread_mutex_unlock(&dog->lock);
}

/* Whether the watchdog stopped the CPU since it was last armed. */
int pv_watchdog_fired(struct pv_watchdog *dog)
{
    int fired;
    pthread_mutex_lock(&dog->lock);
    fired = dog->fired;
    pthread_mutex_unlock(&dog->lock);
    return fired;
}

void pv_watchdog_free(struct pv_watchdog *dog)
{
    pthread_mutex_lock(&dog->lock);
    dog->quit = 1;
    pthread_cond_signal(&dog->changed);
    pthread_mutex_unlock(&dog->lock);
    pthread_join(dog->thread, NULL);
    pthread_cond_destroy(&dog->changed);
    pthread_mutex_destroy(&dog->lock);
    free(dog);
}

struct pv_trap *pv_trap_new(uint32_t trap, const int32_t *registers, int32_t count,
                            int32_t result_register, pv_reg_fn read, pv_reg_fn write,
                            pv_serve_fn serve, pv_ctl_fn ctl)
{
    struct pv_trap *hook;
    if (count < 0 || count > PV_TRAP_REGISTERS)
        return NULL;
    hook = calloc(1, sizeof *hook);
    if (hook == NULL)
        return NULL;
    for (int32_t i = 0; i < count; i++)
        hook->registers[i] = registers[i];
    hook->count = count;
    hook->result_register = result_register;
    hook->trap = trap;
    hook->read = read;
    hook->write = write;
    hook->serve = serve;
    hook->ctl = ctl;
    hook->written.first = UINT32_MAX;
    return hook;
}

/* What Python wrote between runs (an upcall's frame, a restart's kept sections). */
void pv_trap_drop_written(struct pv_trap *hook, uc_engine *uc)
{
    pv_written_drop(&hook->written, hook->budget, hook->ctl, uc);
}

void pv_trap_free(struct pv_trap *hook)
{
    free(hook);
}

/* A UC_HOOK_INTR callback; user_data is the trap. */
void pv_trap_interrupt(uc_engine *uc, uint32_t interrupt, void *user_data)
{
    struct pv_trap *hook = user_data;
    int64_t result;

    /* After an exception the CPU is stopping: what the rest of its translated block
     * raises (Unicorn stops between blocks) is neither served nor reported. */
    if (hook->faulted)
        return;
    if (interrupt != hook->trap) {
        hook->faulted = 1;
        (void)hook->serve(interrupt);
        return;
    }
    for (int32_t i = 0; i < hook->count; i++) {
        hook->values[i] = 0;
        hook->read(uc, hook->registers[i], &hook->values[i]);
    }
    if (hook->fast == NULL || !pv_fast_call(hook->fast, hook->values, uc, &result))
        result = hook->serve(interrupt);
    if (result >= 0) {
        uint32_t word = (uint32_t)result;
        hook->write(uc, hook->result_register, &word);
    }
    pv_written_drop(&hook->written, hook->budget, hook->ctl, uc);
    /* Charged after serving: the time a hypercall reads does not include its own cost. */
    hook->served++;
    if (hook->budget != NULL)
        hook->budget->left = hook->budget->left > hook->cost ? hook->budget->left - hook->cost : 0;
}

/* UC_HOOK_INSN callbacks, one per hook signature; user_data is a struct pv_unraised. */
uint32_t pv_unraised_in(uc_engine *uc, uint32_t port, int size, void *user_data)
{
    const struct pv_unraised *unraised = user_data;
    (void)port;
    (void)size;
    pv_trap_interrupt(uc, unraised->exception, unraised->trap);
    return 0;
}

void pv_unraised_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user_data)
{
    const struct pv_unraised *unraised = user_data;
    (void)port;
    (void)size;
    (void)value;
    pv_trap_interrupt(uc, unraised->exception, unraised->trap);
}

void pv_unraised_plain(uc_engine *uc, void *user_data)
{
    const struct pv_unraised *unraised = user_data;
    pv_trap_interrupt(uc, unraised->exception, unraised->trap);
}
