/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What directmap's KUnit cases share, whichever file they test.
 *
 * What a case needs of the machine it runs on: where that is missing, the
 * case is skipped with the reason, as kfence_test does, rather than
 * failed.  `make check` boots two CPUs on two NUMA nodes with 1G pages,
 * so nothing is skipped there, and boots a small machine where the cases
 * that need more skip.
 */
#ifndef _MM_DIRECTMAP_HELPERS_KUNIT_H
#define _MM_DIRECTMAP_HELPERS_KUNIT_H

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/directmap.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/directmap_arch.h>
#include <linux/nodemask.h>

#include "../differ.h"
#include "../internal.h"

static inline void dmap_test_need_cpus(struct kunit *test, unsigned int nr)
{
	if (num_online_cpus() < nr)
		kunit_skip(test, "needs %u CPUs online", nr);
}

static inline void dmap_test_need_nodes(struct kunit *test, unsigned int nr)
{
	if (num_node_state(N_MEMORY) < nr)
		kunit_skip(test, "needs %u NUMA nodes with memory", nr);
}

/* arm64 without BBML2_NOABORT keeps the linear map at 4K */
static inline void dmap_test_need_blocks(struct kunit *test)
{
	if (!dmap_test_blocks())
		kunit_skip(test, "the linear map has no blocks (no BBML2_NOABORT)");
}

/* A 2M or 4M block that a 1G entry maps, to split and re-form */
static inline void dmap_test_need_1g(struct kunit *test)
{
	if (!arch_directmap_pages(DIRECTMAP_LEVEL_1G))
		kunit_skip(test, "the direct map has no 1G entries");
}

/* ---- what the cases look at and do ---- */

/* The level of a region's entries while it is taken out */
#define DMAP_TEST_REGION_LEVEL \
	(dmap_test_blocks() ? DIRECTMAP_LEVEL_2M : DIRECTMAP_LEVEL_4K)

static inline unsigned int dmap_test_level(struct page *page, bool *present)
{
	return arch_directmap_level((unsigned long)page_address(page), present);
}

/*
 * The leaf entry that maps @addr in the tables at @pgd, as the CPU's
 * walker finds it, in @leaf (0 if none): its level, DIRECTMAP_LEVEL_NONE
 * if nothing maps @addr.  Whether the CPU may use (and cache) it is
 * dmap_test_leaf_valid(*@leaf).
 */
static inline int dmap_test_walk(pgd_t *pgd, unsigned long addr, u64 *leaf)
{
	pgd_t *pgdp = pgd_offset_pgd(pgd, addr);
	p4d_t *p4dp;
	pud_t *pudp;
	pmd_t *pmdp;
	pud_t pud;
	pmd_t pmd;

	*leaf = 0;
	if (pgd_none(pgdp_get(pgdp)))
		return DIRECTMAP_LEVEL_NONE;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(p4dp_get(p4dp)))
		return DIRECTMAP_LEVEL_NONE;
	pudp = pud_offset(p4dp, addr);
	pud = pudp_get(pudp);
	if (pud_none(pud))
		return DIRECTMAP_LEVEL_NONE;
	if (!pud_present(pud) || pud_leaf(pud)) {
		*leaf = pud_val(pud);
		return DIRECTMAP_LEVEL_1G;
	}
	pmdp = pmd_offset(pudp, addr);
	pmd = pmdp_get(pmdp);
	if (pmd_none(pmd))
		return DIRECTMAP_LEVEL_NONE;
	if (!pmd_present(pmd) || pmd_leaf(pmd)) {
		*leaf = pmd_val(pmd);
		return DIRECTMAP_LEVEL_2M;
	}
	*leaf = pte_val(ptep_get(pte_offset_kernel(pmdp, addr)));
	return *leaf ? DIRECTMAP_LEVEL_4K : DIRECTMAP_LEVEL_NONE;
}

/* The architecture's collapses, with memory hotplug excluded as required */
static inline int dmap_test_collapse_pmd(unsigned long pfn)
{
	int ret;

	get_online_mems();
	ret = arch_directmap_collapse_pmd(pfn, false);
	put_online_mems();
	return ret;
}

static inline int dmap_test_collapse_pud(unsigned long pfn)
{
	int ret;

	get_online_mems();
	ret = arch_directmap_collapse_pud(pfn);
	put_online_mems();
	return ret;
}

static inline bool dmap_test_readable(struct page *page)
{
	char c;

	return !copy_from_kernel_nofault(&c, page_address(page), 1);
}

/*
 * Wipe what frees left for the next batch now, as the wipe work would: the
 * work first, which may have taken a batch already, then the rest.
 */
static inline void dmap_test_wipe_queued(void)
{
	dmap_wipe_work_sync();
	dmap_wipe_flush_all();
}

static inline void dmap_test_fill(struct kunit *test, struct page *page, u8 val)
{
	void *p = vmap(&page, 1, VM_MAP, PAGE_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, val, PAGE_SIZE);
	vunmap(p);
}

static inline bool dmap_test_zero(struct kunit *test, struct page *page)
{
	void *p = vmap(&page, 1, VM_MAP, PAGE_KERNEL);
	bool zero;

	KUNIT_ASSERT_NOT_NULL(test, p);
	zero = !memchr_inv(p, 0, PAGE_SIZE);
	vunmap(p);
	return zero;
}

/* What the cases switch off, to put back */
struct dmap_test_state {
	bool		collapse_enabled;
	unsigned int	release_idle_ms;
};

static inline int dmap_test_init(struct kunit *test)
{
	struct dmap_test_state *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_TRUE_MSG(test, directmap_enabled(),
			      "directmap must be on (no directmap=off)");
	/*
	 * The cases count entries exactly: no collapse behind their back,
	 * and no region given back because it stayed empty for a while
	 */
	st->collapse_enabled = dmap_collapse_set_enabled(false);
	st->release_idle_ms = xchg(&dmap_release_idle_ms, 0);
	test->priv = st;
	dmap_collapse_flush();
	dmap_drain();
	return 0;
}

static inline void dmap_test_exit(struct kunit *test)
{
	struct dmap_test_state *st = test->priv;

	dmap_drain();
	if (st) {
		WRITE_ONCE(dmap_release_idle_ms, st->release_idle_ms);
		dmap_collapse_set_enabled(st->collapse_enabled);
	}
}

/* Stubs of the environment: no 2M block, no page-table page */
static inline int dmap_test_no_block(int nid, unsigned long *pfn)
{
	return -ENOMEM;
}

static inline void dmap_test_free_list(struct list_head *list, unsigned int order)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		__free_pages(page, order);
	}
}

static struct page *dmap_test_single_page;

/* The single-page fallback gets the page the case chose */
static inline struct page *dmap_test_give_single(int nid, gfp_t gfp,
						 unsigned int order)
{
	struct page *page = dmap_test_single_page;

	dmap_test_single_page = NULL;
	return page;
}

/*
 * An allocation from the single-page fallback, as when no 2M block can be
 * had: @given if not NULL, else a page of the page allocator's.
 */
static inline struct page *dmap_test_alloc_single(struct kunit *test, int nid,
						  unsigned int order,
						  struct page *given)
{
	struct page *page;

	kunit_activate_static_stub(test, dmap_env_block_alloc, dmap_test_no_block);
	if (given) {
		dmap_test_single_page = given;
		kunit_activate_static_stub(test, dmap_env_single_alloc,
					   dmap_test_give_single);
	}
	page = directmap_alloc_pages(nid, order, 0);
	if (given)
		kunit_deactivate_static_stub(test, dmap_env_single_alloc);
	kunit_deactivate_static_stub(test, dmap_env_block_alloc);
	return page;
}

/* Find a 2M block of free memory that a 1G entry maps */
static inline struct page *dmap_test_block_under_1g(struct kunit *test,
						    struct list_head *spare)
{
	struct page *page;
	bool present;
	int nid, i;

	/* earlier cases split the 1G entries nearest the allocator's cursor */
	for_each_node_state(nid, N_MEMORY) {
		for (i = 0; i < 2048; i++) {
			page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE |
						__GFP_NORETRY | __GFP_NOWARN,
						DMAP_REGION_ORDER);
			if (!page)
				break;
			if (dmap_test_level(page, &present) == DIRECTMAP_LEVEL_1G)
				return page;
			list_add(&page->lru, spare);
		}
	}
	return NULL;
}

/* What a split of the direct map allocates its page-table page from */
#ifdef CONFIG_X86
#define dmap_ktest_split_alloc	cpa_split_alloc_table
/* and directmap's own split of a region under a 1G entry */
#define dmap_ktest_region_alloc	directmap_alloc_pgtable
#else
#define dmap_ktest_split_alloc	split_pgtable_alloc
#define dmap_ktest_region_alloc	split_pgtable_alloc
#endif

#ifdef CONFIG_X86
/* a page-table page or its struct page, as the kernel's CPA returns it */
static inline typeof(cpa_split_alloc_table()) dmap_ktest_no_table(void)
{
	return NULL;
}

static inline struct page *dmap_ktest_region_no_table(gfp_t gfp)
{
	return NULL;
}
#else
/* INVALID_PHYS_ADDR, which not every kernel defines for everyone */
static inline phys_addr_t dmap_ktest_no_table(gfp_t gfp, bool pmd)
{
	return ~(phys_addr_t)0;
}

#define dmap_ktest_region_no_table	dmap_ktest_no_table
#endif

#endif /* _MM_DIRECTMAP_HELPERS_KUNIT_H */
