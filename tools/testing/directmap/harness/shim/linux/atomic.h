/* SPDX-License-Identifier: GPL-2.0 */
/* The atomics mm/directmap uses; the harness is single-threaded */
#ifndef _SHIM_LINUX_ATOMIC_H
#define _SHIM_LINUX_ATOMIC_H

#include <linux/types.h>

#define xchg(ptr, val)		__atomic_exchange_n(ptr, val, __ATOMIC_SEQ_CST)
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)

#endif
