// SPDX-License-Identifier: GPL-2.0
/*
 * directmap and memory hotplug: a block going offline gets its empty
 * regions back first, and the collapse worker forgets what went.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/directmap.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/notifier.h>

#include "internal.h"

/*
 * Memory offline isolates a block first, which fails fast on pages that
 * are handed out or pending; the free slots of a region are frozen, not
 * free in the buddy allocator, so a block that holds only empty regions
 * would pass isolation and then wait for them forever.  Give those back
 * before the offline waits.
 */
static int dmap_memory_notify(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct memory_notify *mn = data;
	struct dmap_node *pn;
	long ret;

	switch (action) {
	case MEM_GOING_OFFLINE:
		/* a block is one node's, and a refill takes from its own node */
		pn = dmap_nodes[pfn_to_nid(mn->start_pfn)];
		if (!pn)
			return NOTIFY_OK;
		/*
		 * A refill under way froze its block before it shows on a
		 * list, and may wait for the CPU hotplug lock that the caller
		 * holds (arm64): fail, do not wait.
		 */
		if (!mutex_trylock(&pn->refill_lock)) {
			ret = -EBUSY;
		} else {
			ret = dmap_cache_offline(&pn->cache, mn->start_pfn,
						 mn->nr_pages);
			mutex_unlock(&pn->refill_lock);
		}
		if (ret < 0) {
			pr_info("pfn %#lx + %lu: regions busy, no offline\n",
				mn->start_pfn, mn->nr_pages);
			return notifier_from_errno(ret);
		}
		if (ret)
			pr_debug("pfn %#lx + %lu: %ld regions given back to go offline\n",
				 mn->start_pfn, mn->nr_pages, ret);
		return NOTIFY_OK;
	case MEM_OFFLINE:
		dmap_collapse_forget(mn->start_pfn, mn->nr_pages);
		return NOTIFY_OK;
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block dmap_memory_nb = {
	.notifier_call = dmap_memory_notify,
};

void __init dmap_hotplug_init(void)
{
	register_memory_notifier(&dmap_memory_nb);
}
