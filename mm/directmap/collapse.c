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
 * A 2M area that changes again after it was re-formed has bounced: module
 * and BPF loads split the same areas again soon.  That history is kept
 * per area, for good: such an area is tried only at the end of an epoch
 * of @backoff passes that it was quiet for.  1G areas wait until the whole
 * direct map has not changed for @idle passes: the next guest's regions
 * come from the 1G areas the last guest's went back to, and a 1G split
 * costs 512 entries.  Once the direct map is idle, everything waiting is
 * tried, so nothing stays split while nothing changes.
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

static void dmap_collapse_level_free(struct dmap_collapse_level *l)
{
	bitmap_free(l->fresh);
	bitmap_free(l->aged);
}

static bool dmap_collapse_level_alloc(struct dmap_collapse_level *l,
				      unsigned long nr)
{
	l->nr = nr;
	l->fresh = bitmap_zalloc(nr, GFP_KERNEL);
	l->aged = bitmap_zalloc(nr, GFP_KERNEL);
	return l->fresh && l->aged;
}

/**
 * dmap_collapse_init - set up the marks for a direct map of @max_pfn frames
 * @dc:		the state to set up
 * @max_pfn:	one past the highest frame the direct map can ever map
 *
 * Return: 0, or -ENOMEM.
 */
int dmap_collapse_init(struct dmap_collapse *dc, unsigned long max_pfn)
{
	bool ok;

	memset(dc, 0, sizeof(*dc));
	dc->nr_pmds = DIV_ROUND_UP(max_pfn, DMAP_REGION_PAGES);
	dc->nr_puds = DIV_ROUND_UP(max_pfn, DMAP_PUD_PAGES);
	dc->backoff = DMAP_COLLAPSE_BACKOFF;
	dc->idle = DMAP_COLLAPSE_IDLE;
	ok = dmap_collapse_level_alloc(&dc->pmd, dc->nr_pmds);
	ok = dmap_collapse_level_alloc(&dc->pud, dc->nr_puds) && ok;
	dc->pmd_pinned = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pmd_reformed = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pmd_bounced = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pmd_slow = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	dc->pmd_dirty = bitmap_zalloc(dc->nr_pmds, GFP_KERNEL);
	if (ok && dc->pmd_pinned && dc->pmd_reformed && dc->pmd_bounced &&
	    dc->pmd_slow && dc->pmd_dirty)
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
	dmap_collapse_level_free(&dc->pmd);
	dmap_collapse_level_free(&dc->pud);
	bitmap_free(dc->pmd_pinned);
	bitmap_free(dc->pmd_reformed);
	bitmap_free(dc->pmd_bounced);
	bitmap_free(dc->pmd_slow);
	bitmap_free(dc->pmd_dirty);
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
		return pfn < dc->nr_puds && !test_and_set_bit(pfn, dc->pud.fresh);
	}
	pfn >>= DMAP_REGION_ORDER;
	return pfn < dc->nr_pmds && !test_and_set_bit(pfn, dc->pmd.fresh);
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
 * Take the marks of word @i of the 2M areas: return the areas that are
 * due, and leave those that must wait in @aged or, if they bounced, in
 * @pmd_slow.  @epoch: an epoch ends with this pass.
 */
static unsigned long dmap_collapse_due_pmd(struct dmap_collapse *dc,
					   unsigned long i, bool now,
					   bool epoch)
{
	unsigned long *fresh = dc->pmd.fresh, *aged = dc->pmd.aged;
	/* Most words are clear: read before paying for the atomic */
	unsigned long marked = READ_ONCE(fresh[i]) ? xchg(&fresh[i], 0) : 0;
	unsigned long bounce = marked & dc->pmd_reformed[i];
	unsigned long slow, due;

	/* Changed again since it was re-formed: remember it */
	dc->stats.bounced += hweight_long(bounce);
	dc->pmd_reformed[i] &= ~marked;
	dc->pmd_bounced[i] |= bounce;
	/* Those that bounced wait in @pmd_slow, not @aged */
	slow = marked & dc->pmd_bounced[i];
	dc->pmd_slow[i] |= slow;
	dc->pmd_dirty[i] |= slow;

	if (now) {
		due = aged[i] | marked | dc->pmd_slow[i];
		aged[i] = 0;
		dc->pmd_slow[i] = 0;
		dc->pmd_dirty[i] = 0;
		return due;
	}
	/* Aged and not marked again: quiet for a whole period */
	due = aged[i] & ~marked;
	aged[i] = marked & ~slow;
	if (epoch) {
		/* Bounced, and quiet for a whole epoch */
		slow = dc->pmd_slow[i] & ~dc->pmd_dirty[i];
		due |= slow;
		dc->pmd_slow[i] &= ~slow;
		dc->pmd_dirty[i] = 0;
	}
	return due;
}

/* The same for 1G areas, which are due only once the direct map is idle */
static unsigned long dmap_collapse_due_pud(struct dmap_collapse *dc,
					   unsigned long i, bool now)
{
	unsigned long *fresh = dc->pud.fresh, *aged = dc->pud.aged;
	unsigned long marked = READ_ONCE(fresh[i]) ? xchg(&fresh[i], 0) : 0;
	unsigned long due = 0;

	if (now) {
		due = aged[i] | marked;
		aged[i] = 0;
	} else {
		aged[i] |= marked;
	}
	return due;
}

/*
 * Count the outcome of one try at the area over @pfn.  A contended lock
 * leaves it aged, so the next pass retries it (a 1G area: the next that
 * tries 1G areas); it is no change of the direct map, so it does not mark
 * the area fresh, which would keep the direct map from ever looking idle.
 * An area whose entries differ is dropped: the next change marks it again.
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
		if (pud)
			__set_bit(pfn >> DMAP_PUD_ORDER, dc->pud.aged);
		else
			__set_bit(pfn >> DMAP_REGION_ORDER, dc->pmd.aged);
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
 * One pass over one level; updates the budget, returns whether areas are
 * left marked.
 */
static bool dmap_collapse_scan(struct dmap_collapse *dc, bool pud,
			       unsigned long *budget, bool now, bool epoch)
{
	struct dmap_collapse_level *l = pud ? &dc->pud : &dc->pmd;
	unsigned long i, left = 0;

	for (i = 0; i < BITS_TO_LONGS(l->nr); i++) {
		unsigned long due = pud ? dmap_collapse_due_pud(dc, i, now) :
				    dmap_collapse_due_pmd(dc, i, now, epoch);

		while (due) {
			unsigned long area = i * BITS_PER_LONG + __ffs(due);

			if (!*budget) {
				/* Quiet already: first in line next pass */
				l->aged[i] |= due;
				break;
			}
			due &= due - 1;
			(*budget)--;
			if (pud) {
				dmap_collapse_try_pud(dc, area);
			} else if (dmap_collapse_try_pmd(dc, area) == 1) {
				__set_bit(area, dc->pmd_reformed);
				/* Its 1G area may be whole now: it waits too */
				__set_bit(area >> (DMAP_PUD_ORDER - DMAP_REGION_ORDER),
					  dc->pud.aged);
			}
		}
		/* Waiting for their period, or retried after contention */
		left |= l->aged[i] | READ_ONCE(l->fresh[i]);
		if (!pud)
			left |= dc->pmd_slow[i];
	}
	return left;
}

/* Was nothing marked since the last pass? */
static bool dmap_collapse_quiet(struct dmap_collapse *dc)
{
	return find_next_bit(dc->pmd.fresh, dc->nr_pmds, 0) >= dc->nr_pmds &&
	       find_next_bit(dc->pud.fresh, dc->nr_puds, 0) >= dc->nr_puds;
}

/**
 * dmap_collapse_pass - try to re-form the areas that have been quiet
 * @dc:		the state
 * @budget:	try at most this many areas
 * @now:	do not wait for areas to age: try every marked area
 *
 * 2M areas go first, so that a 1G area whose last 2M area was re-formed is
 * tried in the same pass when 1G areas are tried: with @now, or once no
 * area was marked for @dc->idle passes in a row.  The pass is one batch
 * for the architecture, which may invalidate the TLBs once at its end.
 *
 * Context: process context, may sleep; the caller serialises passes.
 * Return: true if areas are still waiting, so another pass is needed.
 */
bool dmap_collapse_pass(struct dmap_collapse *dc, unsigned long budget,
			bool now)
{
	bool left, epoch;

	dc->stats.passes++;
	dc->quiet = dmap_collapse_quiet(dc) ? dc->quiet + 1 : 0;
	/* Idle for long enough: whatever waits goes now, 1G areas too */
	if (dc->quiet >= READ_ONCE(dc->idle) && !now) {
		dc->stats.idle++;
		now = true;
	}
	epoch = !(++dc->nr_passes % (READ_ONCE(dc->backoff) ?: 1));
	dmap_env_collapse_begin();
	left = dmap_collapse_scan(dc, false, &budget, now, epoch);
	left = dmap_collapse_scan(dc, true, &budget, now, epoch) || left;
	dmap_env_collapse_end();
	return left;
}

/**
 * dmap_collapse_idle_wait - passes that would only count towards idleness
 * @dc:		the state
 *
 * Once nothing but 1G areas waits, and nothing was marked since the last
 * pass, the passes before the direct map counts as idle would try no
 * area: the worker may sleep through them instead of polling, and call
 * dmap_collapse_skip() for those that nothing was marked before.
 *
 * Context: the caller serialises it with passes.
 * Return: how many passes may be skipped; 0 if the next one may try an
 * area, or if nothing waits.
 */
unsigned long dmap_collapse_idle_wait(struct dmap_collapse *dc)
{
	unsigned int idle = READ_ONCE(dc->idle);

	if (dc->quiet + 1 >= idle || !dmap_collapse_quiet(dc) ||
	    dmap_collapse_waiting(dc, false) || !dmap_collapse_waiting(dc, true))
		return 0;
	return idle - dc->quiet - 1;
}

/**
 * dmap_collapse_skip - count passes that were slept through
 * @dc:		the state
 * @passes:	at most what dmap_collapse_idle_wait() said, and only passes
 *		that the caller saw nothing marked before
 *
 * The state is then what those passes would have left: they would have
 * found the direct map quiet and tried nothing.  A caller that cannot
 * tell skips fewer: the 1G areas are then tried later, never earlier.
 *
 * Context: the caller serialises it with passes.
 */
void dmap_collapse_skip(struct dmap_collapse *dc, unsigned long passes)
{
	dc->quiet += passes;
	dc->nr_passes += passes;
	dc->stats.slept += passes;
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
	struct dmap_collapse_level *l = pud ? &dc->pud : &dc->pmd;
	unsigned long i, n = 0, slow;

	for (i = 0; i < BITS_TO_LONGS(l->nr); i++) {
		slow = pud ? 0 : dc->pmd_slow[i];
		n += hweight_long(READ_ONCE(l->fresh[i]) | l->aged[i] | slow);
	}
	return n;
}

/**
 * dmap_collapse_range - re-form the large entries over a range right away
 * @dc:		the state
 * @pfn:	first frame
 * @nr_pages:	number of frames
 * @pud_now:	try the 1G areas too; else mark them for the worker, which
 *		tries them once the direct map is idle
 *
 * For caches that have just put a whole 2M region back: tries every 2M
 * area of the range, then every 1G area it touches, without waiting.  A
 * region given back is mapped by a 2M entry at once, but its 1G area may
 * well be split again by the next refill: the cache leaves it to the
 * worker.
 *
 * Context: process context, may sleep; the caller serialises it with
 * passes.
 * Return: 0 if every 2M area is mapped by a large entry and, with
 * @pud_now, every 1G area by a 1G entry where the CPU has them; -EINVAL if
 * the range is empty or runs past what @dc covers; otherwise the first
 * error of dmap_env_collapse_pmd() or dmap_env_collapse_pud().  Areas that
 * met a contended lock are marked for the next pass.
 */
int dmap_collapse_range(struct dmap_collapse *dc, unsigned long pfn,
			unsigned long nr_pages, bool pud_now)
{
	unsigned long end = pfn + nr_pages, p;
	int ret = 0, err;

	if (!nr_pages || end < pfn ||
	    end > dc->nr_pmds << DMAP_REGION_ORDER)
		return -EINVAL;

	dmap_env_collapse_begin();
	for (p = pfn & ~(DMAP_REGION_PAGES - 1); p < end; p += DMAP_REGION_PAGES) {
		err = dmap_collapse_try_pmd(dc, p >> DMAP_REGION_ORDER);
		if (err == 1)
			__set_bit(p >> DMAP_REGION_ORDER, dc->pmd_reformed);
		if (err < 0)
			ret = ret ?: err;
	}
	for (p = pfn & ~(DMAP_PUD_PAGES - 1); p < end; p += DMAP_PUD_PAGES) {
		if (!pud_now) {
			dmap_collapse_note(dc, p, true);
			continue;
		}
		err = dmap_collapse_try_pud(dc, p >> DMAP_PUD_ORDER);
		if (err < 0 && err != -EOPNOTSUPP)
			ret = ret ?: err;
	}
	dmap_env_collapse_end();
	return ret;
}
