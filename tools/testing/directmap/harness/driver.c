// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's stand-in for mm/directmap/core.c and env.c: calls the
 * policy's sequences (dmap_cache_alloc(), dmap_cache_return(),
 * dmap_cache_reclaim(), shares) as the kernel does, over the simulator,
 * with the locks the kernel's hooks take modelled, charges each page to
 * a memory cgroup, and checks that the bookkeeping, lists, counters and
 * the simulated page tables agree.  Shared by the unit tests, the
 * simulator and the fuzzer.
 */
#include <assert.h>
#include <stdio.h>

#include "driver.h"
#include "sim.h"

/* Count and print a broken invariant */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: invariant %s broken\n",		\
		       __FILE__, __LINE__, #cond);			\
		bad++;							\
	}								\
} while (0)

struct dmap_cache drv_caches[DRV_NODES];
int drv_memcg = 1;

void drv_setup(unsigned long gib_per_node)
{
	int nid;

	sim_init(gib_per_node, DRV_NODES);
	for (nid = 0; nid < DRV_NODES; nid++)
		dmap_cache_init(&drv_caches[nid], nid, 2);
}

/*
 * core.c's per-node refill_lock, a mutex: one refill per node at a time.
 * Single-threaded here, so it only checks that it is not taken twice,
 * nor under the node's spinlock.
 */
#define DRV_MAX_NODES	64
static bool refill_locked[DRV_MAX_NODES];

void dmap_env_refill_lock(struct dmap_cache *cache)
{
	assert(cache->nid >= 0 && cache->nid < DRV_MAX_NODES);
	assert(!cache->lock.held && !refill_locked[cache->nid]);
	refill_locked[cache->nid] = true;
}

void dmap_env_refill_unlock(struct dmap_cache *cache)
{
	assert(refill_locked[cache->nid]);
	refill_locked[cache->nid] = false;
}

void dmap_env_refill_failed(struct dmap_cache *cache, int err)
{
	assert(err < 0 && refill_locked[cache->nid]);
}

/* Returned pages are put back by drv_last_put(), when a test says so */
bool dmap_env_reclaim_returned(struct dmap_cache *cache)
{
	return false;
}

/* An allocation, as core.c makes it: the policy's, charged to a memcg */
long drv_take(struct dmap_cache *cache, unsigned int order)
{
	unsigned long pfn;

	if (dmap_cache_alloc(cache, order, &pfn) < 0)
		return -1;
	/* its user's memory cgroup pays, as the page cache's */
	if (!order)
		sim_charge(pfn, drv_memcg);
	return pfn;
}

/*
 * core.c's per-node share_lock, a mutex: it orders shares, unshares and
 * the frees that unshare.  Single-threaded here, so it only checks that it
 * is not taken twice, nor under the node's spinlock.
 */
static bool share_locked[DRV_MAX_NODES];
/* The caches dmap_env_mark_returned() finds regions in: drv_mark()'s */
static struct dmap_cache *mark_caches = drv_caches;

void dmap_env_share_lock(int nid)
{
	assert(nid >= 0 && nid < DRV_MAX_NODES);
	assert(!mark_caches[nid].lock.held && !share_locked[nid]);
	share_locked[nid] = true;
}

void dmap_env_share_unlock(int nid)
{
	assert(share_locked[nid]);
	share_locked[nid] = false;
}

int dmap_env_mark_returned(unsigned long pfn, unsigned int order,
			   bool may_unshare, int *nid)
{
	struct dmap_region *r = sim_region_of(pfn);
	int err;

	if (!r)
		return -ENOENT;
	*nid = r->nid;
	err = dmap_cache_mark_returned(&mark_caches[*nid], r, pfn, order,
				       false);
	if (err != -EAGAIN || !may_unshare)
		return err;
	assert(share_locked[*nid]);
	return dmap_cache_mark_returned(&mark_caches[*nid], r, pfn, order,
					true);
}

/* The owner gives an allocation back to a region of @nodes, as core.c */
int drv_mark(struct dmap_cache *nodes, unsigned long pfn, unsigned int order)
{
	int err, nid;

	mark_caches = nodes;
	err = dmap_cache_return(pfn, order, &nid);
	/* single pages are not modelled: not the cache's */
	return err == -ENOENT ? -EINVAL : err;
}

/* The last reference to a returned allocation is gone */
void drv_reclaim(struct dmap_cache *nodes, unsigned long pfn,
		 unsigned int order)
{
	struct dmap_region *r = sim_region_of(pfn);

	dmap_cache_reclaim(&nodes[r->nid], r, pfn, order, sim_charged(pfn));
}

/* Give an allocation back to the cache of its region's node in @nodes */
int drv_put(struct dmap_cache *nodes, unsigned long pfn, unsigned int order)
{
	int err = drv_mark(nodes, pfn, order);

	if (!err)
		drv_reclaim(nodes, pfn, order);
	return err;
}

long drv_alloc(int nid, unsigned int order)
{
	return drv_take(&drv_caches[nid], order);
}

int drv_release(unsigned long pfn, unsigned int order)
{
	return drv_put(drv_caches, pfn, order);
}

int drv_return(unsigned long pfn, unsigned int order)
{
	return drv_mark(drv_caches, pfn, order);
}

void drv_last_put(unsigned long pfn, unsigned int order)
{
	drv_reclaim(drv_caches, pfn, order);
}

/* As owner.c's dmap_share() for region pages; single pages are not modelled */
static int drv_flip(unsigned long pfn, unsigned long nr_pages, bool share)
{
	struct dmap_region *r = sim_region_of(pfn);
	struct dmap_cache *cache;
	int err;

	if (!r)
		return -EINVAL;
	cache = &drv_caches[r->nid];
	mark_caches = drv_caches;
	dmap_env_share_lock(cache->nid);
	if (share)
		err = dmap_cache_share(cache, r, pfn, nr_pages);
	else
		err = dmap_cache_unshare(cache, r, pfn, nr_pages);
	dmap_env_share_unlock(cache->nid);
	return err;
}

int drv_share(unsigned long pfn, unsigned long nr_pages)
{
	return drv_flip(pfn, nr_pages, true);
}

int drv_unshare(unsigned long pfn, unsigned long nr_pages)
{
	return drv_flip(pfn, nr_pages, false);
}

void drv_shrink_all(void)
{
	int nid;

	for (nid = 0; nid < DRV_NODES; nid++)
		dmap_cache_shrink(&drv_caches[nid], ~0UL, 0);
}

void drv_snap_take(struct drv_snap *s, unsigned long pfn)
{
	struct dmap_region *r = sim_region_of(pfn);
	struct dmap_cache *cache = &drv_caches[r->nid];
	unsigned long i;

	/* padding too: drv_snap_same() compares the bytes */
	memset(s, 0, sizeof(*s));
	memcpy(s->used, r->used, sizeof(s->used));
	memcpy(s->pending, r->pending, sizeof(s->pending));
	memcpy(s->shared, r->shared, sizeof(s->shared));
	for (i = 0; i < DMAP_REGION_PAGES; i++)
		if (sim_present(r->pfn + i))
			__set_bit(i, s->present);
	s->nr_shared = r->nr_shared;
	s->nr_free = r->nr_free;
	s->level = sim_level(r->pfn);
	s->pmd_splits = sim.pmd_splits;
	s->pmd_collapses = sim.pmd_collapses;
	s->flushes = sim.flushes;
	s->pgtables = sim.pgtables;
	s->shares = cache->stats.shares;
	s->unshares = cache->stats.unshares;
	s->frees = cache->stats.frees;
	s->nr_used = cache->nr_used;
}

bool drv_snap_same(const struct drv_snap *before, unsigned long pfn)
{
	struct drv_snap now;

	drv_snap_take(&now, pfn);
	return !memcmp(before, &now, sizeof(now));
}

/*
 * Does a page of @r that is out share the memory cgroup of slot @s's
 * charge?  Returned ones count until their last put looks again.
 */
static bool drv_pinned(struct dmap_region *r, unsigned long s)
{
	unsigned long i;

	for (i = 0; i < DMAP_REGION_PAGES; i++)
		if (test_bit(i, r->head) &&
		    sim_charged(r->pfn + s) &&
		    sim_charged(r->pfn + i) == sim_charged(r->pfn + s))
			return true;
	return false;
}

/* Bookkeeping = lists = counters = simulated page tables and allocator */
unsigned long drv_check(void)
{
	unsigned long bad = 0;
	int nid;

	for (nid = 0; nid < DRV_NODES; nid++) {
		struct dmap_cache *cache = &drv_caches[nid];
		unsigned long regions = 0, empty = 0, nr_free = 0, used = 0;
		unsigned long shared = 0, charged = 0;
		struct list_head *lists[] = { &cache->partial, &cache->full, &cache->empty };
		struct dmap_region *r;
		unsigned long i, s;

		CHECK(!cache->lock.held && !share_locked[nid]);
		for (i = 0; i < ARRAY_SIZE(lists); i++) {
			list_for_each_entry(r, lists[i], list) {
				unsigned long w = bitmap_weight(r->used,
						DMAP_REGION_PAGES);

				regions++;
				CHECK(r->nid == nid && sim_nid_of(r->pfn) == nid);
				CHECK(sim_region_of(r->pfn) == r);
				CHECK(r->nr_free == DMAP_REGION_PAGES - w);
				if (lists[i] == &cache->empty)
					CHECK(r->nr_free == DMAP_REGION_PAGES);
				else if (lists[i] == &cache->full)
					CHECK(r->nr_free == 0);
				else
					CHECK(r->nr_free && r->nr_free < DMAP_REGION_PAGES);
				empty += lists[i] == &cache->empty;
				nr_free += r->nr_free;
				used += w;
				shared += r->nr_shared;
				/* its direct map against its bitmaps: sim_check() */
				for (s = 0; s < DMAP_REGION_PAGES; s++) {
					if (test_bit(s, r->pending) ||
					    test_bit(s, r->head))
						CHECK(test_bit(s, r->used));
					if (test_bit(s, r->retired))
						CHECK(test_bit(s, r->used) &&
						      !test_bit(s, r->head) &&
						      !test_bit(s, r->pending) &&
						      sim_poisoned(r->pfn + s));
				}
				CHECK(r->nr_retired ==
				      bitmap_weight(r->retired, DMAP_REGION_PAGES));
				/*
				 * A charge is kept exactly by the free slots
				 * of a region that their cgroup still pins
				 */
				for (s = 0; s < DMAP_REGION_PAGES; s++) {
					if (test_bit(s, r->charged))
						CHECK(!test_bit(s, r->used) &&
						      drv_pinned(r, s));
					else if (!test_bit(s, r->used))
						CHECK(!sim_charged(r->pfn + s));
				}
				charged += bitmap_weight(r->charged,
							 DMAP_REGION_PAGES);
			}
		}
		CHECK(regions == cache->nr_regions);
		CHECK(empty == cache->nr_empty);
		CHECK(nr_free == cache->nr_free);
		CHECK(used == cache->nr_used + cache->nr_retired);
		CHECK(charged == cache->nr_charged);
		/* released regions had nothing shared */
		CHECK(cache->stats.shares - cache->stats.unshares == shared);
	}
	return bad + sim_check();
}
