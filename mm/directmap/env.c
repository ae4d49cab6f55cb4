// SPDX-License-Identifier: GPL-2.0
/*
 * directmap: the kernel environment of the region cache.
 *
 * cache.c and collapse.c are the policy; they call the dmap_env_*() hooks
 * declared in policy.h for everything that touches memory, page tables or
 * bookkeeping.  This file is those hooks in the kernel (the userspace
 * simulator in tools/testing/directmap provides its own): 2M blocks from
 * the buddy allocator, the architecture's unmap, restore and collapse,
 * the pfn index of the regions, memory failure and memcg charges.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/directmap.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <trace/events/directmap.h>

#include "fail_directmap.h"
#include "internal.h"
#include "policy.h"

/* 2M blocks are nice to have: fail fast and fall back to single pages */
#define DMAP_REFILL_GFP	(GFP_KERNEL | __GFP_THISNODE | __GFP_NORETRY | \
			 __GFP_NOWARN | __GFP_ZERO)

/* Regions by pfn >> DMAP_REGION_ORDER */
DEFINE_XARRAY(dmap_regions);

struct dmap_region *dmap_region_of(unsigned long pfn)
{
	return xa_load(&dmap_regions, pfn >> DMAP_REGION_ORDER);
}

/*
 * Free slots are logically offline (PageOffline()): absent from the direct
 * map, their old contents wiped, and nobody's.  Crash dump filters
 * (makedumpfile), /proc/kcore and the hibernation snapshot skip such pages.
 * Not under page_offline_begin(): a PFN walker that reads a free slot
 * reads it through a direct map that does not map it, and has to survive
 * that fault anyway.  Pages handed out are the owner's.
 */
void dmap_slots_offline(struct page *page, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++) {
		if (PageOffline(page + i))
			continue;
		/* a page still mapped or typed: leave it as it is */
		if (WARN_ON_ONCE(data_race(page[i].page_type) != UINT_MAX))
			continue;
		__SetPageOffline(page + i);
	}
}

void dmap_slots_online(struct page *page, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		if (PageOffline(page + i))
			__ClearPageOffline(page + i);
}

unsigned long dmap_env_now(void)
{
	return jiffies;
}

void dmap_env_region_emptied(struct dmap_cache *cache)
{
	dmap_idle_arm();
}

int dmap_env_block_alloc(int nid, unsigned long *pfn)
{
	struct page *page;

	KUNIT_STATIC_STUB_REDIRECT(dmap_env_block_alloc, nid, pfn);
	if (dmap_should_fail(DMAP_FAIL_REFILL))
		return -ENOMEM;
	page = alloc_pages_node(nid, DMAP_REFILL_GFP, DMAP_REGION_ORDER);
	if (!page)
		return -ENOMEM;

	/* Free slots are frozen: speculative references fail on them */
	set_page_count(page, 0);
	dmap_slots_offline(page, DMAP_REGION_PAGES);
	atomic_long_add(DMAP_REGION_PAGES, &dmap_pages_taken);
	*pfn = page_to_pfn(page);
	return 0;
}

void dmap_env_block_free(unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);

	dmap_slots_online(page, DMAP_REGION_PAGES);
	set_page_count(page, 1);
	__free_pages(page, DMAP_REGION_ORDER);
	atomic_long_add(DMAP_REGION_PAGES, &dmap_pages_given_back);
}

int dmap_env_block_unmap(unsigned long pfn)
{
	u64 start = ktime_get_ns();
	int err;

	KUNIT_STATIC_STUB_REDIRECT(dmap_env_block_unmap, pfn);
	err = arch_directmap_unmap_region(pfn_to_page(pfn));
	if (!err)
		count_vm_event(DIRECTMAP_REFILL);
	trace_directmap_region_unmap(pfn_to_nid(pfn), pfn, err,
				     ktime_get_ns() - start);
	return err;
}

void dmap_env_block_restore(unsigned long pfn)
{
	u64 start = ktime_get_ns();

	arch_directmap_restore_region(pfn_to_page(pfn));
	count_vm_event(DIRECTMAP_RELEASE);
	trace_directmap_region_restore(pfn_to_nid(pfn), pfn, 0,
				       ktime_get_ns() - start);
}

int dmap_env_pages_map(unsigned long pfn, unsigned long nr_pages)
{
	if (dmap_should_fail(DMAP_FAIL_SPLIT))
		return -ENOMEM;
	return arch_directmap_map_pages(pfn_to_page(pfn), nr_pages);
}

void dmap_env_pages_unmap(unsigned long pfn, unsigned long nr_pages)
{
	arch_directmap_unmap_pages(pfn_to_page(pfn), nr_pages);
}

/**
 * directmap_region_absent - make a region one absent 2M entry, now or later
 * @pfn:	first frame of a 2M block of directmap's, all of it absent
 *
 * Re-forms the block's absent 4K entries into one absent 2M entry, so that
 * a restore gives back a 2M mapping.  If that cannot be done now (a
 * contended lock, or reclaim, which must not wait for the locks of a
 * collapse), the collapse worker is told to try again later.  For the architecture's
 * region removal and for the cache, once a region's last shared page is
 * private again.
 *
 * Context: process context, may sleep.
 */
void directmap_region_absent(unsigned long pfn)
{
	int err = -EBUSY;

	if (!dmap_in_reclaim())
		err = arch_directmap_collapse_pmd(pfn, true);
	if (err < 0 && err != -EOPNOTSUPP)
		directmap_note_pte((unsigned long)pfn_to_kaddr(pfn));
}

void dmap_env_region_absent(unsigned long pfn)
{
	directmap_region_absent(pfn);
}

/**
 * dmap_area_collapse - re-form the 2M entry over an area, unless ours forbid
 * @pfn:	a frame of the area
 *
 * For the collapse worker.  A shared page is present at default
 * protections, so the 512 entries over an area could look uniform; a
 * present large entry over it would make the unshare a split that may
 * fail, and over a region it would map private pages.  So no area is
 * re-formed while directmap has a page of it shared, region or single,
 * and the share lock keeps shares off it meanwhile.  Whether the area is
 * one of directmap's regions, to be re-formed absent, is looked up under
 * that lock too: a refill or a release may have changed it since the
 * policy asked, and may still change it before the walk.
 *
 * Context: process context, may sleep; not from reclaim.  Memory hotplug
 * excluded, or the area a region the caller holds (directmap_arch.h).
 * Return: as arch_directmap_collapse_pmd(); -EAGAIN while pages are
 * shared, -EBUSY if the share lock is contended.
 */
int dmap_area_collapse(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
	struct dmap_node *pn = page ? dmap_nodes[page_to_nid(page)] : NULL;
	struct dmap_region *r;
	bool shared;
	int ret;

	if (!pn)
		return arch_directmap_collapse_pmd(pfn, false);
	if (!mutex_trylock(&pn->share_lock))
		return -EBUSY;
	rcu_read_lock();
	r = dmap_region_of(pfn);
	if (r)
		shared = READ_ONCE(r->nr_shared);
	else
		shared = dmap_singles_shared_in(pfn & ~(DMAP_REGION_PAGES - 1),
						DMAP_REGION_PAGES);
	rcu_read_unlock();
	/* released meanwhile: its entries are present, and none is ours */
	ret = shared ? -EAGAIN : arch_directmap_collapse_pmd(pfn, r);
	mutex_unlock(&pn->share_lock);
	return ret;
}

/* The region a free names; KUnit widens the window of a double free */
VISIBLE_IF_KUNIT struct dmap_region *dmap_free_lookup(unsigned long pfn)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_free_lookup, pfn);
	return dmap_region_of(pfn);
}

/*
 * The region is looked up under RCU: until the allocation is found out, a
 * racing free (of a page freed twice) may release the region and
 * kfree_rcu() it.  Once marked, its slots keep the region; so do pages
 * still shared under the share lock, which an unshare may then take out
 * of the direct map, sleeping, outside RCU.
 */
int dmap_env_mark_returned(unsigned long pfn, unsigned int order,
			   bool may_unshare, int *nid)
{
	struct dmap_cache *cache;
	struct dmap_region *r;
	unsigned long unshares;
	int err;

	rcu_read_lock();
	r = dmap_free_lookup(pfn);
	if (!r) {
		rcu_read_unlock();
		return -ENOENT;
	}
	*nid = r->nid;
	cache = &dmap_nodes[*nid]->cache;
	err = dmap_cache_mark_returned(cache, r, pfn, order, false);
	rcu_read_unlock();
	if (err != -EAGAIN || !may_unshare)
		return err;

	/* only ever changed under the share lock: exact */
	unshares = READ_ONCE(cache->stats.unshares);
	err = dmap_cache_mark_returned(cache, r, pfn, order, true);
	count_vm_events(DIRECTMAP_PAGES_UNSHARED,
			READ_ONCE(cache->stats.unshares) - unshares);
	return err;
}

void dmap_env_share_lock(int nid)
{
	mutex_lock(&dmap_nodes[nid]->share_lock);
}

void dmap_env_share_unlock(int nid)
{
	mutex_unlock(&dmap_nodes[nid]->share_lock);
}

static struct dmap_node *dmap_node_of(struct dmap_cache *cache)
{
	return container_of(cache, struct dmap_node, cache);
}

bool dmap_env_reclaim_returned(struct dmap_cache *cache)
{
	struct dmap_node *pn = dmap_node_of(cache);
	bool wiped = dmap_wipe_flush(pn);

	if (!READ_ONCE(pn->nr_pending))
		return wiped;
	dmap_reclaim_pending(pn);
	return true;
}

void dmap_env_refill_lock(struct dmap_cache *cache)
{
	mutex_lock(&dmap_node_of(cache)->refill_lock);
}

void dmap_env_refill_unlock(struct dmap_cache *cache)
{
	mutex_unlock(&dmap_node_of(cache)->refill_lock);
}

void dmap_env_refill_failed(struct dmap_cache *cache, int err)
{
	dmap_error(cache->nid, DIRECTMAP_ERR_REFILL, err);
}

/*
 * A page in use and a free slot that kept its charge are compared; RCU
 * keeps the memcgs they are charged to from going away meanwhile.
 */
bool dmap_env_same_charge(unsigned long pfn, unsigned long other)
{
	struct mem_cgroup *memcg;

	guard(rcu)();
	memcg = folio_memcg(page_folio(pfn_to_page(pfn)));
	return memcg && memcg == folio_memcg(page_folio(pfn_to_page(other)));
}

/*
 * A free slot, frozen and offline, that kept the charge of the page-cache
 * folio it was: dropped as the folio's last put would have.
 */
void dmap_env_uncharge(unsigned long pfn)
{
	mem_cgroup_uncharge(page_folio(pfn_to_page(pfn)));
}

bool dmap_env_page_poisoned(unsigned long pfn)
{
	return PageHWPoison(pfn_to_page(pfn));
}

int dmap_env_collapse(unsigned long pfn)
{
	return dmap_collapse_region(pfn);
}

bool dmap_env_area_owned(unsigned long pfn)
{
	return dmap_region_of(pfn);
}

struct dmap_region *dmap_env_region_alloc(int nid)
{
	if (dmap_should_fail(DMAP_FAIL_BOOKKEEPING))
		return NULL;
	return kzalloc(sizeof(struct dmap_region), GFP_KERNEL);
}

void dmap_env_region_free(struct dmap_region *r)
{
	kfree(r);
}

int dmap_env_region_register(struct dmap_region *r)
{
	if (dmap_should_fail(DMAP_FAIL_BOOKKEEPING))
		return -ENOMEM;
	return xa_err(xa_store(&dmap_regions, r->pfn >> DMAP_REGION_ORDER, r,
			       GFP_KERNEL));
}

void dmap_env_region_unregister(struct dmap_region *r)
{
	xa_erase(&dmap_regions, r->pfn >> DMAP_REGION_ORDER);
	kfree_rcu(r, rcu);
}
