// SPDX-License-Identifier: GPL-2.0
/*
 * directmap's debugfs files, /sys/kernel/debug/directmap/:
 *
 *   stats		per node: regions, slots, events (one line each)
 *   summary		one screen: caches, events, direct map, worker
 *   regions		every region: node, pfn, list, slots
 *   drain		write: give every empty region back
 *   owners		every owner and what it holds (owner.c)
 *   collapse_queue	the worker's areas waiting to be re-formed (worker.c)
 *
 * and, with their options, bench, verify, torture and fail_directmap.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/debugfs.h>
#include <linux/directmap.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/proc_fs.h>
#include <asm/tlbflush.h>

#include "internal.h"
#include "policy.h"

/* Returned allocations not back in their slots: waiting for a wipe or a put */
static unsigned long dmap_returned(struct dmap_node *pn)
{
	/* the wipe's count first: it drops only once the page is back or pending */
	unsigned long wiping = atomic_read_acquire(&pn->nr_wiping);

	return wiping + READ_ONCE(pn->nr_pending);
}

static int dmap_stats_show(struct seq_file *m, void *v)
{
	struct dmap_node *pn;
	int nid;

	seq_printf(m, "enabled %d\n", directmap_enabled());
	dmap_for_each_node(nid, pn) {
		struct dmap_cache *cache = &pn->cache;

		seq_printf(m, "node %d regions %lu empty %lu free %lu used %lu pending %lu singles %ld refills %lu refill_failures %lu releases %lu collapses %lu allocs %lu frees %lu fallbacks %ld fallback_failures %ld misuse %lu charged %lu\n",
			   nid, cache->nr_regions, cache->nr_empty, cache->nr_free,
			   cache->nr_used, dmap_returned(pn),
			   atomic_long_read(&pn->nr_singles),
			   cache->stats.refills, cache->stats.refill_failures,
			   cache->stats.releases, cache->stats.collapses,
			   cache->stats.allocs,
			   cache->stats.frees, atomic_long_read(&pn->fallbacks),
			   atomic_long_read(&pn->fallback_failures),
			   cache->stats.misuse, cache->nr_charged);
	}
	seq_printf(m, "kernel_tlb_flushes %lu\n", nr_kernel_tlb_flushes());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_stats);

static const char *const dmap_region_states[] = { "partial", "full", "empty" };

/* Every region: where it is, what state, how many slots are out */
static int dmap_regions_show(struct seq_file *m, void *v)
{
	struct dmap_region *r;
	struct dmap_node *pn;
	int nid, i;

	seq_puts(m, "node pfn state free used pending\n");
	dmap_for_each_node(nid, pn) {
		spin_lock(&pn->cache.lock);
		dmap_for_each_region(pn, r, i)
			seq_printf(m, "%d %#lx %s %u %u %u\n", nid,
				   r->pfn, dmap_region_states[i],
				   r->nr_free,
				   bitmap_weight(r->used, DMAP_REGION_PAGES),
				   bitmap_weight(r->pending,
						 DMAP_REGION_PAGES));
		spin_unlock(&pn->cache.lock);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_regions);

static void dmap_summary_nodes(struct seq_file *m)
{
	int nid;

	seq_printf(m, "%-5s %8s %8s %8s %8s %10s %10s %8s %8s\n", "node",
		   "regions", "partial", "full", "empty", "free KiB", "out KiB",
		   "pending", "singles");
	for_each_node(nid) {
		struct dmap_node *pn = dmap_nodes[nid];
		struct dmap_cache *cache;
		unsigned long partial = 0, full = 0;
		struct dmap_region *r;

		if (!pn)
			continue;
		cache = &pn->cache;
		spin_lock(&cache->lock);
		list_for_each_entry(r, &cache->partial, list)
			partial++;
		list_for_each_entry(r, &cache->full, list)
			full++;
		seq_printf(m, "%-5d %8lu %8lu %8lu %8lu %10lu %10lu %8lu %8ld\n",
			   nid, cache->nr_regions, partial, full, cache->nr_empty,
			   cache->nr_free << (PAGE_SHIFT - 10),
			   cache->nr_used << (PAGE_SHIFT - 10), dmap_returned(pn),
			   atomic_long_read(&pn->nr_singles));
		spin_unlock(&cache->lock);
	}
}

static void dmap_summary_events(struct seq_file *m)
{
	unsigned long *ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);

	if (!ev)
		return;
	all_vm_events(ev);
	seq_printf(m, "allocations      %lu from the cache, %lu after a refill\n",
		   ev[DIRECTMAP_ALLOC_HIT], ev[DIRECTMAP_ALLOC_MISS]);
	seq_printf(m, "pages            %lu handed out, %lu given back\n",
		   ev[DIRECTMAP_PAGES_ALLOC], ev[DIRECTMAP_PAGES_FREE]);
	seq_printf(m, "regions          %lu taken out, %lu given back\n",
		   ev[DIRECTMAP_REFILL], ev[DIRECTMAP_RELEASE]);
	seq_printf(m, "single pages     %lu fallbacks\n", ev[DIRECTMAP_FALLBACK]);
	seq_printf(m, "errors           refill %lu, fallback %lu, misuse %lu\n",
		   ev[DIRECTMAP_REFILL_FAIL], ev[DIRECTMAP_FALLBACK_FAIL],
		   ev[DIRECTMAP_MISUSE]);
	seq_printf(m, "direct map       2M splits %lu, 1G splits %lu, 2M collapses %lu, 1G collapses %lu\n",
		   ev[DIRECT_MAP_LEVEL2_SPLIT], ev[DIRECT_MAP_LEVEL3_SPLIT],
		   ev[DIRECT_MAP_LEVEL2_COLLAPSE], ev[DIRECT_MAP_LEVEL3_COLLAPSE]);
	kfree(ev);
}

/* One screen: the caches, what they did, the direct map, the worker */
static int dmap_summary_show(struct seq_file *m, void *v)
{
	seq_printf(m, "directmap %s, kernel TLB flushes %lu\n\n",
		   directmap_enabled() ? "on" : "off (directmap=off)",
		   nr_kernel_tlb_flushes());
	if (directmap_enabled()) {
		dmap_summary_nodes(m);
		seq_putc(m, '\n');
	}
	dmap_summary_events(m);
	arch_report_meminfo(m);
	dmap_collapse_summary(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmap_summary);

static int dmap_drain_set(void *data, u64 val)
{
	dmap_drain();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmap_drain_fops, NULL, dmap_drain_set, "%llu\n");

DEFINE_SHOW_ATTRIBUTE(dmap_owners);
DEFINE_SHOW_ATTRIBUTE(dmap_collapse_queue);

static struct dentry *dmap_debugfs_dir;

/**
 * dmap_debugfs_file - add a file to /sys/kernel/debug/directmap/
 * @name:	its name
 * @mode:	its mode
 * @fops:	its operations
 *
 * For the files of bench.c, verify.c and torture.c, from late_initcall.
 */
void __init dmap_debugfs_file(const char *name, umode_t mode,
			      const struct file_operations *fops)
{
	debugfs_create_file(name, mode, dmap_debugfs_dir, NULL, fops);
}

void __init dmap_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("directmap", NULL);

	dmap_debugfs_dir = dir;
	debugfs_create_file("stats", 0400, dir, NULL, &dmap_stats_fops);
	debugfs_create_file("summary", 0400, dir, NULL, &dmap_summary_fops);
	debugfs_create_file("regions", 0400, dir, NULL, &dmap_regions_fops);
	debugfs_create_file_unsafe("drain", 0200, dir, NULL, &dmap_drain_fops);
	debugfs_create_file("owners", 0400, dir, NULL, &dmap_owners_fops);
	debugfs_create_file("collapse_queue", 0400, dir, NULL,
			    &dmap_collapse_queue_fops);
}
