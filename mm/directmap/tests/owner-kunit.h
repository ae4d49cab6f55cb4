/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the owner API (owner.c) on the real direct map: pages
 * donated without zeroing, misuse refused, in-place sharing at 4K, the
 * SEV-SNP rule that no present large entry covers a page handed out, and
 * load_unaligned_zeropad() off a shared page into a private one.
 *
 * Included from owner.c.
 */
#ifndef _MM_DIRECTMAP_OWNER_KUNIT_H
#define _MM_DIRECTMAP_OWNER_KUNIT_H

#include <kunit/test.h>
#include <linux/kasan.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/swap.h>
#include <asm/word-at-a-time.h>

#include "helpers-kunit.h"

#define DMAP_OTEST_PAGES	64

/* How the tests look at owners, as the kernel sees them */

/*
 * dmap_owner_count - count an owner's pages, as the kernel sees them
 * @owner:	the owner
 * @shared:	its pages marked shared
 * @present:	its pages the kernel can read through the direct map
 *
 * @present is a probe, not the bookkeeping: each page is read with
 * copy_from_kernel_nofault(), which faults on an absent page.
 */
static void dmap_owner_count(struct directmap_owner *owner,
			     unsigned long *shared, unsigned long *present)
{
	unsigned long index;
	void *entry;

	*shared = 0;
	*present = 0;
	xa_for_each(&dmap_owned, index, entry) {
		if (entry == owner)
			dmap_owned_tally(index, shared, present);
		cond_resched();
	}
}

/*
 * dmap_owner_entries - count the xarray entries that record an owner's pages
 * @owner:	the owner
 *
 * Return: entries over directmap's xarrays that hold @owner's pages.
 */
static unsigned long dmap_owner_entries(struct directmap_owner *owner)
{
	unsigned long index, n = 0;
	void *entry;

	xa_for_each(&dmap_owned, index, entry)
		n += entry == owner;
	return n;
}

/*
 * dmap_owner_listed - is an owner registered?
 * @owner:	the owner
 *
 * Return: true if @owner is on directmap's list of owners.
 */
static bool dmap_owner_listed(struct directmap_owner *owner)
{
	struct directmap_owner *o;
	bool found = false;

	mutex_lock(&dmap_owners_lock);
	list_for_each_entry(o, &dmap_owners, list)
		found |= o == owner;
	mutex_unlock(&dmap_owners_lock);
	return found;
}

/*
 * dmap_owner_orphans - the owner of pages whose owner exited with them
 *
 * Return: the internal owner, for the tests to clean up after themselves.
 */
static struct directmap_owner *dmap_owner_orphans(void)
{
	return &dmap_orphans;
}

static void dmap_otest_owner_exit(void *owner)
{
	directmap_owner_exit(owner);
}

/* An owner that is unregistered before its memory goes, whatever fails */
static struct directmap_owner *dmap_otest_owner(struct kunit *test,
						const char *name)
{
	struct directmap_owner *owner;

	owner = kunit_kzalloc(test, sizeof(*owner), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, owner);
	directmap_owner_init(owner, name);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							dmap_otest_owner_exit,
							owner), 0);
	return owner;
}

/* Every page of @page + @nr: absent from the direct map, in a region */
static void dmap_otest_expect_absent(struct kunit *test, struct page *page,
				     unsigned long nr)
{
	bool present;
	unsigned long i;

	for (i = 0; i < nr; i++) {
		KUNIT_EXPECT_FALSE(test, dmap_test_readable(page + i));
		KUNIT_EXPECT_GE(test, dmap_test_level(page + i, &present),
				DIRECTMAP_LEVEL_4K);
		KUNIT_EXPECT_FALSE(test, present);
	}
}

/* Donation: every order, both nodes, no zeroing asked; all absent */
static void dmap_otest_donate(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-donate");
	struct page *pages[2][DIRECTMAP_MAX_ORDER + 1];
	unsigned long shared, present, nr = 0;
	int nid, order, n = 0;

	for_each_node_state(nid, N_MEMORY) {
		if (n == 2)
			break;
		for (order = 0; order <= DIRECTMAP_MAX_ORDER; order++) {
			struct page *page, *last;

			page = directmap_owner_alloc(owner, nid, order,
						     DIRECTMAP_NOZERO);
			KUNIT_ASSERT_NOT_NULL(test, page);
			KUNIT_EXPECT_EQ(test, page_to_nid(page), nid);
			KUNIT_EXPECT_TRUE(test, directmap_owns(owner, page));
			last = page + (1 << order) - 1;
			KUNIT_EXPECT_TRUE(test, directmap_owns(owner, last));
			dmap_otest_expect_absent(test, page, 1UL << order);
			pages[n][order] = page;
			nr += 1UL << order;
		}
		n++;
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&owner->nr_pages), (long)nr);
	/* one xarray entry an allocation, whatever its order */
	KUNIT_EXPECT_EQ(test, dmap_owner_entries(owner),
			(unsigned long)n * (DIRECTMAP_MAX_ORDER + 1));
	dmap_owner_count(owner, &shared, &present);
	KUNIT_EXPECT_EQ(test, shared, 0UL);
	KUNIT_EXPECT_EQ(test, present, 0UL);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	while (n--) {
		for (order = 0; order <= DIRECTMAP_MAX_ORDER; order++) {
			int err = directmap_owner_free(owner, pages[n][order],
						       order);

			KUNIT_EXPECT_EQ(test, err, 0);
		}
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&owner->nr_pages), 0L);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/* An owner can neither free nor map what is not its own */
static void dmap_otest_misuse(struct kunit *test)
{
	struct directmap_owner *a = dmap_otest_owner(test, "kunit-a");
	struct directmap_owner *b = dmap_otest_owner(test, "kunit-b");
	unsigned long misuse = dmap_vm_event(DIRECTMAP_MISUSE);
	struct page *page, *big, *plain;

	page = directmap_owner_alloc(a, NUMA_NO_NODE, 0, 0);
	big = directmap_owner_alloc(a, NUMA_NO_NODE, 2, 0);
	plain = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_NOT_NULL(test, plain);

	KUNIT_EXPECT_EQ(test, directmap_owner_free(b, page, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_share(b, page, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, plain, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_share(a, plain, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, big, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, big + 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, NULL, 0), -EINVAL);
	/* past the end of the allocation, and unsharing a private page */
	KUNIT_EXPECT_EQ(test, directmap_share(a, big + 2, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_unshare(a, page, 1), -EINVAL);
	/* the plain API does not free an owner's page either */
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), -EINVAL);
	/* ten refusals, each one event; nothing changed */
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_MISUSE), misuse + 10);
	KUNIT_EXPECT_TRUE(test, directmap_owns(a, page));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&a->nr_pages), 5L);
	dmap_otest_expect_absent(test, page, 1);
	dmap_otest_expect_absent(test, big, 4);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(plain));

	/* sharing twice is refused by the core, which holds the state */
	KUNIT_ASSERT_EQ(test, directmap_share(a, page, 1), 0);
	KUNIT_EXPECT_EQ(test, directmap_share(a, page, 1), -EINVAL);

	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, page, 0), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, page, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(a, big, 2), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(a), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(b), 0);
	__free_page(plain);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/*
 * Sharing one page splits its region's absent 2M entry into 4K entries,
 * that one present; unsharing it makes the region one absent 2M entry.
 */
static void dmap_otest_share(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-share");
	unsigned long before2m, before4k, collapses, shared_ev, unshared_ev;
	unsigned long slot;
	unsigned long shared, present;
	struct page *page, *other;
	struct dmap_region *r;
	bool is_present;
	u8 *p;

	page = directmap_owner_alloc(owner, NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	r = dmap_region_of(page_to_pfn(page));
	KUNIT_ASSERT_NOT_NULL(test, r);
	slot = page_to_pfn(page) - r->pfn;
	other = pfn_to_page(r->pfn + (slot ? 0 : 1));
	KUNIT_ASSERT_EQ(test, dmap_test_level(page, &is_present), DMAP_TEST_REGION_LEVEL);

	/* vmstat counts splits only once the system runs: count entries */
	before2m = arch_directmap_pages(DIRECTMAP_LEVEL_2M);
	before4k = arch_directmap_pages(DIRECTMAP_LEVEL_4K);
	collapses = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	shared_ev = dmap_vm_event(DIRECTMAP_PAGES_SHARED);
	KUNIT_ASSERT_EQ(test, directmap_share(owner, page, 1), 0);
	/* a split of the region's 2M entry, where there is one */
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_2M),
			before2m - dmap_test_blocks());
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_4K),
			before4k + 512 * dmap_test_blocks());
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_PAGES_SHARED), shared_ev + 1);
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &is_present), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_TRUE(test, is_present);
	KUNIT_EXPECT_EQ(test, dmap_test_level(other, &is_present), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_FALSE(test, is_present);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(other));

	/* the kernel uses it through the direct map, as shared memory */
	p = page_address(page);
	memset(p, 0x5a, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, p[PAGE_SIZE - 1], 0x5a);
	dmap_owner_count(owner, &shared, &present);
	KUNIT_EXPECT_EQ(test, shared, 1UL);
	KUNIT_EXPECT_EQ(test, present, 1UL);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	KUNIT_ASSERT_EQ(test, directmap_unshare(owner, page, 1), 0);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &is_present), DMAP_TEST_REGION_LEVEL);
	KUNIT_EXPECT_FALSE(test, is_present);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE),
			collapses + dmap_test_blocks());
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_2M), before2m);
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_4K), before4k);
	dmap_owner_count(owner, &shared, &present);
	KUNIT_EXPECT_EQ(test, shared + present, 0UL);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	/* shared again: then free takes it out, counts it and wipes it */
	KUNIT_ASSERT_EQ(test, directmap_share(owner, page, 1), 0);
	unshared_ev = dmap_vm_event(DIRECTMAP_PAGES_UNSHARED);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(owner, page, 0), 0);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_PAGES_UNSHARED),
			unshared_ev + 1);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &is_present), DMAP_TEST_REGION_LEVEL);
	/* wiped with the next batch: have it now */
	dmap_test_wipe_queued();
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page));
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/*
 * SEV-SNP's rule, on the real page tables: with pages of many regions
 * shared and private, no present large entry covers a page handed out,
 * private pages are absent and shared ones present at 4K; teardown with
 * pages still shared leaves every region one absent 2M entry.
 */
static void dmap_otest_snp_rule(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-snp");
	unsigned long before2m, splits, nr_shared = 0, shared, present;
	struct page **pages;
	unsigned int level;
	bool is_present;
	int i, order;

	pages = kunit_kcalloc(test, DMAP_OTEST_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < DMAP_OTEST_PAGES; i++) {
		order = i % (DIRECTMAP_MAX_ORDER + 1);
		pages[i] = directmap_owner_alloc(owner, i % 2 ? 0 : NUMA_NO_NODE,
						 order, DIRECTMAP_NOZERO);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	/* refills split 1G entries: count the 2M entries from here */
	before2m = arch_directmap_pages(DIRECTMAP_LEVEL_2M);
	for (i = 0; i < DMAP_OTEST_PAGES; i += 3) {
		order = i % (DIRECTMAP_MAX_ORDER + 1);
		/* the last page of the allocation, or all of it */
		if (i % 2) {
			struct page *last = pages[i] + (1 << order) - 1;

			KUNIT_ASSERT_EQ(test, directmap_share(owner, last, 1), 0);
			nr_shared++;
		} else {
			KUNIT_ASSERT_EQ(test, directmap_share(owner, pages[i],
							      1 << order), 0);
			nr_shared += 1 << order;
		}
	}

	for (i = 0; i < DMAP_OTEST_PAGES; i++) {
		unsigned long j;

		order = i % (DIRECTMAP_MAX_ORDER + 1);
		for (j = 0; j < (1UL << order); j++) {
			struct page *page = pages[i] + j;

			level = dmap_test_level(page, &is_present);
			KUNIT_EXPECT_EQ(test, is_present,
					dmap_page_shared(page_to_pfn(page)));
			KUNIT_EXPECT_EQ(test, dmap_test_readable(page), is_present);
			if (is_present)
				KUNIT_EXPECT_EQ(test, level, DIRECTMAP_LEVEL_4K);
		}
	}
	dmap_owner_count(owner, &shared, &present);
	KUNIT_EXPECT_EQ(test, shared, nr_shared);
	KUNIT_EXPECT_EQ(test, present, nr_shared);
	/* one split per region that holds a shared page, at most */
	splits = before2m - arch_directmap_pages(DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_GE(test, splits, dmap_test_blocks() ? 1UL : 0UL);
	KUNIT_EXPECT_LE(test, splits, dmap_test_blocks() ? nr_shared : 0UL);
	/* the whole direct map, every leaf entry: none present over a region */
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	for (i = 0; i < DMAP_OTEST_PAGES; i++) {
		order = i % (DIRECTMAP_MAX_ORDER + 1);
		KUNIT_EXPECT_EQ(test, directmap_owner_free(owner, pages[i], order), 0);
		KUNIT_EXPECT_FALSE(test, dmap_test_readable(pages[i]));
	}
	for (i = 0; i < DMAP_OTEST_PAGES; i++) {
		if (!dmap_region_of(page_to_pfn(pages[i])))
			continue;
		KUNIT_EXPECT_EQ(test, dmap_test_level(pages[i], &is_present),
				DMAP_TEST_REGION_LEVEL);
		KUNIT_EXPECT_FALSE(test, is_present);
	}
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/* A split that finds no page table: -ENOMEM, and nothing changed */
static void dmap_otest_share_fails(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-nomem");
	unsigned long fails = dmap_vm_event(DIRECTMAP_SHARE_FAIL);
	unsigned long shared, present;
	struct page *page;
	bool is_present;

	dmap_test_need_blocks(test);

	page = directmap_owner_alloc(owner, NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	kunit_activate_static_stub(test, dmap_ktest_split_alloc,
				   dmap_ktest_no_table);
	KUNIT_EXPECT_EQ(test, directmap_share(owner, page, 1), -ENOMEM);
	kunit_deactivate_static_stub(test, dmap_ktest_split_alloc);

	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_SHARE_FAIL), fails + 1);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &is_present), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_FALSE(test, is_present);
	KUNIT_EXPECT_FALSE(test, dmap_page_shared(page_to_pfn(page)));
	dmap_owner_count(owner, &shared, &present);
	KUNIT_EXPECT_EQ(test, shared + present, 0UL);

	/* and with memory, it works */
	KUNIT_EXPECT_EQ(test, directmap_share(owner, page, 1), 0);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, directmap_owner_free(owner, page, 0), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/* Pages of the single-page fallback are shared at 4K, with no split */
static void dmap_otest_share_single(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-single");
	struct page *page;
	bool is_present;

	kunit_activate_static_stub(test, dmap_env_block_alloc,
				   dmap_test_no_block);
	page = directmap_owner_alloc(owner, NUMA_NO_NODE, 1, 0);
	kunit_deactivate_static_stub(test, dmap_env_block_alloc);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NULL(test, dmap_region_of(page_to_pfn(page)));
	dmap_otest_expect_absent(test, page, 2);

	KUNIT_ASSERT_EQ(test, directmap_share(owner, page + 1, 1), 0);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page + 1));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page + 1, &is_present), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
	KUNIT_EXPECT_EQ(test, directmap_unshare(owner, page + 1, 1), 0);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page + 1));

	/* shared when freed: the page goes back mapped, and its mark too */
	KUNIT_ASSERT_EQ(test, directmap_share(owner, page, 1), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(owner, page, 1), 0);
	KUNIT_EXPECT_FALSE(test, dmap_page_shared(page_to_pfn(page)));
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/*
 * load_unaligned_zeropad() off the end of a shared page into the private
 * page after it, in the same region: the bytes of the shared page, then
 * zeroes, not an oops (the stage-2 fault Gunyah met, here a #PF fixup).
 */
static void dmap_otest_zeropad(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-zeropad");
	unsigned long addr, want = 0, got;
	struct page *page;

	page = directmap_owner_alloc(owner, NUMA_NO_NODE, 1, DIRECTMAP_NOZERO);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, directmap_share(owner, page, 1), 0);
	KUNIT_ASSERT_TRUE(test, dmap_test_readable(page));
	KUNIT_ASSERT_FALSE(test, dmap_test_readable(page + 1));

	addr = (unsigned long)page_address(page) + PAGE_SIZE - 3;
	memset((void *)addr, 0xa5, 3);
	KUNIT_ASSERT_EQ(test, copy_from_kernel_nofault(&want, (void *)addr, 3), 0L);
	kasan_disable_current();
	got = load_unaligned_zeropad((void *)addr);
	kasan_enable_current();
	KUNIT_EXPECT_EQ(test, got, want);
	KUNIT_EXPECT_NE(test, got, 0UL);

	KUNIT_EXPECT_EQ(test, directmap_owner_free(owner, page, 1), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
}

static const struct file_operations dmap_otest_fops;

/*
 * An owner adds folios only to the page cache it filled first, and only
 * to an unevictable one: another file's page cache would get pages it
 * cannot give back, with no direct map.
 */
static void dmap_otest_foreign_mapping(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-filemap");
	struct address_space *mapping, *other;
	struct file *file, *file2;
	struct folio *folio;

	/* files with an inode, and so a page cache, of their own */
	file = anon_inode_create_getfile("[dmap-kunit]", &dmap_otest_fops,
					 NULL, O_RDWR, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	file2 = anon_inode_create_getfile("[dmap-kunit]", &dmap_otest_fops,
					  NULL, O_RDWR, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file2));
	mapping = file->f_mapping;
	other = file2->f_mapping;

	/* evictable: its LRU folios could be reclaimed; and nothing claimed */
	folio = directmap_owner_filemap_folio(owner, mapping, 0, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, folio, ERR_PTR(-EINVAL));
	KUNIT_EXPECT_EQ(test, mapping->nrpages, 0UL);
	KUNIT_EXPECT_NULL(test, owner->mapping);

	/* unevictable: in, on the LRU, absent from the direct map, claimed */
	mapping_set_unevictable(mapping);
	mapping_set_unevictable(other);
	folio = directmap_owner_filemap_folio(owner, mapping, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(folio));
	KUNIT_EXPECT_PTR_EQ(test, owner->mapping, mapping);
	lru_add_drain_all();
	KUNIT_EXPECT_TRUE(test, folio_test_lru(folio));
	KUNIT_EXPECT_EQ(test, mapping->nrpages, 1UL);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(&folio->page));
	filemap_remove_folio(folio);
	folio_unlock(folio);
	KUNIT_EXPECT_EQ(test, directmap_owner_free_folio(owner, folio), 0);
	folio_put(folio);

	/* another file's page cache, unevictable too: refused */
	folio = directmap_owner_filemap_folio(owner, other, 0, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, folio, ERR_PTR(-EINVAL));
	KUNIT_EXPECT_EQ(test, other->nrpages, 0UL);
	if (!IS_ERR(folio)) {
		/* take it out again before the inode frees it with no map */
		filemap_remove_folio(folio);
		folio_unlock(folio);
		directmap_owner_free_folio(owner, folio);
		folio_put(folio);
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&owner->nr_pages), 0L);

	mapping_clear_unevictable(mapping);
	mapping_clear_unevictable(other);
	fput(file2);
	fput(file);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
}

/*
 * An owner that exits with pages out (a module unloading) is unlisted all
 * the same, so that its memory can be reused; its pages go to the
 * orphans, out of the direct map and never reused.
 */
static void dmap_otest_exit_orphans(struct kunit *test)
{
	struct directmap_owner *a = dmap_otest_owner(test, "kunit-exit");
	struct directmap_owner *orphans = dmap_owner_orphans();
	long orphaned = atomic_long_read(&orphans->nr_pages);
	struct page *page, *big;
	int ref;

	page = directmap_owner_alloc(a, NUMA_NO_NODE, 0, 0);
	big = directmap_owner_alloc(a, NUMA_NO_NODE, 1, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_EQ(test, directmap_share(a, page, 1), 0);
	KUNIT_ASSERT_TRUE(test, dmap_test_readable(page));
	ref = page_ref_count(page);

	KUNIT_EXPECT_EQ(test, directmap_owner_exit(a), -EBUSY);
	/* a page cache's last put cannot free them now */
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref + 1);
	KUNIT_ASSERT_FALSE(test, dmap_owner_listed(a));
	KUNIT_EXPECT_FALSE(test, directmap_owns(a, page));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&orphans->nr_pages), orphaned + 3);
	/* out of the direct map, still refused to anyone but the orphans */
	dmap_otest_expect_absent(test, page, 1);
	dmap_otest_expect_absent(test, big, 2);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	/* the memory is free to be an owner again */
	memset(a, 0x6b, sizeof(*a));
	directmap_owner_init(a, "kunit-again");
	KUNIT_EXPECT_TRUE(test, dmap_owner_listed(a));
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(a), 0);

	/* the test takes them back: without the orphans' references */
	put_page(page);
	put_page(big);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(orphans, page, 0), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_free(orphans, big, 1), 0);
}

#ifdef CONFIG_ARM64
/*
 * Unsharing part of what was shared leaves no contiguous group of the
 * linear map half valid, which would let the TLB cache the group's
 * translation for the pages taken out; and every valid entry is as the
 * kernel maps: non-global where KPTI wants that (boot with kpti=1).
 */
static void dmap_otest_unshare_part(struct kunit *test)
{
	struct directmap_owner *owner = dmap_otest_owner(test, "kunit-part");
	unsigned long addr, base, i, j;
	struct page *page;
	u64 leaf, first;

	dmap_test_need_blocks(test);
	page = directmap_owner_alloc(owner, NUMA_NO_NODE, DIRECTMAP_MAX_ORDER,
				     0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, directmap_share(owner, page, 8), 0);
	KUNIT_ASSERT_EQ(test, directmap_unshare(owner, page, 4), 0);

	base = (unsigned long)page_address(page) & PMD_MASK;
	for (i = 0; i < PTRS_PER_PTE; i += CONT_PTES) {
		addr = base + i * PAGE_SIZE;
		KUNIT_ASSERT_EQ(test, dmap_test_walk(swapper_pg_dir, addr, &first),
				DIRECTMAP_LEVEL_4K);
		for (j = 0; j < CONT_PTES; j++) {
			dmap_test_walk(swapper_pg_dir, addr + j * PAGE_SIZE,
				       &leaf);
			if (leaf & PTE_VALID)
				KUNIT_EXPECT_EQ_MSG(test, leaf & PTE_NG,
						    PTE_MAYBE_NG,
						    "nG of %#lx", addr + j * PAGE_SIZE);
			if (!((leaf | first) & PTE_CONT))
				continue;
			KUNIT_EXPECT_EQ_MSG(test, leaf & PTE_VALID,
					    first & PTE_VALID,
					    "contiguous group at %#lx half valid",
					    addr);
		}
	}
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page + 3));
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page + 4));
	KUNIT_EXPECT_EQ(test,
			directmap_owner_free(owner, page, DIRECTMAP_MAX_ORDER),
			0);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}
#endif

static struct kunit_case dmap_otest_cases[] = {
	KUNIT_CASE(dmap_otest_donate),
	KUNIT_CASE(dmap_otest_misuse),
	KUNIT_CASE(dmap_otest_share),
#ifdef CONFIG_ARM64
	KUNIT_CASE(dmap_otest_unshare_part),
#endif
	KUNIT_CASE(dmap_otest_snp_rule),
	KUNIT_CASE(dmap_otest_share_fails),
	KUNIT_CASE(dmap_otest_share_single),
	KUNIT_CASE(dmap_otest_zeropad),
	KUNIT_CASE(dmap_otest_foreign_mapping),
	KUNIT_CASE(dmap_otest_exit_orphans),
	{}
};

static struct kunit_suite dmap_otest_suite = {
	.name = "directmap_owner",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_otest_cases,
};

kunit_test_suite(dmap_otest_suite);

#endif /* _MM_DIRECTMAP_OWNER_KUNIT_H */
