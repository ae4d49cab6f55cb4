/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The harness is single-threaded: a lock only records that it is held, so
 * that the tests can check nothing sleeps or re-enters under it.
 */
#ifndef _SHIM_LINUX_SPINLOCK_H
#define _SHIM_LINUX_SPINLOCK_H

#include <assert.h>

typedef struct {
	int held;
} spinlock_t;

#define spin_lock_init(l)	((l)->held = 0)
#define spin_lock(l)		do { assert(!(l)->held); (l)->held = 1; } while (0)
#define lockdep_assert_held(l)	assert((l)->held)
#define spin_unlock(l)		do { assert((l)->held); (l)->held = 0; } while (0)

#endif
