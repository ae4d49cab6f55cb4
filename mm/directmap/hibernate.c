// SPDX-License-Identifier: GPL-2.0
/*
 * directmap and hibernation.
 *
 * The hibernation image must not hold directmap's pages, nor may it need
 * them mapped back with interrupts off: from PREPARE to POST nothing is
 * handed out, the empty regions go back, and hibernation is refused while
 * pages are out.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <kunit/visibility.h>
#include <linux/directmap.h>
#include <linux/mm.h>
#include <linux/notifier.h>
#include <linux/percpu-rwsem.h>
#include <linux/spinlock.h>
#include <linux/suspend.h>
#include <linux/wait.h>

#include "internal.h"

/* Set from hibernation's PREPARE to its POST: nothing is handed out */
static bool dmap_hibernating;
DEFINE_STATIC_PERCPU_RWSEM(dmap_pm_sem);
static DECLARE_WAIT_QUEUE_HEAD(dmap_pm_wait);

/**
 * dmap_alloc_begin - start an allocation, unless hibernation is under way
 *
 * Waits for hibernation to end; the allocation then keeps it from
 * starting until dmap_alloc_end().  The wait is killable only: any other
 * signal would fail a fault that only had to wait.  It is not freezable:
 * the caller may hold a fault's mmap_lock or the page cache's invalidate
 * lock, and a task frozen with them would leave the tasks waiting for
 * them unfreezable.  A hibernation that an allocation waits for fails to
 * freeze its tasks instead, and the allocation goes on after its POST.
 *
 * Return: true, or false if the task was killed (allocate nothing).
 */
bool dmap_alloc_begin(void)
{
	for (;;) {
		percpu_down_read(&dmap_pm_sem);
		if (!READ_ONCE(dmap_hibernating))
			return true;
		percpu_up_read(&dmap_pm_sem);
		if (wait_event_killable(dmap_pm_wait,
					!READ_ONCE(dmap_hibernating)))
			return false;
	}
}

/**
 * dmap_alloc_end - an allocation that dmap_alloc_begin() let start is done
 */
void dmap_alloc_end(void)
{
	percpu_up_read(&dmap_pm_sem);
}

/**
 * dmap_wipe_now - must a free wipe its pages before it returns?
 *
 * From hibernation's PREPARE on it must: the image may find no freed page
 * that waits for its wipe.  PREPARE sets the flag, then wipes what waits:
 * a page queued before is seen there, or the free that queued it sees the
 * flag.
 *
 * Return: true while hibernation is under way.
 */
bool dmap_wipe_now(void)
{
	smp_mb();	/* the queued page before the flag; pairs with PREPARE */
	return READ_ONCE(dmap_hibernating);
}

/*
 * The image skipped the free slots of the regions that stayed cached
 * (those with a retired slot), and a restore may have left anything in
 * them: wipe them, since a slot is handed out without clearing.  A free
 * slot that memory failure marked is not touched: the next take or
 * give-back retires it.
 */
static void dmap_wipe_free_slots(void)
{
	struct dmap_region *r;
	struct page *page;
	unsigned long slot;
	struct dmap_node *pn;
	int nid, i;

	dmap_for_each_node(nid, pn) {
		spin_lock(&pn->cache.lock);
		dmap_for_each_region(pn, r, i) {
			for_each_clear_bit(slot, r->used, DMAP_REGION_PAGES) {
				page = pfn_to_page(r->pfn + slot);
				if (!PageHWPoison(page))
					directmap_clear_pages(page, 1);
			}
		}
		spin_unlock(&pn->cache.lock);
	}
}

/*
 * The hibernation image must not hold directmap's pages: give the empty
 * regions back, and refuse if pages were handed out after
 * hibernation_available() said yes.  From then until hibernation is over
 * (/dev/snapshot may stay open long before the image is made) nothing is
 * handed out: an allocation in the window would put a page into the
 * image, or need its direct map back with interrupts off.  Restoring an
 * image writes its pages wherever they were, which may be where a region
 * is out: the same there.
 */
VISIBLE_IF_KUNIT int dmap_pm_notify(struct notifier_block *nb,
				    unsigned long action, void *data)
{
	switch (action) {
	case PM_HIBERNATION_PREPARE:
	case PM_RESTORE_PREPARE:
		/* waits for allocations under way; later ones see the flag */
		percpu_down_write(&dmap_pm_sem);
		WRITE_ONCE(dmap_hibernating, true);
		percpu_up_write(&dmap_pm_sem);
		smp_mb();	/* the flag before the wipe queues: dmap_wipe_now() */
		/* wipes under way first: their regions empty once they are done */
		dmap_wipe_wait();
		/* no collapse: that would wait for memory hotplug */
		dmap_drain_regions();
		if (directmap_active()) {
			pr_warn("pages are handed out: no hibernation\n");
			/* a notifier that fails PREPARE gets no POST */
			WRITE_ONCE(dmap_hibernating, false);
			wake_up_all(&dmap_pm_wait);
			return notifier_from_errno(-EBUSY);
		}
		return NOTIFY_OK;
	case PM_POST_HIBERNATION:
	case PM_POST_RESTORE:
		dmap_wipe_free_slots();
		WRITE_ONCE(dmap_hibernating, false);
		wake_up_all(&dmap_pm_wait);
		return NOTIFY_OK;
	}
	return NOTIFY_DONE;
}

static struct notifier_block dmap_pm_nb = {
	.notifier_call = dmap_pm_notify,
};

void __init dmap_hibernate_init(void)
{
	register_pm_notifier(&dmap_pm_nb);
}

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/hibernate-kunit.h"
#endif
