/* Test stand-in for POK's <core/sched.h>: the running thread. */
#ifndef POK_SHIM_CORE_SCHED_H
#define POK_SHIM_CORE_SCHED_H

#include <types.h>

extern uint32_t current_thread;
#define POK_SCHED_CURRENT_THREAD current_thread

#endif /* POK_SHIM_CORE_SCHED_H */
