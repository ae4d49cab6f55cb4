// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's stand-in for mm/directmap/page.c: drives the real policy
 * code over the simulator, and checks that its bookkeeping, lists,
 * counters and the simulated page tables agree.  Shared by the unit tests
 * and the fuzzer.
 */
#include <stdio.h>

#include "driver.h"
#include "sim.h"

/* Count and print a broken invariant */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: invariant %s broken\n",		\
		       __FILE__, __LINE__, #cond);			\
		bad++;							\
	}								\
} while (0)

struct dmap_node drv_nodes[DRV_NODES];

void drv_setup(unsigned long gib_per_node)
{
	int nid;

	sim_init(gib_per_node, DRV_NODES);
	for (nid = 0; nid < DRV_NODES; nid++)
		dmap_node_init(&drv_nodes[nid], nid, 2);
}

/* What mm/directmap/page.c does: take, refill once if dry, take again */
long drv_take(struct dmap_node *dn, unsigned int order)
{
	unsigned long pfn;

	if (!dmap_cache_take(dn, order, &pfn))
		return pfn;
	if (dmap_cache_refill(dn))
		return -1;
	if (dmap_cache_take(dn, order, &pfn))
		return -1;
	return pfn;
}

/* Give an allocation back to the cache of its region's node in @nodes */
int drv_put(struct dmap_node *nodes, unsigned long pfn, unsigned int order)
{
	struct dmap_region *r = sim_region_of(pfn), *gone;
	struct dmap_node *dn;
	int err;

	if (!r)
		return -EINVAL;
	dn = &nodes[r->nid];
	err = dmap_cache_mark_returned(dn, r, pfn, order);
	if (err)
		return err;
	gone = dmap_cache_put(dn, r, pfn, order);
	if (gone)
		dmap_cache_release(dn, gone);
	return 0;
}

long drv_alloc(int nid, unsigned int order)
{
	return drv_take(&drv_nodes[nid], order);
}

int drv_release(unsigned long pfn, unsigned int order)
{
	return drv_put(drv_nodes, pfn, order);
}

void drv_shrink_all(void)
{
	int nid;

	for (nid = 0; nid < DRV_NODES; nid++)
		dmap_cache_shrink(&drv_nodes[nid], ~0UL, 0);
}

/* Bookkeeping = lists = counters = simulated page tables and allocator */
unsigned long drv_check(void)
{
	unsigned long bad = 0;
	int nid;

	for (nid = 0; nid < DRV_NODES; nid++) {
		struct dmap_node *dn = &drv_nodes[nid];
		unsigned long regions = 0, empty = 0, nr_free = 0, used = 0;
		struct list_head *lists[] = { &dn->partial, &dn->full, &dn->empty };
		struct dmap_region *r;
		unsigned long i, s;

		CHECK(!dn->lock.held);
		for (i = 0; i < ARRAY_SIZE(lists); i++) {
			list_for_each_entry(r, lists[i], list) {
				unsigned long w = bitmap_weight(r->used,
						DMAP_REGION_PAGES);

				regions++;
				CHECK(r->nid == nid && sim_nid_of(r->pfn) == nid);
				CHECK(sim_region_of(r->pfn) == r);
				CHECK(r->nr_free == DMAP_REGION_PAGES - w);
				if (lists[i] == &dn->empty)
					CHECK(r->nr_free == DMAP_REGION_PAGES);
				else if (lists[i] == &dn->full)
					CHECK(r->nr_free == 0);
				else
					CHECK(r->nr_free && r->nr_free < DMAP_REGION_PAGES);
				empty += lists[i] == &dn->empty;
				nr_free += r->nr_free;
				used += w;
				/* the whole region is absent, as one 2M entry here */
				CHECK(!sim_present(r->pfn) &&
				      !sim_present(r->pfn + DMAP_REGION_PAGES - 1));
				for (s = 0; s < DMAP_REGION_PAGES; s++) {
					if (test_bit(s, r->pending) ||
					    test_bit(s, r->head))
						CHECK(test_bit(s, r->used));
				}
			}
		}
		CHECK(regions == dn->nr_regions);
		CHECK(empty == dn->nr_empty);
		CHECK(nr_free == dn->nr_free);
		CHECK(used == dn->nr_used);
	}
	return bad + sim_check();
}
