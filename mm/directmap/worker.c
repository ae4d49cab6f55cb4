// SPDX-License-Identifier: GPL-2.0
/*
 * The direct map collapse worker: re-forms the 2M and 1G entries of the
 * whole direct map once every entry under them is back to the default,
 * whoever split them (CPA users, stock secretmem, directmap itself).
 *
 * CPA notes each change of the direct map (see collapse.c); a freezable
 * kthread at the lowest priority, shaped like khugepaged, wakes on the
 * first note, waits collapse_delay_ms so the area can settle, and runs a
 * pass.  Its knobs and counters are in /sys/kernel/mm/directmap/, its
 * queue in debugfs.  It runs with directmap=collapse too, without the
 * region cache: the direct map needs repair whether or not the cache is
 * in use.  directmap=off is the stock kernel, and starts no worker.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/directmap.h>
#include <linux/freezer.h>
#include <linux/init.h>
#include <linux/ioport.h>
#include <linux/kobject.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/memblock.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include <linux/wait.h>

#include <trace/events/directmap.h>

#include "policy.h"
#include "internal.h"

#define DMAP_COLLAPSE_DELAY_MS	200
#define DMAP_COLLAPSE_DELAY_MAX	60000
#define DMAP_COLLAPSE_BATCH	512
#define DMAP_COLLAPSE_BATCH_MAX	BIT(20)
#define DMAP_COLLAPSE_PASSES_MAX	BIT(16)
#define DMAP_RELEASE_IDLE_MAX	3600000

static struct dmap_collapse dmap_collapse_state;
/* Serialises passes, explicit collapses and readers of the state */
static DEFINE_MUTEX(dmap_collapse_mutex);
static DECLARE_WAIT_QUEUE_HEAD(dmap_collapse_wait);
static struct task_struct *dmap_collapse_thread;
/* Set once the bitmaps exist: notes before that are dropped */
static bool dmap_collapse_ready;
/*
 * Bit 0: an area was marked since the worker last looked; bit 1: its next
 * pass is to try every marked area at once
 */
static unsigned long dmap_collapse_kicked;
/*
 * Under dmap_collapse_mutex: the collapses under way are those of a
 * region's holder, which need not exclude memory hotplug
 */
static bool dmap_collapse_holder;

static bool dmap_collapse_enabled = true;
static unsigned int dmap_collapse_delay_ms = DMAP_COLLAPSE_DELAY_MS;
static unsigned int dmap_collapse_batch = DMAP_COLLAPSE_BATCH;

static bool dmap_collapse_is_ready(void)
{
	/* Pairs with the release in dmap_collapse_init_worker(): bitmaps set */
	return smp_load_acquire(&dmap_collapse_ready);
}

/* ---- the environment of the policy ---- */

/*
 * The node of a direct-map frame for the tracepoints; holes and offline
 * memory (whose struct pages may be poisoned) have none
 */
static int dmap_collapse_pfn_nid(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);

	return page ? page_to_nid(page) : NUMA_NO_NODE;
}

/*
 * Memory hot-remove frees direct-map tables under the hotplug lock alone:
 * each try holds it, from before the look-up that tells whether the area
 * is a region (whose release, offline and removal may follow at once)
 * until its walk is done.  It is taken before the share lock and never
 * under it: a fault that holds mmap_lock may wait for a share lock (the
 * free of a single page), and memory online takes mmap_lock under the
 * hotplug lock.  Only a region's holder collapses without it: its memory
 * cannot go offline meanwhile, and its give-back may run in a fault.
 */
int dmap_env_collapse_pmd(unsigned long pfn, bool not_present)
{
	u64 start = ktime_get_ns();
	bool locked;
	int ret, nid;

	lockdep_assert_held(&dmap_collapse_mutex);
	locked = !dmap_collapse_holder;
	/* a holder's range is its own region, or it needs the lock */
	VM_WARN_ON_ONCE(!locked && !dmap_region_of(pfn));
	if (locked)
		get_online_mems();
	/*
	 * A region of directmap's is re-formed absent, as one entry; which
	 * areas are regions is looked up again under the share lock, so
	 * @not_present only tells the policy's view.
	 */
	ret = dmap_area_collapse(pfn);
	/* the memmap is not read once hot-remove may run */
	nid = dmap_collapse_pfn_nid(pfn);
	if (locked)
		put_online_mems();
	trace_directmap_collapse(nid, pfn, 2, ret, ktime_get_ns() - start);
	return ret;
}

int dmap_env_collapse_pud(unsigned long pfn)
{
	u64 start = ktime_get_ns();
	int ret, nid;

	lockdep_assert_held(&dmap_collapse_mutex);
	get_online_mems();
	ret = arch_directmap_collapse_pud(pfn);
	nid = dmap_collapse_pfn_nid(pfn);
	put_online_mems();

	trace_directmap_collapse(nid, pfn, 3, ret, ktime_get_ns() - start);
	return ret;
}

/* One batch of collapses: the architecture may invalidate once, at its end */
void dmap_env_collapse_begin(void)
{
	arch_directmap_collapse_begin();
}

void dmap_env_collapse_end(void)
{
	arch_directmap_collapse_end();
}

/* Wake the worker, once per batch of notes */
static void dmap_collapse_kick(void)
{
	if (!test_and_set_bit(0, &dmap_collapse_kicked))
		wake_up_interruptible(&dmap_collapse_wait);
}

/* ---- notes from the architecture ---- */

static void dmap_collapse_note_addr(unsigned long addr, bool pud)
{
	if (!dmap_collapse_is_ready())
		return;
	/* from any context, unlocked: a statistic */
	data_race(dmap_collapse_state.stats.notes++);
	if (dmap_collapse_note(&dmap_collapse_state, PHYS_PFN(__pa(addr)), pud))
		dmap_collapse_kick();
}

/**
 * directmap_note_pte - note that 4K entries of the direct map changed
 * @addr:	a direct-map address in the 2M area whose 4K entries changed,
 *		or whose 2M entry was split
 *
 * Context: any, CPA's locks included; does not allocate or sleep.
 */
void directmap_note_pte(unsigned long addr)
{
	dmap_collapse_note_addr(addr, false);
}

/**
 * directmap_note_pmd - note that 2M entries of the direct map changed
 * @addr:	a direct-map address in the 1G area whose 2M entries changed,
 *		or whose 1G entry was split
 *
 * Context: any, CPA's locks included; does not allocate or sleep.
 */
void directmap_note_pmd(unsigned long addr)
{
	dmap_collapse_note_addr(addr, true);
}

/**
 * directmap_note_split - report a split of a large direct-map entry
 * @addr:	a direct-map address under the entry that was split
 * @level:	2 for a 2M entry, 3 for a 1G entry
 *
 * Called where the architecture counts direct_map_level{2,3}_splits, so
 * that the directmap_split tracepoint matches those counters.  The
 * collapse worker learns about the new table from directmap_note_pte()
 * and directmap_note_pmd().
 *
 * Context: any, CPA's locks included; does not allocate or sleep.
 */
void directmap_note_split(unsigned long addr, int level)
{
	unsigned long pfn = PHYS_PFN(__pa(addr));

	trace_directmap_split(dmap_collapse_pfn_nid(pfn), pfn, level);
}

/**
 * directmap_note_4k_only - keep part of the direct map at 4K for good
 * @addr:	first direct-map address
 * @nr_pages:	number of pages
 *
 * For set_memory_4k(): kfence and SEV-SNP need 4K entries there, so the
 * collapse worker must never re-form the 2M areas of the range.
 *
 * Context: any; does not allocate or sleep.
 */
void directmap_note_4k_only(unsigned long addr, unsigned long nr_pages)
{
	if (!dmap_collapse_is_ready())
		return;
	dmap_collapse_pin(&dmap_collapse_state, PHYS_PFN(__pa(addr)), nr_pages);
}

/**
 * dmap_collapse_forget - drop what the worker knows of an offline range
 * @pfn:	first frame
 * @nr_pages:	number of frames
 *
 * Memory that goes offline may come back as other memory: its pins go.
 * Marks are dropped when the worker finds the area offline.
 *
 * Context: any; does not allocate or sleep.
 */
void dmap_collapse_forget(unsigned long pfn, unsigned long nr_pages)
{
	if (dmap_collapse_is_ready())
		dmap_collapse_unpin(&dmap_collapse_state, pfn, nr_pages);
}

static int dmap_collapse_count_ram_res(struct resource *res, void *arg)
{
	struct resource *whole = arg;

	/* walk_system_ram_res() clips each resource to the range */
	if (res->start != whole->start || res->end != whole->end)
		whole->flags = 0;
	whole->desc++;
	return 0;
}

/**
 * directmap_pud_one_resource - may the 1G area over a frame be one entry?
 * @pfn:	a frame of the area
 *
 * Memory hot-remove takes one System RAM resource away at a time, and
 * tears a 1G entry down only for a range that covers it whole: a 1G
 * entry over memory added in pieces (virtio-mem blocks, two DIMMs) would
 * be taken for a table when one piece goes.  So a 1G entry is re-formed
 * only over an area that a single resource covers whole.
 *
 * Context: memory hotplug excluded (get_online_mems()), may sleep.
 * Return: true if one System RAM resource covers the whole area.
 */
bool directmap_pud_one_resource(unsigned long pfn)
{
	struct resource whole = {
		.start	= PFN_PHYS(pfn & ~(DMAP_PUD_PAGES - 1)),
		.end	= PFN_PHYS(pfn & ~(DMAP_PUD_PAGES - 1)) +
			  PFN_PHYS(DMAP_PUD_PAGES) - 1,
		.flags	= 1,
	};

	walk_system_ram_res(whole.start, whole.end, &whole,
			    dmap_collapse_count_ram_res);
	return whole.flags && whole.desc == 1;
}

/* ---- collapsing ---- */

/* @holder: the range is a region that the caller holds */
static int dmap_collapse_now(unsigned long pfn, unsigned long nr_pages,
			     bool pud_now, bool holder)
{
	bool contended = false;
	unsigned long p;
	int ret;

	might_sleep();
	if (!dmap_collapse_is_ready())
		return -EOPNOTSUPP;

	if (!dmap_in_reclaim() && mutex_trylock(&dmap_collapse_mutex)) {
		unsigned long busy = dmap_collapse_state.stats.busy;

		dmap_collapse_holder = holder;
		ret = dmap_collapse_range(&dmap_collapse_state, pfn, nr_pages,
					  pud_now);
		dmap_collapse_holder = false;
		/* an area met a contended lock, whatever error came first */
		contended = dmap_collapse_state.stats.busy != busy;
		mutex_unlock(&dmap_collapse_mutex);
	} else {
		/* every 2M and 1G area of the range, as a try would */
		for (p = pfn & ~(DMAP_REGION_PAGES - 1); p < pfn + nr_pages;
		     p += DMAP_REGION_PAGES) {
			dmap_collapse_note(&dmap_collapse_state, p, false);
			dmap_collapse_note(&dmap_collapse_state, p, true);
		}
		ret = -EBUSY;
	}
	/* Contended areas, and 1G areas left to it: the worker's */
	if (ret == -EBUSY || contended || !pud_now)
		dmap_collapse_kick();
	return ret;
}

/**
 * directmap_collapse - re-form the large direct-map entries over a range now
 * @pfn:	first frame
 * @nr_pages:	number of frames
 *
 * Try each 2M area of the range and each 1G area it touches right away,
 * rather than wait for the worker.
 *
 * Never waits for a pass of the worker: if one is running, or if called
 * from reclaim, the range is marked and left to it.
 *
 * Context: process context, may sleep; waits for memory hotplug, so not
 * with mmap_lock held.
 * Return: 0 if every 2M area of the range is mapped by a large entry and
 * every 1G area it touches by a 1G entry (where the CPU has them);
 * -EAGAIN if entries under them still differ; -EBUSY if a lock was
 * contended (the worker tries again later); -EOPNOTSUPP if the direct map
 * must stay at 4K (debug_pagealloc, no PSE) or the worker is not set up.
 */
int directmap_collapse(unsigned long pfn, unsigned long nr_pages)
{
	return dmap_collapse_now(pfn, nr_pages, true, false);
}

/**
 * dmap_collapse_region - re-form the 2M entry of a region given back
 * @pfn:	its first frame
 *
 * As directmap_collapse(), but the 1G area is left to the worker, which
 * re-forms it once the direct map is idle: the next refill would likely
 * split it again.  The caller still holds the region, so this does not
 * wait for memory hotplug.
 *
 * Context: process context, may sleep.
 * Return: as directmap_collapse() for the 2M area.
 */
int dmap_collapse_region(unsigned long pfn)
{
	return dmap_collapse_now(pfn, DMAP_REGION_PAGES, false, true);
}

/*
 * A pass that tries every marked area, under the mutex the caller took,
 * and unlocks it.  It serves a dmap_collapse_flush_soon() that found the
 * mutex taken, so that the worker does not run that pass again, unless
 * areas are left (contended): the worker's next pass then tries them all
 * at once, as it would have.
 */
static void dmap_collapse_pass_now(void)
{
	bool asked = test_and_clear_bit(1, &dmap_collapse_kicked);
	bool more;

	more = dmap_collapse_pass(&dmap_collapse_state, ULONG_MAX, true);
	if (more && asked)
		set_bit(1, &dmap_collapse_kicked);
	mutex_unlock(&dmap_collapse_mutex);
	/* contended areas are the worker's, which may be asleep */
	if (more)
		dmap_collapse_kick();
}

/**
 * dmap_collapse_flush - try every marked area now
 *
 * Waits for a pass under way, then runs one.
 *
 * Context: process context, may sleep; waits for memory hotplug, so not
 * with mmap_lock held.
 */
void dmap_collapse_flush(void)
{
	if (!dmap_collapse_is_ready())
		return;
	mutex_lock(&dmap_collapse_mutex);
	dmap_collapse_pass_now();
}

/**
 * dmap_collapse_flush_soon - try every marked area now, or have it done
 *
 * As dmap_collapse_flush() if no pass is running; otherwise the worker's
 * next pass does it, so that the caller never waits for a pass.
 *
 * Context: process context, may sleep; waits for memory hotplug, so not
 * with mmap_lock held.
 */
void dmap_collapse_flush_soon(void)
{
	if (!dmap_collapse_is_ready())
		return;
	if (mutex_trylock(&dmap_collapse_mutex)) {
		dmap_collapse_pass_now();
		return;
	}
	set_bit(1, &dmap_collapse_kicked);
	dmap_collapse_kick();
}

/**
 * dmap_collapse_set_enabled - switch the worker on or off
 * @on:		the new state
 *
 * Notes are still taken while it is off; switching it on catches up.
 * A pass of the worker's may still be running as it returns: to have
 * none run from then on, call dmap_collapse_flush() after switching off.
 *
 * Return: the old state.
 */
bool dmap_collapse_set_enabled(bool on)
{
	bool old = xchg(&dmap_collapse_enabled, on);

	if (on)
		set_bit(0, &dmap_collapse_kicked);
	/* off: a worker asleep through passes stops counting them */
	wake_up_interruptible(&dmap_collapse_wait);
	return old;
}

static bool dmap_collapse_wanted(void)
{
	return READ_ONCE(dmap_collapse_enabled) &&
	       test_bit(0, &dmap_collapse_kicked);
}

/* Cuts a sleep through passes short: a kick, or the worker switched off */
static bool dmap_collapse_woken(void)
{
	return test_bit(0, &dmap_collapse_kicked) ||
	       !READ_ONCE(dmap_collapse_enabled);
}

/*
 * Hysteresis: let the area settle before looking at it, @delay jiffies.
 * While only 1G areas wait for the direct map to be idle, the @skip passes
 * before then would only count (dmap_collapse_idle_wait()): sleep through
 * them in one wait, which a kick cuts short, and still run the next pass
 * where a worker that passed every @delay would.
 * Return: the passes slept through before the kick, at most @skip.
 */
static unsigned long dmap_collapse_sleep(unsigned long delay,
					 unsigned long skip)
{
	unsigned long start = jiffies, slept;
	long left;

	wait_event_freezable_timeout(dmap_collapse_wait,
				     kthread_should_stop() ||
				     (skip && dmap_collapse_woken()),
				     min(delay * (skip + 1),
					 MAX_SCHEDULE_TIMEOUT - 1UL));
	if (!skip)
		return 0;
	slept = min((jiffies - start) / delay, skip);
	left = (long)(start + (slept + 1) * delay - jiffies);
	if (left > 0)
		wait_event_freezable_timeout(dmap_collapse_wait,
					     kthread_should_stop(), left);
	return slept;
}

/*
 * Count the @slept passes the worker slept through as passed, unless
 * another task ran a pass meanwhile (@nr_passes changed): its view of
 * idleness stands then.  Under dmap_collapse_mutex.
 */
static void dmap_collapse_credit(unsigned long slept, unsigned long nr_passes)
{
	struct dmap_collapse *dc = &dmap_collapse_state;

	lockdep_assert_held(&dmap_collapse_mutex);
	if (slept && dc->nr_passes == nr_passes)
		dmap_collapse_skip(dc, slept);
}

/*
 * One pass of the worker's, after it slept through @slept passes (see
 * dmap_collapse_credit()).  Sets *@skip to the passes it may sleep through
 * next, and *@nr_passes to the count after this one.
 */
static bool dmap_collapse_worker_pass(unsigned long slept, unsigned long *skip,
				      unsigned long *nr_passes)
{
	struct dmap_collapse *dc = &dmap_collapse_state;
	bool now, more;

	mutex_lock(&dmap_collapse_mutex);
	dmap_collapse_credit(slept, *nr_passes);
	/*
	 * Off: no pass, and the kick kept for when it is switched on.
	 * Looked at under the mutex, so that no pass begins after a flush
	 * that followed the switch (dmap_collapse_set_enabled()).
	 */
	if (!READ_ONCE(dmap_collapse_enabled)) {
		more = false;
		*skip = 0;
		goto out;
	}
	/* the pass reads what was noted before a kick it clears */
	clear_bit(0, &dmap_collapse_kicked);
	/* under the mutex: a pass now that ran meanwhile served the request */
	now = test_and_clear_bit(1, &dmap_collapse_kicked);
	more = dmap_collapse_pass(dc, now ? ULONG_MAX :
				  READ_ONCE(dmap_collapse_batch), now);
	*skip = more ? dmap_collapse_idle_wait(dc) : 0;
out:
	*nr_passes = dc->nr_passes;
	mutex_unlock(&dmap_collapse_mutex);
	return more;
}

static int dmap_collapse_threadfn(void *unused)
{
	unsigned long skip = 0, nr_passes = 0, slept, delay;
	bool more = false;

	set_freezable();
	set_user_nice(current, MAX_NICE);

	while (!kthread_should_stop()) {
		if (!more)
			wait_event_freezable(dmap_collapse_wait,
					     kthread_should_stop() ||
					     dmap_collapse_wanted());
		delay = msecs_to_jiffies(READ_ONCE(dmap_collapse_delay_ms));
		/* no delay: passes back to back, none to sleep through */
		slept = dmap_collapse_sleep(delay, delay ? skip : 0);
		if (kthread_should_stop())
			break;
		more = dmap_collapse_worker_pass(slept, &skip, &nr_passes);
		cond_resched();
	}
	return 0;
}

/* ---- /sys/kernel/mm/directmap/ ---- */

static ssize_t collapse_enabled_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(dmap_collapse_enabled));
}

static ssize_t collapse_enabled_store(struct kobject *kobj,
				      struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	bool val;
	int err;

	err = kstrtobool(buf, &val);
	if (err)
		return err;
	dmap_collapse_set_enabled(val);
	return count;
}

/*
 * Store a tunable in [@min, @max].  @kick: the worker's sleep through
 * passes was worked out with the old value, so a change wakes it.
 */
static ssize_t dmap_collapse_uint_store(const char *buf, size_t count,
					unsigned int *val, unsigned int min,
					unsigned int max, bool kick)
{
	unsigned int v;
	int err;

	err = kstrtouint(buf, 0, &v);
	if (err)
		return err;
	if (v < min || v > max)
		return -EINVAL;
	if (xchg(val, v) != v && kick)
		dmap_collapse_kick();
	return count;
}

static ssize_t collapse_delay_ms_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dmap_collapse_delay_ms));
}

static ssize_t collapse_delay_ms_store(struct kobject *kobj,
				       struct kobj_attribute *attr,
				       const char *buf, size_t count)
{
	return dmap_collapse_uint_store(buf, count, &dmap_collapse_delay_ms,
					0, DMAP_COLLAPSE_DELAY_MAX, true);
}

static ssize_t collapse_batch_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dmap_collapse_batch));
}

static ssize_t collapse_batch_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return dmap_collapse_uint_store(buf, count, &dmap_collapse_batch,
					1, DMAP_COLLAPSE_BATCH_MAX, false);
}

static ssize_t release_idle_ms_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dmap_release_idle_ms));
}

static ssize_t release_idle_ms_store(struct kobject *kobj,
				     struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	ssize_t ret = dmap_collapse_uint_store(buf, count,
					       &dmap_release_idle_ms, 0,
					       DMAP_RELEASE_IDLE_MAX, false);

	/* regions empty for longer already go now, not at the old time */
	if (ret > 0 && READ_ONCE(dmap_release_idle_ms))
		dmap_idle_run();
	return ret;
}

static ssize_t collapse_backoff_passes_show(struct kobject *kobj,
					    struct kobj_attribute *attr,
					    char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dmap_collapse_state.backoff));
}

static ssize_t collapse_backoff_passes_store(struct kobject *kobj,
					     struct kobj_attribute *attr,
					     const char *buf, size_t count)
{
	return dmap_collapse_uint_store(buf, count,
					&dmap_collapse_state.backoff, 1,
					DMAP_COLLAPSE_PASSES_MAX, false);
}

static ssize_t collapse_idle_passes_show(struct kobject *kobj,
					 struct kobj_attribute *attr,
					 char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dmap_collapse_state.idle));
}

static ssize_t collapse_idle_passes_store(struct kobject *kobj,
					  struct kobj_attribute *attr,
					  const char *buf, size_t count)
{
	return dmap_collapse_uint_store(buf, count, &dmap_collapse_state.idle,
					1, DMAP_COLLAPSE_PASSES_MAX, true);
}

#define DMAP_COLLAPSE_STAT(name)					\
static ssize_t collapse_##name##_show(struct kobject *kobj,		\
				      struct kobj_attribute *attr,	\
				      char *buf)			\
{									\
	return sysfs_emit(buf, "%lu\n",					\
			  READ_ONCE(dmap_collapse_state.stats.name));	\
}									\
static struct kobj_attribute collapse_##name##_attr = __ATTR_RO(collapse_##name)

DMAP_COLLAPSE_STAT(passes);
DMAP_COLLAPSE_STAT(tried);
DMAP_COLLAPSE_STAT(level2);
DMAP_COLLAPSE_STAT(level3);
DMAP_COLLAPSE_STAT(not_uniform);
DMAP_COLLAPSE_STAT(busy);
DMAP_COLLAPSE_STAT(pinned);
DMAP_COLLAPSE_STAT(bounced);
DMAP_COLLAPSE_STAT(idle);
DMAP_COLLAPSE_STAT(slept);

static ssize_t collapse_pending_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	unsigned long pmds, puds;

	mutex_lock(&dmap_collapse_mutex);
	pmds = dmap_collapse_waiting(&dmap_collapse_state, false);
	puds = dmap_collapse_waiting(&dmap_collapse_state, true);
	mutex_unlock(&dmap_collapse_mutex);
	return sysfs_emit(buf, "%lu\n", pmds + puds);
}

static struct kobj_attribute collapse_enabled_attr = __ATTR_RW(collapse_enabled);
static struct kobj_attribute collapse_delay_ms_attr = __ATTR_RW(collapse_delay_ms);
static struct kobj_attribute collapse_batch_attr = __ATTR_RW(collapse_batch);
static struct kobj_attribute collapse_pending_attr = __ATTR_RO(collapse_pending);
static struct kobj_attribute collapse_backoff_passes_attr =
	__ATTR_RW(collapse_backoff_passes);
static struct kobj_attribute collapse_idle_passes_attr =
	__ATTR_RW(collapse_idle_passes);
static struct kobj_attribute release_idle_ms_attr = __ATTR_RW(release_idle_ms);

static struct attribute *dmap_collapse_attrs[] = {
	&collapse_enabled_attr.attr,
	&collapse_delay_ms_attr.attr,
	&collapse_batch_attr.attr,
	&collapse_pending_attr.attr,
	&collapse_backoff_passes_attr.attr,
	&collapse_idle_passes_attr.attr,
	&release_idle_ms_attr.attr,
	&collapse_passes_attr.attr,
	&collapse_tried_attr.attr,
	&collapse_level2_attr.attr,
	&collapse_level3_attr.attr,
	&collapse_not_uniform_attr.attr,
	&collapse_busy_attr.attr,
	&collapse_pinned_attr.attr,
	&collapse_bounced_attr.attr,
	&collapse_idle_attr.attr,
	&collapse_slept_attr.attr,
	NULL,
};

static const struct attribute_group dmap_collapse_group = {
	.attrs = dmap_collapse_attrs,
};

/* ---- debugfs: the queue ---- */

static void dmap_collapse_show_bits(struct seq_file *m, const char *what,
				    const unsigned long *map, unsigned long nr,
				    unsigned int order)
{
	unsigned long area;

	for_each_set_bit(area, map, nr)
		seq_printf(m, "%s %#llx\n", what,
			   (unsigned long long)PFN_PHYS(area << order));
}

/* debugfs directmap/collapse_queue: nothing while the worker is off */
int dmap_collapse_queue_show(struct seq_file *m, void *v)
{
	struct dmap_collapse *dc = &dmap_collapse_state;

	if (!dmap_collapse_is_ready())
		return 0;
	mutex_lock(&dmap_collapse_mutex);
	dmap_collapse_show_bits(m, "2M fresh", dc->pmd.fresh, dc->nr_pmds,
				DMAP_REGION_ORDER);
	dmap_collapse_show_bits(m, "2M aged", dc->pmd.aged, dc->nr_pmds,
				DMAP_REGION_ORDER);
	dmap_collapse_show_bits(m, "1G fresh", dc->pud.fresh, dc->nr_puds,
				DMAP_PUD_ORDER);
	dmap_collapse_show_bits(m, "1G aged", dc->pud.aged, dc->nr_puds,
				DMAP_PUD_ORDER);
	dmap_collapse_show_bits(m, "2M bounced", dc->pmd_slow, dc->nr_pmds,
				DMAP_REGION_ORDER);
	dmap_collapse_show_bits(m, "2M pinned", dc->pmd_pinned, dc->nr_pmds,
				DMAP_REGION_ORDER);
	mutex_unlock(&dmap_collapse_mutex);
	return 0;
}

/* The worker's lines of debugfs directmap/summary */
void dmap_collapse_summary(struct seq_file *m)
{
	struct dmap_collapse *dc = &dmap_collapse_state;
	unsigned long pmds = 0, puds = 0;

	if (!dmap_collapse_is_ready()) {
		seq_puts(m, "collapse worker  not running\n");
		return;
	}
	mutex_lock(&dmap_collapse_mutex);
	pmds = dmap_collapse_waiting(dc, false);
	puds = dmap_collapse_waiting(dc, true);
	mutex_unlock(&dmap_collapse_mutex);
	seq_printf(m, "collapse worker  %s, delay %u ms, batch %u; waiting 2M %lu, 1G %lu\n",
		   READ_ONCE(dmap_collapse_enabled) ? "on" : "off",
		   READ_ONCE(dmap_collapse_delay_ms), READ_ONCE(dmap_collapse_batch),
		   pmds, puds);
	seq_printf(m, "                 passes %lu, tried %lu, re-formed 2M %lu 1G %lu, not uniform %lu, busy %lu, pinned %lu\n",
		   READ_ONCE(dc->stats.passes), READ_ONCE(dc->stats.tried),
		   READ_ONCE(dc->stats.level2), READ_ONCE(dc->stats.level3),
		   READ_ONCE(dc->stats.not_uniform), READ_ONCE(dc->stats.busy),
		   READ_ONCE(dc->stats.pinned));
	seq_printf(m, "                 bounced %lu, idle passes %lu, slept through %lu\n",
		   READ_ONCE(dc->stats.bounced), READ_ONCE(dc->stats.idle),
		   READ_ONCE(dc->stats.slept));
}

/* ---- init ---- */

static int __init dmap_collapse_init_worker(void)
{
	struct kobject *kobj;
	int err;

	if (!dmap_collapse_wanted_at_boot()) {
		pr_info("collapse worker off on the command line\n");
		return 0;
	}
	/* arm64 leaves max_possible_pfn at 0 */
	err = dmap_collapse_init(&dmap_collapse_state,
				 max(max_possible_pfn, (u64)max_pfn));
	if (err)
		return err;

	dmap_collapse_thread = kthread_run(dmap_collapse_threadfn, NULL,
					   "kdirectmapd");
	if (IS_ERR(dmap_collapse_thread)) {
		err = PTR_ERR(dmap_collapse_thread);
		dmap_collapse_exit(&dmap_collapse_state);
		return err;
	}
	/* Pairs with the acquire of every note */
	smp_store_release(&dmap_collapse_ready, true);

	kobj = kobject_create_and_add("directmap", mm_kobj);
	if (!kobj || sysfs_create_group(kobj, &dmap_collapse_group))
		pr_warn("no /sys/kernel/mm/directmap\n");

	pr_info("collapse worker ready: %lu 2M areas, delay %u ms\n",
		dmap_collapse_state.nr_pmds, dmap_collapse_delay_ms);
	return 0;
}
late_initcall(dmap_collapse_init_worker);

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/collapse-kunit.h"
#endif
