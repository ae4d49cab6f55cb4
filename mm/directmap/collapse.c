// SPDX-License-Identifier: GPL-2.0
/*
 * directmap collapse policy: which areas of the direct map to re-form into
 * 2M and 1G entries, and when.
 *
 * Whoever changes the direct map notes it here: a change to 4K entries
 * marks the 2M area over them, a change to 2M entries (or a split of a 1G
 * one) marks the 1G area.  A mark is one bit, set atomically from any
 * context without allocating, so CPA can note while it holds its locks and
 * the steady state costs no scan of the page tables.
 *
 * A pass moves the marks from "fresh" to "aged" and tries an area only when
 * it was aged at the start of the pass and not marked again since: an area
 * must be quiet for a whole period before it is collapsed, so an area that
 * keeps changing is not split and collapsed in a loop.  A 2M area that
 * set_memory_4k() asked for (kfence, SEV-SNP) is pinned and never tried.
 *
 * Everything here is arch-independent: tools/testing/directmap runs it
 * against a simulated direct map.
 */
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/slab.h>

#include "policy.h"

/**
 * dmap_collapse_init - set up the marks for a direct map of @max_pfn frames
 * @dc:		the state to set up
 * @max_pfn:	one past the highest frame the direct map can ever map
 *
 * Return: 0, or -ENOMEM.
 */
int dmap_collapse_init(struct dmap_collapse *dc, unsigned long max_pfn)
{
	memset(dc, 0, sizeof(*dc));
	dc->nr_pmds = DIV_ROUND_UP(max_pfn, DMAP_REGION_PAGES);
	dc->nr_puds = DIV_ROUND_UP(max_pfn, DMAP_PUD_PAGES);
	dc->pmd_fresh = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pmd_aged = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pmd_pinned = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pud_fresh = bitmap_zalloc(dc->nr_puds, GFP_KERNEL);
	dc->pud_aged = bitmap_zalloc(dc->nr_puds, GFP_KERNEL);
	if (dc->pmd_fresh && dc->pmd_aged && dc->pmd_pinned &&
	    dc->pud_fresh && dc->pud_aged)
		return 0;

	dmap_collapse_exit(dc);
	return -ENOMEM;
}

/**
 * dmap_collapse_exit - free what dmap_collapse_init() allocated
 * @dc:		the state
 */
void dmap_collapse_exit(struct dmap_collapse *dc)
{
	bitmap_free(dc->pmd_fresh);
	bitmap_free(dc->pmd_aged);
	bitmap_free(dc->pmd_pinned);
	bitmap_free(dc->pud_fresh);
	bitmap_free(dc->pud_aged);
	memset(dc, 0, sizeof(*dc));
}

/**
 * dmap_collapse_note - note a change of the direct map at @pfn
 * @dc:		the state
 * @pfn:	a frame whose entry changed
 * @pud:	false: a 4K entry changed or a 2M entry was split, so the 2M
 *		area may be re-formed; true: a 2M entry changed or a 1G entry
 *		was split, so the 1G area may be
 *
 * Context: any; does not allocate.
 * Return: true if the area was not marked yet, so the worker needs a kick.
 */
bool dmap_collapse_note(struct dmap_collapse *dc, unsigned long pfn, bool pud)
{
	if (pud) {
		pfn >>= DMAP_PUD_ORDER;
		return pfn < dc->nr_puds && !test_and_set_bit(pfn, dc->pud_fresh);
	}
	pfn >>= DMAP_REGION_ORDER;
	return pfn < dc->nr_pmds && !test_and_set_bit(pfn, dc->pmd_fresh);
}

/* Pin (@pin) or unpin the 2M areas of a range, atomically */
static void dmap_collapse_set_pins(struct dmap_collapse *dc, unsigned long pfn,
				   unsigned long nr_pages, bool pin)
{
	unsigned long area = pfn >> DMAP_REGION_ORDER;
	unsigned long last = (pfn + nr_pages - 1) >> DMAP_REGION_ORDER;

	if (!nr_pages)
		return;
	for (; area <= last && area < dc->nr_pmds; area++) {
		if (pin)
			set_bit(area, dc->pmd_pinned);
		else
			clear_bit(area, dc->pmd_pinned);
	}
}

/**
 * dmap_collapse_pin - keep the 2M areas of a range at 4K for good
 * @dc:		the state
 * @pfn:	first frame
 * @nr_pages:	number of frames
 *
 * Context: any; does not allocate.
 */
void dmap_collapse_pin(struct dmap_collapse *dc, unsigned long pfn,
		       unsigned long nr_pages)
{
	dmap_collapse_set_pins(dc, pfn, nr_pages, true);
}

/**
 * dmap_collapse_unpin - forget the pins of a range
 * @dc:		the state
 * @pfn:	first frame
 * @nr_pages:	number of frames
 *
 * For memory that goes offline: whatever comes back there later has not
 * asked to stay at 4K.
 *
 * Context: any; does not allocate.
 */
void dmap_collapse_unpin(struct dmap_collapse *dc, unsigned long pfn,
			 unsigned long nr_pages)
{
	dmap_collapse_set_pins(dc, pfn, nr_pages, false);
}

/*
 * Take the marks of word @i: return the areas that are due, and leave in
 * @aged those that must wait one more period.
 */
static unsigned long dmap_collapse_due(unsigned long *fresh,
				       unsigned long *aged, unsigned long i,
				       bool now)
{
	/* Most words are clear: read before paying for the atomic */
	unsigned long marked = READ_ONCE(fresh[i]) ? xchg(&fresh[i], 0) : 0;
	unsigned long due;

	if (now) {
		due = aged[i] | marked;
		aged[i] = 0;
	} else {
		/* Aged and not marked again: quiet for a whole period */
		due = aged[i] & ~marked;
		aged[i] = marked;
	}
	return due;
}

/*
 * Count the outcome of one try at the area over @pfn; a contended lock
 * marks it fresh again, so a later pass retries it.  An area whose entries
 * differ is dropped: the next change of the area marks it again.
 */
static int dmap_collapse_count(struct dmap_collapse *dc, unsigned long pfn,
			       bool pud, int ret)
{
	if (ret == 1) {
		if (pud)
			dc->stats.level3++;
		else
			dc->stats.level2++;
	} else if (ret == -EBUSY) {
		dc->stats.busy++;
		dmap_collapse_note(dc, pfn, pud);
	} else if (ret < 0) {
		dc->stats.not_uniform++;
	}
	return ret;
}

/* Try one 2M area, unless set_memory_4k() pinned it */
static int dmap_collapse_try_pmd(struct dmap_collapse *dc, unsigned long area)
{
	unsigned long pfn = area << DMAP_REGION_ORDER;
	int ret;

	if (area < dc->nr_pmds && test_bit(area, dc->pmd_pinned)) {
		dc->stats.pinned++;
		return -EAGAIN;
	}
	dc->stats.tried++;
	ret = dmap_env_collapse_pmd(pfn, dmap_env_area_owned(pfn));
	return dmap_collapse_count(dc, pfn, false, ret);
}

/* Try one 1G area */
static int dmap_collapse_try_pud(struct dmap_collapse *dc, unsigned long area)
{
	unsigned long pfn = area << DMAP_PUD_ORDER;

	dc->stats.tried++;
	return dmap_collapse_count(dc, pfn, true, dmap_env_collapse_pud(pfn));
}

/*
 * One pass over one pair of bitmaps; updates the budget, returns whether
 * areas are left marked.
 */
static bool dmap_collapse_scan(struct dmap_collapse *dc, bool pud,
			       unsigned long *budget, bool now)
{
	unsigned long *fresh = pud ? dc->pud_fresh : dc->pmd_fresh;
	unsigned long *aged = pud ? dc->pud_aged : dc->pmd_aged;
	unsigned long nr = pud ? dc->nr_puds : dc->nr_pmds;
	unsigned long i, left = 0;

	for (i = 0; i < BITS_TO_LONGS(nr); i++) {
		unsigned long due = dmap_collapse_due(fresh, aged, i, now);

		while (due) {
			unsigned long area = i * BITS_PER_LONG + __ffs(due);

			if (!*budget) {
				/* Quiet already: first in line next pass */
				aged[i] |= due;
				break;
			}
			due &= due - 1;
			(*budget)--;
			if (pud)
				dmap_collapse_try_pud(dc, area);
			else if (dmap_collapse_try_pmd(dc, area) == 1)
				/* Its 1G area has waited as long: try it now */
				set_bit(area >> (DMAP_PUD_ORDER - DMAP_REGION_ORDER),
					dc->pud_aged);
		}
		/* Waiting for their period, or retried after contention */
		left |= aged[i] | READ_ONCE(fresh[i]);
	}
	return left;
}

/**
 * dmap_collapse_pass - try to re-form the areas that have been quiet
 * @dc:		the state
 * @budget:	try at most this many areas
 * @now:	do not wait for areas to age: try every marked area
 *
 * 2M areas go first, so that a 1G area whose last 2M area was re-formed is
 * tried in the same pass.  The pass is one batch for the architecture,
 * which may invalidate the TLBs once at its end.
 *
 * Context: process context, may sleep; the caller serialises passes.
 * Return: true if areas are still waiting, so another pass is needed.
 */
bool dmap_collapse_pass(struct dmap_collapse *dc, unsigned long budget,
			bool now)
{
	bool left;

	dc->stats.passes++;
	dmap_env_collapse_begin();
	left = dmap_collapse_scan(dc, false, &budget, now);
	left = dmap_collapse_scan(dc, true, &budget, now) || left;
	dmap_env_collapse_end();
	return left;
}

/**
 * dmap_collapse_waiting - count the areas that are marked
 * @dc:		the state
 * @pud:	count 1G areas instead of 2M areas
 *
 * Return: the number of areas marked fresh or aged.
 */
unsigned long dmap_collapse_waiting(struct dmap_collapse *dc, bool pud)
{
	unsigned long *fresh = pud ? dc->pud_fresh : dc->pmd_fresh;
	unsigned long *aged = pud ? dc->pud_aged : dc->pmd_aged;
	unsigned long nr = pud ? dc->nr_puds : dc->nr_pmds;
	unsigned long i, n = 0;

	for (i = 0; i < BITS_TO_LONGS(nr); i++)
		n += hweight_long(READ_ONCE(fresh[i]) | aged[i]);
	return n;
}

/**
 * dmap_collapse_range - re-form the large entries over a range right away
 * @dc:		the state
 * @pfn:	first frame
 * @nr_pages:	number of frames
 *
 * For caches that have just put a whole 2M region back: tries every 2M
 * area of the range, then every 1G area it touches, without waiting.
 *
 * Context: process context, may sleep; the caller serialises it with
 * passes.
 * Return: 0 if every 2M area is mapped by a large entry and every 1G area
 * by a 1G entry where the CPU has them; -EINVAL if the range is empty or
 * runs past what @dc covers; otherwise the first error of
 * dmap_env_collapse_pmd() or dmap_env_collapse_pud().  Areas that met a
 * contended lock are marked for the next pass.
 */
int dmap_collapse_range(struct dmap_collapse *dc, unsigned long pfn,
			unsigned long nr_pages)
{
	unsigned long end = pfn + nr_pages, p;
	int ret = 0, err;

	if (!nr_pages || end < pfn ||
	    end > dc->nr_pmds << DMAP_REGION_ORDER)
		return -EINVAL;

	dmap_env_collapse_begin();
	for (p = pfn & ~(DMAP_REGION_PAGES - 1); p < end; p += DMAP_REGION_PAGES) {
		err = dmap_collapse_try_pmd(dc, p >> DMAP_REGION_ORDER);
		if (err < 0)
			ret = ret ?: err;
	}
	for (p = pfn & ~(DMAP_PUD_PAGES - 1); p < end; p += DMAP_PUD_PAGES) {
		err = dmap_collapse_try_pud(dc, p >> DMAP_PUD_ORDER);
		if (err < 0 && err != -EOPNOTSUPP)
			ret = ret ?: err;
	}
	dmap_env_collapse_end();
	return ret;
}
