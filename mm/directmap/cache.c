// SPDX-License-Identifier: GPL-2.0
/*
 * directmap region cache: the policy.
 *
 * Each node keeps 2M regions that are absent from the direct map, on three
 * lists by how many of their 4K slots are free.  Allocations fill the
 * regions that are already in use before they touch an empty one, so that
 * frees drain whole regions, which then go back to the buddy allocator once
 * more than @high of them are empty.  Beyond the first, an empty region is
 * kept only while the partly used regions have less than a region's worth
 * of free slots: those serve the next allocations first, and a second
 * empty region beside them would only sit idle.  The first stays for the
 * allocations of higher order that holes cannot serve.
 *
 * A freed page-cache page keeps its memory cgroup charge while that cgroup
 * still has a page in use in the region: the region cannot go back to the
 * page allocator, and whoever pins it pays for what it freed there, until
 * the slot is handed out again (its new user is charged anew), the
 * cgroup's last page there goes or nothing is in use any more.  Otherwise
 * punching all but one page of each region would pin 2M per 4K charged.
 * Pages of other cgroups pinning a region cost the one that freed nothing.
 *
 * This file knows nothing of struct page or page tables: the kernel
 * (env.c) and the userspace simulator provide the dmap_env_*() hooks.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/printk.h>

#include "policy.h"

/**
 * dmap_cache_init - set up the region cache of one node
 * @cache:	the cache
 * @nid:	its node
 * @high:	empty regions to keep before giving them back
 */
void dmap_cache_init(struct dmap_cache *cache, int nid, unsigned long high)
{
	memset(cache, 0, sizeof(*cache));
	spin_lock_init(&cache->lock);
	cache->nid = nid;
	cache->high = high;
	INIT_LIST_HEAD(&cache->partial);
	INIT_LIST_HEAD(&cache->full);
	INIT_LIST_HEAD(&cache->empty);
}

/* Take a naturally aligned run of 2^order free slots from @r */
static bool dmap_region_take(struct dmap_region *r, unsigned int order,
			     unsigned long *pfn)
{
	unsigned long nr = 1UL << order;
	unsigned long slot;

	if (r->nr_free < nr)
		return false;

	slot = bitmap_find_next_zero_area(r->used, DMAP_REGION_PAGES, 0, nr,
					  nr - 1);
	if (slot >= DMAP_REGION_PAGES)
		return false;

	bitmap_set(r->used, slot, nr);
	__set_bit(slot, r->head);
	r->nr_free -= nr;
	*pfn = r->pfn + slot;
	return true;
}

/*
 * Drop the charges that free slots in [slot, slot + nr) of @r kept: they
 * are handed out again, or nothing pins @r.  Under @cache's lock, so that
 * a slot is neither uncharged twice nor charged anew before it is.
 */
static void dmap_region_uncharge(struct dmap_cache *cache,
				 struct dmap_region *r, unsigned long slot,
				 unsigned long nr)
{
	unsigned long end = slot + nr, i;

	for (i = find_next_bit(r->charged, end, slot); i < end;
	     i = find_next_bit(r->charged, end, i + 1)) {
		__clear_bit(i, r->charged);
		cache->nr_charged--;
		dmap_env_uncharge(r->pfn + i);
	}
}

/* No slot of @r in use but retired ones: nothing pins it for anyone */
static bool dmap_region_idle(struct dmap_region *r)
{
	return r->nr_free + r->nr_retired == DMAP_REGION_PAGES;
}

/*
 * Is an allocation of @r that is handed out (not returned) charged to the
 * memory cgroup of the page at @slot?
 */
static bool dmap_region_pinned_by(struct dmap_region *r, unsigned long slot)
{
	unsigned long i;

	for (i = find_next_bit(r->head, DMAP_REGION_PAGES, 0);
	     i < DMAP_REGION_PAGES;
	     i = find_next_bit(r->head, DMAP_REGION_PAGES, i + 1))
		if (i != slot && !test_bit(i, r->pending) &&
		    dmap_env_same_charge(r->pfn + i, r->pfn + slot))
			return true;
	return false;
}

/*
 * The charged page at @slot of @r is no longer in use.  Its charge stays
 * (if @keep: not a retired slot) while its memory cgroup still pins @r;
 * once that cgroup pins it no more, the charges it kept in @r go too.
 */
static void dmap_region_charge_leaves(struct dmap_cache *cache,
				      struct dmap_region *r,
				      unsigned long slot, bool keep)
{
	bool pinned = dmap_region_pinned_by(r, slot);
	unsigned long i;

	if (keep && pinned) {
		__set_bit(slot, r->charged);
		cache->nr_charged++;
		return;
	}
	for (i = find_next_bit(r->charged, DMAP_REGION_PAGES, 0);
	     !pinned && i < DMAP_REGION_PAGES;
	     i = find_next_bit(r->charged, DMAP_REGION_PAGES, i + 1))
		if (dmap_env_same_charge(r->pfn + i, r->pfn + slot))
			dmap_region_uncharge(cache, r, i, 1);
	dmap_env_uncharge(r->pfn + slot);
}

/*
 * The allocation at @slot of @r is no longer in use (put back, or retired
 * if not @keep): its charge is kept or goes, and once nothing but retired
 * slots is in use in @r, no charge is kept there.
 */
static void dmap_region_charges_after(struct dmap_cache *cache,
				      struct dmap_region *r,
				      unsigned long slot, bool charged,
				      bool keep)
{
	bool idle = dmap_region_idle(r);

	if (charged)
		dmap_region_charge_leaves(cache, r, slot, keep && !idle);
	if (cache->nr_charged && idle)
		dmap_region_uncharge(cache, r, 0, DMAP_REGION_PAGES);
}

/*
 * Take 2^order contiguous slots from @cache's regions.  Partially used
 * regions are filled first, most recently filled first; an empty region
 * is started only when none of them has room.  -ENOMEM if no cached region
 * has room.
 */
static int dmap_cache_take(struct dmap_cache *cache, unsigned int order,
			   unsigned long *pfn, struct dmap_region **rp)
{
	struct dmap_region *r, *found = NULL;

	spin_lock(&cache->lock);
	list_for_each_entry(r, &cache->partial, list) {
		if (dmap_region_take(r, order, pfn)) {
			found = r;
			break;
		}
	}
	if (!found && !list_empty(&cache->empty)) {
		r = list_first_entry(&cache->empty, struct dmap_region, list);
		if (dmap_region_take(r, order, pfn)) {
			found = r;
			cache->nr_empty--;
			list_move(&r->list, &cache->partial);
		}
	}
	if (found) {
		if (cache->nr_charged)
			dmap_region_uncharge(cache, found, *pfn - found->pfn,
					     1UL << order);
		if (!found->nr_free)
			list_move(&found->list, &cache->full);
		cache->nr_free -= 1UL << order;
		cache->nr_used += 1UL << order;
		cache->stats.allocs++;
	}
	spin_unlock(&cache->lock);

	*rp = found;
	return found ? 0 : -ENOMEM;
}

/*
 * Take, or else have the returned pages that nobody references any more
 * put back and take, or else refill once and take.  Refills are one at a
 * time per node; one that held the lock meanwhile may have made room.
 * Return: 0, 1 if a refill was needed, or a negative errno.
 */
static int dmap_cache_take_or_refill(struct dmap_cache *cache,
				     unsigned int order, unsigned long *pfn,
				     struct dmap_region **rp)
{
	bool refilled = false;
	int err;

	if (!dmap_cache_take(cache, order, pfn, rp))
		return 0;
	if (dmap_env_reclaim_returned(cache) &&
	    !dmap_cache_take(cache, order, pfn, rp))
		return 0;

	dmap_env_refill_lock(cache);
	err = dmap_cache_take(cache, order, pfn, rp);
	if (err) {
		refilled = true;
		err = dmap_cache_refill(cache);
		if (err)
			dmap_env_refill_failed(cache, err);
		else
			err = dmap_cache_take(cache, order, pfn, rp);
	}
	dmap_env_refill_unlock(cache);
	return err ?: refilled;
}

static bool dmap_pages_poisoned(unsigned long pfn, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		if (dmap_env_page_poisoned(pfn + i))
			return true;
	return false;
}

static bool dmap_slots_poisoned(unsigned long pfn, unsigned int order)
{
	return dmap_pages_poisoned(pfn, 1UL << order);
}

/**
 * dmap_cache_alloc - take 2^order contiguous slots, refilling if need be
 * @cache:	the cache
 * @order:	allocation order, at most DMAP_REGION_ORDER
 * @pfn:	first page frame of the allocation, on success
 *
 * Partially used regions are filled first, most recently filled first;
 * an empty region is started only when none of them has room, and a
 * region is taken from the buddy allocator only when no cached one has.
 * A slot whose memory went bad while it was free is retired where it is,
 * and another taken.
 *
 * Return: 0 if the cache had room, 1 if it was refilled first, or a
 * negative errno (the refill's; dmap_env_refill_failed() was told).
 */
int dmap_cache_alloc(struct dmap_cache *cache, unsigned int order,
		     unsigned long *pfn)
{
	struct dmap_region *r;
	int ret;

	for (;;) {
		ret = dmap_cache_take_or_refill(cache, order, pfn, &r);
		if (ret < 0 || !dmap_slots_poisoned(*pfn, order))
			return ret;
		/* out, ours and never shared: this cannot be refused */
		if (WARN_ON_ONCE(dmap_cache_mark_returned(cache, r, *pfn,
							  order, false)))
			return -EIO;
		dmap_cache_retire(cache, r, *pfn, order, false);
		pr_info("pfn %#lx order %u is poisoned: retired\n", *pfn,
			order);
	}
}

/*
 * Is [slot, slot + 2^order) exactly one allocation that is out and was not
 * returned yet?
 */
static bool dmap_region_is_out(struct dmap_region *r, unsigned long slot,
			       unsigned int order)
{
	unsigned long end = slot + (1UL << order);

	if (end > DMAP_REGION_PAGES || !test_bit(slot, r->head))
		return false;
	/* no other allocation starts inside, and it does not go on past end */
	if (find_next_bit(r->head, end, slot + 1) < end)
		return false;
	if (end < DMAP_REGION_PAGES && test_bit(end, r->used) &&
	    !test_bit(end, r->head) && !test_bit(end, r->retired))
		return false;
	if (find_next_zero_bit(r->used, end, slot) < end ||
	    find_next_bit(r->retired, end, slot) < end)
		return false;
	return find_next_bit(r->pending, end, slot) >= end;
}

/* Take the shared pages of [slot, slot + nr) out of the direct map again */
static void dmap_region_unmap_shared(struct dmap_region *r,
				     const unsigned long *shared,
				     unsigned long slot, unsigned long nr)
{
	unsigned long end = slot + nr, start, stop;

	for (start = find_next_bit(shared, end, slot); start < end;
	     start = find_next_bit(shared, end, stop)) {
		stop = find_next_zero_bit(shared, end, start);
		dmap_env_pages_unmap(r->pfn + start, stop - start);
	}
}

/**
 * dmap_cache_mark_returned - record that the owner gave an allocation back
 * @cache:	the cache of @r's node
 * @r:		the region that holds @pfn
 * @pfn:	first page frame of the allocation
 * @order:	its order, as allocated
 * @may_unshare: the caller serialises shares of @r's node, so shared pages
 *		of the allocation may be taken out of the direct map here
 *
 * The slots stay in use until dmap_cache_put(), once the last reference
 * to the pages is gone.  Pages the owner left shared are absent from the
 * direct map again when this returns.
 *
 * Return: 0; -EAGAIN (nothing changed) if some pages are shared and
 * @may_unshare is false; or -EINVAL (nothing changed) when @pfn, @order is
 * not an allocation that is out: a foreign page, a double free or a wrong
 * order.
 */
int dmap_cache_mark_returned(struct dmap_cache *cache, struct dmap_region *r,
			     unsigned long pfn, unsigned int order,
			     bool may_unshare)
{
	DECLARE_BITMAP(shared, DMAP_REGION_PAGES);
	unsigned long slot = pfn - r->pfn, nr = 1UL << order;
	unsigned int nr_shared = 0;
	bool absent = false;
	int ret = -EINVAL;

	spin_lock(&cache->lock);
	if (pfn >= r->pfn && order <= DMAP_REGION_ORDER &&
	    dmap_region_is_out(r, slot, order)) {
		ret = 0;
		if (find_next_bit(r->shared, slot + nr, slot) < slot + nr) {
			ret = -EAGAIN;
			if (may_unshare) {
				bitmap_zero(shared, DMAP_REGION_PAGES);
				bitmap_set(shared, slot, nr);
				bitmap_and(shared, shared, r->shared,
					   DMAP_REGION_PAGES);
				nr_shared = bitmap_weight(shared,
							  DMAP_REGION_PAGES);
				ret = 0;
			}
		}
		if (!ret)
			bitmap_set(r->pending, slot, nr);
	} else {
		cache->stats.misuse++;
	}
	spin_unlock(&cache->lock);
	if (!nr_shared)
		return ret;

	/*
	 * Pending slots cannot be shared again: out of the direct map first,
	 * then out of @shared, so that a present page is always a shared one.
	 */
	dmap_region_unmap_shared(r, shared, slot, nr);
	spin_lock(&cache->lock);
	bitmap_andnot(r->shared, r->shared, shared, DMAP_REGION_PAGES);
	r->nr_shared -= nr_shared;
	absent = !r->nr_shared;
	cache->stats.unshares += nr_shared;
	spin_unlock(&cache->lock);
	if (absent)
		dmap_env_region_absent(r->pfn);
	return 0;
}

/**
 * dmap_cache_return - record that the owner gave an allocation back
 * @pfn:	first page frame, as handed out
 * @order:	its order
 * @nid:	set to the node of its region, if one holds @pfn
 *
 * Tried without the share lock first.  If the owner left pages shared,
 * tried again under the share lock of the region's node, so that they are
 * taken out of the direct map with no share or unshare running; the region
 * is looked up again there, since the pages may have been unshared and
 * freed meanwhile.
 *
 * Return: as dmap_cache_mark_returned(); -ENOENT if no region holds @pfn.
 */
int dmap_cache_return(unsigned long pfn, unsigned int order, int *nid)
{
	int err = dmap_env_mark_returned(pfn, order, false, nid);
	int locked;

	if (err != -EAGAIN)
		return err;
	locked = *nid;
	dmap_env_share_lock(locked);
	err = dmap_env_mark_returned(pfn, order, true, nid);
	dmap_env_share_unlock(locked);
	/* released meanwhile: they were not out */
	return err == -ENOENT ? -EINVAL : err;
}

/*
 * Are [slot, slot + nr) handed out, not returned, and all private (to
 * share them) or all shared (to unshare them)?
 */
static bool dmap_region_can_flip(struct dmap_region *r, unsigned long slot,
				 unsigned long nr, bool shared)
{
	unsigned long end;

	/* not slot + nr > DMAP_REGION_PAGES: a huge @nr wraps that around */
	if (!nr || slot >= DMAP_REGION_PAGES || nr > DMAP_REGION_PAGES - slot)
		return false;
	end = slot + nr;
	if (find_next_zero_bit(r->used, end, slot) < end ||
	    find_next_bit(r->pending, end, slot) < end ||
	    find_next_bit(r->retired, end, slot) < end)
		return false;
	if (shared)
		return find_next_zero_bit(r->shared, end, slot) >= end;
	return find_next_bit(r->shared, end, slot) >= end;
}

/**
 * dmap_cache_share - put pages that are out back into the direct map
 * @cache:	the cache of @r's node
 * @r:		the region that holds @pfn
 * @pfn:	first page frame
 * @nr_pages:	pages from @pfn on, all in @r
 *
 * For in-place sharing: the owner keeps the pages, and the kernel may
 * read and write them through the direct map until dmap_cache_unshare().
 * They are mapped at 4K, so the region's 2M entry is split (once).  The
 * caller serialises shares, unshares and frees of @r's node.
 *
 * Return: 0; -EINVAL (nothing changed) if the pages are not all out and
 * private; -EHWPOISON (nothing changed) if one of them is poisoned; or the
 * error of the split (nothing changed).
 */
int dmap_cache_share(struct dmap_cache *cache, struct dmap_region *r,
		     unsigned long pfn, unsigned long nr_pages)
{
	unsigned long slot = pfn - r->pfn;
	bool absent = false;
	int err = -EINVAL;

	spin_lock(&cache->lock);
	if (pfn < r->pfn || !dmap_region_can_flip(r, slot, nr_pages, false)) {
		cache->stats.misuse++;
	} else if (dmap_pages_poisoned(pfn, nr_pages)) {
		/* a kernel read of it would consume the poison */
		err = -EHWPOISON;
	} else {
		/* into @shared first: a present page is always a shared one */
		bitmap_set(r->shared, slot, nr_pages);
		r->nr_shared += nr_pages;
		err = 0;
	}
	spin_unlock(&cache->lock);
	if (err)
		return err;

	err = dmap_env_pages_map(pfn, nr_pages);
	spin_lock(&cache->lock);
	if (err) {
		bitmap_clear(r->shared, slot, nr_pages);
		r->nr_shared -= nr_pages;
		absent = !r->nr_shared;
	} else {
		cache->stats.shares += nr_pages;
	}
	spin_unlock(&cache->lock);
	/* the failed split may have left an absent table behind */
	if (absent)
		dmap_env_region_absent(r->pfn);
	return err;
}

/**
 * dmap_cache_unshare - take shared pages out of the direct map again
 * @cache:	the cache of @r's node
 * @r:		the region that holds @pfn
 * @pfn:	first page frame
 * @nr_pages:	pages from @pfn on, all in @r and shared
 *
 * Cannot fail for pages that dmap_cache_share() shared: their 4K entries
 * exist.  When no page of @r is shared any more, its 2M entry is re-formed
 * as one absent entry.  The caller serialises as for dmap_cache_share().
 *
 * Return: 0, or -EINVAL (nothing changed) if the pages are not all out
 * and shared.
 */
int dmap_cache_unshare(struct dmap_cache *cache, struct dmap_region *r,
		       unsigned long pfn, unsigned long nr_pages)
{
	unsigned long slot = pfn - r->pfn;
	bool ok, absent;

	spin_lock(&cache->lock);
	ok = pfn >= r->pfn && dmap_region_can_flip(r, slot, nr_pages, true);
	if (!ok)
		cache->stats.misuse++;
	spin_unlock(&cache->lock);
	if (!ok)
		return -EINVAL;

	/* out of the direct map first: a present page is always shared */
	dmap_env_pages_unmap(pfn, nr_pages);
	spin_lock(&cache->lock);
	bitmap_clear(r->shared, slot, nr_pages);
	r->nr_shared -= nr_pages;
	absent = !r->nr_shared;
	cache->stats.unshares += nr_pages;
	spin_unlock(&cache->lock);
	if (absent)
		dmap_env_region_absent(r->pfn);
	return 0;
}

/**
 * dmap_cache_put - return the slots of a returned allocation to its region
 * @cache:	the cache of @r's node
 * @r:		the region
 * @pfn:	first page frame, as passed to dmap_cache_mark_returned()
 * @order:	its order
 * @charged:	the (order-0) page is still charged to a memory cgroup,
 *		which keeps the charge while it has other pages of @r in use
 *
 * Return: @r if it became empty while @cache already keeps @high empty
 * regions, or keeps one and its partly used regions have at least a
 * region's worth of free slots; the caller must then dmap_cache_release()
 * it.  NULL otherwise.
 */
struct dmap_region *dmap_cache_put(struct dmap_cache *cache,
				   struct dmap_region *r, unsigned long pfn,
				   unsigned int order, bool charged)
{
	unsigned long slot = pfn - r->pfn, nr = 1UL << order, spare;
	struct dmap_region *release = NULL;
	bool was_full, emptied = false;

	spin_lock(&cache->lock);
	was_full = !r->nr_free;
	bitmap_clear(r->used, slot, nr);
	bitmap_clear(r->pending, slot, nr);
	__clear_bit(slot, r->deferred);
	__clear_bit(slot, r->head);
	r->nr_free += nr;
	cache->nr_free += nr;
	cache->nr_used -= nr;
	cache->stats.frees++;
	dmap_region_charges_after(cache, r, slot, charged, true);

	if (r->nr_free == DMAP_REGION_PAGES) {
		/* the free slots of the partly used regions, filled first */
		spare = cache->nr_free - (cache->nr_empty + 1) * DMAP_REGION_PAGES;
		if (cache->nr_empty >= cache->high ||
		    (cache->nr_empty && spare >= DMAP_REGION_PAGES)) {
			list_del_init(&r->list);
			cache->nr_regions--;
			cache->nr_free -= DMAP_REGION_PAGES;
			cache->nr_releasing++;
			release = r;
		} else {
			list_move(&r->list, &cache->empty);
			r->empty_since = dmap_env_now();
			cache->nr_empty++;
			emptied = true;
		}
	} else if (was_full) {
		/* nearly full: fill it again before the emptier ones */
		list_move(&r->list, &cache->partial);
	}
	spin_unlock(&cache->lock);
	if (emptied)
		dmap_env_region_emptied(cache);

	return release;
}

/**
 * dmap_cache_retire - keep a returned allocation whose memory is poisoned
 * @cache:	the cache of @r's node
 * @r:		the region
 * @pfn:	first page frame, as passed to dmap_cache_mark_returned()
 * @order:	its order
 * @charged:	the page is still charged to a memory cgroup: it goes, with
 *		what that cgroup kept in @r if it has no other page there
 *
 * Instead of dmap_cache_put(): the slots stay in use for good, so they are
 * never handed out again, and @r never becomes empty, so it is never
 * mapped back or given to the buddy allocator.  Its other slots are still
 * handed out.
 */
void dmap_cache_retire(struct dmap_cache *cache, struct dmap_region *r,
		       unsigned long pfn, unsigned int order, bool charged)
{
	unsigned long slot = pfn - r->pfn, nr = 1UL << order;

	spin_lock(&cache->lock);
	bitmap_clear(r->pending, slot, nr);
	__clear_bit(slot, r->deferred);
	__clear_bit(slot, r->head);
	bitmap_set(r->retired, slot, nr);
	r->nr_retired += nr;
	cache->nr_used -= nr;
	cache->nr_retired += nr;
	cache->stats.retired += nr;
	dmap_region_charges_after(cache, r, slot, charged, false);
	spin_unlock(&cache->lock);
}

/**
 * dmap_cache_reclaim - a returned allocation's last reference is gone
 * @cache:	the cache of @r's node
 * @r:		the region
 * @pfn:	first page frame, as passed to dmap_cache_mark_returned()
 * @order:	its order
 * @charged:	the (order-0) page is still charged to a memory cgroup
 *
 * Its slots are free again (dmap_cache_put()), and its region goes back
 * to the buddy allocator if it became empty and is not to be kept; or, if
 * its memory went bad meanwhile, they are retired for good.
 */
void dmap_cache_reclaim(struct dmap_cache *cache, struct dmap_region *r,
			unsigned long pfn, unsigned int order, bool charged)
{
	struct dmap_region *release;

	if (dmap_slots_poisoned(pfn, order)) {
		dmap_cache_retire(cache, r, pfn, order, charged);
		pr_info("pfn %#lx order %u is poisoned: retired\n", pfn, order);
		return;
	}
	release = dmap_cache_put(cache, r, pfn, order, charged);
	if (release)
		dmap_cache_release(cache, release);
}

/* Retire the poisoned free slots of @r, detached from @cache; true if any */
static bool dmap_region_retire_poisoned(struct dmap_cache *cache,
					struct dmap_region *r)
{
	unsigned long slot, nr = 0;

	for (slot = 0; slot < DMAP_REGION_PAGES; slot++) {
		if (test_bit(slot, r->used) ||
		    !dmap_env_page_poisoned(r->pfn + slot))
			continue;
		__set_bit(slot, r->used);
		__set_bit(slot, r->retired);
		nr++;
	}
	if (!nr)
		return false;

	spin_lock(&cache->lock);
	r->nr_free -= nr;
	r->nr_retired += nr;
	list_add_tail(&r->list, r->nr_free ? &cache->partial : &cache->full);
	cache->nr_regions++;
	cache->nr_free += r->nr_free;
	cache->nr_retired += nr;
	cache->stats.retired += nr;
	spin_unlock(&cache->lock);
	return true;
}

/**
 * dmap_cache_refill - add one region to a node's cache
 * @cache:	the cache
 *
 * Takes a 2M block from the buddy allocator and removes it from the direct
 * map as one unit.  Every step is undone if a later one fails.
 *
 * Return: 0, or a negative errno with nothing changed.
 */
int dmap_cache_refill(struct dmap_cache *cache)
{
	struct dmap_region *r;
	unsigned long pfn;
	int err;

	r = dmap_env_region_alloc(cache->nid);
	if (!r) {
		err = -ENOMEM;
		goto fail;
	}

	err = dmap_env_block_alloc(cache->nid, &pfn);
	if (err)
		goto free_region;

	INIT_LIST_HEAD(&r->list);
	r->pfn = pfn;
	r->nid = cache->nid;
	r->nr_free = DMAP_REGION_PAGES;
	err = dmap_env_region_register(r);
	if (err)
		goto free_block;

	err = dmap_env_block_unmap(pfn);
	if (err) {
		dmap_env_region_unregister(r);
		dmap_env_block_free(pfn);
		goto fail;
	}

	spin_lock(&cache->lock);
	list_add(&r->list, &cache->empty);
	r->empty_since = dmap_env_now();
	cache->nr_regions++;
	cache->nr_empty++;
	cache->nr_free += DMAP_REGION_PAGES;
	cache->stats.refills++;
	spin_unlock(&cache->lock);
	/* the caller takes from it, unless others took what it needed */
	dmap_env_region_emptied(cache);
	return 0;

free_block:
	dmap_env_block_free(pfn);
free_region:
	dmap_env_region_free(r);
fail:
	spin_lock(&cache->lock);
	cache->stats.refill_failures++;
	spin_unlock(&cache->lock);
	return err;
}

/*
 * Restore the direct map of @r and free its block.  The restore cannot
 * fail because the unmap left every page-table page it needs in place.
 * A region with a poisoned free slot is kept instead, with the slot
 * retired: the buddy allocator must never get that page, and the direct
 * map must not map it.
 *
 * Return: true if given back.
 */
static bool dmap_region_give_back(struct dmap_cache *cache,
				  struct dmap_region *r, bool collapse)
{
	unsigned long pfn = r->pfn;
	bool collapsed;

	/* a free slot is nobody's: it can be poisoned at any time until now */
	if (dmap_region_retire_poisoned(cache, r)) {
		spin_lock(&cache->lock);
		cache->nr_releasing--;
		spin_unlock(&cache->lock);
		return false;
	}
	spin_lock(&cache->lock);
	cache->stats.releases++;
	spin_unlock(&cache->lock);

	dmap_env_block_restore(pfn);
	/*
	 * Collapse while the block is still ours and registered: memory
	 * hot-remove cannot free the tables over it, so the collapse need
	 * not wait for memory hotplug, which a free or a refill under
	 * mmap_lock must never do (memory online takes mmap_lock under it).
	 */
	collapsed = collapse && !dmap_env_collapse(pfn);
	dmap_env_region_unregister(r);
	dmap_env_block_free(pfn);
	spin_lock(&cache->lock);
	cache->nr_releasing--;
	if (collapsed)
		cache->stats.collapses++;
	spin_unlock(&cache->lock);
	return true;
}

/**
 * dmap_cache_release - give an empty region back to the buddy allocator
 * @cache:	the cache @r belonged to
 * @r:		a region taken off its node's lists
 *
 * Its direct map is restored, as one 2M mapping, before the block is
 * freed.  The 1G mapping that the region's unmap split is left to the
 * collapse worker, which re-forms it once the direct map is idle: the
 * buddy allocator hands the block out again first, so the next refill
 * would split it again.  A region with a poisoned slot goes back onto its
 * node's lists instead.
 *
 * Return: true if @r was given back.
 */
bool dmap_cache_release(struct dmap_cache *cache, struct dmap_region *r)
{
	return dmap_region_give_back(cache, r, true);
}

/* Take empty region @r off its node onto @list, to be given back */
static void dmap_empty_detach(struct dmap_cache *cache, struct dmap_region *r,
			      struct list_head *list)
{
	lockdep_assert_held(&cache->lock);
	list_move(&r->list, list);
	cache->nr_releasing++;
	cache->nr_empty--;
	cache->nr_regions--;
	cache->nr_free -= DMAP_REGION_PAGES;
}

/* Does a region on @list start in [pfn, end)? */
static bool dmap_list_has(struct list_head *list, unsigned long pfn,
			  unsigned long end)
{
	struct dmap_region *r;

	list_for_each_entry(r, list, list)
		if (r->pfn >= pfn && r->pfn < end)
			return true;
	return false;
}

/**
 * dmap_cache_offline - give back the regions of a range that goes offline
 * @cache:	the cache
 * @pfn:	first frame of the range
 * @nr_pages:	number of frames
 *
 * Memory offline isolates the range before it asks: that fails on any
 * page in use, so the regions of the range are empty unless a slot was
 * taken since.  They go back without a collapse: their memory goes
 * away, and so do the tables over it if it is removed.
 *
 * Return: the number of regions given back, or -EBUSY if a region of the
 * range holds pages (nothing changed) or a poisoned slot (the others of
 * the range went back).
 */
long dmap_cache_offline(struct dmap_cache *cache, unsigned long pfn,
			unsigned long nr_pages)
{
	unsigned long end = pfn + nr_pages;
	struct dmap_region *r, *next;
	bool kept = false;
	long done = 0;
	LIST_HEAD(list);

	spin_lock(&cache->lock);
	/*
	 * A region on its way back may be in the range: its free slots are
	 * logically offline with no reference, which offline would pass.
	 */
	if (cache->nr_releasing || dmap_list_has(&cache->partial, pfn, end) ||
	    dmap_list_has(&cache->full, pfn, end)) {
		spin_unlock(&cache->lock);
		return -EBUSY;
	}
	list_for_each_entry_safe(r, next, &cache->empty, list) {
		if (r->pfn < pfn || r->pfn >= end)
			continue;
		dmap_empty_detach(cache, r, &list);
	}
	spin_unlock(&cache->lock);

	list_for_each_entry_safe(r, next, &list, list) {
		list_del_init(&r->list);
		if (dmap_region_give_back(cache, r, false))
			done++;
		else
			kept = true;
	}
	/* a retired slot is in use for good: the range cannot go */
	return kept ? -EBUSY : done;
}

/**
 * dmap_cache_shrink - release empty regions of a node
 * @cache:	the cache
 * @nr_regions:	release at most this many
 * @keep:	leave this many empty regions cached
 *
 * Return: the number of regions released.
 */
unsigned long dmap_cache_shrink(struct dmap_cache *cache,
				unsigned long nr_regions, unsigned long keep)
{
	struct dmap_region *r, *next;
	unsigned long done = 0;
	LIST_HEAD(list);

	unsigned long detached = 0;

	spin_lock(&cache->lock);
	while (detached < nr_regions && cache->nr_empty > keep) {
		r = list_last_entry(&cache->empty, struct dmap_region, list);
		dmap_empty_detach(cache, r, &list);
		detached++;
	}
	spin_unlock(&cache->lock);

	list_for_each_entry_safe(r, next, &list, list) {
		list_del_init(&r->list);
		done += dmap_cache_release(cache, r);
	}
	return done;
}

/**
 * dmap_cache_trim - release the empty regions that nobody took for a while
 * @cache:	the cache
 * @age:	release those empty for at least this long, in dmap_env_now()
 *		units
 * @wait:	set to how long until the next empty region left is due, or
 *		0 if none is left
 *
 * A node keeps empty regions so that its next allocations need no refill,
 * but one that has not been taken for @age is not in demand: it goes back,
 * and with it the split of its 1G area, even while the node has other
 * pages out.  The oldest go first; the empty list is in the order the
 * regions became empty.
 *
 * Return: the number of regions released.
 */
unsigned long dmap_cache_trim(struct dmap_cache *cache, unsigned long age,
			      unsigned long *wait)
{
	unsigned long done = 0, now = dmap_env_now(), empty_for;
	struct dmap_region *r, *next;
	LIST_HEAD(list);

	*wait = 0;
	spin_lock(&cache->lock);
	while (cache->nr_empty) {
		r = list_last_entry(&cache->empty, struct dmap_region, list);
		empty_for = now - r->empty_since;
		if (empty_for < age) {
			*wait = age - empty_for;
			break;
		}
		dmap_empty_detach(cache, r, &list);
	}
	spin_unlock(&cache->lock);

	list_for_each_entry_safe(r, next, &list, list) {
		list_del_init(&r->list);
		done += dmap_cache_release(cache, r);
	}
	return done;
}
