/* SPDX-License-Identifier: GPL-2.0 */
/*
 * directmap policy: per-node caches of 2M regions that are absent from the
 * direct map.  Everything here is arch-independent and free of struct page,
 * so that tools/testing/directmap compiles it in userspace against a
 * simulated direct map.
 */
#ifndef _MM_DIRECTMAP_POLICY_H
#define _MM_DIRECTMAP_POLICY_H

#include <linux/bitmap.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/* A region is one PMD-mapped 2M block: order 9 with 4K pages */
#define DMAP_REGION_ORDER	9
#define DMAP_REGION_PAGES	BIT(DMAP_REGION_ORDER)

/**
 * struct dmap_region - a 2M block of memory that is absent from the direct map
 * @list:	on its node's partial, full or empty list
 * @pfn:	first page frame, DMAP_REGION_PAGES aligned
 * @nid:	NUMA node of the block
 * @nr_free:	slots that can be handed out
 * @used:	slots handed out, or returned but still referenced
 * @head:	first slot of each allocation, to check the order of a free
 * @pending:	slots returned by their owner, waiting for the last reference
 * @deferred:	pending allocations (first slot) whose reclaim the caller put
 *		off: the environment looks at them again later
 * @shared:	slots handed out and put back into the direct map by their
 *		owner (in-place sharing of confidential memory): the only
 *		pages of a region that may be present, and only at 4K
 * @nr_shared:	bits set in @shared
 * @retired:	slots whose memory is poisoned: in use for good, and never
 *		handed out, wiped, mapped or freed again
 * @nr_retired:	bits set in @retired
 * @charged:	free slots still charged to the memory cgroup that freed
 *		them, which has other pages of the region in use: whoever
 *		pins the region pays for what it freed there
 * @empty_since: dmap_env_now() when it last went onto its node's empty list
 * @rcu:	frees the region after lockless lookups are done with it
 */
struct dmap_region {
	struct list_head	list;
	unsigned long		pfn;
	int			nid;
	unsigned int		nr_free;
	DECLARE_BITMAP(used, DMAP_REGION_PAGES);
	DECLARE_BITMAP(head, DMAP_REGION_PAGES);
	DECLARE_BITMAP(pending, DMAP_REGION_PAGES);
	DECLARE_BITMAP(deferred, DMAP_REGION_PAGES);
	DECLARE_BITMAP(shared, DMAP_REGION_PAGES);
	unsigned int		nr_shared;
	DECLARE_BITMAP(retired, DMAP_REGION_PAGES);
	unsigned int		nr_retired;
	DECLARE_BITMAP(charged, DMAP_REGION_PAGES);
	unsigned long		empty_since;
	struct rcu_head		rcu;
};

/* Event counters of one node; read without the lock, so only ever added to */
struct dmap_stats {
	unsigned long	refills;	/* regions taken from the buddy allocator */
	unsigned long	refill_failures;/* refills that found no 2M block or failed */
	unsigned long	releases;	/* regions given back to the buddy allocator */
	unsigned long	collapses;	/* releases whose 2M entry was whole */
	unsigned long	allocs;		/* allocations served from regions */
	unsigned long	frees;		/* allocations returned to regions */
	unsigned long	misuse;		/* frees of pages directmap did not hand out */
	unsigned long	shares;		/* pages put back into the direct map */
	unsigned long	unshares;	/* shared pages taken out again */
	unsigned long	retired;	/* poisoned slots kept out for good */
};

/**
 * struct dmap_cache - the region cache of one NUMA node
 * @lock:	protects everything below and the bitmaps of the regions
 * @nid:	the node
 * @partial:	regions with some slots free, most recently filled first
 * @full:	regions with no slot free
 * @empty:	regions with every slot free, most recently emptied first
 * @nr_regions:	regions on the three lists
 * @nr_empty:	regions on @empty
 * @nr_free:	free slots over all regions
 * @nr_used:	slots handed out or pending
 * @nr_retired:	slots retired because their memory is poisoned
 * @nr_charged:	bits set in the regions' @charged
 * @high:	empty regions kept before they go back to the buddy allocator
 * @nr_releasing: regions taken off the lists to go back, not yet given back
 *		(or listed again): their free slots are on no list, and memory
 *		offline must not pass them
 * @stats:	event counters
 */
struct dmap_cache {
	spinlock_t		lock;		/* see above */
	int			nid;
	struct list_head	partial;
	struct list_head	full;
	struct list_head	empty;
	unsigned long		nr_regions;
	unsigned long		nr_empty;
	unsigned long		nr_free;
	unsigned long		nr_used;
	unsigned long		nr_retired;
	unsigned long		nr_charged;
	unsigned long		high;
	unsigned long		nr_releasing;
	struct dmap_stats	stats;
};

void dmap_cache_init(struct dmap_cache *cache, int nid, unsigned long high);
int dmap_cache_alloc(struct dmap_cache *cache, unsigned int order,
		     unsigned long *pfn);
int dmap_cache_mark_returned(struct dmap_cache *cache, struct dmap_region *r,
			     unsigned long pfn, unsigned int order,
			     bool may_unshare);
int dmap_cache_return(unsigned long pfn, unsigned int order, int *nid);
int dmap_cache_share(struct dmap_cache *cache, struct dmap_region *r,
		     unsigned long pfn, unsigned long nr_pages);
int dmap_cache_unshare(struct dmap_cache *cache, struct dmap_region *r,
		       unsigned long pfn, unsigned long nr_pages);
struct dmap_region *dmap_cache_put(struct dmap_cache *cache,
				   struct dmap_region *r, unsigned long pfn,
				   unsigned int order, bool charged);
void dmap_cache_retire(struct dmap_cache *cache, struct dmap_region *r,
		       unsigned long pfn, unsigned int order, bool charged);
void dmap_cache_reclaim(struct dmap_cache *cache, struct dmap_region *r,
			unsigned long pfn, unsigned int order, bool charged);
int dmap_cache_refill(struct dmap_cache *cache);
bool dmap_cache_release(struct dmap_cache *cache, struct dmap_region *r);
unsigned long dmap_cache_shrink(struct dmap_cache *cache,
				unsigned long nr_regions, unsigned long keep);
unsigned long dmap_cache_trim(struct dmap_cache *cache, unsigned long age,
			      unsigned long *wait);
long dmap_cache_offline(struct dmap_cache *cache, unsigned long pfn,
			unsigned long nr_pages);

/*
 * The environment the policy runs in: mm/directmap/env.c in the kernel,
 * the simulator in tools/testing/directmap.
 */
/*
 * A clock for the ages of empty regions: jiffies in the kernel.  A region
 * went onto @cache's empty list: have dmap_cache_trim() run in time.
 */
unsigned long dmap_env_now(void);
void dmap_env_region_emptied(struct dmap_cache *cache);
int dmap_env_block_alloc(int nid, unsigned long *pfn);
void dmap_env_block_free(unsigned long pfn);
int dmap_env_block_unmap(unsigned long pfn);
void dmap_env_block_restore(unsigned long pfn);
/*
 * Make pages of a region present in the direct map, at 4K: all or nothing
 * (splitting the region's 2M entry may fail).  Take them out again, which
 * cannot fail.  Once no page of the region is present any more, make it
 * one absent 2M entry again (now, or by the collapse worker).
 */
int dmap_env_pages_map(unsigned long pfn, unsigned long nr_pages);
void dmap_env_pages_unmap(unsigned long pfn, unsigned long nr_pages);
void dmap_env_region_absent(unsigned long pfn);
/*
 * Re-form the 2M mapping over @pfn if it is uniform again, 0 if done; its
 * 1G area is left to the collapse worker
 */
int dmap_env_collapse(unsigned long pfn);
/* The bookkeeping of a region, before it is registered */
struct dmap_region *dmap_env_region_alloc(int nid);
void dmap_env_region_free(struct dmap_region *r);
int dmap_env_region_register(struct dmap_region *r);
/* Unregister and free @r once lockless lookups cannot see it any more */
void dmap_env_region_unregister(struct dmap_region *r);
/*
 * Put the returned pages that nobody references any more back into their
 * slots; false if none was waiting.  One refill per node at a time: the
 * lock orders them; a refill that failed is counted and traced.
 */
bool dmap_env_reclaim_returned(struct dmap_cache *cache);
void dmap_env_refill_lock(struct dmap_cache *cache);
void dmap_env_refill_unlock(struct dmap_cache *cache);
void dmap_env_refill_failed(struct dmap_cache *cache, int err);
/*
 * Look up the region of @pfn and dmap_cache_mark_returned() there, with
 * @may_unshare under dmap_env_share_lock() of its node only: -ENOENT if no
 * region holds @pfn.  The share lock orders shares, unshares and the
 * returns that unshare, per node.
 */
int dmap_env_mark_returned(unsigned long pfn, unsigned int order,
			   bool may_unshare, int *nid);
void dmap_env_share_lock(int nid);
void dmap_env_share_unlock(int nid);
/* Is the memory of @pfn poisoned (hardware error, or injected)? */
bool dmap_env_page_poisoned(unsigned long pfn);
/*
 * Memory cgroup charges of page-cache pages, under the cache's lock: are
 * the pages at @pfn and @other charged to the same cgroup?  Drop the
 * charge of the page at @pfn, which is no longer in use.
 */
bool dmap_env_same_charge(unsigned long pfn, unsigned long other);
void dmap_env_uncharge(unsigned long pfn);

/* ---- collapse policy (collapse.c) ---- */

/* 4K pages under one 1G entry */
#define DMAP_PUD_ORDER		18
#define DMAP_PUD_PAGES		BIT(DMAP_PUD_ORDER)

/* Event counters of the collapse worker and of explicit collapses */
struct dmap_collapse_stats {
	unsigned long	passes;		/* passes of the worker */
	unsigned long	tried;		/* areas looked at */
	unsigned long	level2;		/* 2M entries re-formed */
	unsigned long	level3;		/* 1G entries re-formed */
	unsigned long	not_uniform;	/* areas whose entries still differ */
	unsigned long	busy;		/* tries put off by a contended lock */
	unsigned long	pinned;		/* tries skipped: set_memory_4k() area */
	unsigned long	notes;		/* changes the architecture reported */
	unsigned long	bounced;	/* 2M areas changed again after a re-form */
	unsigned long	idle;		/* passes that found the direct map idle */
	unsigned long	slept;		/* passes skipped by dmap_collapse_skip() */
};

/*
 * Passes of the epoch that a 2M area changed again after a re-form waits
 * for, quiet; and passes without any change to the direct map after which
 * 1G areas, and everything else waiting, are tried.
 */
#define DMAP_COLLAPSE_BACKOFF	4
#define DMAP_COLLAPSE_IDLE	16

/**
 * struct dmap_collapse_level - the marks of one level of the direct map
 * @nr:		areas the bitmaps cover
 * @fresh:	areas whose entries changed since the last pass
 * @aged:	areas that changed before the last pass and not since
 */
struct dmap_collapse_level {
	unsigned long		nr;
	unsigned long		*fresh;
	unsigned long		*aged;
};

/**
 * struct dmap_collapse - which areas of the direct map may be re-formed
 * @pmd:	2M areas: a mark means their 4K entries changed
 * @pud:	1G areas: a mark means their 2M entries changed
 * @pmd_pinned:	2M areas that set_memory_4k() wants at 4K for good
 * @pmd_reformed: 2M areas re-formed and not changed since: a change now
 *		means that the area bounced
 * @pmd_bounced: 2M areas that bounced, for good: they wait for epochs
 * @pmd_slow:	2M areas that bounced and changed since they were tried
 * @pmd_dirty:	areas of @pmd_slow that changed during this epoch
 * @nr_pmds:	2M areas the bitmaps cover
 * @nr_puds:	1G areas the bitmaps cover
 * @backoff:	passes of an epoch
 * @idle:	passes without any change after which 1G areas are tried
 * @nr_passes:	passes so far, for the epochs; with those slept through
 * @quiet:	passes in a row that found no change; with those slept through
 * @stats:	event counters
 *
 * The fresh bitmaps and @pmd_pinned are set from any context, atomically,
 * and @backoff and @idle by their sysfs knobs at any time; everything else
 * belongs to whoever runs a pass (serialised by the caller).
 */
struct dmap_collapse {
	struct dmap_collapse_level pmd;
	struct dmap_collapse_level pud;
	unsigned long		*pmd_pinned;
	unsigned long		*pmd_reformed;
	unsigned long		*pmd_bounced;
	unsigned long		*pmd_slow;
	unsigned long		*pmd_dirty;
	unsigned long		nr_pmds;
	unsigned long		nr_puds;
	unsigned int		backoff;
	unsigned int		idle;
	unsigned long		nr_passes;
	unsigned long		quiet;
	struct dmap_collapse_stats stats;
};

int dmap_collapse_init(struct dmap_collapse *dc, unsigned long max_pfn);
void dmap_collapse_exit(struct dmap_collapse *dc);
bool dmap_collapse_note(struct dmap_collapse *dc, unsigned long pfn, bool pud);
void dmap_collapse_pin(struct dmap_collapse *dc, unsigned long pfn,
		       unsigned long nr_pages);
void dmap_collapse_unpin(struct dmap_collapse *dc, unsigned long pfn,
			 unsigned long nr_pages);
bool dmap_collapse_pass(struct dmap_collapse *dc, unsigned long budget,
			bool now);
int dmap_collapse_range(struct dmap_collapse *dc, unsigned long pfn,
			unsigned long nr_pages, bool pud_now);
unsigned long dmap_collapse_waiting(struct dmap_collapse *dc, bool pud);
unsigned long dmap_collapse_idle_wait(struct dmap_collapse *dc);
void dmap_collapse_skip(struct dmap_collapse *dc, unsigned long passes);

/*
 * Re-form the entry over @pfn: 1 if done now, 0 if it was large already,
 * -EAGAIN if its entries differ, -EBUSY if contended, -EOPNOTSUPP if the
 * direct map must stay small.  @not_present: directmap owns the whole 2M.
 */
int dmap_env_collapse_pmd(unsigned long pfn, bool not_present);
int dmap_env_collapse_pud(unsigned long pfn);
void dmap_env_collapse_begin(void);
void dmap_env_collapse_end(void);
/* Does directmap hold the whole 2M area of @pfn as one of its regions? */
bool dmap_env_area_owned(unsigned long pfn);

/*
 * worker.c: switch the worker off and on (returns the old state); run a
 * pass that does not wait for areas to age, now or, without waiting for a
 * pass that is running, next
 */
bool dmap_collapse_set_enabled(bool on);
void dmap_collapse_flush(void);
void dmap_collapse_flush_soon(void);
void dmap_collapse_forget(unsigned long pfn, unsigned long nr_pages);
struct seq_file;
void dmap_collapse_summary(struct seq_file *m);

#endif /* _MM_DIRECTMAP_POLICY_H */
