// SPDX-License-Identifier: GPL-2.0
/*
 * The consistency verifier: directmap's bookkeeping, the page tables of
 * the direct map and the DirectMap counters must tell the same story.
 *
 *  - every region on a node's lists is registered, on the list its free
 *    slots say, and the node's sums add up; free slots are frozen pages;
 *  - no leaf entry of the direct map that is present covers a page of a
 *    region or of the single-page fallback: handed out or free, none of
 *    them may be reachable, except pages their owner shared, and those
 *    only through a 4K entry (no present large entry ever covers a page
 *    directmap handed out: SEV-SNP's rule);
 *  - no page is both free in the buddy allocator and absent from the
 *    direct map (the buddy would hand out a page that faults);
 *  - a fresh count of the leaf entries equals the DirectMap counters.
 *
 * The checks take each lock in turn, not all at once, so they are exact
 * only while directmap is quiet: tests call it at rest.
 */
#define pr_fmt(fmt) "directmap: verify: " fmt

#include <linux/debugfs.h>
#include <linux/directmap.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/seq_file.h>
#include <linux/set_memory.h>
#include <linux/slab.h>

#include "internal.h"

/* Lines of detail before the verifier only counts */
#define DMAP_VERIFY_REPORT	16

/*
 * Where the walk, which goes up the direct map, next meets a region or a
 * single allocation: none holds a page in [from, next).  A present entry
 * inside needs no lookup; one outside is looked up again, so a region or
 * allocation gone since is never reported (one added during the walk may
 * be missed: the verifier is exact only while directmap is quiet).
 */
struct dmap_verify_next {
	unsigned long	from;
	unsigned long	next;
};

struct dmap_verify {
	struct seq_file	*m;
	unsigned long	problems;
	unsigned long	regions;	/* on the nodes' lists */
	unsigned long	singles;	/* allocations of the fallback */
	unsigned long	absent;		/* 4K pages without a present entry */
	struct dmap_verify_next region;	/* in units of regions */
	struct dmap_verify_next single;	/* in pfns */
};

static __printf(2, 3) void dmap_verify_bad(struct dmap_verify *v,
					   const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	if (v->problems++ >= DMAP_VERIFY_REPORT)
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (v->m)
		seq_printf(v->m, "bad: %pV\n", &vaf);
	else
		pr_err("%pV\n", &vaf);
	va_end(args);
}

static const char *const dmap_verify_lists[] = { "partial", "full", "empty" };

static void dmap_verify_region(struct dmap_verify *v, struct dmap_cache *cache,
			       struct dmap_region *r, int list,
			       unsigned long *used_sum)
{
	unsigned long used = bitmap_weight(r->used, DMAP_REGION_PAGES);
	unsigned long i;

	if (dmap_region_of(r->pfn) != r || !IS_ALIGNED(r->pfn, DMAP_REGION_PAGES))
		dmap_verify_bad(v, "region %#lx is not registered", r->pfn);
	if (r->nid != cache->nid || pfn_to_nid(r->pfn) != cache->nid)
		dmap_verify_bad(v, "region %#lx of node %d is on node %d's lists",
				r->pfn, pfn_to_nid(r->pfn), cache->nid);
	if (r->nr_free != DMAP_REGION_PAGES - used)
		dmap_verify_bad(v, "region %#lx: %u free, %lu slots used",
				r->pfn, r->nr_free, used);
	if (!bitmap_subset(r->head, r->used, DMAP_REGION_PAGES) ||
	    !bitmap_subset(r->pending, r->used, DMAP_REGION_PAGES))
		dmap_verify_bad(v, "region %#lx: a head or pending slot is free",
				r->pfn);
	if (!bitmap_subset(r->shared, r->used, DMAP_REGION_PAGES) ||
	    bitmap_intersects(r->shared, r->pending, DMAP_REGION_PAGES) ||
	    r->nr_shared != bitmap_weight(r->shared, DMAP_REGION_PAGES))
		dmap_verify_bad(v, "region %#lx: %u shared, a shared slot is free or pending",
				r->pfn, r->nr_shared);
	if (!bitmap_subset(r->retired, r->used, DMAP_REGION_PAGES) ||
	    bitmap_intersects(r->retired, r->head, DMAP_REGION_PAGES) ||
	    bitmap_intersects(r->retired, r->pending, DMAP_REGION_PAGES) ||
	    bitmap_intersects(r->retired, r->shared, DMAP_REGION_PAGES) ||
	    r->nr_retired != bitmap_weight(r->retired, DMAP_REGION_PAGES))
		dmap_verify_bad(v, "region %#lx: %u retired, a retired slot is free or out",
				r->pfn, r->nr_retired);
	if ((list == 0 && (!r->nr_free || r->nr_free == DMAP_REGION_PAGES)) ||
	    (list == 1 && r->nr_free) ||
	    (list == 2 && r->nr_free != DMAP_REGION_PAGES))
		dmap_verify_bad(v, "region %#lx with %u free is on the %s list",
				r->pfn, r->nr_free, dmap_verify_lists[list]);

	/* an allocation's first page holds the references, like a non-compound page */
	for (i = 0; i < DMAP_REGION_PAGES; i++) {
		int ref = page_ref_count(pfn_to_page(r->pfn + i));
		bool head = test_bit(i, r->head);

		if (head ? ref < 1 : ref != 0)
			dmap_verify_bad(v, "pfn %#lx: %s slot with refcount %d",
					r->pfn + i, head ? "first" :
					test_bit(i, r->used) ? "used" : "free", ref);
	}
	*used_sum += used;
}

static void dmap_verify_node(struct dmap_verify *v, struct dmap_node *pn)
{
	struct dmap_cache *cache = &pn->cache;
	unsigned long regions = 0, empty = 0, nr_free = 0, used = 0;
	struct list_head *lists[] = { &cache->partial, &cache->full, &cache->empty };
	struct dmap_region *r;
	int i;

	spin_lock(&cache->lock);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		list_for_each_entry(r, lists[i], list) {
			dmap_verify_region(v, cache, r, i, &used);
			nr_free += r->nr_free;
			regions++;
			empty += i == 2;
		}
	}
	/* regions, empty ones, free slots, used slots */
	if (regions != cache->nr_regions || empty != cache->nr_empty ||
	    nr_free != cache->nr_free || used != cache->nr_used + cache->nr_retired)
		dmap_verify_bad(v, "node %d: counts %lu/%lu/%lu/%lu, lists %lu/%lu/%lu/%lu",
				cache->nid, cache->nr_regions, cache->nr_empty,
				cache->nr_free, cache->nr_used, regions, empty,
				nr_free, used);
	spin_unlock(&cache->lock);
	v->regions += regions;
}

/*
 * Does the fallback hold a page in [pfn, pfn + nr)?  Remember where the
 * first allocation that ends above @pfn starts: none holds a page in
 * [@pfn, that start).
 */
static bool dmap_verify_single_in(struct dmap_verify *v, unsigned long pfn,
				  unsigned long nr)
{
	unsigned long first = pfn > (1UL << DIRECTMAP_MAX_ORDER) ?
			      pfn - (1UL << DIRECTMAP_MAX_ORDER) : 0;
	unsigned long index;
	void *entry;

	if (pfn >= v->single.from && pfn + nr <= v->single.next)
		return false;
	v->single.from = pfn;
	v->single.next = ULONG_MAX;
	xa_for_each_start(&dmap_singles, index, entry, first) {
		if (index + (1UL << xa_to_value(entry)) > pfn) {
			v->single.next = index;
			break;
		}
	}
	return v->single.next < pfn + nr;
}

/* Does a region hold a page in [pfn, pfn + nr)?  Remember the next one */
static bool dmap_verify_region_in(struct dmap_verify *v, unsigned long pfn,
				  unsigned long nr)
{
	unsigned long index = pfn >> DMAP_REGION_ORDER;
	unsigned long last = (pfn + nr - 1) >> DMAP_REGION_ORDER;

	if (index >= v->region.from && last < v->region.next)
		return false;
	v->region.from = index;
	if (!xa_find(&dmap_regions, &index, ULONG_MAX, XA_PRESENT))
		index = ULONG_MAX;
	v->region.next = index;
	return index <= last;
}

static const unsigned long dmap_verify_level_pages[] = {
	[DIRECTMAP_LEVEL_4K] = 1,
	[DIRECTMAP_LEVEL_2M] = PTRS_PER_PMD,
	[DIRECTMAP_LEVEL_1G] = PTRS_PER_PMD * PTRS_PER_PTE,
};

/* Called for each leaf entry of the direct map, under CPA's locks */
static void dmap_verify_entry(unsigned long addr, int level, bool present,
			      void *data)
{
	struct dmap_verify *v = data;
	unsigned long pfn = PFN_DOWN(__pa(addr));
	unsigned long nr, i;

	if (level < DIRECTMAP_LEVEL_4K || level > DIRECTMAP_LEVEL_1G)
		return;
	nr = dmap_verify_level_pages[level];
	if (present) {
		bool region = dmap_verify_region_in(v, pfn, nr);
		bool single = dmap_verify_single_in(v, pfn, nr);

		if (!region && !single)
			return;
		/* the owner shared it: present, and only ever at 4K (SEV-SNP's rule) */
		if (level == DIRECTMAP_LEVEL_4K && dmap_page_shared(pfn))
			return;
		if (region)
			dmap_verify_bad(v, "present entry (level %d) at %#lx maps a region",
					level, pfn);
		if (single)
			dmap_verify_bad(v, "present entry (level %d) at %#lx maps a single",
					level, pfn);
		return;
	}

	v->absent += nr;
	/* debug_pagealloc unmaps free pages on purpose */
	if (debug_pagealloc_enabled())
		return;
	for (i = 0; i < nr; i++) {
		if (pfn_valid(pfn + i) && is_free_buddy_page(pfn_to_page(pfn + i))) {
			dmap_verify_bad(v, "pfn %#lx is free in the buddy allocator but not mapped",
					pfn + i);
			break;
		}
	}
}

/* Each node counts the single allocations of its own pages */
static void dmap_verify_singles(struct dmap_verify *v)
{
	unsigned long index;
	void *entry;
	long *held;
	int nid;

	held = kcalloc(nr_node_ids, sizeof(*held), GFP_KERNEL);
	if (!held) {
		dmap_verify_bad(v, "no memory to count single allocations");
		return;
	}
	xa_for_each(&dmap_singles, index, entry) {
		held[pfn_to_nid(index)]++;
		v->singles++;
	}
	for_each_node(nid) {
		struct dmap_node *pn = dmap_nodes[nid];
		long count = pn ? atomic_long_read(&pn->nr_singles) : 0;

		if (count != held[nid])
			dmap_verify_bad(v, "node %d counts %ld single allocations, holds %ld",
					nid, count, held[nid]);
	}
	kfree(held);
}

/**
 * dmap_verify - check that bookkeeping, page tables and counters agree
 * @m:		where to report, or NULL for the kernel log
 *
 * Context: process context, may sleep; exact only while directmap is quiet.
 * Return: the number of problems found, 0 if everything agrees.
 */
unsigned long dmap_verify(struct seq_file *m)
{
	unsigned long walked[DIRECTMAP_LEVEL_NUM], counted[DIRECTMAP_LEVEL_NUM];
	struct dmap_verify v = { .m = m };
	unsigned long index, registered = 0;
	struct dmap_node *pn;
	int nid, level, tries;
	void *entry;
	long leaked;

	dmap_for_each_node(nid, pn)
		dmap_verify_node(&v, pn);
	xa_for_each(&dmap_regions, index, entry)
		registered++;
	if (registered != v.regions)
		dmap_verify_bad(&v, "%lu regions registered, %lu on the lists",
				registered, v.regions);

	dmap_verify_singles(&v);
	leaked = dmap_pages_unaccounted();
	if (leaked)
		dmap_verify_bad(&v, "%ld pages taken are neither given back nor held",
				leaked);

	/* The counts again, without the checks, if the direct map moved */
	if (!arch_directmap_walk(dmap_verify_entry, &v, walked, counted)) {
		for (tries = 3; tries; tries--)
			if (arch_directmap_walk(NULL, NULL, walked, counted))
				break;
	}
	for (level = DIRECTMAP_LEVEL_4K; level <= DIRECTMAP_LEVEL_1G; level++) {
		if (walked[level] != counted[level])
			dmap_verify_bad(&v, "level %d: %lu entries, DirectMap counts %lu",
					level, walked[level], counted[level]);
	}

	if (m)
		seq_printf(m, "regions %lu\nsingles %lu\nabsent_pages %lu\nleaked %ld\nentries_4k %lu\nentries_2m %lu\nentries_1g %lu\nproblems %lu\n",
			   v.regions, v.singles, v.absent, leaked,
			   walked[DIRECTMAP_LEVEL_4K], walked[DIRECTMAP_LEVEL_2M],
			   walked[DIRECTMAP_LEVEL_1G], v.problems);
	return v.problems;
}

static int dmap_verify_show(struct seq_file *m, void *unused)
{
	dmap_verify(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_verify);

static int __init dmap_verify_debugfs(void)
{
	dmap_debugfs_file("verify", 0400, &dmap_verify_fops);
	return 0;
}
late_initcall(dmap_verify_debugfs);
