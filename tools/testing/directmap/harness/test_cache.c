// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of mm/directmap/cache.c, the real policy code, over the
 * simulated direct map.  Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

#define NODES		2
#define GIB_PER_NODE	4

static int test_nr, test_failed, case_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: CHECK(%s) failed\n",			\
		       __FILE__, __LINE__, #cond);			\
		case_failed = 1;					\
	}								\
} while (0)

static struct dmap_node nodes[NODES];

static void setup(void)
{
	int nid;

	sim_init(GIB_PER_NODE, NODES);
	for (nid = 0; nid < NODES; nid++)
		dmap_node_init(&nodes[nid], nid, 2);
}

/* What mm/directmap/page.c does: take, refill once if dry, take again */
static long alloc(int nid, unsigned int order)
{
	unsigned long pfn;

	if (!dmap_cache_take(&nodes[nid], order, &pfn))
		return pfn;
	if (dmap_cache_refill(&nodes[nid]))
		return -1;
	if (dmap_cache_take(&nodes[nid], order, &pfn))
		return -1;
	return pfn;
}

static int release(unsigned long pfn, unsigned int order)
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

static void shrink_all(void)
{
	int nid;

	for (nid = 0; nid < NODES; nid++)
		dmap_cache_shrink(&nodes[nid], ~0UL, 0);
}

/* Bookkeeping = lists = counters = simulated page tables */
static void check_invariants(void)
{
	int nid;

	for (nid = 0; nid < NODES; nid++) {
		struct dmap_node *dn = &nodes[nid];
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
}

static void t_no_pmd_split(void)
{
	static long pfns[1000];
	unsigned long last_1g = ~0UL, nr_1g = 0, boot_1g;
	int i;

	setup();
	boot_1g = sim_pages(SIM_1G);
	for (i = 0; i < 1000; i++) {
		pfns[i] = alloc(0, 0);
		CHECK(pfns[i] >= 0);
		CHECK(!sim_present(pfns[i]) && sim_level(pfns[i]) == SIM_2M);
		if (pfns[i] / SIM_PUD_PAGES != last_1g) {
			last_1g = pfns[i] / SIM_PUD_PAGES;
			nr_1g++;
		}
	}
	CHECK(sim.pmd_splits == 0);
	CHECK(sim.pud_splits <= nr_1g);
	/* one flush per region, not per page */
	CHECK(sim.flushes <= 2 * nodes[0].stats.refills);
	check_invariants();

	for (i = 0; i < 1000; i++)
		CHECK(release(pfns[i], 0) == 0);
	CHECK(nodes[0].nr_empty == 2);
	shrink_all();
	check_invariants();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	/* the 1G entries the refills split are whole again */
	for (i = 0; i < 1000; i++)
		CHECK(sim_present(pfns[i]) && sim_level(pfns[i]) == SIM_1G);
	CHECK(sim_pages(SIM_1G) == boot_1g);
	CHECK(sim.pud_collapses == sim.pud_splits);
	CHECK(nodes[0].stats.collapses == sim.pud_collapses);
	CHECK(sim.pmd_splits == 0 && sim.pgtables == 0);
	sim_exit();
}

static void t_orders(void)
{
	long a, b, c;

	setup();
	a = alloc(1, 0);
	b = alloc(1, 3);
	c = alloc(1, 2);
	CHECK(a >= 0 && b >= 0 && c >= 0);
	CHECK(b % 8 == 0 && c % 4 == 0);
	CHECK(sim_nid_of(a) == 1 && sim_nid_of(b) == 1);
	CHECK(b >= a + 1 && (c >= b + 8 || c + 4 <= b));
	check_invariants();
	CHECK(release(b, 3) == 0);
	CHECK(release(a, 0) == 0);
	CHECK(release(c, 2) == 0);
	check_invariants();
	shrink_all();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

static void t_misuse(void)
{
	unsigned long used, misuse;
	long a, b;

	setup();
	a = alloc(0, 0);
	b = alloc(0, 1);
	CHECK(a >= 0 && b >= 0);
	used = nodes[0].nr_used;
	misuse = nodes[0].stats.misuse;

	CHECK(release(b + 2, 0) == -EINVAL);	/* a free slot */
	CHECK(release(b + 1, 0) == -EINVAL);	/* inside an allocation */
	CHECK(release(b, 0) == -EINVAL);	/* order too small */
	CHECK(release(a, 1) == -EINVAL);	/* order too large */
	CHECK(release(a, 10) == -EINVAL);	/* beyond any region */
	CHECK(release(a + 1024, 0) == -EINVAL);	/* no region there */
	CHECK(nodes[0].nr_used == used);
	CHECK(nodes[0].stats.misuse == misuse + 5);
	check_invariants();

	CHECK(release(a, 0) == 0);
	CHECK(release(a, 0) == -EINVAL);	/* double free */
	CHECK(release(b, 1) == 0);
	CHECK(nodes[0].nr_used == 0);
	check_invariants();
	shrink_all();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

/* A failure at any step of a refill is reported and undone */
static void t_refill_failures(void)
{
	static const char *const names[] = {
		"kzalloc", "block", "register", "pgtable"
	};
	int where;

	for (where = 0; where < SIM_FAIL_NR; where++) {
		unsigned long blocks, allocs, puds, present1g;

		setup();
		blocks = sim.blocks_out;
		allocs = sim.allocs_out;
		puds = sim.pud_splits;
		present1g = sim_pages(SIM_1G);

		sim_fail_nth(where, 1);
		CHECK(dmap_cache_refill(&nodes[0]) == -ENOMEM);
		CHECK(nodes[0].stats.refill_failures == 1);
		CHECK(nodes[0].nr_regions == 0);
		CHECK(sim.blocks_out == blocks && sim.allocs_out == allocs);
		CHECK(sim.pud_splits == puds && sim_pages(SIM_1G) == present1g);
		check_invariants();
		if (case_failed)
			printf("#   failing step: %s\n", names[where]);

		CHECK(dmap_cache_refill(&nodes[0]) == 0);
		check_invariants();
		shrink_all();
		CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
		sim_exit();
	}
}

/* A block another user split to 4K is unmapped without a new split */
static void t_presplit_block(void)
{
	unsigned long pmds;
	long a;

	setup();
	sim_other_split_pmd(0);
	pmds = sim.pmd_splits;
	a = alloc(0, 0);
	CHECK(a >= 0 && a < 512);
	CHECK(sim.pmd_splits == pmds);
	CHECK(sim_level(a) == SIM_4K && !sim_present(a) && !sim_present(511));
	CHECK(release(a, 0) == 0);
	shrink_all();
	CHECK(sim_present(a) && sim_present(511));
	/* a 4K table under the 2M keeps its 1G split */
	CHECK(sim_level(a) == SIM_4K && sim.pud_collapses == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

#define RANDOM_OPS	200000
#define MAX_OUT		4096

/* Random allocations and frees of every order with injected failures */
static void t_random(void)
{
	static struct { long pfn; unsigned int order; } out[MAX_OUT];
	unsigned int rnd = 42;
	unsigned long boot_1g;
	int n = 0, i, op;

	setup();
	boot_1g = sim_pages(SIM_1G);
	for (i = 0; i < 4; i++)
		sim_fail_rate(i, 0.01);
	for (op = 0; op < RANDOM_OPS; op++) {
		if (n < MAX_OUT && (n == 0 || rand_r(&rnd) % 100 < 55)) {
			unsigned int order = rand_r(&rnd) % 4;
			long pfn = alloc(rand_r(&rnd) % NODES, order);

			if (pfn >= 0) {
				CHECK(pfn % (1 << order) == 0);
				CHECK(!sim_present(pfn));
				out[n].pfn = pfn;
				out[n++].order = order;
			}
		} else {
			int k = rand_r(&rnd) % n;

			CHECK(release(out[k].pfn, out[k].order) == 0);
			out[k] = out[--n];
		}
		if (op % 1000 == 0)
			check_invariants();
		if (case_failed)
			break;
	}
	for (i = 0; i < 4; i++)
		sim_fail_rate(i, 0);
	for (; n > 0; n--)
		CHECK(release(out[n - 1].pfn, out[n - 1].order) == 0);
	check_invariants();
	shrink_all();
	CHECK(sim.pmd_splits == 0);
	CHECK(sim_pages(SIM_1G) == boot_1g && sim.pgtables == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

static void run(const char *name, void (*fn)(void))
{
	case_failed = 0;
	fn();
	test_nr++;
	test_failed += case_failed;
	if (case_failed)
		printf("not ok %d %s\n", test_nr, name);
	else
		printf("ok %d %s\n", test_nr, name);
}

int main(void)
{
	printf("TAP version 13\n1..6\n");
	run("no_pmd_split", t_no_pmd_split);
	run("orders", t_orders);
	run("misuse", t_misuse);
	run("refill_failures", t_refill_failures);
	run("presplit_block", t_presplit_block);
	run("random_with_failures", t_random);
	return test_failed ? 1 : 0;
}
