// SPDX-License-Identifier: GPL-2.0
/*
 * fail_directmap: fault injection for every allocation that directmap and
 * its architecture code make, so that each error path can be run on
 * demand.  It is a standard fault attribute (see
 * Documentation/fault-injection/fault-injection.rst):
 *
 *   /sys/kernel/debug/fail_directmap/
 *
 * plus "points", a mask of the allocations it may fail, and "injected",
 * how many failures it injected at each.  It works alongside
 * fail_page_alloc and failslab: those fail the allocator underneath,
 * this one fails directmap's own steps by name.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/seq_file.h>

#include "fail_directmap.h"

static DECLARE_FAULT_ATTR(fail_directmap);
static unsigned long dmap_fail_points = DMAP_FAIL_ALL;
static atomic_long_t dmap_injected[DMAP_FAIL_NR];

static const char *const dmap_fail_names[DMAP_FAIL_NR] = {
	[DMAP_FAIL_REFILL]	= "refill",
	[DMAP_FAIL_PGTABLE]	= "pgtable",
	[DMAP_FAIL_BOOKKEEPING]	= "bookkeeping",
	[DMAP_FAIL_SINGLE]	= "single",
	[DMAP_FAIL_SPLIT]	= "split",
};

/**
 * dmap_should_fail - should this allocation of directmap fail?
 * @point:	which allocation
 *
 * Return: true if fail_directmap injects a failure here; it is counted.
 */
bool dmap_should_fail(enum dmap_fail_point point)
{
	if (!(READ_ONCE(dmap_fail_points) & BIT(point)))
		return false;
	if (!should_fail(&fail_directmap, 1))
		return false;
	atomic_long_inc(&dmap_injected[point]);
	return true;
}

/**
 * dmap_fail_configure - set fail_directmap from a test
 * @new:	the settings to use
 * @old:	if not NULL, gets the settings that were in use
 *
 * Failures are injected silently (verbose 0): a test that injects
 * thousands of them checks its results itself.
 */
void dmap_fail_configure(const struct dmap_fail_config *new,
			 struct dmap_fail_config *old)
{
	if (old) {
		old->points = READ_ONCE(dmap_fail_points);
		old->probability = fail_directmap.probability;
		old->times = atomic_read(&fail_directmap.times);
		old->task_filter = fail_directmap.task_filter;
	}
	WRITE_ONCE(dmap_fail_points, new->points & DMAP_FAIL_ALL);
	fail_directmap.verbose = 0;
	fail_directmap.interval = 1;
	fail_directmap.task_filter = new->task_filter;
	atomic_set(&fail_directmap.times, new->times);
	WRITE_ONCE(fail_directmap.probability, new->probability);
}

/**
 * dmap_fail_injected - failures injected so far, at all points
 *
 * Return: the sum of the "injected" counters.
 */
unsigned long dmap_fail_injected(void)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < DMAP_FAIL_NR; i++)
		sum += atomic_long_read(&dmap_injected[i]);
	return sum;
}

static int dmap_injected_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < DMAP_FAIL_NR; i++)
		seq_printf(m, "%-12s %lu\n", dmap_fail_names[i],
			   atomic_long_read(&dmap_injected[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_injected);

static int __init fail_directmap_debugfs(void)
{
	struct dentry *dir;

	dir = fault_create_debugfs_attr("fail_directmap", NULL, &fail_directmap);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_ulong("points", 0600, dir, &dmap_fail_points);
	debugfs_create_file("injected", 0400, dir, NULL, &dmap_injected_fops);
	return 0;
}
late_initcall(fail_directmap_debugfs);
