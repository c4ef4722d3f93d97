/* Test stand-in for POK's <errno.h>: the kernel's return codes. */
#ifndef POK_SHIM_ERRNO_H
#define POK_SHIM_ERRNO_H

typedef enum {
    POK_ERRNO_OK = 0
} pok_ret_t;

#endif /* POK_SHIM_ERRNO_H */
