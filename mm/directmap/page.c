// SPDX-License-Identifier: GPL-2.0
/*
 * directmap: pages that are absent from the direct map.
 *
 * The region cache (cache.c) decides which 2M region a page comes from.
 * This file turns its slots into struct pages: it takes 2M blocks from the
 * buddy allocator, keeps a reference on every page it hands out so that a
 * page returns to its region only after its last user is gone, wipes pages
 * while they stay unmapped, and falls back to unmapping single pages when
 * no 2M block can be had, so that a fault never fails because the cache is
 * dry.
 *
 * Page states:
 *   free slot		refcount 0 (frozen), zeroed, in a region
 *   handed out		refcount >= 2: the owner's and directmap's
 *   returned		pending (deferred) in its region until only
 *			directmap's reference is left, then frozen, off the
 *			LRU and back in its slot
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/debugfs.h>
#include <linux/directmap.h>
#include <linux/freezer.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/cpuset.h>
#include <linux/ktime.h>
#include <linux/memcontrol.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/page_ref.h>
#include <linux/percpu-rwsem.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/set_memory.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/suspend.h>
#include <linux/swap.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <kunit/static_stub.h>
#include <asm/tlbflush.h>

#include "fault.h"
#include "internal.h"
#include "page.h"

#define CREATE_TRACE_POINTS
#include <trace/events/directmap.h>

/* Empty regions each node keeps before giving them back */
#define DMAP_HIGH_DEFAULT	2

/* 2M blocks are nice to have: fail fast and fall back to single pages */
#define DMAP_REFILL_GFP	(GFP_KERNEL | __GFP_THISNODE | __GFP_NORETRY | \
			 __GFP_NOWARN | __GFP_ZERO)

/*
 * directmap= on the command line: "off" is the stock kernel (no cache, the
 * direct map never re-formed), "collapse" runs the collapse worker only
 * (stock secretmem, its splits repaired afterwards), "on" (the default)
 * both.
 */
enum dmap_mode { DMAP_MODE_OFF, DMAP_MODE_COLLAPSE, DMAP_MODE_ON };
static enum dmap_mode dmap_mode __ro_after_init = DMAP_MODE_ON;
static bool directmap_ready __read_mostly;
struct dmap_pnode *dmap_pnodes[MAX_NUMNODES];

/* Regions by pfn >> DMAP_REGION_ORDER; single fallback pages by pfn */
DEFINE_XARRAY(dmap_regions);
DEFINE_XARRAY(dmap_singles);
/* Pages of single allocations that their owner shared, by pfn */
DEFINE_XARRAY(dmap_singles_shared);
atomic_long_t dmap_pages_taken;
atomic_long_t dmap_pages_given_back;
/* Single pages kept for good because their memory is poisoned */
static atomic_long_t dmap_pages_retired;
/* Their poisoned pages, by pfn: absent from the direct map for good */
static DEFINE_XARRAY(dmap_singles_retired);

/* Set from hibernation's PREPARE to its POST: nothing is handed out */
static bool dmap_hibernating;
DEFINE_STATIC_PERCPU_RWSEM(dmap_pm_sem);
static DECLARE_WAIT_QUEUE_HEAD(dmap_pm_wait);

static void dmap_reclaim_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dmap_reclaim_work, dmap_reclaim_workfn);

static int __init directmap_setup(char *str)
{
	bool on;

	if (str && !strcmp(str, "collapse")) {
		dmap_mode = DMAP_MODE_COLLAPSE;
		return 0;
	}
	if (!str || kstrtobool(str, &on)) {
		pr_warn("directmap=%s: want on, off or collapse\n", str ?: "");
		return -EINVAL;
	}
	dmap_mode = on ? DMAP_MODE_ON : DMAP_MODE_OFF;
	return 0;
}
early_param("directmap", directmap_setup);

/**
 * directmap_requested - did the command line leave directmap on?
 *
 * For the architecture's early mapping code, which runs before
 * directmap_enabled() can say: arm64 keeps linear-map blocks only for it.
 *
 * Return: false if booted with directmap=off.
 */
bool __init directmap_requested(void)
{
	return dmap_mode != DMAP_MODE_OFF;
}

/**
 * dmap_collapse_wanted_at_boot - does the command line ask for the worker?
 *
 * Return: false with directmap=off.
 */
bool __init dmap_collapse_wanted_at_boot(void)
{
	return dmap_mode != DMAP_MODE_OFF;
}

/**
 * directmap_enabled - is directmap in charge of pages without a direct map?
 *
 * False when booted with directmap=off: users such as secretmem then keep
 * their stock path.
 *
 * Return: true if directmap_alloc_pages() can be used.
 */
bool directmap_enabled(void)
{
	return READ_ONCE(directmap_ready);
}
EXPORT_SYMBOL_NS_GPL(directmap_enabled, DIRECTMAP);

/* ---- the environment of the region cache ---- */

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
static void dmap_slots_offline(struct page *page, unsigned long nr)
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

static void dmap_slots_online(struct page *page, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		if (PageOffline(page + i))
			__ClearPageOffline(page + i);
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

void dmap_env_region_absent(unsigned long pfn)
{
	int err = -EBUSY;

	if (!dmap_in_reclaim())
		err = arch_directmap_collapse_pmd(pfn, true);
	/* contended: the worker re-forms it once the area is quiet */
	if (err < 0 && err != -EOPNOTSUPP)
		directmap_note_pte((unsigned long)pfn_to_kaddr(pfn));
}

/* Does an owner share a page of a single allocation in [pfn, pfn + nr)? */
static bool dmap_singles_shared_in(unsigned long pfn, unsigned long nr)
{
	unsigned long index;
	void *entry;

	xa_for_each_range(&dmap_singles_shared, index, entry, pfn, pfn + nr - 1)
		return true;
	return false;
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
 * policy asked.
 *
 * Context: process context, may sleep; not from reclaim.
 * Return: as arch_directmap_collapse_pmd(); -EAGAIN while pages are
 * shared, -EBUSY if the share lock is contended.
 */
int dmap_area_collapse(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
	struct dmap_pnode *pn = page ? dmap_pnodes[page_to_nid(page)] : NULL;
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
	return directmap_collapse(pfn, DMAP_REGION_PAGES);
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

/* The single-page fallback's pages; KUnit hands it pages to test with */
static struct page *dmap_env_single_alloc(int nid, gfp_t gfp,
					  unsigned int order)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_env_single_alloc, nid, gfp, order);
	if (dmap_should_fail(DMAP_FAIL_SINGLE))
		return NULL;
	return alloc_pages_node(nid, gfp, order);
}

/**
 * directmap_alloc_pgtable - allocate a page-table page for the direct map
 * @gfp:	GFP_KERNEL, or without direct reclaim for a caller that holds
 *		a lock the shrinker takes
 *
 * The architecture code takes the page tables that an unmap needs from
 * here, before it changes anything.  KUnit replaces it to inject failures.
 *
 * Return: a page, or NULL.
 */
struct page *directmap_alloc_pgtable(gfp_t gfp)
{
	KUNIT_STATIC_STUB_REDIRECT(directmap_alloc_pgtable, gfp);
	if (dmap_should_fail(DMAP_FAIL_PGTABLE))
		return NULL;
	return alloc_page(gfp);
}

/* ---- errors ---- */

/*
 * Every error directmap returns is counted and traced here, so that the
 * vmstat events and the tracepoint always agree.
 */
static void dmap_error(int nid, int kind, int err)
{
	static const enum vm_event_item events[] = {
		[DIRECTMAP_ERR_REFILL]		= DIRECTMAP_REFILL_FAIL,
		[DIRECTMAP_ERR_FALLBACK]	= DIRECTMAP_FALLBACK_FAIL,
		[DIRECTMAP_ERR_MISUSE]		= DIRECTMAP_MISUSE,
		[DIRECTMAP_ERR_SHARE]		= DIRECTMAP_SHARE_FAIL,
	};

	count_vm_event(events[kind]);
	trace_directmap_error(nid, kind, err);
}

/* For owner.c, which warns itself */
void dmap_count_misuse(int nid)
{
	dmap_error(nid, DIRECTMAP_ERR_MISUSE, -EINVAL);
}

/* A caller broke the API: say so once, count it, change nothing */
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

/*
 * A caller that may not sleep; without a preempt count only interrupt
 * context and disabled interrupts can be seen.
 */
static bool dmap_atomic(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_COUNT))
		return !preemptible();
	return irqs_disabled() || !in_task();
}

/* ---- pages ---- */

/* Make frozen slots look like pages fresh from the page allocator */
static struct page *dmap_page_prep(unsigned long pfn, unsigned int order)
{
	struct page *page = pfn_to_page(pfn);

	dmap_slots_online(page, 1UL << order);
	/* The owner's reference and directmap's own */
	set_page_count(page, 2);
	return page;
}

/*
 * Undo what a page-cache owner left behind, as the page allocator does on
 * free; the page is frozen.  Its memcg charge stays: the cache keeps it or
 * drops it (dmap_env_uncharge()).
 */
static void dmap_page_reset(struct page *page, unsigned int order)
{
	struct folio *folio = page_folio(page);
	unsigned int i;

	/* truncation that raced with munlock can leave Mlocked set */
	if (unlikely(folio_test_mlocked(folio))) {
		__folio_clear_mlocked(folio);
		zone_stat_mod_folio(folio, NR_MLOCK, -1);
		count_vm_event(UNEVICTABLE_PGCLEARED);
	}
	for (i = 0; i < (1U << order); i++) {
		page[i].mapping = NULL;
		set_page_private(page + i, 0);
		page[i].flags &= ~PAGE_FLAGS_CHECK_AT_PREP;
	}
}

/*
 * A page-cache owner's folio is on the (unevictable) LRU, as any page
 * cache is; frozen, nobody else can take it off: do what the last put of
 * a folio does.
 */
static void dmap_page_off_lru(struct page *page)
{
	struct folio *folio = page_folio(page);
	struct lruvec *lruvec;
	unsigned long flags;

	if (!folio_test_lru(folio))
		return;
	lruvec = folio_lruvec_lock_irqsave(folio, &flags);
	lruvec_del_folio(lruvec, folio);
	__folio_clear_lru_flags(folio);
	unlock_page_lruvec_irqrestore(lruvec, flags);
}

/*
 * Memory failure marks a page it cannot handle and leaves it where it is:
 * such a page is never handed out, wiped, mapped or freed again.
 */
static bool dmap_poisoned(struct page *page, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		if (PageHWPoison(page + i))
			return true;
	return false;
}

static void dmap_clear_pages(struct page *page, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		arch_directmap_clear_page(page + i);
}

/*
 * Put a returned page that was frozen (no reference left) back into its
 * slot.  The order of the allocation is kept in page->private, read only
 * once the page is frozen: until then the freeing path may still set it.
 */
static void dmap_reclaim_frozen(struct dmap_pnode *pn, struct page *page)
{
	unsigned int order = page_private(page);
	struct dmap_region *r, *release;

	VM_WARN_ON_ONCE_PAGE(page_mapped(page), page);
	dmap_page_off_lru(page);
	dmap_page_reset(page, order);
	dmap_slots_offline(page, 1UL << order);
	r = dmap_region_of(page_to_pfn(page));
	if (dmap_poisoned(page, order)) {
		/* never free again, so nobody pays for it */
		mem_cgroup_uncharge(page_folio(page));
		dmap_cache_retire(&pn->cache, r, page_to_pfn(page), order);
		pr_info("pfn %#lx order %u is poisoned: retired\n",
			page_to_pfn(page), order);
		return;
	}
	release = dmap_cache_put(&pn->cache, r, page_to_pfn(page), order,
				 folio_memcg_charged(page_folio(page)));
	if (release)
		dmap_cache_release(&pn->cache, release);
}

/* The freeing path's own try: only directmap's reference left? */
static bool dmap_reclaim_page(struct dmap_pnode *pn, struct page *page)
{
	if (!page_ref_freeze(page, 1))
		return false;
	dmap_reclaim_frozen(pn, page);
	return true;
}

#define DMAP_RECLAIM_BATCH	32

/*
 * Reclaim the returned pages of @pn that nobody references any more.  They
 * are found by their regions' deferred bits, not linked through page->lru:
 * until its last reference is gone a returned folio may still be in an
 * LRU or mlock batch, which writes page->lru.  A page is claimed (frozen,
 * its bit cleared, counted off) under the cache lock, so that no other
 * scan can take it, nor a page that was reclaimed and handed out since.
 */
static void dmap_reclaim_pending(struct dmap_pnode *pn)
{
	unsigned long pfns[DMAP_RECLAIM_BATCH], slot;
	struct dmap_region *r;
	unsigned int n, i;
	int l;

	do {
		n = 0;
		spin_lock(&pn->cache.lock);
		dmap_for_each_region(pn, r, l) {
			if (n == DMAP_RECLAIM_BATCH)
				break;
			for_each_set_bit(slot, r->deferred, DMAP_REGION_PAGES) {
				if (n == DMAP_RECLAIM_BATCH)
					break;
				if (!page_ref_freeze(pfn_to_page(r->pfn + slot), 1))
					continue;
				__clear_bit(slot, r->deferred);
				pn->nr_pending--;
				pfns[n++] = r->pfn + slot;
			}
		}
		spin_unlock(&pn->cache.lock);

		for (i = 0; i < n; i++)
			dmap_reclaim_frozen(pn, pfn_to_page(pfns[i]));
	} while (n == DMAP_RECLAIM_BATCH);
}

/* When dmap_reclaim_workfn() last drained the LRU batches */
static unsigned long dmap_lru_drained;

static void dmap_reclaim_workfn(struct work_struct *work)
{
	bool again = false;
	int nid;

	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];

		if (!pn || !READ_ONCE(pn->nr_pending))
			continue;
		dmap_reclaim_pending(pn);
		again |= READ_ONCE(pn->nr_pending) != 0;
	}
	/*
	 * Someone still holds a reference: look again later.  A per-CPU LRU
	 * or mlock batch may hold it until that CPU drains: drain them all,
	 * now and then.
	 */
	if (again) {
		if (time_after(jiffies, dmap_lru_drained + HZ)) {
			lru_add_drain_all();
			dmap_lru_drained = jiffies;
		}
		schedule_delayed_work(&dmap_reclaim_work, HZ / 10);
	}
}

/* A slot of a cached region, refilling the cache if it has none */
static int dmap_take(struct dmap_pnode *pn, unsigned int order,
		     unsigned long *pfn)
{
	bool miss = false;
	int err;

	if (!dmap_cache_take(&pn->cache, order, pfn))
		goto hit;

	if (READ_ONCE(pn->nr_pending)) {
		dmap_reclaim_pending(pn);
		if (!dmap_cache_take(&pn->cache, order, pfn))
			goto hit;
	}

	mutex_lock(&pn->refill_lock);
	err = dmap_cache_take(&pn->cache, order, pfn);
	if (err) {
		miss = true;
		err = dmap_cache_refill(&pn->cache);
		if (err)
			dmap_error(pn->cache.nid, DIRECTMAP_ERR_REFILL, err);
		else
			err = dmap_cache_take(&pn->cache, order, pfn);
	}
	mutex_unlock(&pn->refill_lock);
	count_vm_event(miss ? DIRECTMAP_ALLOC_MISS : DIRECTMAP_ALLOC_HIT);
	return err;
hit:
	count_vm_event(DIRECTMAP_ALLOC_HIT);
	return 0;
}

/*
 * No 2M block to be had: unmap single pages as the stock kernel does (this
 * splits the direct map, and is counted), rather than fail the caller.
 */
static struct page *dmap_alloc_single(struct dmap_pnode *pn, unsigned int order,
				      unsigned int flags)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	unsigned long addr;
	struct page *page;
	unsigned int i;
	int err = 0;

	if (!(flags & DIRECTMAP_NOZERO))
		gfp |= __GFP_ZERO;
	page = dmap_env_single_alloc(pn->cache.nid, gfp, order);
	if (!page)
		goto fail;

	for (i = 0; i < (1U << order); i++) {
		if (dmap_should_fail(DMAP_FAIL_SPLIT))
			err = -ENOMEM;
		else
			err = set_direct_map_invalid_noflush(page + i);
		if (err)
			break;
	}
	if (!err && dmap_should_fail(DMAP_FAIL_BOOKKEEPING))
		err = -ENOMEM;
	if (!err)
		err = xa_err(xa_store(&dmap_singles, page_to_pfn(page),
				      xa_mk_value(order), GFP_KERNEL));
	if (err) {
		/* The pages unmapped so far were split already: cannot fail */
		while (i--)
			WARN_ON_ONCE(set_direct_map_default_noflush(page + i));
		__free_pages(page, order);
		goto fail;
	}

	addr = (unsigned long)page_address(page);
	flush_tlb_kernel_range(addr, addr + (PAGE_SIZE << order));
	atomic_long_add(1UL << order, &dmap_pages_taken);
	/* the node of the page, which the free counts it off again */
	atomic_long_inc(&dmap_pnodes[page_to_nid(page)]->nr_singles);
	atomic_long_inc(&pn->fallbacks);
	count_vm_event(DIRECTMAP_FALLBACK);
	trace_directmap_fallback(pn->cache.nid, page_to_pfn(page), order);
	return page;

fail:
	atomic_long_inc(&pn->fallback_failures);
	dmap_error(pn->cache.nid, DIRECTMAP_ERR_FALLBACK, err ?: -ENOMEM);
	return NULL;
}

/*
 * The node a page-cache page of the current task comes from in the stock
 * kernel: its mempolicy (preferred, bind, interleave), within its cpuset.
 */
static int dmap_policy_node(void)
{
	int nid = numa_mem_id();

#ifdef CONFIG_NUMA
	if (in_task() && current->mempolicy)
		nid = mempolicy_slab_node();
	if (!node_isset(nid, cpuset_current_mems_allowed) &&
	    !nodes_empty(cpuset_current_mems_allowed))
		nid = next_node_in(nid, cpuset_current_mems_allowed);
	if (!node_state(nid, N_MEMORY))
		nid = numa_mem_id();
#endif
	return nid;
}

/* A slot just taken is poisoned: retire it where it is, frozen */
static void dmap_retire_taken(struct dmap_pnode *pn, struct page *page,
			      unsigned int order)
{
	unsigned long pfn = page_to_pfn(page);
	struct dmap_region *r = dmap_region_of(pfn);

	/* out, ours and never shared: this cannot be refused */
	if (WARN_ON_ONCE(dmap_cache_mark_returned(&pn->cache, r, pfn, order,
						  false)))
		return;
	dmap_cache_retire(&pn->cache, r, pfn, order);
	pr_info("pfn %#lx order %u is poisoned: retired\n", pfn, order);
}

/**
 * directmap_alloc_pages - allocate pages that are absent from the direct map
 * @nid:	preferred node, or NUMA_NO_NODE for the one the task's mempolicy
 *		and cpuset give
 * @order:	allocation order, at most DIRECTMAP_MAX_ORDER
 * @flags:	DIRECTMAP_NOZERO if the caller does not need zeroed pages
 *
 * The pages come from a 2M region of @nid that was removed from the direct
 * map as a whole, so no direct-map page is split.  Only if no 2M block can
 * be had are single pages unmapped instead, from @nid or near it.  The
 * pages are zeroed unless @flags says otherwise; they are not compound.
 * While hibernation is under way it waits for its end, freezable.
 *
 * Context: process context, may sleep.
 *
 * Return: the first page, with one reference for the caller, or NULL.
 */
struct page *directmap_alloc_pages(int nid, unsigned int order,
				   unsigned int flags)
{
	struct dmap_pnode *pn;
	struct page *page;
	unsigned long pfn;

	if (dmap_misuse(nid, dmap_atomic(),
			"allocation from atomic context\n"))
		return NULL;
	might_sleep();
	if (dmap_misuse(nid, order > DIRECTMAP_MAX_ORDER,
			"order %u is too large\n", order))
		return NULL;
	if (dmap_misuse(nid, flags & ~DIRECTMAP_NOZERO,
			"unknown flags %#x\n", flags))
		return NULL;
	if (!directmap_enabled())
		return NULL;

	if (nid == NUMA_NO_NODE)
		nid = dmap_policy_node();
	if (dmap_misuse(nid, nid < 0 || nid >= MAX_NUMNODES || !node_online(nid),
			"bad node %d\n", nid))
		return NULL;

	for (;;) {
		percpu_down_read(&dmap_pm_sem);
		if (!READ_ONCE(dmap_hibernating))
			break;
		percpu_up_read(&dmap_pm_sem);
		/* frozen here if need be, as the hibernation goes on */
		if (wait_event_freezable(dmap_pm_wait,
					 !READ_ONCE(dmap_hibernating)))
			return NULL;
	}
	pn = dmap_pnodes[nid];
	while (!dmap_take(pn, order, &pfn)) {
		page = pfn_to_page(pfn);
		if (!dmap_poisoned(page, order))
			goto prep;
		/* a free slot went bad: keep it, and take another */
		dmap_retire_taken(pn, page, order);
	}
	page = dmap_alloc_single(pn, order, flags);
	goto out;
prep:
	page = dmap_page_prep(pfn, order);
out:
	percpu_up_read(&dmap_pm_sem);
	if (page)
		count_vm_events(DIRECTMAP_PAGES_ALLOC, 1UL << order);
	return page;
}

/* The region a free names; KUnit widens the window of a double free */
static struct dmap_region *dmap_free_lookup(unsigned long pfn)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_free_lookup, pfn);
	return dmap_region_of(pfn);
}

/*
 * Mark [pfn, pfn + 2^order) returned if a region holds it and it is out.
 * The region is looked up under RCU: until the allocation is found out, a
 * racing free (of a page freed twice) may release the region and
 * kfree_rcu() it.  Once marked, its slots keep the region; @r may be used
 * after this only then, or under the share lock while it returns -EAGAIN.
 *
 * Return: as dmap_cache_mark_returned(), or -ENOENT if no region holds
 * @pfn.
 */
static int dmap_mark_returned(unsigned long pfn, unsigned int order,
			      struct dmap_region **r, int *nid)
{
	int err = -ENOENT;

	rcu_read_lock();
	*r = dmap_free_lookup(pfn);
	if (*r) {
		*nid = (*r)->nid;
		err = dmap_cache_mark_returned(&dmap_pnodes[*nid]->cache, *r,
					       pfn, order, false);
	}
	rcu_read_unlock();
	return err;
}

/* @r, @err: what dmap_mark_returned() found and said of the pages */
static int dmap_free_region_pages(int nid, struct dmap_region *r,
				  struct page *page, unsigned int order,
				  bool put_owner, int err)
{
	struct dmap_pnode *pn = dmap_pnodes[nid];
	unsigned long pfn = page_to_pfn(page), unshares;

	if (err == -EAGAIN) {
		/*
		 * The owner left pages shared: unshare them with no share
		 * running.  Looked up again: the pages may have been unshared
		 * and freed meanwhile.  Pages still shared under the share
		 * lock cannot be returned by anyone else: they keep it.
		 */
		mutex_lock(&pn->share_lock);
		unshares = READ_ONCE(pn->cache.stats.unshares);
		err = dmap_mark_returned(pfn, order, &r, &nid);
		if (err == -EAGAIN)
			err = dmap_cache_mark_returned(&pn->cache, r, pfn, order,
						       true);
		else if (err == -ENOENT)
			/* released meanwhile: they were not out */
			err = -EINVAL;
		/* only ever changed under the share lock: exact */
		count_vm_events(DIRECTMAP_PAGES_UNSHARED,
				READ_ONCE(pn->cache.stats.unshares) - unshares);
		mutex_unlock(&pn->share_lock);
	}
	if (dmap_misuse(nid, err, "pfn %#lx order %u is not out\n",
			pfn, order))
		return err;

	/*
	 * Wipe the old contents now, through an alias: the map stays gone.
	 * Not a poisoned page: it is retired once its last user is gone.
	 */
	if (!dmap_poisoned(page, order))
		dmap_clear_pages(page, order);
	set_page_private(page, order);

	if (put_owner) {
		VM_WARN_ON_ONCE_PAGE(page_ref_count(page) < 2, page);
		page_ref_dec(page);
	}
	if (dmap_reclaim_page(pn, page))
		return 0;

	/* set up (wiped, order kept): the worker may take it from here */
	spin_lock(&pn->cache.lock);
	__set_bit(pfn - r->pfn, r->deferred);
	pn->nr_pending++;
	spin_unlock(&pn->cache.lock);
	schedule_delayed_work(&dmap_reclaim_work, 1);
	return 0;
}

/*
 * A single allocation with a poisoned page: its poisoned pages stay absent
 * and are recorded, so that directmap_page() still says they are ours
 * (hibernation must not save them), and a reference keeps the allocation
 * from the buddy allocator for good, also after a page cache's last put.
 */
static void dmap_retire_single(struct page *page, unsigned int order,
			       bool put_owner)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		if (PageHWPoison(page + i))
			/* rare, small, and must not be lost */
			xa_store(&dmap_singles_retired, pfn + i, xa_mk_value(1),
				 GFP_KERNEL | __GFP_NOFAIL);
	if (!put_owner)
		get_page(page);
	atomic_long_add(1UL << order, &dmap_pages_retired);
	pr_info("pfn %#lx order %u is poisoned: retired\n", pfn, order);
}

/* Put a page of the single-page fallback back; KUnit watches the order */
static int dmap_single_map_back(struct page *page)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_single_map_back, page);
	return set_direct_map_default_noflush(page);
}

static int dmap_free_single(struct page *page, unsigned int order,
			    bool put_owner)
{
	struct dmap_pnode *pn = dmap_pnodes[page_to_nid(page)];
	unsigned long pfn = page_to_pfn(page);
	void *entry = xa_mk_value(order);
	bool out, poisoned, shared;
	unsigned int i;

	/* no share of these pages may run while they go back */
	mutex_lock(&pn->share_lock);
	out = xa_cmpxchg(&dmap_singles, pfn, entry, NULL, 0) == entry;
	if (!out)
		mutex_unlock(&pn->share_lock);
	if (dmap_misuse(page_to_nid(page), !out,
			"pfn %#lx order %u is not out\n", pfn, order))
		return -EINVAL;

	/*
	 * Wipe through the alias while the pages are still absent: once
	 * mapped, anything that reads the direct map could see the secret.
	 * Unmapping split what was needed: putting the map back cannot fail.
	 */
	poisoned = dmap_poisoned(page, order);
	for (i = 0; i < (1U << order); i++) {
		shared = xa_erase(&dmap_singles_shared, pfn + i);
		if (shared)
			count_vm_event(DIRECTMAP_PAGES_UNSHARED);
		if (PageHWPoison(page + i))
			continue;
		if (shared) {
			/* mapped already, so wipe it where it is */
			clear_highpage(page + i);
			continue;
		}
		arch_directmap_clear_page(page + i);
		WARN_ON_ONCE(dmap_single_map_back(page + i));
	}
	mutex_unlock(&pn->share_lock);

	atomic_long_dec(&pn->nr_singles);
	if (poisoned) {
		dmap_retire_single(page, order, put_owner);
		return 0;
	}
	atomic_long_add(1UL << order, &dmap_pages_given_back);
	/* A page-cache owner's last put frees it to the buddy allocator */
	if (put_owner)
		__free_pages(page, order);
	return 0;
}

int dmap_free(struct page *page, unsigned int order, bool put_owner)
{
	struct dmap_region *r;
	int err, nid;

	if (dmap_misuse(NUMA_NO_NODE, !page, "free of NULL\n"))
		return -EINVAL;
	/* directmap=off: nothing was handed out, and no node is set up */
	if (dmap_misuse(page_to_nid(page), !directmap_enabled(),
			"free of pfn %#lx while off\n", page_to_pfn(page)))
		return -EINVAL;
	if (dmap_misuse(page_to_nid(page), dmap_atomic(),
			"free from atomic context\n"))
		return -EINVAL;
	if (dmap_misuse(page_to_nid(page), order > DIRECTMAP_MAX_ORDER,
			"order %u is too large\n", order))
		return -EINVAL;
	if (dmap_misuse(page_to_nid(page), PageTail(page),
			"free of a tail page\n"))
		return -EINVAL;

	err = dmap_mark_returned(page_to_pfn(page), order, &r, &nid);
	if (err == -ENOENT)
		err = dmap_free_single(page, order, put_owner);
	else
		err = dmap_free_region_pages(nid, r, page, order, put_owner,
					     err);
	if (!err)
		count_vm_events(DIRECTMAP_PAGES_FREE, 1UL << order);
	return err;
}

/**
 * directmap_free_pages - give pages back to directmap
 * @page:	first page, as returned by directmap_alloc_pages()
 * @order:	the order they were allocated with
 *
 * Drops the caller's reference.  The pages are wiped at once and stay
 * absent from the direct map; directmap reuses them after every other
 * reference is gone.
 *
 * Return: 0, or -EINVAL (with a warning, and nothing changed) if @page and
 * @order are not an allocation directmap handed out.
 */
int directmap_free_pages(struct page *page, unsigned int order)
{
	if (dmap_misuse(NUMA_NO_NODE, page && dmap_page_owned(page_to_pfn(page)),
			"pfn %#lx is an owner's: only it frees it\n",
			page_to_pfn(page)))
		return -EINVAL;
	return dmap_free(page, order, true);
}

/**
 * directmap_free_folio - give back a folio that leaves the page cache
 * @folio:	a folio that directmap_alloc_pages() handed out
 *
 * For ->free_folio(): the page cache and its callers still hold references
 * and drop them themselves.  The folio is wiped at once and reused after
 * its last reference is gone.
 *
 * Return: 0, or -EINVAL (with a warning, and nothing changed) if directmap
 * did not hand @folio out.
 */
int directmap_free_folio(struct folio *folio)
{
	if (dmap_misuse(NUMA_NO_NODE, dmap_page_owned(folio_pfn(folio)),
			"pfn %#lx is an owner's: only it frees it\n",
			folio_pfn(folio)))
		return -EINVAL;
	return dmap_free(&folio->page, folio_order(folio), false);
}

/* The single allocation that holds [pfn, pfn + nr), if one is out */
static bool dmap_single_holds(unsigned long pfn, unsigned long nr)
{
	unsigned long first = pfn >= (1UL << DIRECTMAP_MAX_ORDER) ?
			      pfn - (1UL << DIRECTMAP_MAX_ORDER) + 1 : 0;
	unsigned long index;
	void *entry;

	if (!nr || nr > (1UL << DIRECTMAP_MAX_ORDER))
		return false;
	xa_for_each_range(&dmap_singles, index, entry, first, pfn) {
		if (index + (1UL << xa_to_value(entry)) >= pfn + nr)
			return true;
	}
	return false;
}

/* Are all of [pfn, pfn + nr) shared (@shared) or all private? */
static bool dmap_singles_are(unsigned long pfn, unsigned long nr, bool shared)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		if (!!xa_load(&dmap_singles_shared, pfn + i) != shared)
			return false;
	return true;
}

/*
 * Pages of the single-page fallback are mapped at 4K already: sharing
 * them needs no split, only the bookkeeping can fail.
 */
static int dmap_share_single(unsigned long pfn, unsigned long nr)
{
	unsigned long i;
	int err = 0;

	if (!dmap_single_holds(pfn, nr) || !dmap_singles_are(pfn, nr, false))
		return -EINVAL;
	for (i = 0; i < nr && !err; i++)
		err = xa_err(xa_store(&dmap_singles_shared, pfn + i,
				      xa_mk_value(1), GFP_KERNEL));
	if (err) {
		while (i--)
			xa_erase(&dmap_singles_shared, pfn + i);
		return err;
	}
	for (i = 0; i < nr; i++)
		WARN_ON_ONCE(set_direct_map_default_noflush(pfn_to_page(pfn + i)));
	return 0;
}

static int dmap_unshare_single(unsigned long pfn, unsigned long nr)
{
	unsigned long addr = (unsigned long)pfn_to_kaddr(pfn), i;

	if (!dmap_single_holds(pfn, nr) || !dmap_singles_are(pfn, nr, true))
		return -EINVAL;
	/* 4K entries that exist: this cannot fail */
	for (i = 0; i < nr; i++)
		WARN_ON_ONCE(set_direct_map_invalid_noflush(pfn_to_page(pfn + i)));
	flush_tlb_kernel_range(addr, addr + nr * PAGE_SIZE);
	for (i = 0; i < nr; i++)
		xa_erase(&dmap_singles_shared, pfn + i);
	return 0;
}

/**
 * dmap_share - put pages that directmap handed out back into the direct map
 * @page:	first page
 * @nr_pages:	pages from @page on, all of one allocation
 * @share:	true to share, false to take them out again
 *
 * The owner API (owner.c) checks ownership before it gets here; this
 * checks that the pages are out and all private (to share) or all shared.
 *
 * Return: 0; -EINVAL with nothing changed; or, to share, -ENOMEM if the
 * region's 2M entry could not be split (nothing changed).
 */
int dmap_share(struct page *page, unsigned long nr_pages, bool share)
{
	unsigned long pfn = page_to_pfn(page);
	struct dmap_region *r = dmap_region_of(pfn);
	int nid = r ? r->nid : page_to_nid(page);
	struct dmap_pnode *pn = dmap_pnodes[nid];
	int err;

	mutex_lock(&pn->share_lock);
	if (r && share)
		err = dmap_cache_share(&pn->cache, r, pfn, nr_pages);
	else if (r)
		err = dmap_cache_unshare(&pn->cache, r, pfn, nr_pages);
	else if (share)
		err = dmap_share_single(pfn, nr_pages);
	else
		err = dmap_unshare_single(pfn, nr_pages);
	mutex_unlock(&pn->share_lock);

	trace_directmap_share(nid, pfn, nr_pages, share, err);
	if (!err)
		count_vm_events(share ? DIRECTMAP_PAGES_SHARED :
				DIRECTMAP_PAGES_UNSHARED, nr_pages);
	else if (!dmap_misuse(nid, err == -EINVAL,
			      "pfn %#lx + %lu are not out and all %s\n", pfn,
			      nr_pages, share ? "private" : "shared"))
		dmap_error(nid, DIRECTMAP_ERR_SHARE, err);
	return err;
}

/**
 * dmap_page_shared - is a page that directmap holds shared now?
 * @pfn:	the page frame
 *
 * For the verifier: such a page may be present, at 4K.  Racy unless
 * shares are quiet.
 *
 * Return: true if the owner of @pfn shared it.
 */
bool dmap_page_shared(unsigned long pfn)
{
	struct dmap_region *r;
	bool shared;

	rcu_read_lock();
	r = dmap_region_of(pfn);
	if (r)
		shared = test_bit(pfn - r->pfn, r->shared);
	else
		shared = xa_load(&dmap_singles_shared, pfn);
	rcu_read_unlock();
	return shared;
}

/**
 * directmap_page - is a page held by directmap?
 * @page:	any page
 *
 * True for pages handed out by directmap_alloc_pages(), for the free
 * pages of its regions and for the poisoned pages it keeps: none of them
 * is present in the direct map.
 * Hibernation, dumps and kernel_page_present() users can ask this.
 *
 * Return: true if directmap holds @page.
 */
bool directmap_page(const struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	return dmap_region_of(pfn) || xa_load(&dmap_singles, pfn) ||
	       xa_load(&dmap_singles_retired, pfn);
}
EXPORT_SYMBOL_NS_GPL(directmap_page, DIRECTMAP);

/**
 * directmap_active - does directmap hand out pages at the moment?
 *
 * Hibernation asks this: the pages directmap hands out must not be mapped
 * back and written to the image.  Cached empty regions do not count; they
 * are given back when hibernation is prepared.
 *
 * Return: true while some page is handed out or waits for its last user.
 */
bool directmap_active(void)
{
	int nid;

	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];

		if (pn && (READ_ONCE(pn->cache.nr_used) ||
			   atomic_long_read(&pn->nr_singles)))
			return true;
	}
	return false;
}

/**
 * dmap_vm_event - one vm event, summed over the CPUs
 * @item:	the event
 *
 * What all_vm_events() gives for @item, without an array of every event:
 * the benchmarks, the torture and the tests read one or two at a time.
 *
 * Return: the sum, as racy as the counters themselves.
 */
unsigned long dmap_vm_event(enum vm_event_item item)
{
	unsigned long sum = 0;
#ifdef CONFIG_VM_EVENT_COUNTERS
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		sum += per_cpu(vm_event_states, cpu).event[item];
	cpus_read_unlock();
#endif
	return sum;
}

/**
 * dmap_pages_unaccounted - pages directmap took and can account for no more
 *
 * Pages taken from the page allocator, less those given back, less those
 * its regions and the single-page fallback hold now, less the poisoned
 * single pages it kept: a leak if not 0.
 * Exact only while directmap is quiet.
 *
 * Return: the difference, in pages.
 */
long dmap_pages_unaccounted(void)
{
	long held = 0;
	unsigned long index;
	void *entry;
	int nid;

	for_each_node(nid) {
		if (dmap_pnodes[nid])
			held += READ_ONCE(dmap_pnodes[nid]->cache.nr_regions) *
				DMAP_REGION_PAGES;
	}
	xa_for_each(&dmap_singles, index, entry)
		held += 1UL << xa_to_value(entry);
	return atomic_long_read(&dmap_pages_taken) -
	       atomic_long_read(&dmap_pages_given_back) -
	       atomic_long_read(&dmap_pages_retired) - held;
}

/* ---- memory pressure ---- */

static unsigned long dmap_shrink_count(struct shrinker *shrinker,
				       struct shrink_control *sc)
{
	struct dmap_pnode *pn = dmap_pnodes[sc->nid];
	unsigned long nr;

	if (!pn)
		return SHRINK_EMPTY;
	nr = READ_ONCE(pn->cache.nr_empty) * DMAP_REGION_PAGES;
	return nr ? nr : SHRINK_EMPTY;
}

static unsigned long dmap_shrink_scan(struct shrinker *shrinker,
				      struct shrink_control *sc)
{
	struct dmap_pnode *pn = dmap_pnodes[sc->nid];
	unsigned long nr = DIV_ROUND_UP(sc->nr_to_scan, DMAP_REGION_PAGES);

	dmap_reclaim_pending(pn);
	return dmap_cache_shrink(&pn->cache, nr, 0) * DMAP_REGION_PAGES;
}

/* Release every empty region of every node; for tests and the demo */
unsigned long dmap_drain(void)
{
	unsigned long done = 0;
	int nid;

	/* per-CPU LRU batches may still hold returned folios */
	if (!dmap_in_reclaim())
		lru_add_drain_all();

	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];

		if (!pn)
			continue;
		dmap_reclaim_pending(pn);
		done += dmap_cache_shrink(&pn->cache, ULONG_MAX, 0);
	}
	return done;
}

/*
 * The image skipped the free slots of the regions that stayed cached
 * (those with a retired slot), and a restore may have left anything in
 * them: wipe them, since a slot is handed out without clearing.
 */
static void dmap_wipe_free_slots(void)
{
	struct dmap_region *r;
	unsigned long slot;
	int nid, i;

	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];

		if (!pn)
			continue;
		spin_lock(&pn->cache.lock);
		dmap_for_each_region(pn, r, i)
			for_each_clear_bit(slot, r->used, DMAP_REGION_PAGES)
				arch_directmap_clear_page(pfn_to_page(r->pfn + slot));
		spin_unlock(&pn->cache.lock);
	}
}

/*
 * The hibernation image must not hold directmap's pages: give the empty
 * regions back, and refuse if pages were handed out after
 * hibernation_available() said yes.  From then until hibernation is over
 * (/dev/snapshot may stay open long before the image is made) nothing is
 * handed out: an allocation in the window would put a page into the
 * image, or need its direct map back with interrupts off.  Restoring an
 * image writes its pages wherever they were, which may be where a region
 * is out: the same there.
 */
static int dmap_pm_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	switch (action) {
	case PM_HIBERNATION_PREPARE:
	case PM_RESTORE_PREPARE:
		/* waits for allocations under way; later ones see the flag */
		percpu_down_write(&dmap_pm_sem);
		WRITE_ONCE(dmap_hibernating, true);
		percpu_up_write(&dmap_pm_sem);
		dmap_drain();
		if (directmap_active()) {
			pr_warn("pages are handed out: no hibernation\n");
			/* a notifier that fails PREPARE gets no POST */
			WRITE_ONCE(dmap_hibernating, false);
			wake_up_all(&dmap_pm_wait);
			return notifier_from_errno(-EBUSY);
		}
		return NOTIFY_OK;
	case PM_POST_HIBERNATION:
	case PM_POST_RESTORE:
		dmap_wipe_free_slots();
		WRITE_ONCE(dmap_hibernating, false);
		wake_up_all(&dmap_pm_wait);
		return NOTIFY_OK;
	}
	return NOTIFY_DONE;
}

static struct notifier_block dmap_pm_nb = {
	.notifier_call = dmap_pm_notify,
};

/*
 * Memory offline isolates a block first, which fails fast on pages that
 * are handed out or pending; the free slots of a region are frozen, not
 * free in the buddy allocator, so a block that holds only empty regions
 * would pass isolation and then wait for them forever.  Give those back
 * before the offline waits.
 */
static int dmap_memory_notify(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct memory_notify *mn = data;
	struct dmap_pnode *pn;
	long ret;

	switch (action) {
	case MEM_GOING_OFFLINE:
		/* a block is one node's, and a refill takes from its own node */
		pn = dmap_pnodes[pfn_to_nid(mn->start_pfn)];
		if (!pn)
			return NOTIFY_OK;
		/*
		 * A refill under way froze its block before it shows on a
		 * list, and may wait for the CPU hotplug lock that the caller
		 * holds (arm64): fail, do not wait.
		 */
		if (!mutex_trylock(&pn->refill_lock)) {
			ret = -EBUSY;
		} else {
			ret = dmap_cache_offline(&pn->cache, mn->start_pfn,
						 mn->nr_pages);
			mutex_unlock(&pn->refill_lock);
		}
		if (ret < 0) {
			pr_info("pfn %#lx + %lu: regions busy, no offline\n",
				mn->start_pfn, mn->nr_pages);
			return notifier_from_errno(ret);
		}
		if (ret)
			pr_debug("pfn %#lx + %lu: %ld regions given back to go offline\n",
				 mn->start_pfn, mn->nr_pages, ret);
		return NOTIFY_OK;
	case MEM_OFFLINE:
		dmap_collapse_forget(mn->start_pfn, mn->nr_pages);
		return NOTIFY_OK;
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block dmap_memory_nb = {
	.notifier_call = dmap_memory_notify,
};

/* ---- debugfs ---- */

static int dmap_stats_show(struct seq_file *m, void *v)
{
	int nid;

	seq_printf(m, "enabled %d\n", directmap_enabled());
	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];
		struct dmap_node *dn;

		if (!pn)
			continue;
		dn = &pn->cache;
		seq_printf(m, "node %d regions %lu empty %lu free %lu used %lu pending %lu singles %ld refills %lu refill_failures %lu releases %lu collapses %lu allocs %lu frees %lu fallbacks %ld fallback_failures %ld misuse %lu charged %lu\n",
			   nid, dn->nr_regions, dn->nr_empty, dn->nr_free,
			   dn->nr_used, READ_ONCE(pn->nr_pending),
			   atomic_long_read(&pn->nr_singles),
			   dn->stats.refills, dn->stats.refill_failures,
			   dn->stats.releases, dn->stats.collapses,
			   dn->stats.allocs,
			   dn->stats.frees, atomic_long_read(&pn->fallbacks),
			   atomic_long_read(&pn->fallback_failures),
			   dn->stats.misuse, dn->nr_charged);
	}
	seq_printf(m, "kernel_tlb_flushes %lu\n", nr_kernel_tlb_flushes());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_stats);

static const char *const dmap_region_states[] = { "partial", "full", "empty" };

/* Every region: where it is, what state, how many slots are out */
static int dmap_regions_show(struct seq_file *m, void *v)
{
	struct dmap_region *r;
	int nid, i;

	seq_puts(m, "node pfn state free used pending\n");
	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];

		if (!pn)
			continue;
		spin_lock(&pn->cache.lock);
		dmap_for_each_region(pn, r, i)
			seq_printf(m, "%d %#lx %s %u %u %u\n", nid,
				   r->pfn, dmap_region_states[i],
				   r->nr_free,
				   bitmap_weight(r->used, DMAP_REGION_PAGES),
				   bitmap_weight(r->pending,
						 DMAP_REGION_PAGES));
		spin_unlock(&pn->cache.lock);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_regions);

static void dmap_summary_nodes(struct seq_file *m)
{
	int nid;

	seq_printf(m, "%-5s %8s %8s %8s %8s %10s %10s %8s %8s\n", "node",
		   "regions", "partial", "full", "empty", "free KiB", "out KiB",
		   "pending", "singles");
	for_each_node(nid) {
		struct dmap_pnode *pn = dmap_pnodes[nid];
		struct dmap_node *dn;
		unsigned long partial = 0, full = 0;
		struct dmap_region *r;

		if (!pn)
			continue;
		dn = &pn->cache;
		spin_lock(&dn->lock);
		list_for_each_entry(r, &dn->partial, list)
			partial++;
		list_for_each_entry(r, &dn->full, list)
			full++;
		seq_printf(m, "%-5d %8lu %8lu %8lu %8lu %10lu %10lu %8lu %8ld\n",
			   nid, dn->nr_regions, partial, full, dn->nr_empty,
			   dn->nr_free << (PAGE_SHIFT - 10),
			   dn->nr_used << (PAGE_SHIFT - 10), pn->nr_pending,
			   atomic_long_read(&pn->nr_singles));
		spin_unlock(&dn->lock);
	}
}

static void dmap_summary_events(struct seq_file *m)
{
	unsigned long *ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);

	if (!ev)
		return;
	all_vm_events(ev);
	seq_printf(m, "allocations      %lu from the cache, %lu after a refill\n",
		   ev[DIRECTMAP_ALLOC_HIT], ev[DIRECTMAP_ALLOC_MISS]);
	seq_printf(m, "pages            %lu handed out, %lu given back\n",
		   ev[DIRECTMAP_PAGES_ALLOC], ev[DIRECTMAP_PAGES_FREE]);
	seq_printf(m, "regions          %lu taken out, %lu given back\n",
		   ev[DIRECTMAP_REFILL], ev[DIRECTMAP_RELEASE]);
	seq_printf(m, "single pages     %lu fallbacks\n", ev[DIRECTMAP_FALLBACK]);
	seq_printf(m, "errors           refill %lu, fallback %lu, misuse %lu\n",
		   ev[DIRECTMAP_REFILL_FAIL], ev[DIRECTMAP_FALLBACK_FAIL],
		   ev[DIRECTMAP_MISUSE]);
	seq_printf(m, "direct map       2M splits %lu, 1G splits %lu, 2M collapses %lu, 1G collapses %lu\n",
		   ev[DIRECT_MAP_LEVEL2_SPLIT], ev[DIRECT_MAP_LEVEL3_SPLIT],
		   ev[DIRECT_MAP_LEVEL2_COLLAPSE], ev[DIRECT_MAP_LEVEL3_COLLAPSE]);
	kfree(ev);
}

/* One screen: the caches, what they did, the direct map, the worker */
static int dmap_summary_show(struct seq_file *m, void *v)
{
	seq_printf(m, "directmap %s, kernel TLB flushes %lu\n\n",
		   directmap_enabled() ? "on" : "off (directmap=off)",
		   nr_kernel_tlb_flushes());
	if (directmap_enabled()) {
		dmap_summary_nodes(m);
		seq_putc(m, '\n');
	}
	dmap_summary_events(m);
	arch_report_meminfo(m);
	dmap_collapse_summary(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_summary);

static int dmap_drain_set(void *data, u64 val)
{
	dmap_drain();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmap_drain_fops, NULL, dmap_drain_set, "%llu\n");

static struct dentry *dmap_debugfs_dir;

/**
 * dmap_debugfs_file - add a file to /sys/kernel/debug/directmap/
 * @name:	its name
 * @mode:	its mode
 * @fops:	its operations
 *
 * For the files of bench.c, verify.c and torture.c, from late_initcall.
 */
void __init dmap_debugfs_file(const char *name, umode_t mode,
			      const struct file_operations *fops)
{
	debugfs_create_file(name, mode, dmap_debugfs_dir, NULL, fops);
}

static void __init dmap_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("directmap", NULL);

	dmap_debugfs_dir = dir;
	debugfs_create_file("stats", 0400, dir, NULL, &dmap_stats_fops);
	debugfs_create_file("summary", 0400, dir, NULL, &dmap_summary_fops);
	debugfs_create_file("regions", 0400, dir, NULL, &dmap_regions_fops);
	debugfs_create_file_unsafe("drain", 0200, dir, NULL, &dmap_drain_fops);
}

/* ---- init ---- */

static int __init directmap_init(void)
{
	struct shrinker *shrinker;
	int nid, err;

	/* the stats (and kernel TLB flushes) are there with directmap=off too */
	dmap_debugfs_init();
	/* offline drops the worker's pins with the cache off too */
	register_memory_notifier(&dmap_memory_nb);
	if (dmap_mode != DMAP_MODE_ON) {
		pr_info("region cache off on the command line%s\n",
			dmap_mode == DMAP_MODE_COLLAPSE ? ", collapse worker on" : "");
		return 0;
	}

	for_each_node(nid) {
		struct dmap_pnode *pn;

		pn = kzalloc_node(sizeof(*pn), GFP_KERNEL,
				  node_state(nid, N_MEMORY) ? nid : NUMA_NO_NODE);
		if (!pn)
			return -ENOMEM;
		dmap_node_init(&pn->cache, nid, DMAP_HIGH_DEFAULT);
		mutex_init(&pn->refill_lock);
		mutex_init(&pn->share_lock);
		dmap_pnodes[nid] = pn;
	}

	err = arch_directmap_init();
	if (err) {
		pr_warn("no architecture support (%d), staying off\n", err);
		return err;
	}

	shrinker = shrinker_alloc(SHRINKER_NUMA_AWARE, "directmap");
	if (!shrinker) {
		pr_warn("no shrinker: empty regions go back only past the watermark\n");
	} else {
		shrinker->count_objects = dmap_shrink_count;
		shrinker->scan_objects = dmap_shrink_scan;
		shrinker_register(shrinker);
	}

	register_pm_notifier(&dmap_pm_nb);
	WRITE_ONCE(directmap_ready, true);
	pr_info("per-node caches of 2M regions ready\n");
	return 0;
}
subsys_initcall(directmap_init);

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/page-kunit.h"
#include "tests/kspp-kunit.h"
#include "tests/reliability-kunit.h"
/* owner.c's API, tested with the helpers above */
#include "tests/owner-kunit.h"
#endif
