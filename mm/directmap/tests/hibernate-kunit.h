/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for directmap and hibernation: nothing is handed out from
 * PREPARE to POST, hibernation and restore are refused while pages are
 * out, and the caches are drained for them.  They call the PM notifier as
 * the PM core would, without hibernating.
 */
#ifndef _MM_DIRECTMAP_HIBERNATE_KUNIT_H
#define _MM_DIRECTMAP_HIBERNATE_KUNIT_H

#include <kunit/test.h>
#include <kunit/static_stub.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/suspend.h>

#include "helpers-kunit.h"

/* Hibernation is refused while pages are out, and drains the caches */
static void dmap_htest_refused(struct kunit *test)
{
	struct page *page;

	if (!IS_ENABLED(CONFIG_HIBERNATION))
		kunit_skip(test, "CONFIG_HIBERNATION is off");
	KUNIT_ASSERT_TRUE_MSG(test, hibernation_available(),
			      "hibernation is off in this boot");

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, directmap_active());
	KUNIT_EXPECT_FALSE(test, hibernation_available());
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_HIBERNATION_PREPARE, NULL),
			notifier_from_errno(-EBUSY));

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_FALSE(test, directmap_active());
	KUNIT_EXPECT_TRUE(test, hibernation_available());
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_HIBERNATION_PREPARE, NULL),
			NOTIFY_OK);
	KUNIT_EXPECT_EQ(test, dmap_nodes[page_to_nid(page)]->cache.nr_regions, 0UL);
	/* hibernation is over: nothing is handed out until then */
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_POST_HIBERNATION, NULL),
			NOTIFY_OK);
}

/*
 * Restoring an image writes its pages where they were, through a copy of
 * the direct map: no region may be out then, empty ones go back first.
 */
static void dmap_htest_restore(struct kunit *test)
{
	struct page *page;
	int nid;

	if (!IS_ENABLED(CONFIG_HIBERNATION))
		kunit_skip(test, "CONFIG_HIBERNATION is off");
	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	nid = page_to_nid(page);
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_RESTORE_PREPARE, NULL),
			notifier_from_errno(-EBUSY));

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_GE(test, dmap_nodes[nid]->cache.nr_regions, 1UL);
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_RESTORE_PREPARE, NULL),
			NOTIFY_OK);
	KUNIT_EXPECT_EQ(test, dmap_nodes[nid]->cache.nr_regions, 0UL);
	/* and nothing is handed out until the restore is over */
	KUNIT_EXPECT_TRUE(test, READ_ONCE(dmap_hibernating));
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_POST_RESTORE, NULL),
			NOTIFY_OK);
	page = directmap_alloc_pages(nid, 0, 0);
	KUNIT_EXPECT_NOT_NULL(test, page);
	if (page)
		KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
}

struct dmap_htest_waiter {
	struct completion done;
	struct page *page;
};

static int dmap_htest_alloc(void *data)
{
	struct dmap_htest_waiter *h = data;

	/* as a task's: a signal that does not kill it */
	allow_signal(SIGUSR1);
	h->page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	complete(&h->done);
	return 0;
}

/*
 * From hibernation's PREPARE to its POST nothing is handed out: the check
 * that nothing is out and the snapshot are apart, and a page handed out
 * in between would go into the image.  An allocation waits for the end.
 * Both ways into hibernation (/sys/power/state and /dev/snapshot) notify
 * the same way.
 */
static void dmap_htest_window(struct kunit *test)
{
	struct dmap_htest_waiter *h;
	struct task_struct *t;
	struct page *page;
	int ret;

	h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	init_completion(&h->done);
	dmap_drain();
	ret = dmap_pm_notify(NULL, PM_HIBERNATION_PREPARE, NULL);
	KUNIT_ASSERT_EQ(test, ret, NOTIFY_OK);
	t = kthread_run(dmap_htest_alloc, h, "dmap-hib");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	get_task_struct(t);
	msleep(500);
	KUNIT_EXPECT_FALSE(test, completion_done(&h->done));
	/* a signal that does not kill it does not fail the allocation */
	send_sig(SIGUSR1, t, 0);
	put_task_struct(t);
	msleep(200);
	KUNIT_EXPECT_FALSE(test, completion_done(&h->done));
	KUNIT_EXPECT_FALSE(test, directmap_active());
	dmap_pm_notify(NULL, PM_POST_HIBERNATION, NULL);
	wait_for_completion(&h->done);
	KUNIT_ASSERT_NOT_NULL(test, h->page);

	/* refused with a page out, and allocations do not wait after */
	ret = dmap_pm_notify(NULL, PM_HIBERNATION_PREPARE, NULL);
	KUNIT_EXPECT_EQ(test, ret, notifier_from_errno(-EBUSY));
	KUNIT_EXPECT_EQ(test, directmap_free_pages(h->page, 0), 0);
	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_EXPECT_NOT_NULL(test, page);
	if (page)
		KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
}

static void dmap_htest_no_kick(struct dmap_node *pn)
{
}

struct dmap_htest_prepare {
	struct completion started;
	struct completion done;
	int ret;
};

static int dmap_htest_prepare_fn(void *data)
{
	struct dmap_htest_prepare *p = data;

	complete(&p->started);
	p->ret = dmap_pm_notify(NULL, PM_HIBERNATION_PREPARE, NULL);
	complete(&p->done);
	return 0;
}

/*
 * A freed page whose wipe the work or another CPU's free took: its region
 * empties only once that wipe is done.  PREPARE waits for it, then gives
 * the region back.  Whatever fails, the taken page is put back and
 * hibernation ended, so that later cases find neither.
 */
static void dmap_htest_wipe_in_flight(struct kunit *test)
{
	struct page *page, *pages[DMAP_WIPE_BATCH];
	u8 orders[DMAP_WIPE_BATCH];
	struct task_struct *t;
	struct dmap_htest_prepare *p;
	struct dmap_node *pn;
	unsigned int n;

	if (!IS_ENABLED(CONFIG_HIBERNATION))
		kunit_skip(test, "CONFIG_HIBERNATION is off");
	kunit_activate_static_stub(test, dmap_wipe_kick, dmap_htest_no_kick);
	dmap_wipe_work_sync();
	dmap_drain();
	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	init_completion(&p->started);
	init_completion(&p->done);

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	pn = dmap_nodes[page_to_nid(page)];
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	/* taken, as the work or a free that fills the queue takes it */
	spin_lock(&pn->wipe_lock);
	n = dmap_wipe_take(pn, pages, orders);
	spin_unlock(&pn->wipe_lock);
	KUNIT_EXPECT_EQ(test, n, 1U);

	t = kthread_run(dmap_htest_prepare_fn, p, "dmap-hib");
	KUNIT_EXPECT_FALSE(test, IS_ERR(t));
	if (!IS_ERR(t)) {
		wait_for_completion(&p->started);
		msleep(200);
		KUNIT_EXPECT_FALSE_MSG(test, completion_done(&p->done),
				       "PREPARE did not wait for the wipe under way");
	}
	dmap_wipe_finish(pn, pages, orders, n);
	if (IS_ERR(t))
		return;
	wait_for_completion(&p->done);
	KUNIT_EXPECT_EQ(test, p->ret, NOTIFY_OK);
	KUNIT_EXPECT_EQ(test, pn->cache.nr_regions, 0UL);
	/* a refused PREPARE has no POST */
	if (p->ret == NOTIFY_OK)
		KUNIT_EXPECT_EQ(test,
				dmap_pm_notify(NULL, PM_POST_HIBERNATION, NULL),
				NOTIFY_OK);
}

/*
 * PREPARE never waits for memory hotplug: memory online may wait for the
 * mmap_lock of a fault that waits for hibernation to end.  The regions it
 * gives back leave their 1G entries to the worker.
 */
static void dmap_htest_prepare_hotplug(struct kunit *test)
{
	struct dmap_htest_prepare *p;
	struct task_struct *t;
	struct page *page;
	long done;

	if (!IS_ENABLED(CONFIG_HIBERNATION) || !IS_ENABLED(CONFIG_MEMORY_HOTPLUG))
		kunit_skip(test, "CONFIG_HIBERNATION or CONFIG_MEMORY_HOTPLUG is off");
	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	init_completion(&p->started);
	init_completion(&p->done);
	/* an empty region for PREPARE to give back */
	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	dmap_test_wipe_queued();

	mem_hotplug_begin();
	t = kthread_run(dmap_htest_prepare_fn, p, "dmap-hib");
	done = IS_ERR(t) ? 0 : wait_for_completion_timeout(&p->done, 5 * HZ);
	mem_hotplug_done();
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	if (!done)
		wait_for_completion(&p->done);
	KUNIT_EXPECT_NE_MSG(test, done, 0L, "PREPARE waited for memory hotplug");
	KUNIT_EXPECT_EQ(test, p->ret, NOTIFY_OK);
	KUNIT_EXPECT_EQ(test, dmap_nodes[page_to_nid(page)]->cache.nr_regions,
			0UL);
	if (p->ret == NOTIFY_OK)
		KUNIT_EXPECT_EQ(test,
				dmap_pm_notify(NULL, PM_POST_HIBERNATION, NULL),
				NOTIFY_OK);
}

/*
 * A freed page that waits for its wipe does not hold hibernation off, and
 * PREPARE wipes it; from then on a free wipes at once.
 */
static void dmap_htest_wipe_queue(struct kunit *test)
{
	struct page *page, *keep;
	struct dmap_node *pn;
	long loads;

	if (!IS_ENABLED(CONFIG_HIBERNATION))
		kunit_skip(test, "CONFIG_HIBERNATION is off");
	/* this case's frees kick nothing; an earlier case's kick runs now */
	kunit_activate_static_stub(test, dmap_wipe_kick, dmap_htest_no_kick);
	dmap_wipe_work_sync();
	dmap_drain();

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	pn = dmap_nodes[page_to_nid(page)];
	KUNIT_ASSERT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pn->nr_wipe), 1U);
	KUNIT_EXPECT_FALSE(test, directmap_active());
	KUNIT_EXPECT_TRUE(test, hibernation_available());
	loads = atomic_long_read(&dmap_wipe_loads);
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_HIBERNATION_PREPARE, NULL),
			NOTIFY_OK);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pn->nr_wipe), 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_wipe_loads), loads + 1);
	KUNIT_EXPECT_EQ(test, pn->cache.nr_regions, 0UL);
	KUNIT_EXPECT_EQ(test, dmap_pm_notify(NULL, PM_POST_HIBERNATION, NULL),
			NOTIFY_OK);

	/*
	 * A free that overlaps PREPARE, and finds the flag set.  Another page
	 * of the region stays out, so that the region is not given back
	 * before the test looks.
	 */
	keep = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, keep);
	page = directmap_alloc_pages(page_to_nid(keep), 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_PTR_EQ(test, dmap_region_of(page_to_pfn(page)),
			    dmap_region_of(page_to_pfn(keep)));
	pn = dmap_nodes[page_to_nid(page)];
	dmap_test_fill(test, page, 0x5a);
	WRITE_ONCE(dmap_hibernating, true);
	loads = atomic_long_read(&dmap_wipe_loads);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	WRITE_ONCE(dmap_hibernating, false);
	wake_up_all(&dmap_pm_wait);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pn->nr_wipe), 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dmap_wipe_loads), loads + 1);
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page));
	KUNIT_EXPECT_TRUE(test, directmap_active());
	KUNIT_EXPECT_EQ(test, directmap_free_pages(keep, 0), 0);
	dmap_test_wipe_queued();
	KUNIT_EXPECT_FALSE(test, directmap_active());
}

static struct kunit_case dmap_htest_cases[] = {
	KUNIT_CASE(dmap_htest_refused),
	KUNIT_CASE(dmap_htest_restore),
	KUNIT_CASE(dmap_htest_window),
	KUNIT_CASE(dmap_htest_wipe_queue),
	KUNIT_CASE(dmap_htest_wipe_in_flight),
	KUNIT_CASE(dmap_htest_prepare_hotplug),
	{}
};

static struct kunit_suite dmap_htest_suite = {
	.name = "directmap_hibernate",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_htest_cases,
};

kunit_test_suite(dmap_htest_suite);

#endif /* _MM_DIRECTMAP_HIBERNATE_KUNIT_H */
