// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of mm/directmap/cache.c, the real policy code, over the
 * simulated direct map.  Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"
#include "sim.h"
#include "tap.h"

#define GIB_PER_NODE	4

static void t_no_pmd_split(void)
{
	static long pfns[1000];
	unsigned long last_1g = ~0UL, nr_1g = 0, boot_1g;
	int i;

	drv_setup(GIB_PER_NODE);
	boot_1g = sim_pages(SIM_1G);
	for (i = 0; i < 1000; i++) {
		pfns[i] = drv_alloc(0, 0);
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
	CHECK(sim.flushes <= 2 * drv_nodes[0].stats.refills);
	CHECK(drv_check() == 0);

	for (i = 0; i < 1000; i++)
		CHECK(drv_release(pfns[i], 0) == 0);
	CHECK(drv_nodes[0].nr_empty == 2);
	drv_shrink_all();
	CHECK(drv_check() == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	/* the 1G entries the refills split are whole again */
	for (i = 0; i < 1000; i++)
		CHECK(sim_present(pfns[i]) && sim_level(pfns[i]) == SIM_1G);
	CHECK(sim_pages(SIM_1G) == boot_1g);
	CHECK(sim.pud_collapses == sim.pud_splits);
	CHECK(drv_nodes[0].stats.collapses == sim.pud_collapses);
	CHECK(sim.pmd_splits == 0 && sim.pgtables == 0);
	sim_exit();
}

static void t_orders(void)
{
	long a, b, c;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(1, 0);
	b = drv_alloc(1, 3);
	c = drv_alloc(1, 2);
	CHECK(a >= 0 && b >= 0 && c >= 0);
	CHECK(b % 8 == 0 && c % 4 == 0);
	CHECK(sim_nid_of(a) == 1 && sim_nid_of(b) == 1);
	CHECK(b >= a + 1 && (c >= b + 8 || c + 4 <= b));
	CHECK(drv_check() == 0);
	CHECK(drv_release(b, 3) == 0);
	CHECK(drv_release(a, 0) == 0);
	CHECK(drv_release(c, 2) == 0);
	CHECK(drv_check() == 0);
	drv_shrink_all();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

static void t_misuse(void)
{
	unsigned long used, misuse;
	long a, b;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 0);
	b = drv_alloc(0, 1);
	CHECK(a >= 0 && b >= 0);
	used = drv_nodes[0].nr_used;
	misuse = drv_nodes[0].stats.misuse;

	CHECK(drv_release(b + 2, 0) == -EINVAL);	/* a free slot */
	CHECK(drv_release(b + 1, 0) == -EINVAL);	/* inside an allocation */
	CHECK(drv_release(b, 0) == -EINVAL);	/* order too small */
	CHECK(drv_release(a, 1) == -EINVAL);	/* order too large */
	CHECK(drv_release(a, 10) == -EINVAL);	/* beyond any region */
	CHECK(drv_release(a + 1024, 0) == -EINVAL);	/* no region there */
	CHECK(drv_nodes[0].nr_used == used);
	CHECK(drv_nodes[0].stats.misuse == misuse + 5);
	CHECK(drv_check() == 0);

	CHECK(drv_release(a, 0) == 0);
	CHECK(drv_release(a, 0) == -EINVAL);	/* double free */
	CHECK(drv_release(b, 1) == 0);
	CHECK(drv_nodes[0].nr_used == 0);
	CHECK(drv_check() == 0);
	drv_shrink_all();
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

		drv_setup(GIB_PER_NODE);
		blocks = sim.blocks_out;
		allocs = sim.allocs_out;
		puds = sim.pud_splits;
		present1g = sim_pages(SIM_1G);

		sim_fail_nth(where, 1);
		CHECK(dmap_cache_refill(&drv_nodes[0]) == -ENOMEM);
		CHECK(drv_nodes[0].stats.refill_failures == 1);
		CHECK(drv_nodes[0].nr_regions == 0);
		CHECK(sim.blocks_out == blocks && sim.allocs_out == allocs);
		CHECK(sim.pud_splits == puds && sim_pages(SIM_1G) == present1g);
		CHECK(drv_check() == 0);
		if (case_failed)
			printf("#   failing step: %s\n", names[where]);

		CHECK(dmap_cache_refill(&drv_nodes[0]) == 0);
		CHECK(drv_check() == 0);
		drv_shrink_all();
		CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
		sim_exit();
	}
}

/*
 * A block another user split to 4K is unmapped without a new split, as one
 * absent 2M entry, and comes back as a 2M entry under a 1G one again
 */
static void t_presplit_block(void)
{
	unsigned long pmds;
	long a;

	drv_setup(GIB_PER_NODE);
	sim_other_split_pmd(0);
	pmds = sim.pmd_splits;
	a = drv_alloc(0, 0);
	CHECK(a >= 0 && a < 512);
	CHECK(sim.pmd_splits == pmds && sim.pmd_collapses == 1);
	CHECK(sim_level(a) == SIM_2M && !sim_present(a) && !sim_present(511));
	CHECK(sim_check() == 0);
	CHECK(drv_release(a, 0) == 0);
	drv_shrink_all();
	CHECK(sim_present(a) && sim_present(511));
	CHECK(sim_level(a) == SIM_1G && sim.pud_collapses == 1);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0 && sim.pgtables == 0);
	CHECK(sim_check() == 0);
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

	drv_setup(GIB_PER_NODE);
	boot_1g = sim_pages(SIM_1G);
	for (i = 0; i < 4; i++)
		sim_fail_rate(i, 0.01);
	for (op = 0; op < RANDOM_OPS; op++) {
		if (n < MAX_OUT && (n == 0 || rand_r(&rnd) % 100 < 55)) {
			unsigned int order = rand_r(&rnd) % 4;
			long pfn = drv_alloc(rand_r(&rnd) % DRV_NODES, order);

			if (pfn >= 0) {
				CHECK(pfn % (1 << order) == 0);
				CHECK(!sim_present(pfn));
				out[n].pfn = pfn;
				out[n++].order = order;
			}
		} else {
			int k = rand_r(&rnd) % n;

			CHECK(drv_release(out[k].pfn, out[k].order) == 0);
			out[k] = out[--n];
		}
		if (op % 1000 == 0)
			CHECK(drv_check() == 0);
		if (case_failed)
			break;
	}
	for (i = 0; i < 4; i++)
		sim_fail_rate(i, 0);
	for (; n > 0; n--)
		CHECK(drv_release(out[n - 1].pfn, out[n - 1].order) == 0);
	CHECK(drv_check() == 0);
	drv_shrink_all();
	CHECK(sim.pmd_splits == 0);
	CHECK(sim_pages(SIM_1G) == boot_1g && sim.pgtables == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

static void run(const char *name, void (*fn)(void))
{
	tap_run(name, fn, NULL, NULL);
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
