/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the single-page fallback: with no 2M block to be had,
 * pages come one by one, counted, split out of the direct map at 4K;
 * shared ones stay at 4K, and each is wiped before it is mapped back.
 */
#ifndef _MM_DIRECTMAP_SINGLE_KUNIT_H
#define _MM_DIRECTMAP_SINGLE_KUNIT_H

#include <kunit/test.h>
#include <kunit/static_stub.h>

#include "helpers-kunit.h"

/* No 2M block to be had: single pages, counted, and never a failure */
static void dmap_test_fallback(struct kunit *test)
{
	int nid = numa_mem_id();
	struct dmap_node *pn = dmap_nodes[nid];
	long fallbacks = atomic_long_read(&pn->fallbacks);
	unsigned long ev_fallback, ev_miss, ev_refill_fail, ev_alloc, ev_free;
	struct page *page;
	bool present;

	ev_fallback = dmap_vm_event(DIRECTMAP_FALLBACK);
	ev_miss = dmap_vm_event(DIRECTMAP_ALLOC_MISS);
	ev_refill_fail = dmap_vm_event(DIRECTMAP_REFILL_FAIL);
	ev_alloc = dmap_vm_event(DIRECTMAP_PAGES_ALLOC);
	ev_free = dmap_vm_event(DIRECTMAP_PAGES_FREE);
	page = dmap_test_alloc_single(test, nid, 0, NULL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	/* one miss, its refill failed, one fallback: each a vmstat event */
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_FALLBACK),
			ev_fallback + 1);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_ALLOC_MISS),
			ev_miss + 1);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_REFILL_FAIL),
			ev_refill_fail + 1);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_PAGES_ALLOC),
			ev_alloc + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&pn->fallbacks), fallbacks + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&pn->nr_singles), 1L);
	KUNIT_EXPECT_TRUE(test, page_is_directmap(page));
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page));

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_PAGES_FREE),
			ev_free + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&pn->nr_singles), 0L);
	KUNIT_EXPECT_FALSE(test, page_is_directmap(page));
}

/*
 * A single fallback page that its owner shares is present at the default
 * protections, and could make its 2M area look uniform: the worker must
 * not re-form it, or the unshare would need a split that can fail and
 * leave the page readable.
 */
static void dmap_test_single_shared_stays_4k(struct kunit *test)
{
	struct page *block, *page;
	bool present;
	LIST_HEAD(spare);
	int i;

	dmap_test_need_blocks(test);
	dmap_test_need_1g(test);

	block = dmap_test_block_under_1g(test, &spare);
	dmap_test_free_list(&spare, DMAP_REGION_ORDER);
	KUNIT_ASSERT_NOT_NULL_MSG(test, block, "no free 2M block under a 1G entry");
	split_page(block, DMAP_REGION_ORDER);

	page = dmap_test_alloc_single(test, page_to_nid(block), 0, block + 5);
	KUNIT_ASSERT_PTR_EQ(test, page, block + 5);

	KUNIT_ASSERT_EQ(test, dmap_share(page, 1), 0);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_4K);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_4K);

	/* taking it back needs no memory */
#ifdef CONFIG_X86
	kunit_activate_static_stub(test, cpa_split_alloc_table, dmap_ktest_no_table);
#endif
	KUNIT_EXPECT_EQ(test, dmap_unshare(page, 1), 0);
#ifdef CONFIG_X86
	kunit_deactivate_static_stub(test, cpa_split_alloc_table);
#endif
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	for (i = 0; i < DMAP_REGION_PAGES; i++)
		if (i != 5)
			__free_page(block + i);
	/* private again and given back: the area may be whole again */
	dmap_collapse_flush();
	KUNIT_EXPECT_GE(test, dmap_test_level(block, &present), DIRECTMAP_LEVEL_2M);
}

static bool dmap_test_seen_secret;

static int dmap_test_watch_map_back(struct page *page)
{
	int err = set_direct_map_default_noflush(page);

	/* what any reader of the direct map could see from now on */
	if (!err && memchr_inv(page_address(page), 0, PAGE_SIZE))
		dmap_test_seen_secret = true;
	return err;
}

/*
 * A page of the single-page fallback goes back into the direct map when
 * it is freed: it must be wiped before, never after, it is mapped.
 */
static void dmap_test_single_wiped_before_mapped(struct kunit *test)
{
	struct page *page;

	page = dmap_test_alloc_single(test, numa_mem_id(), 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NULL(test, dmap_region_of(page_to_pfn(page)));
	dmap_test_fill(test, page, 0x5a);
	dmap_test_fill(test, page + 1, 0xa5);

	dmap_test_seen_secret = false;
	kunit_activate_static_stub(test, dmap_single_map_back,
				   dmap_test_watch_map_back);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 1), 0);
	kunit_deactivate_static_stub(test, dmap_single_map_back);
	KUNIT_EXPECT_FALSE_MSG(test, dmap_test_seen_secret,
			       "the secret was readable in the direct map");
}

/*
 * A single page from another node than the one asked for is counted on
 * the node of the page, where its free counts it off: nothing stays
 * counted, so directmap_active() (hibernation) is false again.
 */
static void dmap_test_single_other_node(struct kunit *test)
{
	struct page *given, *page;
	long on_asked, on_page;
	int asked, other;

	dmap_test_need_nodes(test, 2);
	asked = first_node(node_states[N_MEMORY]);
	other = next_node(asked, node_states[N_MEMORY]);
	given = alloc_pages_node(other, GFP_KERNEL | __GFP_THISNODE | __GFP_ZERO, 0);
	KUNIT_ASSERT_NOT_NULL(test, given);
	on_asked = atomic_long_read(&dmap_nodes[asked]->nr_singles);
	on_page = atomic_long_read(&dmap_nodes[other]->nr_singles);

	page = dmap_test_alloc_single(test, asked, 0, given);
	KUNIT_ASSERT_PTR_EQ(test, page, given);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_nodes[asked]->nr_singles),
			on_asked);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_nodes[other]->nr_singles),
			on_page + 1);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_nodes[asked]->nr_singles),
			on_asked);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_nodes[other]->nr_singles),
			on_page);
	KUNIT_EXPECT_FALSE(test, directmap_active());
}

static struct kunit_case dmap_stest_cases[] = {
	KUNIT_CASE(dmap_test_fallback),
	KUNIT_CASE(dmap_test_single_shared_stays_4k),
	KUNIT_CASE(dmap_test_single_other_node),
	KUNIT_CASE(dmap_test_single_wiped_before_mapped),
	{}
};

static struct kunit_suite dmap_stest_suite = {
	.name = "directmap_single",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_stest_cases,
};

kunit_test_suite(dmap_stest_suite);

#endif /* _MM_DIRECTMAP_SINGLE_KUNIT_H */
