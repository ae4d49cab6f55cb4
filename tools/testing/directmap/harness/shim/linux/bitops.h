/* SPDX-License-Identifier: GPL-2.0 */
/* The atomic bit operations mm/directmap uses, on GCC builtins */
#ifndef _SHIM_LINUX_BITOPS_H
#define _SHIM_LINUX_BITOPS_H

#include <linux/types.h>

static inline void set_bit(unsigned long nr, unsigned long *map)
{
	__atomic_fetch_or(&map[nr / BITS_PER_LONG], 1UL << (nr % BITS_PER_LONG),
			  __ATOMIC_SEQ_CST);
}

static inline void clear_bit(unsigned long nr, unsigned long *map)
{
	__atomic_fetch_and(&map[nr / BITS_PER_LONG],
			   ~(1UL << (nr % BITS_PER_LONG)), __ATOMIC_SEQ_CST);
}

static inline bool test_and_set_bit(unsigned long nr, unsigned long *map)
{
	unsigned long bit = 1UL << (nr % BITS_PER_LONG);

	return __atomic_fetch_or(&map[nr / BITS_PER_LONG], bit,
				 __ATOMIC_SEQ_CST) & bit;
}

static inline unsigned long __ffs(unsigned long word)
{
	return __builtin_ctzl(word);
}

static inline unsigned int hweight_long(unsigned long w)
{
	return __builtin_popcountl(w);
}

#endif
