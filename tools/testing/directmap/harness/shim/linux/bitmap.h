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

/* The bits of the last word of a bitmap of @nbits that are in it */
#define BITMAP_LAST_WORD_MASK(nbits)	(~0UL >> (-(nbits) & (BITS_PER_LONG - 1)))

static inline void bitmap_zero(unsigned long *dst, unsigned int nbits)
{
	memset(dst, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

/* As lib/bitmap.c: bits past @nbits in the last word come out clear */
static inline bool bitmap_and(unsigned long *dst, const unsigned long *src1,
			      const unsigned long *src2, unsigned int nbits)
{
	unsigned int k, lim = nbits / BITS_PER_LONG;
	unsigned long result = 0;

	for (k = 0; k < lim; k++)
		result |= (dst[k] = src1[k] & src2[k]);
	if (nbits % BITS_PER_LONG)
		result |= (dst[k] = src1[k] & src2[k] &
				    BITMAP_LAST_WORD_MASK(nbits));
	return result != 0;
}

static inline bool bitmap_andnot(unsigned long *dst, const unsigned long *src1,
				 const unsigned long *src2, unsigned int nbits)
{
	unsigned int k, lim = nbits / BITS_PER_LONG;
	unsigned long result = 0;

	for (k = 0; k < lim; k++)
		result |= (dst[k] = src1[k] & ~src2[k]);
	if (nbits % BITS_PER_LONG)
		result |= (dst[k] = src1[k] & ~src2[k] &
				    BITMAP_LAST_WORD_MASK(nbits));
	return result != 0;
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

/* Word at a time, as lib/find_bit.c: the simulator runs 10^7 operations */
static inline unsigned long find_next_bit(const unsigned long *map,
					  unsigned long size,
					  unsigned long start)
{
	unsigned long w;

	while (start < size) {
		w = map[start / BITS_PER_LONG] >> (start % BITS_PER_LONG);
		if (w) {
			start += __builtin_ctzl(w);
			return start < size ? start : size;
		}
		start = (start / BITS_PER_LONG + 1) * BITS_PER_LONG;
	}
	return size;
}

static inline unsigned long find_next_zero_bit(const unsigned long *map,
					       unsigned long size,
					       unsigned long start)
{
	unsigned long w;

	while (start < size) {
		w = ~map[start / BITS_PER_LONG] >> (start % BITS_PER_LONG);
		if (w) {
			start += __builtin_ctzl(w);
			return start < size ? start : size;
		}
		start = (start / BITS_PER_LONG + 1) * BITS_PER_LONG;
	}
	return size;
}

static inline unsigned long bitmap_weight(const unsigned long *map,
					  unsigned long size)
{
	unsigned long i, w = 0;

	for (i = 0; i < size / BITS_PER_LONG; i++)
		w += __builtin_popcountl(map[i]);
	for (i = size / BITS_PER_LONG * BITS_PER_LONG; i < size; i++)
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

	for (;;) {
		index = find_next_zero_bit(map, size, start);
		index = (index + align_mask) & ~align_mask;
		if (index + nr > size)
			return size;
		end = find_next_bit(map, index + nr, index);
		if (end >= index + nr)
			return index;
		start = end + 1;
	}
}

/* Provided by the test program, with failure injection */
unsigned long *bitmap_zalloc(unsigned int nbits, gfp_t flags);
void bitmap_free(const unsigned long *map);

#endif
