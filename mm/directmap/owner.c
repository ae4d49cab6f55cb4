// SPDX-License-Identifier: GPL-2.0
/*
 * directmap owners: the API for drivers that give memory to a hypervisor
 * or to firmware, and for guest_memfd.
 *
 * An owner gets pages that are absent from the direct map, may put some
 * of them back into it while they are shared (in-place conversion of
 * confidential memory) and gives them back.  Every call checks that the
 * pages are the owner's own: a driver can neither free nor map memory
 * that another user got from directmap, and never calls
 * set_direct_map_*() itself.
 *
 * Each allocation an owner holds is one entry of dmap_owned, whatever its
 * order: a multi-index entry over its pages that points at the owner.
 * Whether a page is shared is directmap's own record, not the owner's.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/directmap.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/bsearch.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <trace/events/directmap.h>

#include "internal.h"

static DEFINE_MUTEX(dmap_owners_lock);
static LIST_HEAD(dmap_owners);
/* Every allocation an owner holds, by pfn: the owner; charged to the task */
static DEFINE_XARRAY_FLAGS(dmap_owned, XA_FLAGS_ACCOUNT);
/*
 * Pages whose owner exited without giving them back: a hypervisor or
 * firmware may still use them, so they stay out of the direct map and
 * are never reused.
 */
static struct directmap_owner dmap_orphans;

/* An owner broke the API: say so once, count it, change nothing */
#define dmap_owner_misuse(page, cond, fmt, ...)				\
({									\
	bool __bad = !!(cond);						\
									\
	if (__bad) {							\
		WARN_ONCE(1, "directmap: " fmt, ##__VA_ARGS__);		\
		dmap_count_misuse(dmap_owner_nid(page));		\
	}								\
	__bad;								\
})

static int dmap_owner_nid(struct page *page)
{
	return page ? page_to_nid(page) : NUMA_NO_NODE;
}

/* Every call but the lookups sleeps: refuse atomic callers first */
static bool dmap_owner_atomic(struct directmap_owner *owner, struct page *page)
{
	bool atomic = IS_ENABLED(CONFIG_PREEMPT_COUNT) ? !preemptible() :
		      irqs_disabled() || !in_task();

	return dmap_owner_misuse(page, atomic, "%s calls from atomic context\n",
				 owner->name);
}

/* Record @owner (or nothing) over the allocation at @pfn of @order */
static int dmap_owned_store(unsigned long pfn, unsigned int order,
			    struct directmap_owner *owner)
{
	XA_STATE_ORDER(xas, &dmap_owned, pfn, order);

	do {
		xas_lock(&xas);
		xas_store(&xas, owner);
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL));
	return xas_error(&xas);
}

/**
 * directmap_owner_init - register an owner of directmap's pages
 * @owner:	the owner, zeroed or not
 * @name:	its name in debugfs, kept as a pointer
 *
 * Context: process context.
 */
void directmap_owner_init(struct directmap_owner *owner, const char *name)
{
	owner->name = name;
	atomic_long_set(&owner->nr_pages, 0);
	mutex_init(&owner->lock);
	mutex_lock(&dmap_owners_lock);
	list_add_tail(&owner->list, &dmap_owners);
	mutex_unlock(&dmap_owners_lock);
}
EXPORT_SYMBOL_GPL(directmap_owner_init);

/* Hand what @owner still holds to the orphans, private and for good */
static void dmap_owner_orphan(struct directmap_owner *owner)
{
	unsigned long index, i, nr;
	void *entry;

	lockdep_assert_held(&owner->lock);
	mutex_lock(&dmap_orphans.lock);
	/* xa_for_each() gives a multi-index entry's first index */
	xa_for_each(&dmap_owned, index, entry) {
		if (entry != owner)
			continue;
		nr = 1UL << xa_get_order(&dmap_owned, index);
		/* nobody reads it through the direct map any more */
		for (i = 0; i < nr; i++)
			if (dmap_page_shared(index + i))
				WARN_ON_ONCE(dmap_unshare(pfn_to_page(index + i),
							  1));
		/*
		 * A page cache may still hold the allocation, and its last
		 * put must not free an absent page: keep a reference.
		 */
		get_page(pfn_to_page(index));
		/* replaces an entry of the same order: allocates nothing */
		WARN_ON_ONCE(dmap_owned_store(index, ilog2(nr), &dmap_orphans));
		atomic_long_add(nr, &dmap_orphans.nr_pages);
		cond_resched();
	}
	atomic_long_set(&owner->nr_pages, 0);
	mutex_unlock(&dmap_orphans.lock);
}

/**
 * directmap_owner_exit - unregister an owner
 * @owner:	the owner
 *
 * Always unregisters @owner, which may then be freed.  Pages it did not
 * give back are taken out of the direct map if it shared them, and kept
 * out for good: they are never reused.
 *
 * Context: process context.
 * Return: 0, or -EBUSY (with a warning) if @owner still held pages.
 */
int directmap_owner_exit(struct directmap_owner *owner)
{
	int ret = 0;
	long nr;

	mutex_lock(&owner->lock);
	nr = atomic_long_read(&owner->nr_pages);
	if (dmap_owner_misuse(NULL, nr, "%s exits with %ld pages out: orphaned\n",
			      owner->name, nr)) {
		dmap_owner_orphan(owner);
		ret = -EBUSY;
	}
	mutex_unlock(&owner->lock);

	mutex_lock(&dmap_owners_lock);
	list_del_init(&owner->list);
	mutex_unlock(&dmap_owners_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(directmap_owner_exit);

/**
 * directmap_owner_alloc - get pages that are absent from the direct map
 * @owner:	who gets them
 * @nid:	preferred node, or NUMA_NO_NODE
 * @order:	allocation order, at most DIRECTMAP_MAX_ORDER
 * @flags:	DIRECTMAP_NOZERO when firmware or the hypervisor clears them
 *
 * As directmap_alloc_pages(), and the pages are recorded as @owner's.
 *
 * Context: process context, may sleep.
 * Return: the first page, with one reference, or NULL.
 */
struct page *directmap_owner_alloc(struct directmap_owner *owner, int nid,
				   unsigned int order, unsigned int flags)
{
	struct page *page;

	page = directmap_alloc_pages(nid, order, flags);
	if (!page)
		return NULL;

	if (dmap_owned_store(page_to_pfn(page), order, owner)) {
		/* ours, just handed out: this cannot be refused */
		WARN_ON_ONCE(dmap_free(page, order, DMAP_FREE_PUTS_REF));
		return NULL;
	}
	atomic_long_add(1L << order, &owner->nr_pages);
	return page;
}
EXPORT_SYMBOL_GPL(directmap_owner_alloc);

/*
 * Take @page and @order off @owner's books if they are exactly one of its
 * allocations; the first to do so wins a race of two frees.
 */
static int dmap_owner_take(struct directmap_owner *owner, struct page *page,
			   unsigned int order)
{
	unsigned long pfn;
	bool held;

	if (dmap_owner_misuse(page, !page, "%s frees NULL\n", owner->name))
		return -EINVAL;

	pfn = page_to_pfn(page);
	held = order <= DIRECTMAP_MAX_ORDER && IS_ALIGNED(pfn, 1UL << order);
	if (held) {
		XA_STATE(xas, &dmap_owned, pfn);

		xas_lock(&xas);
		held = xas_load(&xas) == owner && xas_get_order(&xas) == order;
		if (held) {
			/* the whole entry: removing it allocates nothing */
			xas_set_order(&xas, pfn, order);
			xas_store(&xas, NULL);
		}
		xas_unlock(&xas);
	}
	if (dmap_owner_misuse(page, !held,
			      "%s frees pfn %#lx order %u, which it does not hold\n",
			      owner->name, pfn, order))
		return -EINVAL;
	atomic_long_sub(1L << order, &owner->nr_pages);
	return 0;
}

/* Off @owner's books and back to directmap, with no share meanwhile */
static int dmap_owner_put(struct directmap_owner *owner, struct page *page,
			  unsigned int order, enum dmap_free_ref ref)
{
	int err;

	if (dmap_owner_atomic(owner, page))
		return -EINVAL;
	mutex_lock(&owner->lock);
	err = dmap_owner_take(owner, page, order);
	mutex_unlock(&owner->lock);
	/*
	 * Off @owner's books, so no share of @owner's gets them; and the
	 * free, which may release a region, holds no lock of @owner's.
	 */
	if (!err) {
		/* a page-cache folio points at its owner until now */
		if (ref == DMAP_CALLER_PUTS_REF)
			set_page_private(page, 0);
		/* directmap agrees the pages are out: @owner had them */
		err = dmap_free(page, order, ref);
		WARN_ON_ONCE(err);
	}
	return err;
}

/**
 * directmap_owner_free - give pages back
 * @owner:	the owner that got them
 * @page:	first page, as returned by directmap_owner_alloc()
 * @order:	the order they were allocated with
 *
 * Pages left shared are taken out of the direct map first; then as
 * directmap_free_pages().  Never frees a page that @owner does not hold.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINVAL (with a warning, and nothing changed) if @page and
 * @order are not an allocation of @owner.
 */
int directmap_owner_free(struct directmap_owner *owner, struct page *page,
			 unsigned int order)
{
	return dmap_owner_put(owner, page, order, DMAP_FREE_PUTS_REF);
}
EXPORT_SYMBOL_GPL(directmap_owner_free);

/**
 * directmap_owner_free_folio - give back a folio that leaves the page cache
 * @owner:	the owner that got it
 * @folio:	a folio directmap_owner_alloc() handed out
 *
 * For ->free_folio(), as directmap_free_folio().
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINVAL (with a warning, and nothing changed) if @folio
 * is not @owner's.
 */
int directmap_owner_free_folio(struct directmap_owner *owner,
			       struct folio *folio)
{
	return dmap_owner_put(owner, &folio->page, folio_order(folio),
			      DMAP_CALLER_PUTS_REF);
}
EXPORT_SYMBOL_GPL(directmap_owner_free_folio);

/* Are [page, page + nr_pages) of one allocation of @owner's? */
static bool dmap_owner_holds(struct directmap_owner *owner, struct page *page,
			     unsigned long nr_pages)
{
	unsigned long pfn = page_to_pfn(page), nr;
	XA_STATE(xas, &dmap_owned, pfn);
	void *entry;

	rcu_read_lock();
	entry = xas_load(&xas);
	/* past the tree's end xas_load() leaves no node to take an order of */
	nr = entry ? 1UL << xas_get_order(&xas) : 0;
	rcu_read_unlock();
	/* nr_pages first: a huge one must not wrap the sum */
	return entry == owner && nr_pages && nr_pages <= nr &&
	       (pfn & (nr - 1)) + nr_pages <= nr;
}

static int dmap_owner_share(struct directmap_owner *owner, struct page *page,
			    unsigned long nr_pages, bool share)
{
	unsigned long pfn = page_to_pfn(page);
	int err = -EINVAL;

	if (dmap_owner_atomic(owner, page))
		return -EINVAL;
	/* the pages stay @owner's until the marks agree with directmap's */
	mutex_lock(&owner->lock);
	if (dmap_owner_misuse(page, !dmap_owner_holds(owner, page, nr_pages),
			      "%s %sshares pfn %#lx + %lu, which it does not hold\n",
			      owner->name, share ? "" : "un", pfn, nr_pages))
		goto out;

	err = share ? dmap_share(page, nr_pages) :
		      dmap_unshare(page, nr_pages);
out:
	mutex_unlock(&owner->lock);
	return err;
}

/**
 * directmap_share - put an owner's pages back into the direct map
 * @owner:	the owner
 * @page:	first page
 * @nr_pages:	pages from @page on, all of one allocation of @owner's
 *
 * For in-place sharing: the kernel may use the pages through the direct
 * map until directmap_unshare().  They are mapped at 4K, never by a large
 * entry that would also cover private pages; the 2M region that holds
 * them is split for that, once.
 *
 * Context: process context, may sleep.
 * Return: 0; -EINVAL (with a warning, nothing changed) if the pages are not
 * @owner's or not all private; -EHWPOISON (nothing changed) if one of them
 * is poisoned; -ENOMEM (nothing changed) if the split found no memory.
 */
int directmap_share(struct directmap_owner *owner, struct page *page,
		    unsigned long nr_pages)
{
	return dmap_owner_share(owner, page, nr_pages, true);
}
EXPORT_SYMBOL_GPL(directmap_share);

/**
 * directmap_unshare - take shared pages out of the direct map again
 * @owner:	the owner
 * @page:	first page
 * @nr_pages:	pages from @page on, shared by directmap_share()
 *
 * Cannot fail for pages @owner shared.  Once no page of a 2M region is
 * shared any more, the region is one absent 2M entry again.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINVAL (with a warning, nothing changed) if the pages are
 * not @owner's or not all shared.
 */
int directmap_unshare(struct directmap_owner *owner, struct page *page,
		      unsigned long nr_pages)
{
	return dmap_owner_share(owner, page, nr_pages, false);
}
EXPORT_SYMBOL_GPL(directmap_unshare);

/**
 * directmap_owner_filemap_folio - add a folio of an owner's to a page cache
 * @owner:	the owner
 * @mapping:	the page cache of a file of @owner's, whose memory must stay
 *		unmapped: the first that @owner fills is the only one it may
 *		fill (one owner per file)
 * @index:	where in it
 * @gfp:	for the memcg charge and the page cache's nodes
 *
 * For guest_memfd: an order-0 folio from directmap, zeroed and absent from
 * the direct map, charged to the current memcg and added to @mapping and to
 * the LRU (the unevictable one: @mapping must be), as filemap_add_folio()
 * adds any page-cache folio.  Crash dump filters drop page cache by its
 * LRU flag.  Its private field points at @owner until the file's
 * ->free_folio(), which has no mapping to go by, gives it back with
 * directmap_owner_free_folio().
 *
 * Context: process context, may sleep.
 * Return: the folio, locked, with a reference for the caller;
 * ERR_PTR(-EEXIST) if @index is taken (look it up again); ERR_PTR(-EINVAL)
 * (with a warning) if @mapping is not @owner's; or another ERR_PTR.
 */
struct folio *directmap_owner_filemap_folio(struct directmap_owner *owner,
					    struct address_space *mapping,
					    unsigned long index, gfp_t gfp)
{
	struct folio *folio;
	struct page *page;
	int err;

	/* on the LRU, it must not be evicted */
	if (dmap_owner_misuse(NULL, !mapping_unevictable(mapping),
			      "%s adds a folio to an evictable mapping\n",
			      owner->name))
		return ERR_PTR(-EINVAL);
	/* another file's page cache would get pages it cannot give back */
	if (!READ_ONCE(owner->mapping))
		cmpxchg(&owner->mapping, NULL, mapping);
	if (dmap_owner_misuse(NULL, READ_ONCE(owner->mapping) != mapping,
			      "%s adds a folio to a mapping it does not own\n",
			      owner->name))
		return ERR_PTR(-EINVAL);

	page = directmap_owner_alloc(owner, NUMA_NO_NODE, 0, 0);
	if (!page)
		return ERR_PTR(-ENOMEM);
	folio = page_folio(page);
	folio->private = owner;

	err = filemap_add_folio(mapping, folio, index, gfp);
	if (!err)
		return folio;
	folio->private = NULL;
	WARN_ON_ONCE(directmap_owner_free(owner, page, 0));
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(directmap_owner_filemap_folio);

/**
 * dmap_page_owned - does an owner hold a page?
 * @pfn:	its frame
 *
 * The plain free API refuses such a page: only its owner gives it back.
 *
 * Return: true if some owner holds @pfn.
 */
bool dmap_page_owned(unsigned long pfn)
{
	return xa_load(&dmap_owned, pfn);
}

/**
 * directmap_owns - does an owner hold a page?
 * @owner:	the owner
 * @page:	any page
 *
 * Return: true if @page is one of @owner's.
 */
bool directmap_owns(struct directmap_owner *owner, struct page *page)
{
	return xa_load(&dmap_owned, page_to_pfn(page)) == owner;
}
EXPORT_SYMBOL_GPL(directmap_owns);

/**
 * directmap_shared - did an owner share a page of its own?
 * @owner:	the owner
 * @page:	any page
 *
 * Return: true if @page is @owner's and shared by directmap_share().
 */
bool directmap_shared(struct directmap_owner *owner, struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	return xa_load(&dmap_owned, pfn) == owner && dmap_page_shared(pfn);
}
EXPORT_SYMBOL_GPL(directmap_shared);

/* Add the pages of the allocation at @index: shared, and present by probe */
static void dmap_owned_tally(unsigned long index, unsigned long *shared,
			     unsigned long *present)
{
	unsigned long i, nr = 1UL << xa_get_order(&dmap_owned, index);
	char c;

	for (i = 0; i < nr; i++) {
		*shared += dmap_page_shared(index + i);
		if (!copy_from_kernel_nofault(&c, pfn_to_kaddr(index + i), 1))
			(*present)++;
	}
}

struct dmap_owner_tally {
	struct directmap_owner	*owner;
	unsigned long		shared;
	unsigned long		present;
};

static int dmap_owner_tally_cmp(const void *a, const void *b)
{
	const struct dmap_owner_tally *x = a, *y = b;

	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

/*
 * One line an owner: pages held, shared, and present by the probe; in one
 * pass over the books, however many owners there are.
 */
int dmap_owners_show(struct seq_file *m, void *v)
{
	struct dmap_owner_tally *t, key = {}, *found;
	struct directmap_owner *owner;
	unsigned long index, n = 0;
	void *entry;

	mutex_lock(&dmap_owners_lock);
	list_for_each_entry(owner, &dmap_owners, list)
		n++;
	t = kvcalloc(n, sizeof(*t), GFP_KERNEL);
	if (!t) {
		mutex_unlock(&dmap_owners_lock);
		return -ENOMEM;
	}
	n = 0;
	list_for_each_entry(owner, &dmap_owners, list)
		t[n++].owner = owner;
	sort(t, n, sizeof(*t), dmap_owner_tally_cmp, NULL);
	xa_for_each(&dmap_owned, index, entry) {
		key.owner = entry;
		found = bsearch(&key, t, n, sizeof(*t), dmap_owner_tally_cmp);
		if (found)
			dmap_owned_tally(index, &found->shared, &found->present);
		cond_resched();
	}

	seq_puts(m, "owner pages shared present\n");
	list_for_each_entry(owner, &dmap_owners, list) {
		key.owner = owner;
		found = bsearch(&key, t, n, sizeof(*t), dmap_owner_tally_cmp);
		seq_printf(m, "%s %ld %lu %lu\n", owner->name,
			   atomic_long_read(&owner->nr_pages), found->shared,
			   found->present);
	}
	mutex_unlock(&dmap_owners_lock);
	kvfree(t);
	return 0;
}

/* ---- sharing ---- */

/*
 * The owner API checks ownership before it gets here; this checks that the
 * pages are out and all private (to share) or all shared (to unshare).
 */
static int dmap_flip(struct page *page, unsigned long nr_pages, bool share)
{
	unsigned long pfn = page_to_pfn(page);
	struct dmap_region *r = dmap_region_of(pfn);
	int nid = r ? r->nid : page_to_nid(page);
	struct dmap_node *pn = dmap_nodes[nid];
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
			      nr_pages, share ? "private" : "shared") &&
		 err != -EHWPOISON)
		/* a split that found no memory */
		dmap_error(nid, DIRECTMAP_ERR_SHARE, err);
	return err;
}

/**
 * dmap_share - put pages that directmap handed out back into the direct map
 * @page:	first page
 * @nr_pages:	pages from @page on, all of one allocation, all private
 *
 * Return: 0; -EINVAL with nothing changed; -EHWPOISON (nothing changed) if
 * a page is poisoned; or -ENOMEM if the region's 2M entry could not be
 * split (nothing changed).
 */
int dmap_share(struct page *page, unsigned long nr_pages)
{
	return dmap_flip(page, nr_pages, true);
}

/**
 * dmap_unshare - take pages that dmap_share() put back out again
 * @page:	first page
 * @nr_pages:	pages from @page on, all of one allocation, all shared
 *
 * Return: 0, or -EINVAL with nothing changed.
 */
int dmap_unshare(struct page *page, unsigned long nr_pages)
{
	return dmap_flip(page, nr_pages, false);
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
		shared = dmap_single_page_shared(pfn);
	rcu_read_unlock();
	return shared;
}

static int __init dmap_owner_orphans_init(void)
{
	static struct lock_class_key orphans_key;

	directmap_owner_init(&dmap_orphans, "orphaned");
	/* taken inside an exiting owner's lock */
	lockdep_set_class(&dmap_orphans.lock, &orphans_key);
	return 0;
}
core_initcall(dmap_owner_orphans_init);

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/owner-kunit.h"
#endif
