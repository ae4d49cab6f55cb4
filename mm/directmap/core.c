// SPDX-License-Identifier: GPL-2.0
/*
 * directmap: pages that are absent from the direct map.
 *
 * The region cache (cache.c) decides which 2M region a page comes from.
 * This file is the core: the allocation API, the boot parameter, the
 * pages on their way back, the shrinker and init.  It turns slots into
 * struct pages, keeps a reference on every page it hands out so that a
 * page returns to its region only after its last user is gone, wipes
 * pages while they stay unmapped, and falls back to unmapping single pages
 * (single.c) when no 2M block can be had, so that a fault never fails
 * because the cache is dry.  env.c is the policy's environment, owner.c
 * the owners' API and sharing, debugfs.c the debugfs files.
 *
 * Page states:
 *   free slot		refcount 0 (frozen), zeroed, in a region
 *   handed out		refcount >= 2: the owner's and directmap's
 *   returned		pending in its region, first in its node's wipe
 *			queue until wiped, then (deferred) until only
 *			directmap's reference is left, then frozen, off the
 *			LRU and back in its slot
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/directmap.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/cpuset.h>
#include <linux/memcontrol.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/page_ref.h>
#include <linux/reboot.h>
#include <linux/set_memory.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/vmstat.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <asm/tlbflush.h>

#include "fail_directmap.h"
#include "internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/directmap.h>

/* Empty regions each node keeps before giving them back */
#define DMAP_HIGH_DEFAULT	2

/*
 * directmap= on the command line: "off" is the stock kernel (no cache, the
 * direct map never re-formed), "collapse" runs the collapse worker only
 * (stock secretmem, its splits repaired afterwards), "on" (the default)
 * both.
 */
enum dmap_mode { DMAP_MODE_OFF, DMAP_MODE_COLLAPSE, DMAP_MODE_ON };
static enum dmap_mode dmap_mode __ro_after_init = DMAP_MODE_ON;
static bool directmap_ready __read_mostly;
struct dmap_node *dmap_nodes[MAX_NUMNODES];
atomic_long_t dmap_pages_taken;
atomic_long_t dmap_pages_given_back;

static void dmap_reclaim_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dmap_reclaim_work, dmap_reclaim_workfn);
static void dmap_idle_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dmap_idle_work, dmap_idle_workfn);
static void dmap_wipe_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dmap_wipe_work, dmap_wipe_workfn);
/* The longest PREPARE waits for a wipe under way */
#define DMAP_WIPE_WAIT	(10 * HZ)

/*
 * How long an empty region is kept when nobody takes it; 0 keeps them for
 * good (/sys/kernel/mm/directmap/release_idle_ms)
 */
unsigned int dmap_release_idle_ms = DMAP_RELEASE_IDLE_MS;

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
EXPORT_SYMBOL_GPL(directmap_enabled);

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
void dmap_error(int nid, int kind, int err)
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
		page_clear_prep_flags(page + i);
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
	lruvec_unlock_irqrestore(lruvec, flags);
}

/*
 * Memory failure marks a page it cannot handle and leaves it where it is:
 * such a page is never handed out, wiped, mapped or freed again.
 */
bool dmap_poisoned(struct page *page, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		if (PageHWPoison(page + i))
			return true;
	return false;
}

/*
 * Put a returned page that was frozen (no reference left) back into its
 * slot.  The order of the allocation is kept in page->private, read only
 * once the page is frozen: until then the freeing path may still set it.
 */
static void dmap_reclaim_frozen(struct dmap_node *pn, struct page *page)
{
	unsigned int order = page_private(page);
	/* a page-cache folio's charge: the cache keeps it or drops it */
	bool charged = folio_memcg_charged(page_folio(page));
	struct dmap_region *r;

	VM_WARN_ON_ONCE_PAGE(folio_mapped(page_folio(page)), page);
	/* page-cache folios from directmap are order-0 */
	VM_WARN_ON_ONCE_PAGE(order && charged, page);
	dmap_page_off_lru(page);
	dmap_page_reset(page, order);
	dmap_slots_offline(page, 1UL << order);
	r = dmap_region_of(page_to_pfn(page));
	dmap_cache_reclaim(&pn->cache, r, page_to_pfn(page), order, charged);
}

/* The freeing path's own try: only directmap's reference left? */
static bool dmap_reclaim_page(struct dmap_node *pn, struct page *page)
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
 * its bit cleared) under the cache lock, so that no other scan can take
 * it, nor a page that was reclaimed and handed out since; it is counted
 * off once it is back, so that "pending" is 0 only when every returned
 * page is back and its charge settled.
 */
void dmap_reclaim_pending(struct dmap_node *pn)
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
				pfns[n++] = r->pfn + slot;
			}
		}
		spin_unlock(&pn->cache.lock);

		for (i = 0; i < n; i++)
			dmap_reclaim_frozen(pn, pfn_to_page(pfns[i]));
		if (n) {
			spin_lock(&pn->cache.lock);
			pn->nr_pending -= n;
			spin_unlock(&pn->cache.lock);
		}
	} while (n == DMAP_RECLAIM_BATCH);
}

/*
 * A region went onto a node's empty list: the idle work runs when it is
 * due, or sooner for an earlier one.  Once per region emptied or refilled,
 * and queue_delayed_work() orders the list update before its pending test.
 * Freezable, as the worker: nothing changes the direct map while a
 * hibernation image is made.
 */
void dmap_idle_arm(void)
{
	unsigned int ms = READ_ONCE(dmap_release_idle_ms);

	if (ms)
		queue_delayed_work(system_freezable_wq, &dmap_idle_work,
				   msecs_to_jiffies(ms));
}

/* Run the idle work now, also if it is queued for later */
void dmap_idle_run(void)
{
	mod_delayed_work(system_freezable_wq, &dmap_idle_work, 0);
}

/*
 * An empty region that nobody took for release_idle_ms goes back, whether
 * or not its node has other pages out, so that the 1G entry it split is
 * re-formed (once the direct map is idle, by the collapse worker) and
 * nothing stays split for regions nobody needs.  A node that allocates
 * again refills, at one 2M unmap a region.  Runs again when the next
 * empty region is due.
 */
static void dmap_idle_workfn(struct work_struct *work)
{
	unsigned int ms = READ_ONCE(dmap_release_idle_ms);
	unsigned long age = msecs_to_jiffies(ms), next = 0, wait;
	struct dmap_node *pn;
	int nid;

	if (!ms)
		return;
	dmap_for_each_node(nid, pn) {
		if (!READ_ONCE(pn->cache.nr_empty))
			continue;
		dmap_cache_trim(&pn->cache, age, &wait);
		if (wait && (!next || wait < next))
			next = wait;
	}
	/* Sooner than a kick from a free meanwhile, which is due @ms after it */
	if (next)
		mod_delayed_work(system_freezable_wq, &dmap_idle_work, next);
}

/* When dmap_reclaim_workfn() last drained the LRU batches */
static unsigned long dmap_lru_drained;

static void dmap_reclaim_workfn(struct work_struct *work)
{
	bool again = false;
	struct dmap_node *pn;
	int nid;

	dmap_for_each_node(nid, pn) {
		if (!READ_ONCE(pn->nr_pending))
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
 * While hibernation is under way it waits for its end (killable).
 *
 * Context: process context, may sleep.
 *
 * Return: the first page, with one reference for the caller, or NULL.
 */
struct page *directmap_alloc_pages(int nid, unsigned int order,
				   unsigned int flags)
{
	struct dmap_node *pn;
	struct page *page;
	unsigned long pfn;
	int ret;

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

	if (!dmap_alloc_begin())
		return NULL;
	pn = dmap_nodes[nid];
	ret = dmap_cache_alloc(&pn->cache, order, &pfn);
	count_vm_event(ret ? DIRECTMAP_ALLOC_MISS : DIRECTMAP_ALLOC_HIT);
	if (ret >= 0)
		page = dmap_page_prep(pfn, order);
	else
		page = dmap_alloc_single(pn, order, flags);
	dmap_alloc_end();
	if (page) {
		count_vm_events(DIRECTMAP_PAGES_ALLOC, 1UL << order);
		trace_directmap_alloc(page_to_nid(page), page_to_pfn(page),
				      order);
	}
	return page;
}

/*
 * A freed allocation, wiped (or poisoned): put it back into its slot, or
 * leave it pending until the others drop their references.
 */
static void dmap_take_back(struct dmap_node *pn, struct page *page)
{
	unsigned long pfn = page_to_pfn(page);
	struct dmap_region *r;

	if (dmap_reclaim_page(pn, page))
		return;

	/* its slots stay taken, so its region stays */
	r = dmap_region_of(pfn);
	spin_lock(&pn->cache.lock);
	__set_bit(pfn - r->pfn, r->deferred);
	pn->nr_pending++;
	spin_unlock(&pn->cache.lock);
	schedule_delayed_work(&dmap_reclaim_work, 1);
}

/* Take the wipe queue of @pn; under @pn->wipe_lock.  Return: how many */
VISIBLE_IF_KUNIT unsigned int dmap_wipe_take(struct dmap_node *pn,
					     struct page **pages, u8 *orders)
{
	unsigned int n = pn->nr_wipe;

	memcpy(pages, pn->wipe, n * sizeof(*pages));
	memcpy(orders, pn->wipe_order, n * sizeof(*orders));
	/* dmap_wipe_flush() looks without the lock */
	WRITE_ONCE(pn->nr_wipe, 0);
	pn->nr_wipe_pages = 0;
	return n;
}

/* Wipe @n freed allocations with one load of the wipe mm, then reuse them */
VISIBLE_IF_KUNIT void dmap_wipe_finish(struct dmap_node *pn,
				       struct page **heads, u8 *orders,
				       unsigned int n)
{
	struct page *pages[DMAP_WIPE_BATCH];
	unsigned int i, j, nr = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < (1U << orders[i]); j++)
			/* poisoned meanwhile: retired, never touched again */
			if (!PageHWPoison(heads[i] + j))
				pages[nr++] = heads[i] + j;
	if (nr)
		directmap_clear_page_array(pages, nr);
	for (i = 0; i < n; i++)
		dmap_take_back(pn, heads[i]);
	/* only once each is back or counted in nr_pending (fully ordered) */
	if (atomic_sub_and_test(n, &pn->nr_wiping))
		wake_up_var(&pn->nr_wiping);
}

/*
 * The longest a freed page waits for its wipe: the work wipes every queue
 * a tick after the first page of one came, and an earlier kick is never
 * put off by a later one.
 */
VISIBLE_IF_KUNIT void dmap_wipe_kick(struct dmap_node *pn)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_wipe_kick, pn);
	queue_delayed_work(system_wq, &dmap_wipe_work, 1);
}

/**
 * dmap_wipe_flush - wipe the freed pages of a node that wait for it
 * @pn:		the node
 *
 * Pages another flush took may still be on their way back: no wait for
 * them, their taker gives them back (dmap_wipe_wait() waits).
 *
 * Context: process context.
 * Return: true if it took any page.
 */
bool dmap_wipe_flush(struct dmap_node *pn)
{
	struct page *pages[DMAP_WIPE_BATCH];
	u8 orders[DMAP_WIPE_BATCH];
	unsigned int n;

	if (!READ_ONCE(pn->nr_wipe))
		return false;
	spin_lock(&pn->wipe_lock);
	n = dmap_wipe_take(pn, pages, orders);
	spin_unlock(&pn->wipe_lock);
	if (n)
		dmap_wipe_finish(pn, pages, orders, n);
	return n;
}

/**
 * dmap_wipe_wait - wipe the queues and wait until no freed page is on its
 * way back
 *
 * For hibernation's PREPARE, after which no region may stay out: a wipe
 * that the work or another CPU's free took is still under way, and the
 * regions of its pages empty only once it is done.  The wait is bounded:
 * a page still on its way then counts as handed out, and PREPARE refuses.
 *
 * Context: process context.
 */
void dmap_wipe_wait(void)
{
	struct dmap_node *pn;
	int nid;

	dmap_for_each_node(nid, pn) {
		dmap_wipe_flush(pn);
		wait_var_event_timeout(&pn->nr_wiping,
				       !atomic_read_acquire(&pn->nr_wiping),
				       DMAP_WIPE_WAIT);
	}
}

/**
 * dmap_wipe_flush_all - dmap_wipe_flush() every node
 *
 * Context: process context.
 */
void dmap_wipe_flush_all(void)
{
	struct dmap_node *pn;
	int nid;

	dmap_for_each_node(nid, pn)
		dmap_wipe_flush(pn);
}

static void dmap_wipe_workfn(struct work_struct *work)
{
	dmap_wipe_flush_all();
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Run a kicked wipe work now, and wait for it */
void dmap_wipe_work_sync(void)
{
	flush_delayed_work(&dmap_wipe_work);
}
#endif

/* Reboot and kexec: no freed page left unwiped for the next kernel */
static int dmap_wipe_reboot(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	dmap_wipe_flush_all();
	return NOTIFY_DONE;
}

static struct notifier_block dmap_wipe_reboot_nb = {
	.notifier_call = dmap_wipe_reboot,
};

/*
 * Wipe freed pages in batches: one load of the wipe mm (a CR3 or TTBR
 * write and a local flush) costs as much as several page clears.  Until
 * then a page stays out of the direct map, unmapped everywhere and in its
 * taken slot, so nothing can read it or hand it out; an allocation that
 * finds no free slot, a drain, the shrinker and a reboot wipe the queue
 * first, and a work item does a tick after its first page.
 */
static void dmap_wipe_queue(struct dmap_node *pn, struct page *page,
			    unsigned int order)
{
	struct page *pages[DMAP_WIPE_BATCH];
	u8 orders[DMAP_WIPE_BATCH];
	unsigned int n = 0;
	bool first;

	/* the queue is taken at most once below: a full one never overflows */
	BUILD_BUG_ON((1U << DIRECTMAP_MAX_ORDER) >= DMAP_WIPE_BATCH);
	atomic_inc(&pn->nr_wiping);
	spin_lock(&pn->wipe_lock);
	/* no room: the queue goes now, this allocation starts the next */
	if (pn->nr_wipe_pages + (1U << order) > DMAP_WIPE_BATCH)
		n = dmap_wipe_take(pn, pages, orders);
	first = !pn->nr_wipe;
	pn->wipe[pn->nr_wipe] = page;
	pn->wipe_order[pn->nr_wipe] = order;
	WRITE_ONCE(pn->nr_wipe, pn->nr_wipe + 1);
	pn->nr_wipe_pages += 1U << order;
	if (pn->nr_wipe_pages == DMAP_WIPE_BATCH) {
		n = dmap_wipe_take(pn, pages, orders);
		first = false;
	}
	spin_unlock(&pn->wipe_lock);

	if (n)
		dmap_wipe_finish(pn, pages, orders, n);
	if (first)
		dmap_wipe_kick(pn);
}

/* @nid, @err: what dmap_cache_return() found and said of the pages */
static int dmap_free_region_pages(int nid, struct page *page,
				  unsigned int order, enum dmap_free_ref ref,
				  int err)
{
	struct dmap_node *pn = dmap_nodes[nid];

	if (dmap_misuse(nid, err, "pfn %#lx order %u is not out\n",
			page_to_pfn(page), order))
		return err;

	set_page_private(page, order);
	if (ref == DMAP_FREE_PUTS_REF) {
		VM_WARN_ON_ONCE_PAGE(page_ref_count(page) < 2, page);
		page_ref_dec(page);
	}
	/*
	 * Wiped before its slots are free, through the wipe mm: the map stays
	 * gone.  Not a poisoned page: it is retired once its last user is
	 * gone.
	 */
	if (dmap_poisoned(page, order)) {
		dmap_take_back(pn, page);
		return 0;
	}
	dmap_wipe_queue(pn, page, order);
	/* a free that overlaps hibernation's PREPARE leaves nothing behind */
	if (dmap_wipe_now()) {
		dmap_wipe_flush(pn);
		dmap_cache_shrink(&pn->cache, ULONG_MAX, 0);
	}
	return 0;
}

int dmap_free(struct page *page, unsigned int order,
	      enum dmap_free_ref ref)
{
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

	err = dmap_cache_return(page_to_pfn(page), order, &nid);
	/* their slots stay taken until reclaimed: traced before any reuse */
	if (!err)
		trace_directmap_free(nid, page_to_pfn(page), order);
	if (err == -ENOENT)
		err = dmap_free_single(page, order, ref);
	else
		err = dmap_free_region_pages(nid, page, order, ref, err);
	if (!err)
		count_vm_events(DIRECTMAP_PAGES_FREE, 1UL << order);
	return err;
}

/**
 * directmap_free_pages - give pages back to directmap
 * @page:	first page, as returned by directmap_alloc_pages()
 * @order:	the order they were allocated with
 *
 * Drops the caller's reference.  The pages stay absent from the direct
 * map, are wiped with the node's next batch of frees (a tick later at
 * most, once the work runs) and are reused after every other reference
 * is gone.
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
	return dmap_free(page, order, DMAP_FREE_PUTS_REF);
}

/**
 * directmap_free_folio - give back a folio that leaves the page cache
 * @folio:	a folio that directmap_alloc_pages() handed out
 *
 * For ->free_folio(): the page cache and its callers still hold references
 * and drop them themselves.  The folio is wiped with the node's next
 * batch of frees and reused after its last reference is gone.
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
	return dmap_free(&folio->page, folio_order(folio), DMAP_CALLER_PUTS_REF);
}

/**
 * page_is_directmap - is a page held by directmap?
 * @page:	any page
 *
 * True for pages handed out by directmap_alloc_pages(), for the free
 * pages of its regions and for the poisoned pages it keeps: none of them
 * is present in the direct map.
 * Hibernation, dumps and kernel_page_present() users can ask this.
 *
 * Return: true if directmap holds @page.
 */
bool page_is_directmap(const struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	return dmap_region_of(pfn) || dmap_single_page(pfn);
}
EXPORT_SYMBOL_GPL(page_is_directmap);

/**
 * directmap_active - does directmap hand out pages at the moment?
 *
 * Hibernation asks this: the pages directmap hands out must not be mapped
 * back and written to the image.  Cached empty regions and freed pages
 * that wait for their wipe do not count; when hibernation is prepared the
 * ones are given back and the others wiped.
 *
 * Return: true while some page is handed out or waits for its last user.
 */
bool directmap_active(void)
{
	struct dmap_node *pn;
	int nid;

	dmap_for_each_node(nid, pn) {
		bool busy;

		if (atomic_long_read(&pn->nr_singles))
			return true;
		/*
		 * Freed pages that wait for their wipe do not count: PREPARE
		 * wipes them.  They leave the queue before their slots are
		 * free, so under its lock they are among the used slots; those
		 * another wipe took and has not put back yet count: PREPARE
		 * waits for them first (dmap_wipe_wait()).
		 */
		spin_lock(&pn->wipe_lock);
		busy = READ_ONCE(pn->cache.nr_used) > pn->nr_wipe_pages;
		spin_unlock(&pn->wipe_lock);
		if (busy)
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
	long held = dmap_singles_held();
	struct dmap_node *pn;
	int nid;

	dmap_for_each_node(nid, pn)
		held += READ_ONCE(pn->cache.nr_regions) * DMAP_REGION_PAGES;
	return atomic_long_read(&dmap_pages_taken) -
	       atomic_long_read(&dmap_pages_given_back) - held;
}

/* ---- memory pressure ---- */

static unsigned long dmap_shrink_count(struct shrinker *shrinker,
				       struct shrink_control *sc)
{
	struct dmap_node *pn = dmap_nodes[sc->nid];
	unsigned long nr;

	if (!pn)
		return SHRINK_EMPTY;
	nr = READ_ONCE(pn->cache.nr_empty) * DMAP_REGION_PAGES;
	return nr ? nr : SHRINK_EMPTY;
}

static unsigned long dmap_shrink_scan(struct shrinker *shrinker,
				      struct shrink_control *sc)
{
	struct dmap_node *pn = dmap_nodes[sc->nid];
	unsigned long nr = DIV_ROUND_UP(sc->nr_to_scan, DMAP_REGION_PAGES);

	dmap_wipe_flush(pn);
	dmap_reclaim_pending(pn);
	return dmap_cache_shrink(&pn->cache, nr, 0) * DMAP_REGION_PAGES;
}

/*
 * Release every empty region of every node, leaving the 1G entries they
 * split to the worker.  For hibernation's PREPARE, which must not wait
 * for memory hotplug: memory online may wait for the mmap_lock of a
 * fault that waits for hibernation to end.
 */
unsigned long dmap_drain_regions(void)
{
	unsigned long done = 0;
	struct dmap_node *pn;
	int nid;

	/* per-CPU LRU batches may still hold returned folios */
	if (!dmap_in_reclaim())
		lru_add_drain_all();

	dmap_for_each_node(nid, pn) {
		dmap_wipe_flush(pn);
		dmap_reclaim_pending(pn);
		done += dmap_cache_shrink(&pn->cache, ULONG_MAX, 0);
	}
	return done;
}

/*
 * As dmap_drain_regions(), and re-form the 1G entries the regions split,
 * now or in the worker's next pass; for tests and the demo
 */
unsigned long dmap_drain(void)
{
	unsigned long done = dmap_drain_regions();

	if (!dmap_in_reclaim())
		dmap_collapse_flush_soon();
	return done;
}

/* ---- init ---- */

static int __init directmap_init(void)
{
	struct shrinker *shrinker;
	int nid, err;

	/* the stats (and kernel TLB flushes) are there with directmap=off too */
	dmap_debugfs_init();
	/* offline drops the worker's pins with the cache off too */
	dmap_hotplug_init();
	if (dmap_mode != DMAP_MODE_ON) {
		pr_info("region cache off on the command line%s\n",
			dmap_mode == DMAP_MODE_COLLAPSE ? ", collapse worker on" : "");
		return 0;
	}

	for_each_node(nid) {
		struct dmap_node *pn;

		pn = kzalloc_node(sizeof(*pn), GFP_KERNEL,
				  node_state(nid, N_MEMORY) ? nid : NUMA_NO_NODE);
		if (!pn)
			return -ENOMEM;
		dmap_cache_init(&pn->cache, nid, DMAP_HIGH_DEFAULT);
		mutex_init(&pn->refill_lock);
		mutex_init(&pn->share_lock);
		spin_lock_init(&pn->wipe_lock);
		atomic_set(&pn->nr_wiping, 0);
		dmap_nodes[nid] = pn;
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

	dmap_hibernate_init();
	register_reboot_notifier(&dmap_wipe_reboot_nb);
	WRITE_ONCE(directmap_ready, true);
	pr_info("per-node caches of 2M regions ready\n");
	return 0;
}
subsys_initcall(directmap_init);

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/core-kunit.h"
#include "tests/kspp-kunit.h"
#include "tests/reliability-kunit.h"
#endif

