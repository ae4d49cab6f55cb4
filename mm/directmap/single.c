// SPDX-License-Identifier: GPL-2.0
/*
 * directmap: the single-page fallback.
 *
 * When no 2M block can be had, directmap unmaps the pages it hands out one
 * by one, as the stock kernel does, rather than fail the caller: this
 * splits the direct map and is counted.  Such pages are indexed by pfn
 * (dmap_singles), wiped and mapped back when they are freed, and may be
 * shared by their owner like region pages; a poisoned one is kept for
 * good.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/directmap.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/set_memory.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <asm/tlbflush.h>
#include <trace/events/directmap.h>

#include "fail_directmap.h"
#include "internal.h"

/* Single fallback allocations by their first pfn: the order */
DEFINE_XARRAY(dmap_singles);
/* Pages of single allocations that their owner shared, by pfn */
static DEFINE_XARRAY(dmap_singles_shared);
/* Single pages kept for good because their memory is poisoned */
atomic_long_t dmap_pages_retired;
/* Their poisoned pages, by pfn: absent from the direct map for good */
DEFINE_XARRAY(dmap_singles_retired);

/* Does an owner share a page of a single allocation in [pfn, pfn + nr)? */
bool dmap_singles_shared_in(unsigned long pfn, unsigned long nr)
{
	unsigned long index;
	void *entry;

	xa_for_each_range(&dmap_singles_shared, index, entry, pfn, pfn + nr - 1)
		return true;
	return false;
}

/* The single-page fallback's pages; KUnit hands it pages to test with */
VISIBLE_IF_KUNIT struct page *dmap_env_single_alloc(int nid, gfp_t gfp,
						    unsigned int order)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_env_single_alloc, nid, gfp, order);
	if (dmap_should_fail(DMAP_FAIL_SINGLE))
		return NULL;
	return alloc_pages_node(nid, gfp, order);
}

/*
 * No 2M block to be had: unmap single pages as the stock kernel does (this
 * splits the direct map, and is counted), rather than fail the caller.
 */
struct page *dmap_alloc_single(struct dmap_node *pn, unsigned int order,
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
	atomic_long_inc(&dmap_nodes[page_to_nid(page)]->nr_singles);
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
 * A single allocation with a poisoned page: its poisoned pages stay absent
 * and are recorded, so that page_is_directmap() still says they are ours
 * (hibernation must not save them), and a reference keeps the allocation
 * from the buddy allocator for good, also after a page cache's last put.
 */
static void dmap_retire_single(struct page *page, unsigned int order,
			       enum dmap_free_ref ref)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		if (PageHWPoison(page + i))
			/* rare, small, and must not be lost */
			xa_store(&dmap_singles_retired, pfn + i, xa_mk_value(1),
				 GFP_KERNEL | __GFP_NOFAIL);
	if (ref == DMAP_CALLER_PUTS_REF)
		get_page(page);
	atomic_long_add(1UL << order, &dmap_pages_retired);
	pr_info("pfn %#lx order %u is poisoned: retired\n", pfn, order);
}

/* Put a page of the single-page fallback back; KUnit watches the order */
VISIBLE_IF_KUNIT int dmap_single_map_back(struct page *page)
{
	KUNIT_STATIC_STUB_REDIRECT(dmap_single_map_back, page);
	return set_direct_map_default_noflush(page);
}

/* A shared page is at 4K already: taking it out cannot fail */
static void dmap_single_unmap(struct page *page)
{
	WARN_ON_ONCE(set_direct_map_invalid_noflush(page));
}

int dmap_free_single(struct page *page, unsigned int order,
		     enum dmap_free_ref ref)
{
	struct dmap_node *pn = dmap_nodes[page_to_nid(page)];
	unsigned long pfn = page_to_pfn(page);
	void *entry = xa_mk_value(order);
	bool out, shared, poisoned = false, unmapped = false;
	unsigned int i;

	/* no share of these pages may run while they go back */
	mutex_lock(&pn->share_lock);
	out = xa_cmpxchg(&dmap_singles, pfn, entry, NULL, 0) == entry;
	if (!out)
		mutex_unlock(&pn->share_lock);
	if (dmap_misuse(page_to_nid(page), !out,
			"pfn %#lx order %u is not out\n", pfn, order))
		return -EINVAL;
	/* before the pages go back to the page allocator */
	trace_directmap_free(page_to_nid(page), pfn, order);

	/*
	 * Wipe through the alias while the pages are still absent: once
	 * mapped, anything that reads the direct map could see the secret.
	 * Unmapping split what was needed: putting the map back cannot fail.
	 */
	for (i = 0; i < (1U << order); i++) {
		shared = xa_erase(&dmap_singles_shared, pfn + i);
		if (shared)
			count_vm_event(DIRECTMAP_PAGES_UNSHARED);
		if (PageHWPoison(page + i)) {
			/* kept for good, with the whole allocation */
			poisoned = true;
			/* and absent, as a retired page must be */
			if (shared) {
				dmap_single_unmap(page + i);
				unmapped = true;
			}
			continue;
		}
		if (shared) {
			/* mapped already, so wipe it where it is */
			clear_highpage(page + i);
			continue;
		}
		directmap_clear_pages(page + i, 1);
		WARN_ON_ONCE(dmap_single_map_back(page + i));
	}
	if (unmapped)
		flush_tlb_kernel_range((unsigned long)page_address(page),
				       (unsigned long)page_address(page) +
				       (PAGE_SIZE << order));
	mutex_unlock(&pn->share_lock);

	atomic_long_dec(&pn->nr_singles);
	if (poisoned) {
		dmap_retire_single(page, order, ref);
		return 0;
	}
	atomic_long_add(1UL << order, &dmap_pages_given_back);
	/* A page-cache owner's last put frees it to the buddy allocator */
	if (ref == DMAP_FREE_PUTS_REF)
		__free_pages(page, order);
	return 0;
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
int dmap_share_single(unsigned long pfn, unsigned long nr)
{
	unsigned long i;
	int err = 0;

	if (!dmap_single_holds(pfn, nr) || !dmap_singles_are(pfn, nr, false))
		return -EINVAL;
	/* a kernel read of a poisoned page would consume the poison */
	for (i = 0; i < nr; i++)
		if (PageHWPoison(pfn_to_page(pfn + i)))
			return -EHWPOISON;
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

int dmap_unshare_single(unsigned long pfn, unsigned long nr)
{
	unsigned long addr = (unsigned long)pfn_to_kaddr(pfn), i;

	if (!dmap_single_holds(pfn, nr) || !dmap_singles_are(pfn, nr, true))
		return -EINVAL;
	for (i = 0; i < nr; i++)
		dmap_single_unmap(pfn_to_page(pfn + i));
	flush_tlb_kernel_range(addr, addr + nr * PAGE_SIZE);
	for (i = 0; i < nr; i++)
		xa_erase(&dmap_singles_shared, pfn + i);
	return 0;
}

/**
 * dmap_single_page - is a page one of the single-page fallback's?
 * @pfn:	its frame
 *
 * Return: true for a page of a single allocation that is out, or one kept
 * for good because it is poisoned.
 */
bool dmap_single_page(unsigned long pfn)
{
	return xa_load(&dmap_singles, pfn) || xa_load(&dmap_singles_retired, pfn);
}

/**
 * dmap_single_page_shared - did the owner of a single page share it?
 * @pfn:	its frame
 *
 * Return: true if it is shared now.
 */
bool dmap_single_page_shared(unsigned long pfn)
{
	return xa_load(&dmap_singles_shared, pfn);
}

/**
 * dmap_singles_held - pages the single-page fallback holds now
 *
 * Return: the pages of single allocations that are out, plus the
 * poisoned pages kept for good.
 */
unsigned long dmap_singles_held(void)
{
	unsigned long held = atomic_long_read(&dmap_pages_retired), index;
	void *entry;

	xa_for_each(&dmap_singles, index, entry)
		held += 1UL << xa_to_value(entry);
	return held;
}

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/single-kunit.h"
#endif
