/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the collapse worker against the real direct map: levels
 * from arch_directmap_level(), the vmstat collapse counters, the page-table page
 * that a collapse frees, and a walk of the direct map that must agree with
 * the DirectMap counters.
 *
 * They expect what `make check` boots: x86-64 with 1G pages (-cpu max).
 * The worker is switched off while they run; they run passes themselves.
 */
#ifndef _MM_DIRECTMAP_COLLAPSE_KUNIT_H
#define _MM_DIRECTMAP_COLLAPSE_KUNIT_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/set_memory.h>
#include <linux/vmstat.h>

#include "../differ.h"

/* Two 2M areas in one 1G area: order 10 is 4M aligned */
#define DMAP_CTEST_ORDER	(DMAP_REGION_ORDER + 1)
#define DMAP_CTEST_RACE_SECS	10

struct dmap_ctest {
	bool		was_enabled;
	struct page	*block;
	unsigned long	a;		/* first 2M area of the block */
	unsigned long	b;		/* second 2M area */
};

static unsigned int dmap_ctest_level(unsigned long addr)
{
	bool present;

	return arch_directmap_level(addr, &present);
}

/* The PMD entry over @addr, whose 1G area is split */
static pmd_t *dmap_ctest_pmd(unsigned long addr)
{
	pud_t *pud = pud_offset(p4d_offset(pgd_offset_k(addr), addr), addr);

	return pud_leaf(*pud) ? NULL : pmd_offset(pud, addr);
}

struct dmap_ctest_audit {
	unsigned long walked[DIRECTMAP_LEVEL_NUM];
	unsigned long counted[DIRECTMAP_LEVEL_NUM];
};

/*
 * The DirectMap counters also count splits of the kernel image's high
 * mapping, so only their changes can be held against the page tables.
 */
static void dmap_ctest_audit_walk(struct dmap_ctest_audit *au)
{
	int tries = 3;

	/* the walk is one 1G area at a time: again if the map moved */
	while (!arch_directmap_walk(NULL, NULL, au->walked, au->counted) &&
	       --tries)
		;
}

static void dmap_ctest_audit_start(struct dmap_ctest_audit *au)
{
	dmap_ctest_audit_walk(au);
}

/* Since @au, the page tables changed exactly as the counters say */
static void dmap_ctest_audit(struct kunit *test, struct dmap_ctest_audit *au)
{
	struct dmap_ctest_audit now;
	int level;

	dmap_ctest_audit_walk(&now);
	for (level = DIRECTMAP_LEVEL_4K; level <= DIRECTMAP_LEVEL_1G; level++)
		KUNIT_EXPECT_EQ_MSG(test, now.walked[level] - au->walked[level],
				    now.counted[level] - au->counted[level],
				    "level %d: page tables and DirectMap disagree",
				    level);
}

static int dmap_ctest_init(struct kunit *test)
{
	struct page *page, *next, *block = NULL;
	struct dmap_ctest *ct;
	LIST_HEAD(spare);
	int nid, i;

	ct = kunit_kzalloc(test, sizeof(*ct), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ct);
	test->priv = ct;

	/* The cases run passes themselves, and count exactly */
	ct->was_enabled = dmap_collapse_set_enabled(false);
	dmap_collapse_flush();

	/* A 4M block that a 1G entry maps: nothing else split under it */
	for_each_node_state(nid, N_MEMORY) {
		for (i = 0; i < 512 && !block; i++) {
			page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE |
						__GFP_NORETRY | __GFP_NOWARN,
						DMAP_CTEST_ORDER);
			if (!page)
				break;
			if (dmap_ctest_level((unsigned long)page_address(page)) ==
			    DIRECTMAP_LEVEL_1G)
				block = page;
			else
				list_add(&page->lru, &spare);
		}
	}
	list_for_each_entry_safe(page, next, &spare, lru) {
		list_del(&page->lru);
		__free_pages(page, DMAP_CTEST_ORDER);
	}
	KUNIT_ASSERT_NOT_NULL_MSG(test, block, "no free 4M block under a 1G entry");

	ct->block = block;
	ct->a = (unsigned long)page_address(block);
	ct->b = ct->a + PMD_SIZE;
	return 0;
}

static void dmap_ctest_exit(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;

	if (!ct)
		return;
	if (ct->block) {
		/* every case leaves its pages read-write */
		__free_pages(ct->block, DMAP_CTEST_ORDER);
	}
	dmap_collapse_set_enabled(ct->was_enabled);
}

/* A 4K round trip under a 2M area: the worker makes it one 2M entry again */
static void dmap_ctest_pte_to_pmd(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	struct dmap_ctest_audit au;
	unsigned long l2, l3;
	struct page *table;
	pmd_t *pmd;

	dmap_ctest_audit_start(&au);

	/* Keep the 1G area split: the second 2M area stays mixed */
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->b, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->a, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->a, 1), 0);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);

	pmd = dmap_ctest_pmd(ct->a);
	KUNIT_ASSERT_NOT_NULL(test, pmd);
	table = pmd_page(*pmd);
	l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	l3 = dmap_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE);

	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2 + 1);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE), l3);
	/* the PTE table went back to the page allocator */
	KUNIT_EXPECT_EQ(test, page_ref_count(table), 0);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->b), DIRECTMAP_LEVEL_4K);
	dmap_ctest_audit(test, &au);

	KUNIT_EXPECT_EQ(test, dmap_same(ct->b, 1), 0);
	dmap_collapse_flush();
	KUNIT_EXPECT_GE(test, dmap_ctest_level(ct->b), DIRECTMAP_LEVEL_2M);
}

/* The same through a 1G area: back to one 1G entry */
static void dmap_ctest_pmd_to_pud(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long l2, l3, pud_before;
	struct dmap_ctest_audit au;

	dmap_ctest_audit_start(&au);

	pud_before = arch_directmap_pages(DIRECTMAP_LEVEL_1G);
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->a, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->a, 1), 0);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G), pud_before - 1);
	l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	l3 = dmap_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE);

	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2 + 1);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE), l3 + 1);
	KUNIT_EXPECT_EQ(test, arch_directmap_pages(DIRECTMAP_LEVEL_1G), pud_before);
	dmap_ctest_audit(test, &au);
}

/* Entries that differ stay as they are until they agree again */
static void dmap_ctest_mixed_never(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	struct dmap_ctest_audit au;

	dmap_ctest_audit_start(&au);
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->a + PAGE_SIZE, 1), 0);
	dmap_collapse_flush();
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2);

	KUNIT_EXPECT_EQ(test, dmap_same(ct->a + PAGE_SIZE, 1), 0);
	dmap_collapse_flush();
	KUNIT_EXPECT_GE(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_GT(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2);
	dmap_ctest_audit(test, &au);
}

#ifdef CONFIG_X86
/*
 * What set_memory_4k() asked for is never collapsed, whether the area was
 * split before or not.  Both areas of the block stay pinned for good.
 */
static void dmap_ctest_4k_pinned(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	struct dmap_ctest_audit au;

	dmap_ctest_audit_start(&au);
	KUNIT_ASSERT_EQ(test, set_memory_4k(ct->a, 1), 0);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);
	dmap_collapse_flush();
	/* a later change in the area does not unpin it */
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->a + PAGE_SIZE, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->a + PAGE_SIZE, 1), 0);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2);
	KUNIT_EXPECT_EQ(test, directmap_collapse(PHYS_PFN(__pa(ct->a)), 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);

	/*
	 * SEV-SNP's sequence in the second area: a neighbour split it
	 * already, the page is pinned at 4K, the neighbour goes back.  The
	 * pin lives in the entries, set under CPA's lock whether or not the
	 * area was split, so the collapse itself refuses it: no caller's
	 * bookkeeping can miss it.
	 */
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->b + PAGE_SIZE, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_ctest_level(ct->b), DIRECTMAP_LEVEL_4K);
	KUNIT_ASSERT_EQ(test, set_memory_4k(ct->b, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->b + PAGE_SIZE, 1), 0);
	KUNIT_EXPECT_EQ(test, arch_directmap_collapse_pmd(PHYS_PFN(__pa(ct->b)),
							  false), -EAGAIN);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->b), DIRECTMAP_LEVEL_4K);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->b), DIRECTMAP_LEVEL_4K);
	dmap_ctest_audit(test, &au);
}

/*
 * A whole 2M area made read-only stays split: re-formed, its undo for
 * one page (set_memory_rw(), vm_reset_perms()) would need a split that
 * can fail.  Back at the default, it is re-formed.
 */
static void dmap_ctest_default_only(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	struct dmap_ctest_audit au;

	dmap_ctest_audit_start(&au);
	KUNIT_ASSERT_EQ(test, set_memory_ro(ct->a, 1), 0);
	KUNIT_ASSERT_EQ(test, set_memory_ro(ct->a + PAGE_SIZE, PTRS_PER_PTE - 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2);

	KUNIT_EXPECT_EQ(test, set_memory_rw(ct->a, PTRS_PER_PTE), 0);
	dmap_collapse_flush();
	KUNIT_EXPECT_GE(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_2M);
	dmap_ctest_audit(test, &au);
}
#endif

struct dmap_ctest_reclaimer {
	struct completion	done;
	unsigned long		released;
	bool			as_reclaim;
};

/* What a shrinker does, from reclaim (or drop_caches) */
static int dmap_ctest_reclaim_fn(void *data)
{
	struct dmap_ctest_reclaimer *rc = data;
	unsigned int noreclaim = 0;

	/* lockdep learns that reclaim takes whatever the release takes */
	if (rc->as_reclaim) {
		fs_reclaim_acquire(GFP_KERNEL);
		noreclaim = memalloc_noreclaim_save();
	}
	rc->released = dmap_drain();
	if (rc->as_reclaim) {
		memalloc_noreclaim_restore(noreclaim);
		fs_reclaim_release(GFP_KERNEL);
	}
	complete(&rc->done);
	return 0;
}

/*
 * Releases from reclaim never wait behind a pass of the worker: the
 * collapse is left to it.  A pass can take long on a large direct map.
 */
static void dmap_ctest_reclaim_no_wait(struct kunit *test)
{
	struct dmap_ctest_reclaimer rc;
	struct task_struct *t;
	unsigned long done;
	struct page *page;
	int i;

	dmap_collapse_flush();

	for (i = 0; i < 2; i++) {
		page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
		if (!page)
			kunit_skip(test, "directmap=off");
		KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);

		rc.released = 0;
		rc.as_reclaim = !i;
		init_completion(&rc.done);
		mutex_lock(&dmap_collapse_mutex);	/* a long pass */
		t = kthread_run(dmap_ctest_reclaim_fn, &rc, "dmap_reclaim");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		done = wait_for_completion_timeout(&rc.done, 5 * HZ);
		KUNIT_EXPECT_TRUE_MSG(test, done, "%s waited for the worker",
				      i ? "drop_caches" : "reclaim");
		mutex_unlock(&dmap_collapse_mutex);
		if (!done)
			wait_for_completion(&rc.done);
		KUNIT_EXPECT_GE(test, rc.released, 1UL);
	}
	/* what the releases left is marked for the worker */
	mutex_lock(&dmap_collapse_mutex);
	KUNIT_EXPECT_GE(test, dmap_collapse_waiting(&dmap_collapse_state, false) +
			dmap_collapse_waiting(&dmap_collapse_state, true), 1UL);
	mutex_unlock(&dmap_collapse_mutex);
	dmap_collapse_flush();
}

struct dmap_ctest_racer {
	unsigned long		addr;
	unsigned long		until;
	unsigned long		rounds;
	int			err;
	struct completion	done;
};

static int dmap_ctest_race_fn(void *data)
{
	struct dmap_ctest_racer *r = data;

	while (time_before(jiffies, r->until)) {
		r->err = dmap_differ(r->addr, 1) ?: dmap_same(r->addr, 1);
		if (r->err)
			break;
		r->rounds++;
		cond_resched();
	}
	complete(&r->done);
	return 0;
}

/*
 * Collapses racing with set_memory_*() on neighbouring pages from two CPUs:
 * no splat, and at the end page tables and counters agree.
 */
static void dmap_ctest_race(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	struct dmap_ctest_racer r[2];
	unsigned long until, passes = 0, l2;
	struct dmap_ctest_audit au;
	int i;

	KUNIT_ASSERT_GE_MSG(test, num_online_cpus(), 2U, "boot with 2 CPUs");
	dmap_ctest_audit_start(&au);
	l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	until = jiffies + DMAP_CTEST_RACE_SECS * HZ;
	for (i = 0; i < 2; i++) {
		struct task_struct *t;

		r[i].addr = ct->a + i * PAGE_SIZE;
		r[i].until = until;
		r[i].rounds = 0;
		r[i].err = 0;
		init_completion(&r[i].done);
		t = kthread_create(dmap_ctest_race_fn, &r[i], "dmap_race/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		kthread_bind(t, cpumask_nth(i, cpu_online_mask));
		wake_up_process(t);
	}

	/* The worker too, without its delay, and passes from here */
	dmap_collapse_set_enabled(true);
	while (time_before(jiffies, until)) {
		dmap_collapse_flush();
		passes++;
		usleep_range(500, 1000);
	}
	for (i = 0; i < 2; i++)
		wait_for_completion(&r[i].done);
	dmap_collapse_set_enabled(false);

	l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE) - l2;
	kunit_info(test, "%lu + %lu set_memory rounds, %lu passes, %lu collapses\n",
		   r[0].rounds, r[1].rounds, passes, l2);
	/* the race was run: collapses happened between the changes */
	KUNIT_EXPECT_GT(test, l2, 0UL);
	KUNIT_EXPECT_EQ(test, r[0].err, 0);
	KUNIT_EXPECT_EQ(test, r[1].err, 0);
	KUNIT_EXPECT_GT(test, r[0].rounds, 0UL);
	KUNIT_EXPECT_GT(test, r[1].rounds, 0UL);

	dmap_collapse_flush();
	KUNIT_EXPECT_GE(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_2M);
	dmap_ctest_audit(test, &au);
}

static struct kunit_case dmap_collapse_cases[] = {
	KUNIT_CASE(dmap_ctest_pte_to_pmd),
	KUNIT_CASE(dmap_ctest_pmd_to_pud),
	KUNIT_CASE(dmap_ctest_mixed_never),
#ifdef CONFIG_X86
	KUNIT_CASE(dmap_ctest_default_only),
#endif
	KUNIT_CASE(dmap_ctest_reclaim_no_wait),
	KUNIT_CASE_SLOW(dmap_ctest_race),
#ifdef CONFIG_X86
	/*
	 * arm64 has no set_memory_4k(); its KFENCE pool is refused instead.
	 * It pins a 1G area for good: last.
	 */
	KUNIT_CASE(dmap_ctest_4k_pinned),
#endif
	{}
};

static struct kunit_suite dmap_collapse_suite = {
	.name = "directmap_collapse",
	.init = dmap_ctest_init,
	.exit = dmap_ctest_exit,
	.test_cases = dmap_collapse_cases,
};

kunit_test_suite(dmap_collapse_suite);

#endif /* _MM_DIRECTMAP_COLLAPSE_KUNIT_H */
