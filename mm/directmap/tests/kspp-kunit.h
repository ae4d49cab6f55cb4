/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: a direct-map split that fails (the page-table page cannot be had,
 * injected through cpa_split_alloc_table() on x86, split_pgtable_alloc()
 * on arm64) in paths that used to drop the error.  Each must return the
 * error or refuse, and leave no page with the wrong permissions: not
 * vfree()'s reset of permissions, and not the single-page fallback that
 * secretmem's faults take when no 2M block can be had.
 *
 * Included from core.c after core-kunit.h, whose helpers it uses.
 */
#ifndef _MM_DIRECTMAP_KSPP_KUNIT_H
#define _MM_DIRECTMAP_KSPP_KUNIT_H

#include <linux/vmalloc.h>

/* A 2M block under a large present entry, as 512 order-0 pages */
static struct page *dmap_ktest_block(struct kunit *test)
{
	struct page *block;
	bool present;

	block = alloc_pages(GFP_KERNEL | __GFP_NOWARN, DMAP_REGION_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, block);
	if (dmap_test_level(block, &present) < DIRECTMAP_LEVEL_2M || !present) {
		__free_pages(block, DMAP_REGION_ORDER);
		kunit_skip(test, "the direct map over the block is split already");
	}
	split_page(block, DMAP_REGION_ORDER);
	return block;
}

static void dmap_ktest_free_block(struct page *block)
{
	unsigned int i;

	for (i = 0; i < DMAP_REGION_PAGES; i++)
		__free_page(block + i);
}

/* A real write through the direct map, caught if it faults */
static bool dmap_ktest_writable(struct page *page)
{
	char c;

	if (copy_from_kernel_nofault(&c, page_address(page), 1))
		return false;
	return !copy_to_kernel_nofault(page_address(page), &c, 1);
}

/*
 * vfree() of a VM_FLUSH_RESET_PERMS area whose pages' direct map is one
 * read-only 2M entry: resetting a single page needs a split.  When the
 * split fails, vfree() must keep the pages rather than give the allocator
 * read-only memory.
 */
#ifdef CONFIG_X86
static void dmap_ktest_vfree_keeps_unreset_pages(struct kunit *test)
{
	struct page *block = dmap_ktest_block(test);
	unsigned long addr = (unsigned long)page_address(block);
	struct page **pages;
	unsigned int i;
	bool present;
	void *va;

	pages = kvmalloc_array(DMAP_REGION_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < DMAP_REGION_PAGES; i++)
		pages[i] = block + i;

	/* The whole 2M entry read-only, in place */
	KUNIT_ASSERT_EQ(test, set_memory_ro(addr, DMAP_REGION_PAGES), 0);
	KUNIT_ASSERT_EQ(test, dmap_test_level(block, &present), DIRECTMAP_LEVEL_2M);
	KUNIT_ASSERT_FALSE(test, dmap_ktest_writable(block + 7));

	va = vmap(pages, DMAP_REGION_PAGES, VM_MAP | VM_MAP_PUT_PAGES,
		  PAGE_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, va);
	set_vm_flush_reset_perms(va);

	kunit_activate_static_stub(test, cpa_split_alloc_table,
				   dmap_ktest_no_table);
	vfree(va);
	kunit_deactivate_static_stub(test, cpa_split_alloc_table);

	/* Kept, not freed: still ours, still read-only, still one entry */
	for (i = 0; i < DMAP_REGION_PAGES; i++)
		KUNIT_EXPECT_EQ(test, page_ref_count(block + i), 1);
	KUNIT_EXPECT_EQ(test, dmap_test_level(block, &present), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_FALSE(test, dmap_ktest_writable(block + 7));

	/* With page tables to be had, the pages are writable again */
	KUNIT_ASSERT_EQ(test, set_memory_rw(addr, DMAP_REGION_PAGES), 0);
	KUNIT_EXPECT_TRUE(test, dmap_ktest_writable(block + 7));
	dmap_ktest_free_block(block);
}
#endif /* CONFIG_X86 */

/*
 * No 2M block, and the page the fallback gets lies under a large entry
 * whose split fails: the allocation fails with the error counted and
 * traced, and the direct map is as it was, the page mapped and back in
 * the allocator.
 */
static void dmap_ktest_fallback_split_fails(struct kunit *test)
{
	struct page *block = dmap_ktest_block(test);
	unsigned long fails = dmap_vm_event(DIRECTMAP_FALLBACK_FAIL);
	unsigned long outs = dmap_vm_event(DIRECTMAP_PAGES_ALLOC);
	struct page *page;
	bool present;

	/* the fallback frees the page it could not unmap: hand it a spare */
	get_page(block);
	dmap_test_single_page = block;
	kunit_activate_static_stub(test, dmap_env_block_alloc,
				   dmap_test_no_block);
	kunit_activate_static_stub(test, dmap_env_single_alloc,
				   dmap_test_give_single);
	kunit_activate_static_stub(test, dmap_ktest_split_alloc,
				   dmap_ktest_no_table);
	page = directmap_alloc_pages(page_to_nid(block), 0, 0);
	kunit_deactivate_static_stub(test, dmap_ktest_split_alloc);
	kunit_deactivate_static_stub(test, dmap_env_single_alloc);
	kunit_deactivate_static_stub(test, dmap_env_block_alloc);

	KUNIT_EXPECT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_FALLBACK_FAIL),
			fails + 1);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_PAGES_ALLOC),
			outs);
	/* given back (our spare reference is the only one), mapped, unsplit */
	KUNIT_EXPECT_EQ(test, page_ref_count(block), 1);
	KUNIT_EXPECT_FALSE(test, page_is_directmap(block));
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(block));
	KUNIT_EXPECT_TRUE(test, dmap_ktest_writable(block));
	KUNIT_EXPECT_GE(test, dmap_test_level(block, &present), DIRECTMAP_LEVEL_2M);
	dmap_ktest_free_block(block);
}

static struct kunit_case dmap_ktest_cases[] = {
#ifdef CONFIG_X86
	/* arm64's set_memory_ro() takes vmalloc addresses only */
	KUNIT_CASE(dmap_ktest_vfree_keeps_unreset_pages),
#endif
	KUNIT_CASE(dmap_ktest_fallback_split_fails),
	{}
};

static struct kunit_suite dmap_ktest_suite = {
	.name = "directmap_kspp",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_ktest_cases,
};

kunit_test_suite(dmap_ktest_suite);

#endif /* _MM_DIRECTMAP_KSPP_KUNIT_H */
