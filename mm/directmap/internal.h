/* SPDX-License-Identifier: GPL-2.0 */
/*
 * directmap's kernel side, shared by its files: the per-node state around
 * the policy's caches (policy.h), and what core.c, env.c, single.c,
 * owner.c, hibernate.c, hotplug.c, debugfs.c and the debug tools (verify.c,
 * torture.c) call of each other.
 */
#ifndef _MM_DIRECTMAP_INTERNAL_H
#define _MM_DIRECTMAP_INTERNAL_H

#include <linux/atomic.h>
#include <linux/directmap.h>
#include <linux/directmap_arch.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>

#include "policy.h"

struct notifier_block;
struct seq_file;

/*
 * Pages wiped with one load of the wipe mm (wipe.c), and freed pages a
 * node gathers before it wipes them: interrupts stay off for as many page
 * clears.
 */
#define DMAP_WIPE_BATCH		16

/**
 * struct dmap_node - a node's region cache and the pages around it
 * @cache:		the policy's view: regions and slots
 * @refill_lock:	one refill per node at a time
 * @share_lock:		serialises shares and unshares of the node's pages,
 *			and frees of pages that are shared
 * @nr_pending:		returned allocations, wiped, that others still
 *			referenced (their regions' deferred bits) or that a
 *			reclaim pass has not put back yet, under @cache.lock
 * @nr_singles:		single pages handed out by the fallback path
 * @fallbacks:		allocations served by the fallback path
 * @fallback_failures:	allocations the fallback path could not serve either
 * @wipe_lock:		protects the wipe queue
 * @nr_wiping:		freed allocations not wiped and back yet: in the queue
 *			or taken from it, for the stats and dmap_wipe_wait()
 * @nr_wipe:		allocations in @wipe
 * @nr_wipe_pages:	their pages, at most DMAP_WIPE_BATCH
 * @wipe:		allocations freed into regions and not wiped yet: still
 *			out of the direct map, their slots taken
 * @wipe_order:		the order of each
 */
struct dmap_node {
	struct dmap_cache	cache;
	struct mutex		refill_lock;	/* one refill per node at a time */
	struct mutex		share_lock;	/* see above */
	unsigned long		nr_pending;
	atomic_long_t		nr_singles;
	atomic_long_t		fallbacks;
	atomic_long_t		fallback_failures;
	spinlock_t		wipe_lock;	/* the wipe queue below */
	atomic_t		nr_wiping;
	unsigned int		nr_wipe;
	unsigned int		nr_wipe_pages;
	struct page		*wipe[DMAP_WIPE_BATCH];
	u8			wipe_order[DMAP_WIPE_BATCH];
};

extern struct dmap_node *dmap_nodes[MAX_NUMNODES];
/* Regions by pfn >> DMAP_REGION_ORDER (env.c) */
extern struct xarray dmap_regions;
/* Single fallback allocations by pfn; poisoned ones kept (single.c) */
extern struct xarray dmap_singles;
extern struct xarray dmap_singles_retired;
extern atomic_long_t dmap_pages_retired;
/*
 * Pages taken from the page allocator and given back to it: the
 * difference is what the caches and the fallback hold, never more.
 */
extern atomic_long_t dmap_pages_taken;
extern atomic_long_t dmap_pages_given_back;

struct dmap_region *dmap_region_of(unsigned long pfn);
/* Free slots are PageOffline(); handed-out pages are not (env.c) */
void dmap_slots_offline(struct page *page, unsigned long nr);
void dmap_slots_online(struct page *page, unsigned long nr);

/* Who drops the reference of the caller that frees pages */
enum dmap_free_ref {
	DMAP_FREE_PUTS_REF,	/* the free: pages from directmap_alloc_pages() */
	DMAP_CALLER_PUTS_REF,	/* a page cache's ->free_folio(): its holders */
};

/* core.c: count and trace an error; a caller broke the API */
void dmap_error(int nid, int kind, int err);
#define dmap_misuse(nid, cond, fmt, ...)				\
({									\
	bool __bad = !!(cond);						\
									\
	if (__bad) {							\
		WARN_ONCE(1, "directmap: " fmt, ##__VA_ARGS__);		\
		dmap_error(nid, DIRECTMAP_ERR_MISUSE, -EINVAL);		\
	}								\
	__bad;								\
})
bool dmap_poisoned(struct page *page, unsigned int order);

/* single.c: the single-page fallback */
struct page *dmap_alloc_single(struct dmap_node *pn, unsigned int order,
			       unsigned int flags);
int dmap_free_single(struct page *page, unsigned int order,
		     enum dmap_free_ref ref);
int dmap_share_single(unsigned long pfn, unsigned long nr);
int dmap_unshare_single(unsigned long pfn, unsigned long nr);
bool dmap_singles_shared_in(unsigned long pfn, unsigned long nr);
bool dmap_single_page(unsigned long pfn);
bool dmap_single_page_shared(unsigned long pfn);
unsigned long dmap_singles_held(void);

/* What KUnit stubs or calls, static without it */
#if IS_ENABLED(CONFIG_KUNIT)
struct page *dmap_env_single_alloc(int nid, gfp_t gfp, unsigned int order);
int dmap_single_map_back(struct page *page);
struct dmap_region *dmap_free_lookup(unsigned long pfn);
void dmap_wipe_kick(struct dmap_node *pn);
void dmap_wipe_work_sync(void);
unsigned int dmap_wipe_take(struct dmap_node *pn, struct page **pages,
			    u8 *orders);
void dmap_wipe_finish(struct dmap_node *pn, struct page **heads, u8 *orders,
		      unsigned int n);
#endif

/* core.c: put back the returned pages of @pn nobody references any more */
void dmap_reclaim_pending(struct dmap_node *pn);
/* core.c: wipe the pages freed on @pn that wait for it */
bool dmap_wipe_flush(struct dmap_node *pn);
void dmap_wipe_flush_all(void);
void dmap_wipe_wait(void);

/* hibernate.c: allocations hold hibernation off, and wait for its end */
bool dmap_alloc_begin(void);
void dmap_alloc_end(void);
bool dmap_wipe_now(void);
#if IS_ENABLED(CONFIG_KUNIT)
int dmap_pm_notify(struct notifier_block *nb, unsigned long action,
		   void *data);
#endif
void dmap_hibernate_init(void);

/* hotplug.c */
void dmap_hotplug_init(void);

/* wipe.c: zero pages that have no direct map; KUnit watches each page */
void directmap_clear_pages(struct page *page, unsigned int nr);
void directmap_clear_page_array(struct page **pages, unsigned int nr);
#if IS_ENABLED(CONFIG_KUNIT)
extern void (*directmap_wipe_watch)(void *addr);
extern atomic_long_t dmap_wipe_loads;
#endif

/* debugfs.c, and the files of owner.c and worker.c it shows */
void dmap_debugfs_init(void);
int dmap_owners_show(struct seq_file *m, void *v);
int dmap_collapse_queue_show(struct seq_file *m, void *v);

/* The first node from @nid on that directmap set up, or MAX_NUMNODES */
static inline int dmap_next_node(int nid)
{
	while (nid < MAX_NUMNODES && !dmap_nodes[nid])
		nid++;
	return nid;
}

/* Each node that directmap set up (all, unless directmap=off), as @pn */
#define dmap_for_each_node(nid, pn)					\
	for ((nid) = dmap_next_node(0);					\
	     (nid) < MAX_NUMNODES && ((pn) = dmap_nodes[nid]);		\
	     (nid) = dmap_next_node((nid) + 1))

/* The lists of a node's cache, by index: partial, full, empty */
#define DMAP_CACHE_LISTS	3
static inline struct list_head *dmap_cache_list(struct dmap_node *pn, int i)
{
	return i == 0 ? &pn->cache.partial :
	       i == 1 ? &pn->cache.full : &pn->cache.empty;
}

/* Every region of @pn, @i the index of its list; under @pn->cache.lock */
#define dmap_for_each_region(pn, r, i)					\
	for ((i) = 0; (i) < DMAP_CACHE_LISTS; (i)++)			\
		list_for_each_entry(r, dmap_cache_list(pn, i), list)

/*
 * Reclaim must not wait for the collapse worker or for memory hotplug,
 * whose lock is held by allocations that may reclaim: it leaves
 * collapses to the worker.
 */
static inline bool dmap_in_reclaim(void)
{
	return current->flags & PF_MEMALLOC;
}

/*
 * Pages without an owner, for directmap's own benchmarks and tests; every
 * other user is an owner (owner.c), so these are not exported.
 */
struct page * __must_check directmap_alloc_pages(int nid, unsigned int order,
						 unsigned int flags);
int directmap_free_pages(struct page *page, unsigned int order);
int directmap_free_folio(struct folio *folio);
int dmap_free(struct page *page, unsigned int order,
	      enum dmap_free_ref ref);
int dmap_share(struct page *page, unsigned long nr_pages);
int dmap_unshare(struct page *page, unsigned long nr_pages);
bool dmap_page_shared(unsigned long pfn);
int dmap_area_collapse(unsigned long pfn);
bool dmap_collapse_wanted_at_boot(void);
int dmap_collapse_region(unsigned long pfn);
/* A region nobody took for this long after it emptied goes back */
#define DMAP_RELEASE_IDLE_MS	5000
extern unsigned int dmap_release_idle_ms;
void dmap_idle_arm(void);
void dmap_idle_run(void);
bool dmap_page_owned(unsigned long pfn);
void dmap_count_misuse(int nid);
unsigned long dmap_drain_regions(void);
unsigned long dmap_drain(void);
unsigned long dmap_vm_event(enum vm_event_item item);
long dmap_pages_unaccounted(void);
void dmap_debugfs_file(const char *name, umode_t mode,
		       const struct file_operations *fops);

/* verify.c: check bookkeeping, page tables and counters; 0 if they agree */
unsigned long dmap_verify(struct seq_file *m);

/**
 * struct dmap_torture_result - what a torture run did and what it left
 * @ops:		operations run
 * @allocs:		allocations that succeeded
 * @nulls:		allocations that returned NULL
 * @frees:		frees
 * @free_errors:	frees that failed (never expected)
 * @readable:		handed-out pages the kernel could read (never expected)
 * @ro_rw:		set_memory_ro()/rw() round trips on other pages
 * @ro_rw_errors:	round trips that failed, and whose page was kept
 * @drains:		explicit drains of the caches
 * @collapses:		explicit collapse passes
 * @injected:		failures fail_directmap injected
 * @errors:		errors directmap counted (refill and fallback)
 * @fallback_failures:	allocations that failed even single pages
 * @leaked:		pages taken from the page allocator, not given back
 *			and not held by directmap (never expected)
 * @free_delta:		change of NR_FREE_PAGES, after draining
 * @problems:		what dmap_verify() found afterwards
 */
struct dmap_torture_result {
	unsigned long	ops;
	unsigned long	allocs;
	unsigned long	nulls;
	unsigned long	frees;
	unsigned long	free_errors;
	unsigned long	readable;
	unsigned long	ro_rw;
	unsigned long	ro_rw_errors;
	unsigned long	drains;
	unsigned long	collapses;
	unsigned long	injected;
	unsigned long	errors;
	unsigned long	fallback_failures;
	long		leaked;
	long		free_delta;
	unsigned long	problems;
};

/* torture.c */
#if IS_ENABLED(CONFIG_KUNIT)
int dmap_torture_faults(unsigned long target, unsigned long percent,
			struct dmap_torture_result *res);
#endif
int dmap_torture_storm(unsigned int seconds, unsigned int threads,
		       struct dmap_torture_result *res);

#endif /* _MM_DIRECTMAP_INTERNAL_H */
