/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for wiping pages that have no direct map: the wipe address
 * reaches a page from the wiping CPU alone, and what a page held is gone
 * for its next owner, one page or a batch.
 */
#ifndef _MM_DIRECTMAP_WIPE_KUNIT_H
#define _MM_DIRECTMAP_WIPE_KUNIT_H

#include <kunit/test.h>
#include <kunit/static_stub.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>

#include "helpers-kunit.h"

/* Another CPU, looking at the wipe address while a page is mapped there */
struct dmap_test_peek {
	unsigned long	addr;
	bool		asked;
	bool		answered;
	bool		readable;
	bool		nmi_refused;
	bool		nofault_refused;
	bool		private;
	struct completion done;
};

static struct dmap_test_peek *dmap_test_peek;

static int dmap_test_peek_fn(void *data)
{
	struct dmap_test_peek *pk = data;
	unsigned long until = jiffies + 10 * HZ;

	while (!READ_ONCE(pk->asked) && time_before(jiffies, until))
		usleep_range(100, 200);
	if (READ_ONCE(pk->asked)) {
		u64 leaf;

		/* in the page tables this CPU runs on, as its walker sees them */
		dmap_test_walk(dmap_test_loaded_pgd(pk->addr), pk->addr, &leaf);
		pk->readable = dmap_test_leaf_valid(leaf);
		WRITE_ONCE(pk->answered, true);
	}
	complete(&pk->done);
	return 0;
}

/* With the page mapped for its wipe: ask the other CPU, then wipe */
static void dmap_test_wipe_watched(void *addr)
{
	struct dmap_test_peek *pk = dmap_test_peek;
	u64 leaf;
	int ms;
	char c;

	pk->addr = (unsigned long)addr;
	WRITE_ONCE(pk->asked, true);
	for (ms = 0; ms < 2000 && !READ_ONCE(pk->answered); ms++)
		mdelay(1);
	pk->nmi_refused = dmap_test_nmi_uaccess_refused();
	/* as a probed handler's bpf_probe_read_kernel() would, mid-wipe */
	pk->nofault_refused = copy_from_kernel_nofault(&c, addr, 1) != 0;
	dmap_test_walk(dmap_test_loaded_pgd(pk->addr), pk->addr, &leaf);
	pk->private = dmap_test_leaf_valid(leaf) &&
		      !dmap_test_leaf_global(leaf);
	clear_page(addr);
}

/*
 * The address a page is wiped at reaches it from the wiping CPU alone:
 * another CPU whose page-table walker looks it up meanwhile (as a
 * speculative walk would, to cache it) finds nothing there.  Nor may an
 * NMI on the wiping CPU read user memory meanwhile (perf's user call
 * chains): it would read the wipe's mm instead of the task's.
 */
static void dmap_test_wipe_private(struct kunit *test)
{
	struct dmap_test_peek pk = {};
	struct task_struct *t;
	struct page *page;
	int cpu;

	dmap_test_need_cpus(test, 2);
	if (!dmap_test_wipe_in_mm())
		kunit_skip(test, "pages are wiped at a kernel address here");
	init_completion(&pk.done);
	dmap_test_peek = &pk;
	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	dmap_test_fill(test, page, 0x5a);

	migrate_disable();
	cpu = smp_processor_id();
	t = kthread_create(dmap_test_peek_fn, &pk, "dmap_peek");
	if (!IS_ERR(t)) {
		kthread_bind(t, cpumask_any_but(cpu_online_mask, cpu));
		wake_up_process(t);
		WRITE_ONCE(directmap_wipe_watch, dmap_test_wipe_watched);
		directmap_clear_pages(page, 1);
		WRITE_ONCE(directmap_wipe_watch, NULL);
	}
	migrate_enable();
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&pk.done);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);

	KUNIT_EXPECT_TRUE_MSG(test, pk.answered, "no wipe was watched");
	KUNIT_EXPECT_FALSE_MSG(test, pk.readable,
			       "another CPU maps the page at %#lx mid-wipe",
			       pk.addr);
	KUNIT_EXPECT_TRUE_MSG(test, pk.private,
			      "the wiping CPU maps %#lx with a global entry",
			      pk.addr);
	KUNIT_EXPECT_TRUE_MSG(test, pk.nofault_refused,
			      "a nofault kernel read reaches the page mid-wipe");
	KUNIT_EXPECT_TRUE_MSG(test, pk.nmi_refused,
			      "an NMI may read user memory mid-wipe");
}

/* The next owner of a page reads zeros; wiping does not map it back */
static void dmap_test_wiped(struct kunit *test)
{
	struct page *page, *again;
	struct page **held;
	int i, n = 0;

	held = kunit_kcalloc(test, 2 * DMAP_REGION_PAGES, sizeof(*held),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page));
	dmap_test_fill(test, page, 0x5a);
	KUNIT_EXPECT_FALSE(test, dmap_test_zero(test, page));
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));

	/* from the page's node: this thread may have moved to another */
	do {
		again = directmap_alloc_pages(page_to_nid(page), 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, again);
		held[n++] = again;
	} while (again != page && n < 2 * DMAP_REGION_PAGES);

	KUNIT_EXPECT_PTR_EQ(test, again, page);
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page));
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, directmap_free_pages(held[i], 0), 0);
}

/*
 * A free of the largest order is wiped under one load of the wipe mm;
 * directmap_clear_pages() splits more pages into batches: every page
 * reads zeros after, whichever batch it was in.  Pages from the page
 * allocator, still mapped, so that the test reads them directly.
 */
static void dmap_test_wiped_batches(struct kunit *test)
{
	const unsigned int order = 5;	/* more than one batch */
	unsigned int i, dirty = 0;
	struct page *page;

	page = alloc_pages(GFP_KERNEL, order);
	KUNIT_ASSERT_NOT_NULL(test, page);
	for (i = 0; i < (1U << order); i++)
		memset(page_address(page + i), 0xa5, PAGE_SIZE);
	directmap_clear_pages(page, 1U << order);
	for (i = 0; i < (1U << order); i++)
		dirty += !!memchr_inv(page_address(page + i), 0, PAGE_SIZE);
	__free_pages(page, order);
	KUNIT_EXPECT_EQ_MSG(test, dirty, 0U,
			    "%u of %u pages kept their contents",
			    dirty, 1U << order);
}

static struct kunit_case dmap_wtest_cases[] = {
	KUNIT_CASE(dmap_test_wipe_private),
	KUNIT_CASE(dmap_test_wiped),
	KUNIT_CASE(dmap_test_wiped_batches),
	{}
};

static struct kunit_suite dmap_wtest_suite = {
	.name = "directmap_wipe",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_wtest_cases,
};

kunit_test_suite(dmap_wtest_suite);

#endif /* _MM_DIRECTMAP_WIPE_KUNIT_H */
