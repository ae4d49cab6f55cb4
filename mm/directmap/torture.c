// SPDX-License-Identifier: GPL-2.0
/*
 * Torture tests for directmap, run from debugfs:
 *
 *   echo "storm SECONDS [THREADS]" > /sys/kernel/debug/directmap/torture
 *	one thread per CPU (or THREADS) allocates and frees at random
 *	orders on every node, turns neighbouring pages read-only and back,
 *	drains the caches and runs collapse passes, for SECONDS;
 *   echo "faults FAILURES [PERCENT]" > /sys/kernel/debug/directmap/torture
 *	(CONFIG_FAIL_DIRECTMAP) allocates and frees with fail_directmap
 *	failing PERCENT of directmap's allocations until FAILURES were
 *	injected;
 *   cat /sys/kernel/debug/directmap/torture
 *	what the last run did, what it leaked and what the verifier found.
 *
 * The write returns when the run is over.  Run fail_page_alloc or memory
 * pressure alongside to combine them.  What the run leaked and what the
 * verifier found are exact only if nothing else used directmap as it
 * ended (see verify.c): with other users alongside, read verify once
 * they are done.
 */
#define pr_fmt(fmt) "directmap: torture: " fmt

#include <kunit/visibility.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/directmap.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "differ.h"
#include "fail_directmap.h"
#include "internal.h"

#define DMAP_TORTURE_LIVE	32
#define DMAP_TORTURE_MAX_SECS	3600

struct dmap_torture_alloc {
	struct page	*page;
	unsigned int	order;
};

/* What one storm thread or a fault run holds and counts */
struct dmap_torture {
	struct dmap_torture_alloc live[DMAP_TORTURE_LIVE];
	unsigned int		nr_live;
	struct dmap_torture_result res;
	struct task_struct	*task;
};

static DEFINE_MUTEX(dmap_torture_lock);
static struct dmap_torture_result dmap_torture_last;
static const char *dmap_torture_mode = "none";

static int dmap_torture_nid(void)
{
	int nid, n = get_random_u32_below(num_node_state(N_MEMORY));

	for_each_node_state(nid, N_MEMORY)
		if (!n--)
			return nid;
	return NUMA_NO_NODE;
}

static void dmap_torture_alloc(struct dmap_torture *t)
{
	unsigned int order = get_random_u32_below(DIRECTMAP_MAX_ORDER + 1);
	unsigned int flags = get_random_u32_below(2) ? DIRECTMAP_NOZERO : 0;
	struct page *page;
	char c;

	page = directmap_alloc_pages(dmap_torture_nid(), order, flags);
	if (!page) {
		t->res.nulls++;
		return;
	}
	t->res.allocs++;
	/* What directmap hands out is never readable through the direct map */
	if (!copy_from_kernel_nofault(&c, page_address(page), 1))
		t->res.readable++;
	t->live[t->nr_live].page = page;
	t->live[t->nr_live].order = order;
	t->nr_live++;
}

static void dmap_torture_free(struct dmap_torture *t, unsigned int i)
{
	struct dmap_torture_alloc *a = &t->live[i];

	if (directmap_free_pages(a->page, a->order))
		t->res.free_errors++;
	t->res.frees++;
	*a = t->live[--t->nr_live];
}

static void dmap_torture_free_all(struct dmap_torture *t)
{
	while (t->nr_live)
		dmap_torture_free(t, t->nr_live - 1);
}

/*
 * Leave a free 2M block under a 1G entry at the head of each node's free
 * lists, so that the next refill there splits the 1G entry and needs a
 * page table: the faults run reaches that point whatever the layout of
 * the free lists, in which large entries may map only a few blocks.
 */
static void dmap_torture_offer_1g_blocks(void)
{
	struct page *page, *next, *found;
	LIST_HEAD(spare);
	bool present;
	int nid, i;

	for_each_node_state(nid, N_MEMORY) {
		found = NULL;
		for (i = 0; i < 64 && !found; i++) {
			page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE |
						__GFP_NORETRY | __GFP_NOWARN,
						DMAP_REGION_ORDER);
			if (!page)
				break;
			if (arch_directmap_level((unsigned long)page_address(page),
						 &present) == DIRECTMAP_LEVEL_1G)
				found = page;
			else
				list_add(&page->lru, &spare);
		}
		list_for_each_entry_safe(page, next, &spare, lru) {
			list_del(&page->lru);
			__free_pages(page, DMAP_REGION_ORDER);
		}
		/* freed last, so allocated first */
		if (found)
			__free_pages(found, DMAP_REGION_ORDER);
	}
}

/* Make a page next to directmap's regions differ and back: the map splits */
static void dmap_torture_ro_rw(struct dmap_torture *t)
{
	struct page *page = alloc_pages_node(dmap_torture_nid(), GFP_KERNEL, 0);
	unsigned long addr;
	int err;

	if (!page)
		return;
	addr = (unsigned long)page_address(page);
	err = dmap_differ(addr, 1);
	/* a page that may still differ never goes back */
	if (dmap_same(addr, 1)) {
		t->res.ro_rw_errors++;
		return;
	}
	if (err)
		t->res.ro_rw_errors++;
	else
		t->res.ro_rw++;
	__free_page(page);
}

/*
 * Drain as the shrinker does, from reclaim: lockdep learns that reclaim
 * takes whatever the release takes, and proves that nothing holds one of
 * those locks across an allocation that may reclaim.
 */
static void dmap_torture_drain_as_reclaim(void)
{
	unsigned int noreclaim;

	fs_reclaim_acquire(GFP_KERNEL);
	noreclaim = memalloc_noreclaim_save();
	dmap_drain();
	memalloc_noreclaim_restore(noreclaim);
	fs_reclaim_release(GFP_KERNEL);
}

static int dmap_storm_fn(void *data)
{
	struct dmap_torture *t = data;

	while (!kthread_should_stop()) {
		u32 op = get_random_u32_below(64);

		if (op < 28) {
			if (t->nr_live < DMAP_TORTURE_LIVE)
				dmap_torture_alloc(t);
		} else if (op < 56) {
			if (t->nr_live)
				dmap_torture_free(t, get_random_u32_below(t->nr_live));
		} else if (op < 62) {
			dmap_torture_ro_rw(t);
		} else if (op == 62) {
			dmap_torture_drain_as_reclaim();
			t->res.drains++;
		} else {
			dmap_collapse_flush();
			t->res.collapses++;
		}
		t->res.ops++;
		cond_resched();
	}
	dmap_torture_free_all(t);
	return 0;
}

static void dmap_torture_sum(struct dmap_torture_result *to,
			     const struct dmap_torture_result *from)
{
	to->ops += from->ops;
	to->allocs += from->allocs;
	to->nulls += from->nulls;
	to->frees += from->frees;
	to->free_errors += from->free_errors;
	to->readable += from->readable;
	to->ro_rw += from->ro_rw;
	to->ro_rw_errors += from->ro_rw_errors;
	to->drains += from->drains;
	to->collapses += from->collapses;
}

static unsigned long dmap_torture_free_pages(void)
{
	/* freed region structs and xarray nodes wait for a grace period */
	rcu_barrier();
	drain_all_pages(NULL);
	return global_zone_page_state(NR_FREE_PAGES);
}

/* Drain, then account for every page and check everything agrees */
static void dmap_torture_finish(struct dmap_torture_result *res,
				unsigned long free_before)
{
	dmap_drain();
	res->free_delta = (long)dmap_torture_free_pages() - (long)free_before;
	res->leaked = dmap_pages_unaccounted();
	res->problems = dmap_verify(NULL);
}

/**
 * dmap_torture_storm - allocate, free and change the direct map concurrently
 * @seconds:	how long
 * @threads:	how many threads; 0 for one per online CPU
 * @res:	gets what was done
 *
 * Context: process context, may sleep.
 * Return: 0, -ENOMEM, or -EINTR if a fatal signal cut it short.
 */
int dmap_torture_storm(unsigned int seconds, unsigned int threads,
		       struct dmap_torture_result *res)
{
	unsigned long free_before;
	struct dmap_torture *t;
	unsigned int i, started = 0;
	int err = 0;

	if (!threads)
		threads = num_online_cpus();
	t = kvcalloc(threads, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	dmap_drain();
	free_before = dmap_torture_free_pages();

	for (i = 0; i < threads; i++) {
		t[i].task = kthread_run(dmap_storm_fn, &t[i], "dmap_storm/%u", i);
		if (IS_ERR(t[i].task)) {
			err = PTR_ERR(t[i].task);
			break;
		}
		get_task_struct(t[i].task);
		started++;
	}
	if (started && msleep_interruptible(seconds * MSEC_PER_SEC))
		err = -EINTR;
	for (i = 0; i < started; i++) {
		kthread_stop(t[i].task);
		put_task_struct(t[i].task);
		dmap_torture_sum(res, &t[i].res);
	}
	kvfree(t);
	dmap_torture_finish(res, free_before);
	return err;
}

/**
 * dmap_torture_faults - allocate and free with failures injected
 * @target:	stop once fail_directmap injected this many failures
 * @percent:	how many of directmap's allocations fail
 * @res:	gets what was done
 *
 * Every injected failure must come back as a counted error, and as NULL
 * when even the single-page fallback failed; nothing may leak.
 *
 * Context: process context, may sleep.
 * Return: 0, -EOPNOTSUPP without CONFIG_FAIL_DIRECTMAP, -EINVAL, or -EINTR.
 */
VISIBLE_IF_KUNIT int dmap_torture_faults(unsigned long target,
					 unsigned long percent,
					 struct dmap_torture_result *res)
{
	struct dmap_fail_config old, cfg = {
		.points = DMAP_FAIL_ALL,
		.probability = percent,
		.times = -1,
	};
	unsigned long injected, errors, ffail, free_before;
	struct dmap_torture *t;
	int err = 0;

	if (!IS_ENABLED(CONFIG_FAIL_DIRECTMAP))
		return -EOPNOTSUPP;
	if (!target || !percent || percent > 100)
		return -EINVAL;
	/* fail_page_alloc, which skips __GFP_NOFAIL, is for directmap alone */
	t = kzalloc(sizeof(*t), GFP_KERNEL | __GFP_NOFAIL);
	dmap_drain();
	free_before = dmap_torture_free_pages();
	injected = dmap_fail_injected();
	ffail = dmap_vm_event(DIRECTMAP_FALLBACK_FAIL);
	errors = dmap_vm_event(DIRECTMAP_REFILL_FAIL) + ffail;

	dmap_fail_configure(&cfg, &old);
	while (dmap_fail_injected() - injected < target &&
	       t->res.ops < target * 256) {
		if (t->nr_live == DMAP_TORTURE_LIVE ||
		    (t->nr_live && get_random_u32_below(2)))
			dmap_torture_free(t, get_random_u32_below(t->nr_live));
		else
			dmap_torture_alloc(t);
		/* most allocations then need a refill, and reach every point */
		if (!(t->res.ops++ % 4)) {
			dmap_drain();
			t->res.drains++;
		}
		/*
		 * Now and then give everything back, so that 1G entries are
		 * whole again and a refill needs a page table.
		 */
		if (!(t->res.ops % 64)) {
			dmap_torture_free_all(t);
			dmap_drain();
			dmap_collapse_flush();
			t->res.collapses++;
			dmap_torture_offer_1g_blocks();
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	dmap_fail_configure(&old, NULL);
	dmap_torture_free_all(t);

	*res = t->res;
	kfree(t);
	res->injected = dmap_fail_injected() - injected;
	res->fallback_failures = dmap_vm_event(DIRECTMAP_FALLBACK_FAIL) - ffail;
	res->errors = dmap_vm_event(DIRECTMAP_REFILL_FAIL) +
		      dmap_vm_event(DIRECTMAP_FALLBACK_FAIL) - errors;
	dmap_torture_finish(res, free_before);
	return err;
}

static int dmap_torture_show(struct seq_file *m, void *v)
{
	const struct dmap_torture_result *r = &dmap_torture_last;

	mutex_lock(&dmap_torture_lock);
	seq_printf(m, "mode %s\nops %lu\nallocs %lu\nnulls %lu\nfrees %lu\nfree_errors %lu\nreadable %lu\nro_rw %lu\nro_rw_errors %lu\ndrains %lu\ncollapses %lu\ninjected %lu\nerrors %lu\nfallback_failures %lu\nleaked %ld\nfree_delta %ld\nproblems %lu\n",
		   dmap_torture_mode, r->ops, r->allocs, r->nulls, r->frees,
		   r->free_errors, r->readable, r->ro_rw, r->ro_rw_errors,
		   r->drains, r->collapses, r->injected, r->errors,
		   r->fallback_failures, r->leaked, r->free_delta, r->problems);
	mutex_unlock(&dmap_torture_lock);
	return 0;
}

static int dmap_torture_open(struct inode *inode, struct file *file)
{
	return single_open(file, dmap_torture_show, NULL);
}

static ssize_t dmap_torture_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	unsigned long a = 0, b = 0;
	struct dmap_torture_result res;
	char buf[64], mode[16];
	int n, err;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	n = sscanf(buf, "%15s %lu %lu", mode, &a, &b);
	if (n < 2 || !a)
		return -EINVAL;

	if (mutex_lock_interruptible(&dmap_torture_lock))
		return -EINTR;
	if (!strcmp(mode, "storm") && a <= DMAP_TORTURE_MAX_SECS && b <= 1024) {
		err = dmap_torture_storm(a, b, &res);
		dmap_torture_mode = "storm";
	} else if (!strcmp(mode, "faults")) {
		err = dmap_torture_faults(a, n > 2 ? b : 25, &res);
		dmap_torture_mode = "faults";
	} else {
		err = -EINVAL;
	}
	if (!err || err == -EINTR)
		dmap_torture_last = res;
	mutex_unlock(&dmap_torture_lock);
	return err ?: count;
}

static const struct file_operations dmap_torture_fops = {
	.owner		= THIS_MODULE,
	.open		= dmap_torture_open,
	.read		= seq_read,
	.write		= dmap_torture_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

static int __init dmap_torture_debugfs(void)
{
	dmap_debugfs_file("torture", 0600, &dmap_torture_fops);
	return 0;
}
late_initcall(dmap_torture_debugfs);
