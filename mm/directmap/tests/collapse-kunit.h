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

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/set_memory.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <asm/pgalloc.h>

#include "../differ.h"
#include "helpers-kunit.h"

/* Two 2M areas in one 1G area: order 10 is 4M aligned */
#define DMAP_CTEST_ORDER	(DMAP_REGION_ORDER + 1)
#define DMAP_CTEST_RACE_SECS	10

struct dmap_ctest {
	bool		was_enabled;
	unsigned int	release_idle_ms;
	unsigned int	delay_ms;
	unsigned int	idle_passes;
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

	dmap_test_need_blocks(test);
	dmap_test_need_1g(test);
	ct = kunit_kzalloc(test, sizeof(*ct), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ct);
	test->priv = ct;

	/* The cases run passes themselves, and count exactly */
	ct->was_enabled = dmap_collapse_set_enabled(false);
	ct->release_idle_ms = xchg(&dmap_release_idle_ms, 0);
	ct->delay_ms = READ_ONCE(dmap_collapse_delay_ms);
	ct->idle_passes = READ_ONCE(dmap_collapse_state.idle);
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
	WRITE_ONCE(dmap_release_idle_ms, ct->release_idle_ms);
	WRITE_ONCE(dmap_collapse_delay_ms, ct->delay_ms);
	WRITE_ONCE(dmap_collapse_state.idle, ct->idle_passes);
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
	/* the PTE table went back to the page allocator (after RCU on arm64) */
	rcu_barrier();
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

/* Wait up to 10 s for the worker to map @addr at @level or larger */
static unsigned int dmap_ctest_wait_level(unsigned long addr,
					  unsigned int level)
{
	unsigned long deadline = jiffies + 10 * HZ;

	while (dmap_ctest_level(addr) < level && time_before(jiffies, deadline))
		usleep_range(5000, 10000);
	return dmap_ctest_level(addr);
}

/*
 * While only a 1G area waits for the direct map to be idle, the worker
 * sleeps until then instead of passing every delay_ms; a kick cuts the
 * sleep short but brings no pass before its time; a lower
 * collapse_idle_passes wakes it, and the 1G area is re-formed.
 */
static void dmap_ctest_worker_sleeps(struct kunit *test)
{
	struct dmap_collapse_stats *st = &dmap_collapse_state.stats;
	unsigned long passes, kicked, slept, notes, t;
	struct dmap_ctest *ct = test->priv;
	int i;

	/* the 1G area waits 1000 delays, until the store below */
	WRITE_ONCE(dmap_collapse_delay_ms, 20);
	WRITE_ONCE(dmap_collapse_state.idle, 1000);
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->a, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->a, 1), 0);
	slept = READ_ONCE(st->slept);
	/* a flush asked for while it was off would try the 1G area at once */
	clear_bit(1, &dmap_collapse_kicked);
	dmap_collapse_set_enabled(true);

	/* the 2M area first, after its quiet period */
	KUNIT_ASSERT_EQ(test, dmap_ctest_wait_level(ct->a, DIRECTMAP_LEVEL_2M),
			DIRECTMAP_LEVEL_2M);
	/* 10 delays: a polling worker would pass about 10 times */
	notes = READ_ONCE(st->notes);
	passes = READ_ONCE(st->passes);
	msleep(10 * 20);
	passes = READ_ONCE(st->passes) - passes;
	/* kicks that mark nothing: still a pass a delay at most */
	kicked = READ_ONCE(st->passes);
	t = jiffies;
	for (i = 0; i < 10; i++) {
		dmap_collapse_set_enabled(true);
		usleep_range(2000, 3000);
	}
	t = jiffies - t;
	kicked = READ_ONCE(st->passes) - kicked;
	/* a change elsewhere wakes the worker, as it should */
	if (READ_ONCE(st->notes) != notes)
		kunit_skip(test, "the direct map changed meanwhile");
	KUNIT_EXPECT_LE_MSG(test, passes, 2UL, "passes in 10 delays");
	KUNIT_EXPECT_LE_MSG(test, kicked, t / msecs_to_jiffies(20) + 2,
			    "passes for 10 kicks in %lu jiffies", t);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_2M);

	/* asleep again, for 1000 delays: as a write to collapse_idle_passes */
	msleep(3 * 20);
	KUNIT_EXPECT_EQ(test, collapse_idle_passes_store(NULL, NULL, "4", 1), 1);
	KUNIT_EXPECT_EQ(test, dmap_ctest_wait_level(ct->a, DIRECTMAP_LEVEL_1G),
			DIRECTMAP_LEVEL_1G);
	slept = READ_ONCE(st->slept) - slept;
	KUNIT_EXPECT_GE_MSG(test, slept, 5UL, "passes slept through");
}

/* Collapses share their flushes, unless the CPUs must not (x86) */
static void dmap_ctest_need_batch(struct kunit *test)
{
#ifdef CONFIG_X86
	if (boot_cpu_has_bug(X86_BUG_AMD_TLB_MMATCH))
		kunit_skip(test, "collapses flush at once (AMD erratum 383)");
#endif
}

/* Split the 2M area at @addr to 4K entries, alike again */
static void dmap_ctest_to_4k(struct kunit *test, unsigned long addr)
{
	KUNIT_ASSERT_EQ(test, dmap_differ(addr, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(addr, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_ctest_level(addr), DIRECTMAP_LEVEL_4K);
}

/*
 * A flush asked for while a pass ran is left to the worker; a pass that
 * tries everything before the worker gets to it serves the request, so
 * that the worker does not try the 1G areas again out of turn.
 */
static void dmap_ctest_flush_serves_soon(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;

	dmap_ctest_to_4k(test, ct->a);
	mutex_lock(&dmap_collapse_mutex);
	dmap_collapse_flush_soon();
	mutex_unlock(&dmap_collapse_mutex);
	KUNIT_EXPECT_TRUE(test, test_bit(1, &dmap_collapse_kicked));
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);

	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
	KUNIT_EXPECT_FALSE_MSG(test, test_bit(1, &dmap_collapse_kicked),
			       "the flush left the request pending");
}

/* The worker's state, once it left TASK_RUNNING for @state; false after 10 s */
static bool dmap_ctest_worker_in(struct task_struct *worker, unsigned int state)
{
	unsigned long until = jiffies + 10 * HZ;

	while (!(READ_ONCE(worker->__state) & state)) {
		if (time_after(jiffies, until))
			return false;
		usleep_range(1000, 2000);
	}
	return true;
}

/*
 * Switched off, then flushed, the worker runs no pass: not even one it
 * was about to begin as it was switched off (the cases count exactly).
 */
static void dmap_ctest_off_stays_off(struct kunit *test)
{
	struct dmap_collapse_stats *st = &dmap_collapse_state.stats;
	struct task_struct *worker = dmap_collapse_thread;
	struct dmap_ctest *ct = test->priv;
	unsigned long passes, after;
	bool waited;

	KUNIT_ASSERT_NOT_NULL(test, worker);
	dmap_ctest_to_4k(test, ct->a);
	WRITE_ONCE(dmap_collapse_delay_ms, 1);
	/* on while a flush holds the mutex: the worker waits for it */
	mutex_lock(&dmap_collapse_mutex);
	dmap_collapse_set_enabled(true);
	waited = dmap_ctest_worker_in(worker, TASK_UNINTERRUPTIBLE);
	/* off; the flush that follows ends */
	dmap_collapse_set_enabled(false);
	passes = READ_ONCE(st->passes);
	mutex_unlock(&dmap_collapse_mutex);
	KUNIT_ASSERT_TRUE_MSG(test, waited, "the worker never waited for a pass");

	/* asleep again, having run no pass */
	KUNIT_EXPECT_TRUE(test, dmap_ctest_worker_in(worker, TASK_INTERRUPTIBLE));
	after = READ_ONCE(st->passes);
	KUNIT_EXPECT_EQ_MSG(test, after, passes, "passes after the switch off");
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_4K);

	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
}

/*
 * A pass that re-forms two 2M areas and the 1G area over them invalidates
 * the TLBs once, at its end, and frees the tables after that.
 */
static void dmap_ctest_one_flush(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long l2, l3, flushes;
	struct page *ta, *tb;

	dmap_ctest_need_batch(test);
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->a, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_differ(ct->b, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->a, 1), 0);
	KUNIT_ASSERT_EQ(test, dmap_same(ct->b, 1), 0);
	KUNIT_ASSERT_NOT_NULL(test, dmap_ctest_pmd(ct->a));
	KUNIT_ASSERT_NOT_NULL(test, dmap_ctest_pmd(ct->b));
	ta = pmd_page(*dmap_ctest_pmd(ct->a));
	tb = pmd_page(*dmap_ctest_pmd(ct->b));
	l2 = dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	l3 = dmap_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE);
	/* x86 counts every kernel flush: purge what vfree() left lazily now */
	vm_unmap_aliases();
	flushes = nr_kernel_tlb_flushes();

	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE), l2 + 2);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE), l3 + 1);
	KUNIT_EXPECT_LE_MSG(test, nr_kernel_tlb_flushes() - flushes, 1UL,
			    "3 collapses in one pass, %lu TLB flushes",
			    nr_kernel_tlb_flushes() - flushes);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, page_ref_count(ta), 0);
	KUNIT_EXPECT_EQ(test, page_ref_count(tb), 0);
}

/*
 * A change of the direct map while a pass's invalidations are deferred
 * invalidates them first: a region taken out is unreadable at once,
 * although this CPU's TLB held 4K entries for its pages from before the
 * collapse, which arm64's one-address flush of the take-out would not
 * remove, and x86 must not keep beside a changed 2M entry (TCG drops them
 * anyway: it counts on the flushes instead).
 */
static void dmap_ctest_batch_then_unmap(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long pfn = page_to_pfn(ct->block);
	unsigned long f0, f1, f2, f3;
	int i, readable = 0;
	char c;

	dmap_ctest_need_batch(test);
	dmap_ctest_to_4k(test, ct->a);

	vm_unmap_aliases();
	migrate_disable();
	for (i = 0; i < PTRS_PER_PTE; i++)
		c = READ_ONCE(*(char *)(ct->a + i * PAGE_SIZE));
	f0 = nr_kernel_tlb_flushes();
	arch_directmap_collapse_begin();
	KUNIT_EXPECT_EQ(test, dmap_test_collapse_pmd(pfn), 1);
	f1 = nr_kernel_tlb_flushes();
	KUNIT_EXPECT_EQ(test, arch_directmap_unmap_region(ct->block), 0);
	f2 = nr_kernel_tlb_flushes();
	for (i = 0; i < PTRS_PER_PTE; i++)
		readable += !copy_from_kernel_nofault(&c, (void *)(ct->a + i * PAGE_SIZE), 1);
	arch_directmap_collapse_end();
	f3 = nr_kernel_tlb_flushes();
	arch_directmap_restore_region(ct->block);
	migrate_enable();
	/* the next case needs a 1G entry: this may have been the last one */
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);

	KUNIT_EXPECT_EQ_MSG(test, readable, 0,
			    "%d pages of a region taken out still readable", readable);
	KUNIT_EXPECT_EQ_MSG(test, f1, f0, "the collapse flushed at once");
	KUNIT_EXPECT_GE_MSG(test, f2 - f1, 2UL,
			    "the take-out flushed %lu times, not the deferred invalidation and its own",
			    f2 - f1);
	KUNIT_EXPECT_EQ_MSG(test, f3, f2,
			    "the end of the pass still had deferred invalidations");
}

#ifdef CONFIG_X86
/*
 * A region taken out of an area at 4K inside a batch: the table of absent
 * entries becomes an absent 2M entry, which flushes at once, whatever the
 * batch: putting the region back makes the entry present without a
 * flush, which must find no walk cache of the old table.
 */
static void dmap_ctest_batch_absent(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	unsigned long f0, f1, f2;
	bool present;

	dmap_ctest_need_batch(test);
	dmap_ctest_to_4k(test, ct->a);
	vm_unmap_aliases();
	arch_directmap_collapse_begin();
	f0 = nr_kernel_tlb_flushes();
	KUNIT_EXPECT_EQ(test, arch_directmap_unmap_region(ct->block), 0);
	f1 = nr_kernel_tlb_flushes();
	arch_directmap_collapse_end();
	f2 = nr_kernel_tlb_flushes();
	KUNIT_EXPECT_EQ(test, arch_directmap_level(ct->a, &present),
			DIRECTMAP_LEVEL_2M);
	KUNIT_EXPECT_FALSE(test, present);
	arch_directmap_restore_region(ct->block);

	KUNIT_EXPECT_GE_MSG(test, f1 - f0, 2UL,
			    "the take-out flushed %lu times, not its own and the absent collapse's",
			    f1 - f0);
	KUNIT_EXPECT_EQ_MSG(test, f2, f1,
			    "the absent collapse's flush waited for the end of the batch");
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
}
#endif

#ifdef CONFIG_X86
/*
 * The table of 2M entries that a region's take-out puts under a 1G area
 * is a kernel page table like those CPA allocates: 7.2 marks them
 * (PT_kernel, which is PG_referenced), so that freeing one waits for the
 * IOMMU to forget its walks through it (IOMMU SVA).  Compare with a table
 * from pte_alloc_one_kernel(), whatever the kernel's marks are (6.12 marks
 * neither).
 */
static void dmap_ctest_split_table_kernel(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	struct page *table;
	pte_t *ref;
	pud_t *pud;

	KUNIT_ASSERT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
	KUNIT_ASSERT_EQ(test, arch_directmap_unmap_region(ct->block), 0);
	pud = pud_offset(p4d_offset(pgd_offset_k(ct->a), ct->a), ct->a);
	table = pud_leaf(*pud) ? NULL : pud_page(*pud);
	ref = pte_alloc_one_kernel(&init_mm);
	KUNIT_EXPECT_NOT_NULL(test, table);
	KUNIT_EXPECT_NOT_NULL(test, ref);
	if (table && ref)
		KUNIT_EXPECT_EQ_MSG(test, folio_test_referenced(page_folio(table)),
				    folio_test_referenced(virt_to_folio(ref)),
				    "the 1G split's table is not marked as the kernel's own");
	if (ref)
		pte_free_kernel(&init_mm, ref);
	arch_directmap_restore_region(ct->block);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
}
#endif

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
	KUNIT_EXPECT_EQ(test, dmap_test_collapse_pmd(PHYS_PFN(__pa(ct->b))),
			-EAGAIN);
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

/* The worker won a race: a 1G entry the unmap split is whole again */
static int dmap_ctest_split_calls;
static int dmap_ctest_reformed;

static typeof(cpa_split_alloc_table()) dmap_ctest_no_table_once(void)
{
	kunit_deactivate_static_stub(kunit_get_current_test(),
				     cpa_split_alloc_table);
	return NULL;
}

static int dmap_ctest_split_then_reform(unsigned long addr)
{
	struct page *pt = alloc_page(GFP_KERNEL);

	if (!pt)
		return -ENOMEM;
	if (set_direct_map_split_pud(addr, pt))
		__free_page(pt);
	if (!dmap_ctest_split_calls++) {
		dmap_ctest_reformed =
			dmap_test_collapse_pud(PHYS_PFN(__pa(addr)));
		/* and CPA's own split of it finds no memory */
		kunit_activate_static_stub(kunit_get_current_test(),
					   cpa_split_alloc_table,
					   dmap_ctest_no_table_once);
	}
	return 0;
}

/*
 * A region unmap whose 1G entry the worker re-forms between the split and
 * the unmap, when CPA then has no memory for the split: a legitimate race,
 * retried, never a WARN (fatal with panic_on_warn) or a failed unmap.
 */
static void dmap_ctest_unmap_race(struct kunit *test)
{
	struct dmap_ctest *ct = test->priv;
	struct dmap_ctest_audit au;
	bool present;
	int err;

	dmap_ctest_audit_start(&au);
	dmap_ctest_split_calls = 0;
	dmap_ctest_reformed = 0;
	kunit_activate_static_stub(test, directmap_split_pud,
				   dmap_ctest_split_then_reform);
	err = arch_directmap_unmap_region(ct->block);
	kunit_deactivate_static_stub(test, directmap_split_pud);

	/* the race did happen: re-formed, then tried again */
	KUNIT_EXPECT_EQ(test, dmap_ctest_reformed, 1);
	KUNIT_EXPECT_EQ(test, dmap_ctest_split_calls, 2);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "the unmap lost the race");
	arch_directmap_level(ct->a, &present);
	KUNIT_EXPECT_FALSE(test, present);
	KUNIT_EXPECT_TRUE(test, arch_directmap_level(ct->b, &present) &&
			  present);

	arch_directmap_restore_region(ct->block);
	arch_directmap_level(ct->a, &present);
	KUNIT_EXPECT_TRUE(test, present);
	dmap_ctest_audit(test, &au);
	KUNIT_EXPECT_GE(test, dmap_test_collapse_pud(PHYS_PFN(__pa(ct->a))), 0);
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(ct->a), DIRECTMAP_LEVEL_1G);
}

struct dmap_ctest_walker {
	struct completion	go;
	struct completion	finished;
	unsigned long		area;		/* 1G area of the first leaf */
	bool			first_seen;
	bool			done;
	bool			checked;
	bool			seen;
};

/* A CPA caller on another CPU: each split takes pgd_lock */
static int dmap_ctest_pgd_lock_fn(void *data)
{
	struct dmap_ctest_walker *w = data;

	wait_for_completion(&w->go);
	spin_lock(&pgd_lock);
	spin_unlock(&pgd_lock);
	WRITE_ONCE(w->done, true);
	complete(&w->finished);
	return 0;
}

/*
 * Under the walk's locks: start the CPA caller at the first leaf, and at
 * the first leaf of the next 1G area see whether it got through.
 */
static void dmap_ctest_walk_fn(unsigned long addr, int level, bool present,
			       void *data)
{
	struct dmap_ctest_walker *w = data;
	int ms;

	if (w->checked)
		return;
	if (!w->first_seen) {
		w->first_seen = true;
		w->area = addr & PUD_MASK;
		complete(&w->go);
		/* until it spins on the lock */
		for (ms = 0; ms < 2000 && !spin_is_contended(&pgd_lock); ms++)
			mdelay(1);
		return;
	}
	if ((addr & PUD_MASK) == w->area)
		return;
	w->checked = true;
	for (ms = 0; ms < 2000 && !READ_ONCE(w->done); ms++)
		mdelay(1);
	w->seen = READ_ONCE(w->done);
}

/*
 * The verifier's walk drops CPA's locks between 1G areas: on a TiB direct
 * map at 4K (debug_pagealloc) a walk under them would stall every CPA
 * caller for seconds.
 */
static void dmap_ctest_walk_per_1g(struct kunit *test)
{
	unsigned long walked[DIRECTMAP_LEVEL_NUM], counted[DIRECTMAP_LEVEL_NUM];
	struct dmap_ctest_walker w = {};
	struct task_struct *t;
	int cpu;

	KUNIT_ASSERT_GE_MSG(test, num_online_cpus(), 2U, "boot with 2 CPUs");
	KUNIT_ASSERT_GT_MSG(test, max_pfn_mapped, PHYS_PFN(PUD_SIZE),
			    "a direct map of more than 1G");
	init_completion(&w.go);
	init_completion(&w.finished);
	migrate_disable();
	cpu = smp_processor_id();
	t = kthread_create(dmap_ctest_pgd_lock_fn, &w, "dmap_cpa");
	if (IS_ERR(t)) {
		migrate_enable();
		KUNIT_FAIL(test, "no thread: %ld", PTR_ERR(t));
		return;
	}
	kthread_bind(t, cpumask_any_but(cpu_online_mask, cpu));
	wake_up_process(t);
	arch_directmap_walk(dmap_ctest_walk_fn, &w, walked, counted);
	migrate_enable();
	wait_for_completion(&w.finished);

	KUNIT_EXPECT_TRUE(test, w.checked);
	KUNIT_EXPECT_TRUE_MSG(test, w.seen,
			      "pgd_lock was held from one 1G area to the next");
}

/*
 * A set_memory_4k() made before the worker starts, as kfence's pool gets
 * in mm_core_init(): a 2M block with its first page pinned.
 */
static void *dmap_ctest_early_4k;

static int __init dmap_ctest_pin_early(void)
{
	struct page *page;

	if (!kunit_enabled())
		return 0;
	page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, DMAP_REGION_ORDER);
	if (!page)
		return 0;
	if (set_memory_4k((unsigned long)page_address(page), 1)) {
		__free_pages(page, DMAP_REGION_ORDER);
		return 0;
	}
	/* kept for good, as a pinned pool is */
	dmap_ctest_early_4k = page_address(page);
	return 0;
}
core_initcall(dmap_ctest_pin_early);

/* Pins made before late_initcall hold as later ones do */
static void dmap_ctest_early_pinned(struct kunit *test)
{
	unsigned long addr = (unsigned long)dmap_ctest_early_4k;
	unsigned long pfn;

	KUNIT_ASSERT_NE_MSG(test, addr, 0UL, "no block was pinned at boot");
	pfn = PHYS_PFN(__pa(addr));
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(addr), DIRECTMAP_LEVEL_4K);
	/* the rest of the area is at the default: only the pin holds it */
	KUNIT_EXPECT_EQ(test, dmap_test_collapse_pmd(pfn), -EAGAIN);
	KUNIT_EXPECT_EQ(test, directmap_collapse(pfn, 1), -EAGAIN);
	dmap_collapse_flush();
	KUNIT_EXPECT_EQ(test, dmap_ctest_level(addr), DIRECTMAP_LEVEL_4K);
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
		/* back in its slot: a wipe in flight is not waited for */
		dmap_test_wipe_queued();

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

struct dmap_ctest_locker {
	struct completion	done;
	int			nid;
};

/* A pass, as the worker runs one */
static int dmap_ctest_flush_fn(void *data)
{
	struct dmap_ctest_locker *lk = data;

	dmap_collapse_flush();
	complete(&lk->done);
	return 0;
}

/* What an unshare or the free of a single page does first */
static int dmap_ctest_share_lock_fn(void *data)
{
	struct dmap_ctest_locker *lk = data;

	dmap_env_share_lock(lk->nid);
	dmap_env_share_unlock(lk->nid);
	complete(&lk->done);
	return 0;
}

static struct task_struct *dmap_ctest_locker_run(struct kunit *test,
						 struct dmap_ctest_locker *lk,
						 int (*fn)(void *data))
{
	struct task_struct *t;

	init_completion(&lk->done);
	t = kthread_run(fn, lk, "dmap_locker");
	KUNIT_EXPECT_FALSE(test, IS_ERR(t));
	return t;
}

/*
 * A region may go back, and its memory offline and away, between the
 * look-up that finds it and the walk of its tables: a pass over a
 * region's area excludes memory hot-remove too.
 */
static void dmap_ctest_hotplug_region(struct kunit *test)
{
	struct dmap_ctest_locker pass;
	struct task_struct *t;
	struct page *page;
	long waited;

	if (!IS_ENABLED(CONFIG_MEMORY_HOTPLUG))
		kunit_skip(test, "CONFIG_MEMORY_HOTPLUG is off");
	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	if (!page)
		kunit_skip(test, "directmap=off");
	if (!dmap_region_of(page_to_pfn(page))) {
		KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
		kunit_skip(test, "no region to take the page from");
	}
	/* what the refill marked goes first: the pass has this area only */
	dmap_collapse_flush();
	directmap_note_pte((unsigned long)page_address(page));
	mutex_lock(&dmap_collapse_mutex);
	waited = dmap_collapse_waiting(&dmap_collapse_state, false) == 1 &&
		 !dmap_collapse_waiting(&dmap_collapse_state, true);
	mutex_unlock(&dmap_collapse_mutex);
	if (!waited) {
		KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
		kunit_skip(test, "the direct map changed meanwhile");
	}

	mem_hotplug_begin();
	t = dmap_ctest_locker_run(test, &pass, dmap_ctest_flush_fn);
	waited = IS_ERR(t) ? -1 :
		 wait_for_completion_timeout(&pass.done, HZ / 2);
	mem_hotplug_done();
	if (!waited)
		wait_for_completion(&pass.done);
	if (!IS_ERR(t))
		KUNIT_EXPECT_EQ_MSG(test, waited, 0L,
				    "a pass walked a region's tables during memory hotplug");
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	/* the empty region goes back: later cases want whole 1G entries */
	dmap_test_wipe_queued();
	dmap_drain();
}

/*
 * A pass never waits for memory hotplug with a share lock held: a fault
 * (holding mmap_lock) may wait for that lock to free a single page, and
 * memory online waits for mmap_lock under the hotplug lock.
 */
static void dmap_ctest_hotplug_share_lock(struct kunit *test)
{
	struct dmap_ctest_locker pass, share;
	struct dmap_ctest *ct = test->priv;
	struct task_struct *t, *s;
	long done;

	if (!IS_ENABLED(CONFIG_MEMORY_HOTPLUG))
		kunit_skip(test, "CONFIG_MEMORY_HOTPLUG is off");
	share.nid = page_to_nid(ct->block);
	if (!dmap_nodes[share.nid])
		kunit_skip(test, "directmap=off");
	/* an area that is not a region's: the pass tries it */
	dmap_collapse_flush();
	directmap_note_pte(ct->a);

	mem_hotplug_begin();
	t = dmap_ctest_locker_run(test, &pass, dmap_ctest_flush_fn);
	/* the pass is under way, or waits for the hotplug lock */
	msleep(100);
	s = dmap_ctest_locker_run(test, &share, dmap_ctest_share_lock_fn);
	done = IS_ERR(s) ? 0 : wait_for_completion_timeout(&share.done, 5 * HZ);
	mem_hotplug_done();
	if (!IS_ERR(t))
		wait_for_completion(&pass.done);
	if (!IS_ERR(s) && !done)
		wait_for_completion(&share.done);
	KUNIT_EXPECT_NE_MSG(test, done, 0L,
			    "the share lock waited for memory hotplug");
}

static struct kunit_case dmap_collapse_cases[] = {
	KUNIT_CASE(dmap_ctest_pte_to_pmd),
	KUNIT_CASE(dmap_ctest_pmd_to_pud),
	KUNIT_CASE(dmap_ctest_worker_sleeps),
	KUNIT_CASE(dmap_ctest_flush_serves_soon),
	KUNIT_CASE(dmap_ctest_off_stays_off),
	KUNIT_CASE(dmap_ctest_one_flush),
	KUNIT_CASE(dmap_ctest_batch_then_unmap),
#ifdef CONFIG_X86
	KUNIT_CASE(dmap_ctest_batch_absent),
	KUNIT_CASE(dmap_ctest_split_table_kernel),
#endif
	KUNIT_CASE(dmap_ctest_mixed_never),
#ifdef CONFIG_X86
	KUNIT_CASE(dmap_ctest_default_only),
	KUNIT_CASE(dmap_ctest_unmap_race),
	KUNIT_CASE(dmap_ctest_walk_per_1g),
	KUNIT_CASE(dmap_ctest_early_pinned),
#endif
	KUNIT_CASE(dmap_ctest_reclaim_no_wait),
	KUNIT_CASE(dmap_ctest_hotplug_region),
	KUNIT_CASE(dmap_ctest_hotplug_share_lock),
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

#ifdef CONFIG_DEBUG_PAGEALLOC
#define DMAP_PTEST_PAGES	1024

/*
 * debug_pagealloc unmaps every page the allocator frees and maps it again
 * when it hands it out, through CPA, from inside the allocator: no wakeup
 * may be done there, and the direct map stays at 4K anyway.  A boot of its
 * own, with debug_pagealloc=on.
 */
static void dmap_ptest_allocator_quiet(struct kunit *test)
{
	unsigned long before, after;
	struct page *page, *next;
	LIST_HEAD(pages);
	bool was_enabled;
	int i;

	KUNIT_ASSERT_TRUE_MSG(test, debug_pagealloc_enabled(),
			      "boot with debug_pagealloc=on");
	was_enabled = dmap_collapse_set_enabled(false);
	before = READ_ONCE(dmap_collapse_state.stats.notes);

	/* 4M and more of pages, handed out and freed: many 2M areas */
	for (i = 0; i < DMAP_PTEST_PAGES; i++) {
		page = alloc_page(GFP_KERNEL);
		if (!page)
			break;
		list_add(&page->lru, &pages);
	}
	KUNIT_EXPECT_EQ(test, i, DMAP_PTEST_PAGES);
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}

	after = READ_ONCE(dmap_collapse_state.stats.notes);
	dmap_collapse_set_enabled(was_enabled);
	KUNIT_EXPECT_EQ_MSG(test, after, before,
			    "the allocator's CPA calls noted changes for the worker");
}

/*
 * debug_pagealloc needs every page of the direct map at 4K: a region taken
 * out and put back leaves its area at 4K, never a block.
 */
static void dmap_ptest_region_at_4k(struct kunit *test)
{
	struct directmap_owner *owner;
	unsigned long pfn, base, i;
	struct page *page;
	bool present;
	int level;

	KUNIT_ASSERT_TRUE_MSG(test, debug_pagealloc_enabled(),
			      "boot with debug_pagealloc=on");
	owner = kunit_kzalloc(test, sizeof(*owner), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, owner);
	directmap_owner_init(owner, "kunit-4k");
	dmap_drain();
	page = directmap_owner_alloc(owner, NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	pfn = page_to_pfn(page);
	base = ALIGN_DOWN(pfn, PTRS_PER_PMD);
	rcu_read_lock();
	KUNIT_EXPECT_NOT_NULL_MSG(test, dmap_region_of(pfn),
				  "not from a region: nothing to check");
	rcu_read_unlock();
	level = arch_directmap_level((unsigned long)pfn_to_kaddr(pfn), &present);
	KUNIT_EXPECT_EQ_MSG(test, level, DIRECTMAP_LEVEL_4K, "taken out");
	KUNIT_EXPECT_FALSE(test, present);

	KUNIT_EXPECT_EQ(test, directmap_owner_free(owner, page, 0), 0);
	KUNIT_EXPECT_EQ(test, directmap_owner_exit(owner), 0);
	/* the empty region goes back to the page allocator */
	dmap_drain();
	for (i = 0; i < PTRS_PER_PMD; i++) {
		level = arch_directmap_level((unsigned long)pfn_to_kaddr(base + i),
					     &present);
		if (level != DIRECTMAP_LEVEL_4K)
			break;
	}
	KUNIT_EXPECT_EQ_MSG(test, level, DIRECTMAP_LEVEL_4K,
			    "pfn %#lx is mapped by a %s entry after the region went back",
			    base + i, level == DIRECTMAP_LEVEL_2M ? "2M" : "1G");
}

static struct kunit_case dmap_pagealloc_cases[] = {
	KUNIT_CASE(dmap_ptest_allocator_quiet),
	KUNIT_CASE(dmap_ptest_region_at_4k),
	{}
};

/* Not a directmap_* suite: `make check` runs it in a boot of its own */
static struct kunit_suite dmap_pagealloc_suite = {
	.name = "kdirectmapd_pagealloc",
	.test_cases = dmap_pagealloc_cases,
};

kunit_test_suite(dmap_pagealloc_suite);
#endif

#endif /* _MM_DIRECTMAP_COLLAPSE_KUNIT_H */
