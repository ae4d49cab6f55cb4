/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for directmap against the real direct map: page-table levels
 * from arch_directmap_level(), faults through copy_from_kernel_nofault(), the
 * DirectMap counters, NUMA placement, wiping and misuse.
 *
 * They expect what `make check` boots: x86-64 with 1G pages (-cpu max) and
 * two NUMA nodes with memory.
 */
#ifndef _MM_DIRECTMAP_CORE_KUNIT_H
#define _MM_DIRECTMAP_CORE_KUNIT_H

#include <kunit/test.h>
#include <kunit/static_stub.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/memory_hotplug.h>
#include <linux/suspend.h>
#include <linux/vmalloc.h>

#include "helpers-kunit.h"

/* Handed-out pages fault; a released region is one present 2M entry again */
static void dmap_test_unmapped_then_restored(struct kunit *test)
{
	struct page *page;
	bool present;

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, page_is_directmap(page));
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DMAP_TEST_REGION_LEVEL);
	KUNIT_EXPECT_FALSE(test, present);
	/* hibernation asks the same of the page tables, on its own walk */
	KUNIT_EXPECT_FALSE(test, kernel_page_present(page));

	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	/* Freed but cached: still gone from the direct map */
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));

	KUNIT_EXPECT_GE(test, dmap_drain(), 1UL);
	KUNIT_EXPECT_FALSE(test, page_is_directmap(page));
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page));
	/* 2M, or 1G again if the release could re-form it */
	KUNIT_EXPECT_GE(test, dmap_test_level(page, &present), DMAP_TEST_REGION_LEVEL);
	KUNIT_EXPECT_TRUE(test, present);
	KUNIT_EXPECT_TRUE(test, kernel_page_present(page));
}

/*
 * Free slots are logically offline, so that crash dump filters, /proc/kcore
 * and the hibernation snapshot skip them; pages handed out are not, and a
 * region given back is ordinary memory again.
 */
static void dmap_test_free_slots_offline(struct kunit *test)
{
	struct page *page, *block;
	int i, offline = 0;

	page = directmap_alloc_pages(NUMA_NO_NODE, 1, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	/* from a fresh region: the cases drain the cache before and after */
	KUNIT_ASSERT_NOT_NULL(test, dmap_region_of(page_to_pfn(page)));
	block = pfn_to_page(ALIGN_DOWN(page_to_pfn(page), DMAP_REGION_PAGES));
	KUNIT_EXPECT_FALSE(test, PageOffline(page));
	KUNIT_EXPECT_FALSE(test, PageOffline(page + 1));
	for (i = 0; i < DMAP_REGION_PAGES; i++)
		offline += PageOffline(block + i);
	KUNIT_EXPECT_EQ(test, offline, DMAP_REGION_PAGES - 2);

	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 1), 0);
	/* a free slot once wiped */
	dmap_test_wipe_queued();
	KUNIT_EXPECT_TRUE(test, PageOffline(page));
	KUNIT_EXPECT_TRUE(test, PageOffline(page + 1));

	KUNIT_EXPECT_GE(test, dmap_drain(), 1UL);
	for (i = 0, offline = 0; i < DMAP_REGION_PAGES; i++)
		offline += PageOffline(block + i);
	KUNIT_EXPECT_EQ(test, offline, 0);
}

#define DMAP_TEST_PAGES	1000

/* 1,000 pages split no PMD, and at most one PUD per 1G they sit in */
static void dmap_test_no_pmd_split(struct kunit *test)
{
	unsigned long before4k, before2m, before1g, nr_1g = 0;
	unsigned long last_1g = ULONG_MAX, failures;
	int nid = numa_mem_id();
	struct page **pages;
	bool present;
	int i;

	pages = kunit_kcalloc(test, DMAP_TEST_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	before4k = arch_directmap_pages(DIRECTMAP_LEVEL_4K);
	before2m = arch_directmap_pages(DIRECTMAP_LEVEL_2M);
	before1g = arch_directmap_pages(DIRECTMAP_LEVEL_1G);
	/* other cases make refills fail on purpose: count from here */
	failures = dmap_nodes[nid]->cache.stats.refill_failures;
	for (i = 0; i < DMAP_TEST_PAGES; i++) {
		pages[i] = directmap_alloc_pages(nid, 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		KUNIT_EXPECT_EQ(test, dmap_test_level(pages[i], &present),
				DMAP_TEST_REGION_LEVEL);
		KUNIT_EXPECT_FALSE(test, present);
		/* regions are handed out in order: count distinct 1G areas */
		if ((page_to_pfn(pages[i]) >> (PUD_SHIFT - PAGE_SHIFT)) != last_1g) {
			last_1g = page_to_pfn(pages[i]) >> (PUD_SHIFT - PAGE_SHIFT);
			nr_1g++;
		}
	}

	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_4K), before4k);
	KUNIT_EXPECT_LE(test, before1g - arch_directmap_pages(DIRECTMAP_LEVEL_1G), nr_1g);
	/* a PUD split only adds 2M entries, it never takes them away */
	KUNIT_EXPECT_GE(test, arch_directmap_pages(DIRECTMAP_LEVEL_2M), before2m);
	KUNIT_EXPECT_EQ(test, dmap_nodes[nid]->cache.stats.refill_failures,
			failures);

	for (i = 0; i < DMAP_TEST_PAGES; i++)
		KUNIT_EXPECT_EQ(test, directmap_free_pages(pages[i], 0), 0);
	dmap_drain();
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_4K), before4k);
	/* every region went back: the 1G entries they split are whole again */
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G), before1g);
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_2M), before2m);
}

/* Pages come from the node asked for, on every node with memory */
static void dmap_test_nodes(struct kunit *test)
{
	struct page *pages[8];
	int nid, i;

	dmap_test_need_nodes(test, 2);
	for_each_node_state(nid, N_MEMORY) {
		for (i = 0; i < ARRAY_SIZE(pages); i++) {
			pages[i] = directmap_alloc_pages(nid, 0, 0);
			KUNIT_ASSERT_NOT_NULL(test, pages[i]);
			KUNIT_EXPECT_EQ(test, page_to_nid(pages[i]), nid);
			KUNIT_EXPECT_FALSE(test, dmap_test_readable(pages[i]));
		}
		KUNIT_EXPECT_GE(test, dmap_nodes[nid]->cache.nr_regions, 1UL);
		for (i = 0; i < ARRAY_SIZE(pages); i++)
			KUNIT_EXPECT_EQ(test, directmap_free_pages(pages[i], 0), 0);
	}
}

/* A page still referenced (page cache, speculative) is reused only later */
static void dmap_test_deferred_reuse(struct kunit *test)
{
	struct page *page;
	unsigned long used;
	int nid;

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	nid = page_to_nid(page);
	used = dmap_nodes[nid]->cache.nr_used;

	get_page(page);
	KUNIT_ASSERT_EQ(test, directmap_free_folio(page_folio(page)), 0);
	/* wiped with its batch, then pending */
	dmap_wipe_work_sync();
	dmap_reclaim_pending(dmap_nodes[nid]);
	flush_delayed_work(&dmap_reclaim_work);
	KUNIT_EXPECT_EQ(test, dmap_nodes[nid]->cache.nr_used, used);
	KUNIT_EXPECT_EQ(test, READ_ONCE(dmap_nodes[nid]->nr_pending), 1UL);

	/* the owner's and the extra reference go: only directmap's is left */
	page_ref_sub(page, 2);
	dmap_reclaim_pending(dmap_nodes[nid]);
	flush_delayed_work(&dmap_reclaim_work);
	KUNIT_EXPECT_EQ(test, dmap_nodes[nid]->cache.nr_used, used - 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(dmap_nodes[nid]->nr_pending), 0UL);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 0);
}

static void dmap_test_order(struct kunit *test)
{
	struct page *page;
	unsigned int i;
	bool present;

	page = directmap_alloc_pages(NUMA_NO_NODE, DIRECTMAP_MAX_ORDER, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(page_to_pfn(page),
					   1UL << DIRECTMAP_MAX_ORDER));
	for (i = 0; i < (1U << DIRECTMAP_MAX_ORDER); i++) {
		KUNIT_EXPECT_FALSE(test, dmap_test_readable(page + i));
		KUNIT_EXPECT_EQ(test, dmap_test_level(page + i, &present),
				DMAP_TEST_REGION_LEVEL);
		KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page + i));
	}
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, DIRECTMAP_MAX_ORDER), 0);
}

/* A page-table allocation failure leaves the mapping exactly as it was */
static void dmap_test_unmap_enomem(struct kunit *test)
{
	unsigned long before1g = arch_directmap_pages(DIRECTMAP_LEVEL_1G);
	struct page *page;
	bool present;
	LIST_HEAD(spare);
	int err;

	dmap_test_need_blocks(test);
	dmap_test_need_1g(test);

	page = dmap_test_block_under_1g(test, &spare);
	KUNIT_ASSERT_NOT_NULL_MSG(test, page, "no free 2M block under a 1G entry");

	kunit_activate_static_stub(test, dmap_ktest_region_alloc,
				   dmap_ktest_region_no_table);
	err = arch_directmap_unmap_region(page);
	kunit_deactivate_static_stub(test, dmap_ktest_region_alloc);

	KUNIT_EXPECT_EQ(test, err, -ENOMEM);
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_1G);
	KUNIT_EXPECT_TRUE(test, present);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G), before1g);

	/* With memory the same unmap splits the PUD once and no PMD */
	KUNIT_EXPECT_EQ(test, arch_directmap_unmap_region(page), 0);
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_FALSE(test, present);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page + 511));
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G), before1g - 1);
	/* no 1G entry while one of its 2M entries is not present */
	KUNIT_EXPECT_EQ(test, dmap_test_collapse_pud(page_to_pfn(page)),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_2M);
	arch_directmap_restore_region(page);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page + 511));
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_TRUE(test, present);

	/* uniform again: the PUD is re-formed and its table freed */
	KUNIT_EXPECT_EQ(test, dmap_test_collapse_pud(page_to_pfn(page)), 1);
	KUNIT_EXPECT_EQ(test, dmap_test_level(page, &present), DIRECTMAP_LEVEL_1G);
	KUNIT_EXPECT_TRUE(test, present);
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G), before1g);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page + 511));

	__free_pages(page, DMAP_REGION_ORDER);
	dmap_test_free_list(&spare, DMAP_REGION_ORDER);
}

static int dmap_test_no_unmap(unsigned long pfn)
{
	return -ENOMEM;
}

/* A refill that cannot unmap gives everything back and reports it */
static void dmap_test_refill_rollback(struct kunit *test)
{
	struct dmap_cache *cache = &dmap_nodes[numa_mem_id()]->cache;
	unsigned long failures = cache->stats.refill_failures;
	unsigned long regions = cache->nr_regions;
	long free_before;

	/* with THP, per-CPU lists hold 2M blocks that NR_FREE_PAGES misses */
	drain_all_pages(NULL);
	free_before = global_zone_page_state(NR_FREE_PAGES);
	kunit_activate_static_stub(test, dmap_env_block_unmap,
				   dmap_test_no_unmap);
	KUNIT_EXPECT_EQ(test, dmap_cache_refill(cache), -ENOMEM);
	kunit_deactivate_static_stub(test, dmap_env_block_unmap);

	KUNIT_EXPECT_EQ(test, cache->stats.refill_failures, failures + 1);
	KUNIT_EXPECT_EQ(test, cache->nr_regions, regions);
	/* the 2M block went back: free memory is within noise of before */
	drain_all_pages(NULL);
	KUNIT_EXPECT_LT(test, abs(global_zone_page_state(NR_FREE_PAGES) -
				  free_before), (long)DMAP_REGION_PAGES / 2);
}

static unsigned long dmap_test_given_pfn;

static int dmap_test_give_block(int nid, unsigned long *pfn)
{
	if (!dmap_test_given_pfn)
		return -ENOMEM;
	set_page_count(pfn_to_page(dmap_test_given_pfn), 0);
	/* as the real one counts it */
	atomic_long_add(DMAP_REGION_PAGES, &dmap_pages_taken);
	*pfn = dmap_test_given_pfn;
	dmap_test_given_pfn = 0;
	return 0;
}

/*
 * A region whose 2M area was split to 4K by someone else becomes one
 * absent 2M entry (its PTE table freed), and comes back as a 2M mapping.
 */
static void dmap_test_region_from_4k(struct kunit *test)
{
	struct page *block, *page;
	unsigned long before4k;
	bool present;
	int nid;

	dmap_test_need_blocks(test);

	block = alloc_pages(GFP_KERNEL | __GFP_ZERO, DMAP_REGION_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, block);
	nid = page_to_nid(block);
	KUNIT_ASSERT_EQ(test, dmap_differ((unsigned long)page_address(block + 7), 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same((unsigned long)page_address(block + 7), 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_test_level(block, &present), DIRECTMAP_LEVEL_4K);
	before4k = arch_directmap_pages(DIRECTMAP_LEVEL_4K);

	dmap_test_given_pfn = page_to_pfn(block);
	kunit_activate_static_stub(test, dmap_env_block_alloc,
				   dmap_test_give_block);
	page = directmap_alloc_pages(nid, 0, 0);
	kunit_deactivate_static_stub(test, dmap_env_block_alloc);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_PTR_EQ(test, page, block);
	KUNIT_EXPECT_EQ(test, dmap_test_level(block + 100, &present), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_FALSE(test, present);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(block + 100));
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_4K),
			before4k - DMAP_REGION_PAGES);

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_GE(test, dmap_drain(), 1UL);
	KUNIT_EXPECT_GE(test, dmap_test_level(block + 100, &present), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_TRUE(test, present);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(block + 100));
}

static void dmap_test_misuse(struct kunit *test)
{
	int nid = numa_mem_id();
	struct dmap_cache *cache = &dmap_nodes[nid]->cache;
	struct page *page, *foreign;
	unsigned long used, misuse, events;

	events = dmap_vm_event(DIRECTMAP_MISUSE);
	KUNIT_EXPECT_NULL(test, directmap_alloc_pages(NUMA_NO_NODE,
						      DIRECTMAP_MAX_ORDER + 1, 0));
	KUNIT_EXPECT_NULL(test, directmap_alloc_pages(NUMA_NO_NODE, 0, BIT(7)));
	KUNIT_EXPECT_NULL(test, directmap_alloc_pages(MAX_NUMNODES, 0, 0));
	KUNIT_EXPECT_EQ(test, directmap_free_pages(NULL, 0), -EINVAL);

	/* a page directmap never handed out */
	foreign = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, foreign);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(foreign, 0), -EINVAL);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(foreign));
	KUNIT_EXPECT_EQ(test, page_ref_count(foreign), 1);
	__free_page(foreign);

	page = directmap_alloc_pages(nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	used = cache->nr_used;
	misuse = cache->stats.misuse;

	/* a free slot of a region, a wrong order, an order too large */
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page + 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, DIRECTMAP_MAX_ORDER + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, cache->nr_used, used);
	KUNIT_EXPECT_EQ(test, cache->stats.misuse, misuse + 2);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	dmap_test_wipe_queued();
	KUNIT_EXPECT_EQ(test, cache->nr_used, used - 1);
	/* double free */
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, cache->nr_used, used - 1);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	/* every refusal above is one directmap_misuse event */
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_MISUSE), events + 9);
}

struct dmap_test_racer {
	struct page *page;
	struct completion go;
	struct completion done;
	int err;
};

static struct dmap_test_racer *dmap_test_racer;

/* The free that wins the race, then the release of its region */
static int dmap_test_race_free(void *data)
{
	struct dmap_test_racer *racer = data;

	wait_for_completion(&racer->go);
	racer->err = directmap_free_pages(racer->page, 0);
	dmap_drain();
	/* the region's kfree_rcu() has run */
	kvfree_rcu_barrier();
	complete(&racer->done);
	return 0;
}

/*
 * The losing free has looked the region up: let the winning one free the
 * page and the region meanwhile, for as long as the lookup lets it.
 */
static struct dmap_region *dmap_test_slow_lookup(unsigned long pfn)
{
	struct dmap_region *r = dmap_region_of(pfn);
	int i;

	if (completion_done(&dmap_test_racer->go))
		return r;
	complete(&dmap_test_racer->go);
	/*
	 * A lookup under RCU holds the region: the winner waits for us, and
	 * we may not sleep.  Without, the caller may be preempted or sleep
	 * (on the share lock) here: let the winner run to the end.
	 */
	if (!rcu_read_lock_any_held()) {
		/* completion_done() below must still see it */
		for (i = 0; i < 250 && !completion_done(&dmap_test_racer->done); i++)
			msleep(20);
		return r;
	}
	for (i = 0; i < 1000 && !completion_done(&dmap_test_racer->done); i++)
		mdelay(1);
	return r;
}

/*
 * A double free that races with the free that releases the region must
 * not touch the region after its kfree_rcu(): it is refused (KASAN fails
 * the test on a use after free).
 */
static void dmap_test_double_free_race(struct kunit *test)
{
	struct dmap_test_racer *racer;
	struct dmap_region *r;
	struct page *page;
	int err;

	/* the stub tells an RCU reader by lockdep's count */
	if (!IS_ENABLED(CONFIG_DEBUG_LOCK_ALLOC))
		kunit_skip(test, "needs CONFIG_DEBUG_LOCK_ALLOC");
	/* the racer frees on the other CPU while this one is in the window */
	dmap_test_need_cpus(test, 2);

	racer = kunit_kzalloc(test, sizeof(*racer), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, racer);
	init_completion(&racer->go);
	init_completion(&racer->done);
	dmap_drain();
	page = directmap_alloc_pages(numa_mem_id(), 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	r = dmap_region_of(page_to_pfn(page));
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_EQ_MSG(test, r->nr_free, DMAP_REGION_PAGES - 1,
			    "the page must be alone in its region");

	racer->page = page;
	dmap_test_racer = racer;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(dmap_test_race_free, racer,
						    "dmap-race")));
	kunit_activate_static_stub(test, dmap_free_lookup, dmap_test_slow_lookup);
	err = directmap_free_pages(page, 0);
	kunit_deactivate_static_stub(test, dmap_free_lookup);
	wait_for_completion(&racer->done);

	KUNIT_EXPECT_EQ(test, racer->err, 0);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	KUNIT_EXPECT_NULL(test, dmap_region_of(page_to_pfn(page)));
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

struct dmap_test_release {
	struct completion	done;
	unsigned long		released;
	int			nid;
};

static int dmap_test_release_fn(void *data)
{
	struct dmap_test_release *t = data;

	t->released = dmap_cache_shrink(&dmap_nodes[t->nid]->cache,
					ULONG_MAX, 0);
	complete(&t->done);
	return 0;
}

/*
 * Giving a region back never waits for memory hotplug: the free or the
 * refill that gives it back may hold mmap_lock, which memory online takes
 * under the hotplug lock (cpuset's rebind of each task's mempolicy).  The
 * 2M entry is still re-formed at once.
 */
static void dmap_test_release_hotplug(struct kunit *test)
{
	struct dmap_test_release t = { .nid = numa_mem_id() };
	struct task_struct *k;
	struct page *page;
	bool present;
	long done;

	if (!IS_ENABLED(CONFIG_MEMORY_HOTPLUG))
		kunit_skip(test, "CONFIG_MEMORY_HOTPLUG is off");
	page = directmap_alloc_pages(t.nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	dmap_test_wipe_queued();
	KUNIT_ASSERT_EQ(test, dmap_nodes[t.nid]->cache.nr_empty, 1UL);

	init_completion(&t.done);
	mem_hotplug_begin();
	k = kthread_run(dmap_test_release_fn, &t, "dmap-release");
	done = IS_ERR(k) ? 0 : wait_for_completion_timeout(&t.done, 5 * HZ);
	mem_hotplug_done();
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	if (!done)
		wait_for_completion(&t.done);

	KUNIT_EXPECT_NE_MSG(test, done, 0,
			    "the release waited for memory hotplug");
	KUNIT_EXPECT_EQ(test, t.released, 1UL);
	KUNIT_EXPECT_GE(test, dmap_test_level(page, &present),
			DMAP_TEST_REGION_LEVEL);
	KUNIT_EXPECT_TRUE(test, present);
}

#ifdef CONFIG_MEMORY_FAILURE
/* Undo memory failure's mark and the retire, so that the region can go */
static void dmap_test_unpoison(struct dmap_cache *cache, struct dmap_region *r)
{
	unsigned long slot;

	spin_lock(&cache->lock);
	for_each_set_bit(slot, r->retired, DMAP_REGION_PAGES) {
		ClearPageHWPoison(pfn_to_page(r->pfn + slot));
		__clear_bit(slot, r->used);
		r->nr_free++;
		cache->nr_free++;
		cache->nr_retired--;
	}
	bitmap_zero(r->retired, DMAP_REGION_PAGES);
	r->nr_retired = 0;
	spin_unlock(&cache->lock);
}

/*
 * Memory failure on a free slot and on a page that is out: neither is
 * handed out, wiped, mapped or freed again, so the region stays.
 */
static void dmap_test_hwpoison(struct kunit *test)
{
	struct page *page, *free, *got[8], *x;
	unsigned long pfn, fails, misuse;
	struct dmap_region *r;
	int i, nid = numa_mem_id();

	/* one region on the node: the takes below come from it */
	dmap_drain();
	page = directmap_alloc_pages(nid, 0, 0);
	free = directmap_alloc_pages(nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, free);
	pfn = page_to_pfn(page);
	r = dmap_region_of(pfn);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_PTR_EQ(test, dmap_region_of(page_to_pfn(free)), r);
	KUNIT_ASSERT_EQ(test, directmap_free_pages(free, 0), 0);
	dmap_test_wipe_queued();

	/* a free slot: the cache would hand it out next */
	memory_failure(page_to_pfn(free), MF_SW_SIMULATED);
	KUNIT_ASSERT_TRUE(test, PageHWPoison(free));
	for (i = 0; i < ARRAY_SIZE(got); i++) {
		got[i] = directmap_alloc_pages(nid, 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, got[i]);
		KUNIT_EXPECT_PTR_NE(test, got[i], free);
	}
	/* the first take found it, and retired it */
	KUNIT_EXPECT_TRUE(test, test_bit(page_to_pfn(free) - r->pfn, r->retired));

	/* a page that is out: never shared, wiped or reused */
	dmap_test_fill(test, page, 0x5a);
	memory_failure(pfn, MF_SW_SIMULATED);
	KUNIT_ASSERT_TRUE(test, PageHWPoison(page));
	fails = dmap_vm_event(DIRECTMAP_SHARE_FAIL);
	misuse = dmap_vm_event(DIRECTMAP_MISUSE);
	KUNIT_EXPECT_EQ(test, dmap_share(page, 1), -EHWPOISON);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	/* neither a failed split nor misuse */
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_SHARE_FAIL), fails);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_MISUSE), misuse);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	x = directmap_alloc_pages(nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, x);
	KUNIT_EXPECT_PTR_EQ(test, dmap_region_of(page_to_pfn(x)), r);
	KUNIT_EXPECT_PTR_NE(test, x, page);
	KUNIT_EXPECT_PTR_NE(test, x, free);
	for (i = 0; i < ARRAY_SIZE(got); i++)
		KUNIT_EXPECT_EQ(test, directmap_free_pages(got[i], 0), 0);

	/* the region is never mapped back nor given to the buddy allocator */
	dmap_drain();
	KUNIT_EXPECT_PTR_EQ(test, dmap_region_of(pfn), r);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(free));
	KUNIT_EXPECT_FALSE(test, dmap_test_zero(test, page));
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	/*
	 * So it stays over hibernation, whose image skips its free slots: a
	 * restore may leave anything in them, and they are wiped after.
	 */
	dmap_test_fill(test, page + 200, 0x77);
	KUNIT_ASSERT_FALSE(test, test_bit(200 + pfn - r->pfn, r->used));
	/* but not a free slot that went bad since */
	KUNIT_ASSERT_LT(test, 300 + pfn - r->pfn, DMAP_REGION_PAGES);
	KUNIT_ASSERT_FALSE(test, test_bit(300 + pfn - r->pfn, r->used));
	dmap_test_fill(test, page + 300, 0x77);
	memory_failure(pfn + 300, MF_SW_SIMULATED);
	KUNIT_ASSERT_TRUE(test, PageHWPoison(page + 300));
	/* as the kernel in the image notifies it after a restore */
	dmap_pm_notify(NULL, PM_POST_HIBERNATION, NULL);
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page + 200));
	KUNIT_EXPECT_FALSE(test, dmap_test_zero(test, page + 300));
	ClearPageHWPoison(page + 300);

	/* x keeps the region in use while the test takes the marks back */
	if (dmap_region_of(page_to_pfn(x)) == r)
		dmap_test_unpoison(&dmap_nodes[r->nid]->cache, r);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(x, 0), 0);
	dmap_drain();
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}
#endif

#ifdef CONFIG_MEMORY_FAILURE
/* Take a retired single page back from memory failure and from directmap */
static void dmap_test_unretire_single(struct kunit *test, struct page *page)
{
	xa_erase(&dmap_singles_retired, page_to_pfn(page));
	atomic_long_dec(&dmap_pages_retired);
	ClearPageHWPoison(page);
	KUNIT_EXPECT_EQ(test, set_direct_map_default_noflush(page), 0);
	while (page_ref_count(page) > 1)
		put_page(page);
	__free_page(page);
	/* as directmap gives back what it took: the verifier counts it */
	atomic_long_inc(&dmap_pages_given_back);
}

/*
 * A poisoned page of the single-page fallback: kept absent, still
 * directmap's (so hibernation does not save it), and held for good, also
 * after a page cache's last put.
 */
static void dmap_test_hwpoison_single(struct kunit *test)
{
	struct page *page;
	int ref;

	page = dmap_test_alloc_single(test, numa_mem_id(), 0, NULL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NULL(test, dmap_region_of(page_to_pfn(page)));

	memory_failure(page_to_pfn(page), MF_SW_SIMULATED);
	KUNIT_ASSERT_TRUE(test, PageHWPoison(page));
	/* as a page cache gives it back: its own references go later */
	get_page(page);
	ref = page_ref_count(page);
	KUNIT_EXPECT_EQ(test, dmap_free(page, 0, DMAP_CALLER_PUTS_REF), 0);
	KUNIT_EXPECT_TRUE(test, page_is_directmap(page));
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref + 1);

	dmap_test_unretire_single(test, page);
}

/*
 * A shared page of the single-page fallback that goes bad: unmapped when
 * it is freed, as a retired page must be; and a poisoned page is never
 * shared.
 */
static void dmap_test_hwpoison_single_shared(struct kunit *test)
{
	struct page *page, *bad;

	page = dmap_test_alloc_single(test, numa_mem_id(), 0, NULL);
	bad = dmap_test_alloc_single(test, numa_mem_id(), 0, NULL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, bad);

	memory_failure(page_to_pfn(bad), MF_SW_SIMULATED);
	KUNIT_ASSERT_TRUE(test, PageHWPoison(bad));
	KUNIT_EXPECT_EQ(test, dmap_share(bad, 1), -EHWPOISON);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(bad));

	KUNIT_ASSERT_EQ(test, dmap_share(page, 1), 0);
	KUNIT_ASSERT_TRUE(test, dmap_test_readable(page));
	memory_failure(page_to_pfn(page), MF_SW_SIMULATED);
	KUNIT_ASSERT_TRUE(test, PageHWPoison(page));
	get_page(page);
	KUNIT_EXPECT_EQ(test, dmap_free(page, 0, DMAP_CALLER_PUTS_REF), 0);
	KUNIT_EXPECT_TRUE(test, page_is_directmap(page));
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	get_page(bad);
	KUNIT_EXPECT_EQ(test, dmap_free(bad, 0, DMAP_CALLER_PUTS_REF), 0);
	dmap_test_unretire_single(test, page);
	dmap_test_unretire_single(test, bad);
}
#endif

/*
 * A node's empty region goes back release_idle_ms after its last page
 * came back, and the 1G entry it split is re-formed (here by a flush: the
 * worker waits for the direct map to be idle); a region taken again
 * meanwhile is kept
 */
static void dmap_test_idle_release(struct kunit *test)
{
	unsigned long releases, pud_before;
	struct dmap_cache *cache;
	struct page *page;
	int nid, i;

	/* the init drained and flushed: 1G entries as whole as they get */
	pud_before = arch_directmap_pages(DIRECTMAP_LEVEL_1G);
	page = directmap_alloc_pages(numa_mem_id(), 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	nid = page_to_nid(page);
	cache = &dmap_nodes[nid]->cache;
	releases = cache->stats.releases;

	/* off (0): kept for good */
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	msleep(300);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_empty), 1UL);

	/* in use again before the time is up: kept */
	WRITE_ONCE(dmap_release_idle_ms, 200);
	page = directmap_alloc_pages(nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	page = directmap_alloc_pages(nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	msleep(400);
	KUNIT_EXPECT_EQ(test, cache->stats.releases, releases);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_regions), 1UL);

	/* idle: given back, readable again, the 1G entry whole once idle */
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	for (i = 0; i < 100 && READ_ONCE(cache->nr_regions); i++)
		msleep(20);
	/* taken off the lists: wait for the rest of the release */
	flush_delayed_work(&dmap_idle_work);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_regions), 0UL);
	KUNIT_EXPECT_EQ(test, cache->stats.releases, releases + 1);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page));
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G),
			pud_before);
	WRITE_ONCE(dmap_release_idle_ms, 0);
}

/*
 * An empty region nobody takes goes back release_idle_ms after it became
 * empty, also while its node has other pages out: one secret kept for
 * good does not keep a burst's regions, and the 1G splits they made, for
 * good
 */
static void dmap_test_idle_release_busy(struct kunit *test)
{
	unsigned long releases, pud_before, nr = DMAP_REGION_PAGES + 1, i;
	struct dmap_cache *cache;
	struct page **pages;
	int nid;

	pages = kunit_kcalloc(test, nr, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	pud_before = arch_directmap_pages(DIRECTMAP_LEVEL_1G);
	nid = numa_mem_id();
	cache = &dmap_nodes[nid]->cache;
	/* the init drained: every region below is this case's */
	KUNIT_ASSERT_EQ(test, READ_ONCE(cache->nr_regions), 0UL);
	releases = cache->stats.releases;
	/* a region's pages and one more: two regions */
	for (i = 0; i < nr; i++) {
		pages[i] = directmap_alloc_pages(nid, 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	KUNIT_ASSERT_EQ(test, READ_ONCE(cache->nr_regions), 2UL);

	/* all but the last back, with an hour to wait: one region empty */
	WRITE_ONCE(dmap_release_idle_ms, 3600000);
	for (i = 0; i < nr - 1; i++)
		KUNIT_ASSERT_EQ(test, directmap_free_pages(pages[i], 0), 0);
	dmap_wipe_flush_all();
	KUNIT_ASSERT_EQ(test, READ_ONCE(cache->nr_empty), 1UL);
	KUNIT_ASSERT_EQ(test, cache->stats.releases, releases);

	/* shorter, as the sysfs file sets it: now it has been long enough */
	WRITE_ONCE(dmap_release_idle_ms, 200);
	dmap_idle_run();
	for (i = 0; i < 200 && READ_ONCE(cache->nr_empty); i++)
		msleep(20);
	KUNIT_EXPECT_LT_MSG(test, i, 200UL,
			    "an empty region stayed cached while a page was out");
	flush_delayed_work(&dmap_idle_work);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_empty), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_regions), 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_used), 1UL);
	KUNIT_EXPECT_EQ(test, cache->stats.releases, releases + 1);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(pages[nr - 1]));

	/* the last one too, and then the 1G entries are as booted */
	KUNIT_ASSERT_EQ(test, directmap_free_pages(pages[nr - 1], 0), 0);
	for (i = 0; i < 200 && READ_ONCE(cache->nr_regions); i++)
		msleep(20);
	KUNIT_EXPECT_LT(test, i, 200UL);
	flush_delayed_work(&dmap_idle_work);
	KUNIT_EXPECT_EQ(test, READ_ONCE(cache->nr_regions), 0UL);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G),
			pud_before);
	WRITE_ONCE(dmap_release_idle_ms, 0);
}

static unsigned int dmap_test_wipe_kicks;

static void dmap_test_wipe_kick(struct dmap_node *pn)
{
	dmap_test_wipe_kicks++;
}

static bool dmap_test_all_zero(struct kunit *test, struct page **pages,
			       unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!dmap_test_zero(test, pages[i]))
			return false;
	return true;
}

/*
 * Freed pages are wiped DMAP_WIPE_BATCH to one load of the wipe mm; until
 * then they keep their slots and stay unreadable, and the wipe work
 * wipes a queue that does not fill.
 */
static void dmap_test_wipe_batched(struct kunit *test)
{
	struct page *pages[DMAP_WIPE_BATCH], *big;
	unsigned long base, loads;
	struct dmap_node *pn;
	int i, nid;

	/* nothing of earlier cases left to wipe or reclaim, on any node */
	big = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, big);
	nid = page_to_nid(big);
	KUNIT_ASSERT_EQ(test, directmap_free_pages(big, 0), 0);
	dmap_wipe_work_sync();
	flush_delayed_work(&dmap_reclaim_work);
	dmap_for_each_node(i, pn) {
		KUNIT_ASSERT_EQ(test, READ_ONCE(pn->nr_pending), 0UL);
		KUNIT_ASSERT_EQ(test, READ_ONCE(pn->nr_wipe), 0U);
		KUNIT_ASSERT_EQ(test, atomic_read(&pn->nr_wiping), 0);
	}
	pn = dmap_nodes[nid];
	base = pn->cache.nr_used;
	dmap_test_wipe_kicks = 0;
	kunit_activate_static_stub(test, dmap_wipe_kick, dmap_test_wipe_kick);

	for (i = 0; i < DMAP_WIPE_BATCH; i++) {
		pages[i] = directmap_alloc_pages(nid, 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		dmap_test_fill(test, pages[i], 0xa5);
	}
	loads = atomic_long_read(&dmap_wipe_loads);
	for (i = 0; i < DMAP_WIPE_BATCH - 1; i++)
		KUNIT_ASSERT_EQ(test, directmap_free_pages(pages[i], 0), 0);
	/* waiting: not wiped, not reusable, not readable */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_wipe_loads), loads);
	KUNIT_EXPECT_EQ(test, dmap_test_wipe_kicks, 1U);
	KUNIT_EXPECT_EQ(test, pn->cache.nr_used, base + DMAP_WIPE_BATCH);
	/* the stats' pending count */
	KUNIT_EXPECT_EQ(test, atomic_read(&pn->nr_wiping), DMAP_WIPE_BATCH - 1);
	for (i = 0; i < DMAP_WIPE_BATCH - 1; i++) {
		KUNIT_EXPECT_FALSE(test, dmap_test_zero(test, pages[i]));
		KUNIT_EXPECT_FALSE(test, dmap_test_readable(pages[i]));
	}
	/* the last one fills the batch: one load wipes them all */
	KUNIT_ASSERT_EQ(test, directmap_free_pages(pages[i], 0), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_wipe_loads), loads + 1);
	KUNIT_EXPECT_EQ(test, pn->cache.nr_used, base);
	KUNIT_EXPECT_EQ(test, atomic_read(&pn->nr_wiping), 0);
	KUNIT_EXPECT_TRUE(test, dmap_test_all_zero(test, pages, DMAP_WIPE_BATCH));

	/* no room for an order-3 allocation: the queue goes, it waits */
	for (i = 0; i < 12; i++) {
		pages[i] = directmap_alloc_pages(nid, 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		dmap_test_fill(test, pages[i], 0x5a);
	}
	big = directmap_alloc_pages(nid, 3, 0);
	KUNIT_ASSERT_NOT_NULL(test, big);
	for (i = 0; i < 8; i++)
		dmap_test_fill(test, big + i, 0x5a);
	loads = atomic_long_read(&dmap_wipe_loads);
	for (i = 0; i < 12; i++)
		KUNIT_ASSERT_EQ(test, directmap_free_pages(pages[i], 0), 0);
	KUNIT_ASSERT_EQ(test, directmap_free_pages(big, 3), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_wipe_loads), loads + 1);
	KUNIT_EXPECT_TRUE(test, dmap_test_all_zero(test, pages, 12));
	KUNIT_EXPECT_FALSE(test, dmap_test_zero(test, big));
	KUNIT_EXPECT_EQ(test, pn->cache.nr_used, base + 8);
	KUNIT_EXPECT_EQ(test, dmap_test_wipe_kicks, 3U);

	/* what the kick schedules wipes a queue that stays short */
	kunit_deactivate_static_stub(test, dmap_wipe_kick);
	dmap_wipe_kick(pn);
	dmap_wipe_work_sync();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_wipe_loads), loads + 2);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, big + i));
	KUNIT_EXPECT_EQ(test, pn->cache.nr_used, base);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

static struct kunit_case dmap_test_cases[] = {
	KUNIT_CASE(dmap_test_unmapped_then_restored),
	KUNIT_CASE(dmap_test_free_slots_offline),
	KUNIT_CASE(dmap_test_no_pmd_split),
	KUNIT_CASE(dmap_test_nodes),
	KUNIT_CASE(dmap_test_deferred_reuse),
	KUNIT_CASE(dmap_test_wipe_batched),
	KUNIT_CASE(dmap_test_order),
	KUNIT_CASE(dmap_test_unmap_enomem),
	KUNIT_CASE(dmap_test_refill_rollback),
	KUNIT_CASE(dmap_test_region_from_4k),
	KUNIT_CASE(dmap_test_double_free_race),
	KUNIT_CASE(dmap_test_idle_release),
	KUNIT_CASE(dmap_test_idle_release_busy),
#ifdef CONFIG_MEMORY_FAILURE
	KUNIT_CASE(dmap_test_hwpoison),
	KUNIT_CASE(dmap_test_hwpoison_single),
	KUNIT_CASE(dmap_test_hwpoison_single_shared),
#endif
	KUNIT_CASE(dmap_test_release_hotplug),
	KUNIT_CASE(dmap_test_misuse),
	{}
};

static struct kunit_suite dmap_test_suite = {
	.name = "directmap",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_test_cases,
};

kunit_test_suite(dmap_test_suite);

#endif /* _MM_DIRECTMAP_CORE_KUNIT_H */
