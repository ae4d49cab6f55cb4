/* SPDX-License-Identifier: GPL-2.0 */
/* The bitmap operations mm/directmap uses, written plainly for the harness */
#ifndef _SHIM_LINUX_BITMAP_H
#define _SHIM_LINUX_BITMAP_H

#include <linux/types.h>

#define DECLARE_BITMAP(name, bits)	unsigned long name[BITS_TO_LONGS(bits)]

static inline bool test_bit(unsigned long nr, const unsigned long *map)
{
	return (map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}

static inline void __set_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void __clear_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}

static inline void bitmap_set(unsigned long *map, unsigned long start,
			      unsigned long nr)
{
	while (nr--)
		__set_bit(start++, map);
}

static inline void bitmap_clear(unsigned long *map, unsigned long start,
				unsigned long nr)
{
	while (nr--)
		__clear_bit(start++, map);
}

static inline unsigned long find_next_bit(const unsigned long *map,
					  unsigned long size,
					  unsigned long start)
{
	for (; start < size; start++)
		if (test_bit(start, map))
			return start;
	return size;
}

static inline unsigned long find_next_zero_bit(const unsigned long *map,
					       unsigned long size,
					       unsigned long start)
{
	for (; start < size; start++)
		if (!test_bit(start, map))
			return start;
	return size;
}

static inline unsigned long bitmap_weight(const unsigned long *map,
					  unsigned long size)
{
	unsigned long i, w = 0;

	for (i = 0; i < size; i++)
		w += test_bit(i, map);
	return w;
}

/* First run of @nr zero bits starting at a multiple of @align_mask + 1 */
static inline unsigned long
bitmap_find_next_zero_area(const unsigned long *map, unsigned long size,
			   unsigned long start, unsigned int nr,
			   unsigned long align_mask)
{
	unsigned long index, end;

	for (index = (start + align_mask) & ~align_mask;
	     index + nr <= size; index += align_mask + 1) {
		end = find_next_bit(map, index + nr, index);
		if (end >= index + nr)
			return index;
	}
	return size;
}

/* Provided by the test program, with failure injection */
unsigned long *bitmap_zalloc(unsigned int nbits, gfp_t flags);
void bitmap_free(const unsigned long *map);

#endif
