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
	CHECK(sim.flushes <= 2 * drv_caches[0].stats.refills);
	CHECK(drv_check() == 0);

	for (i = 0; i < 1000; i++)
		CHECK(drv_release(pfns[i], 0) == 0);
	CHECK(drv_caches[0].nr_empty == 2);
	drv_shrink_all();
	CHECK(drv_check() == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	/* the 1G entries the refills split are whole again */
	for (i = 0; i < 1000; i++)
		CHECK(sim_present(pfns[i]) && sim_level(pfns[i]) == SIM_1G);
	CHECK(sim_pages(SIM_1G) == boot_1g);
	CHECK(sim.pud_collapses == sim.pud_splits);
	CHECK(drv_caches[0].stats.collapses == sim.pud_collapses);
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
	used = drv_caches[0].nr_used;
	misuse = drv_caches[0].stats.misuse;

	CHECK(drv_release(b + 2, 0) == -EINVAL);	/* a free slot */
	CHECK(drv_release(b + 1, 0) == -EINVAL);	/* inside an allocation */
	CHECK(drv_release(b, 0) == -EINVAL);	/* order too small */
	CHECK(drv_release(a, 1) == -EINVAL);	/* order too large */
	CHECK(drv_release(a, 10) == -EINVAL);	/* beyond any region */
	CHECK(drv_release(a + 1024, 0) == -EINVAL);	/* no region there */
	CHECK(drv_caches[0].nr_used == used);
	CHECK(drv_caches[0].stats.misuse == misuse + 5);
	CHECK(drv_check() == 0);

	CHECK(drv_release(a, 0) == 0);
	CHECK(drv_release(a, 0) == -EINVAL);	/* double free */
	CHECK(drv_release(b, 1) == 0);
	CHECK(drv_caches[0].nr_used == 0);
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
		CHECK(dmap_cache_refill(&drv_caches[0]) == -ENOMEM);
		CHECK(drv_caches[0].stats.refill_failures == 1);
		CHECK(drv_caches[0].nr_regions == 0);
		CHECK(sim.blocks_out == blocks && sim.allocs_out == allocs);
		CHECK(sim.pud_splits == puds && sim_pages(SIM_1G) == present1g);
		CHECK(drv_check() == 0);
		if (case_failed)
			printf("#   failing step: %s\n", names[where]);

		CHECK(dmap_cache_refill(&drv_caches[0]) == 0);
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

/* ---- in-place sharing ---- */

/* Pages of the region of @pfn that are present, against those expected */
static unsigned long present_pages(unsigned long pfn)
{
	unsigned long first = pfn / DMAP_REGION_PAGES * DMAP_REGION_PAGES;
	unsigned long i, n = 0;

	for (i = first; i < first + DMAP_REGION_PAGES; i++)
		n += sim_present(i);
	return n;
}

/* Sharing one page splits the region's 2M entry once, maps only that page */
static void t_share_one_page(void)
{
	struct dmap_region *r;
	unsigned long splits;
	long a, b;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 0);
	b = drv_alloc(0, 0);
	CHECK(a >= 0 && b >= 0 && a / 512 == b / 512);
	r = sim_region_of(a);
	splits = sim.pmd_splits;

	CHECK(drv_share(a, 1) == 0);
	CHECK(sim_level(a) == SIM_4K && sim.pmd_splits == splits + 1);
	CHECK(sim_present(a) && !sim_present(b) && present_pages(a) == 1);
	CHECK(r->nr_shared == 1 && test_bit(a - r->pfn, r->shared));
	CHECK(drv_caches[0].stats.shares == 1);
	CHECK(drv_check() == 0);

	/* the second share finds the 4K entries there: no second split */
	CHECK(drv_share(b, 1) == 0);
	CHECK(sim.pmd_splits == splits + 1);
	CHECK(sim_present(b) && present_pages(a) == 2);
	CHECK(drv_check() == 0);

	CHECK(drv_unshare(a, 1) == 0 && drv_unshare(b, 1) == 0);
	CHECK(drv_release(a, 0) == 0 && drv_release(b, 0) == 0);
	drv_shrink_all();
	CHECK(drv_check() == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0 && sim.pgtables == 0);
	sim_exit();
}

/* The region stays at 4K while a page is shared, and is one 2M leaf after */
static void t_unshare_last_page(void)
{
	unsigned long collapses;
	long a;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 2);
	CHECK(a >= 0);
	CHECK(drv_share(a, 4) == 0 && present_pages(a) == 4);
	collapses = sim.pmd_collapses;

	CHECK(drv_unshare(a + 1, 2) == 0);
	CHECK(sim_level(a) == SIM_4K && sim.pmd_collapses == collapses);
	CHECK(sim_present(a) && sim_present(a + 3) && present_pages(a) == 2);
	CHECK(drv_check() == 0);

	CHECK(drv_unshare(a, 1) == 0);
	CHECK(sim_level(a) == SIM_4K && present_pages(a) == 1);
	CHECK(drv_unshare(a + 3, 1) == 0);
	CHECK(sim_level(a) == SIM_2M && !sim_present(a) && present_pages(a) == 0);
	CHECK(sim.pmd_collapses == collapses + 1);
	CHECK(sim_region_of(a)->nr_shared == 0);
	CHECK(drv_caches[0].stats.shares == 4 && drv_caches[0].stats.unshares == 4);
	CHECK(drv_check() == 0);

	CHECK(drv_release(a, 2) == 0);
	drv_shrink_all();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0 && sim.pgtables == 0);
	sim_exit();
}

/* Shares and unshares of pages that are not out and private/shared */
static void t_share_misuse(void)
{
	static const struct {
		int base;		/* 0: a, 1: b, 2: c, 3: a free slot, 4: z */
		long off;
		unsigned long nr;
		bool share;
		const char *what;
	} cases[] = {
		{ 3, 0, 1, true, "share of a free slot" },
		{ 3, 0, 1, false, "unshare of a free slot" },
		{ 2, 0, 1, true, "share of a returned page" },
		{ 2, 0, 1, false, "unshare of a returned page" },
		{ 0, 0, 1, true, "double share" },
		{ 1, 1, 1, false, "unshare of a private page" },
		{ 1, 0, 4, false, "unshare of private pages" },
		{ 1, 0, 5, true, "share on past the allocation" },
		{ 1, 0, 0, true, "share of no pages" },
		{ 0, 0, 0, false, "unshare of no pages" },
		{ 4, 511, 2, true, "share past the region" },
		{ 4, 511, ~0UL, true, "share of a range that wraps" },
		{ 4, 1, ~0UL - 5, true, "share of a range that wraps" },
		{ 0, 0, ~0UL, false, "unshare of a range that wraps" },
	};
	struct drv_snap before, before_z;
	unsigned long misuse, i;
	long a, b, c, f, z, base[5];
	struct dmap_region *r;
	int err;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 0);
	b = drv_alloc(0, 2);
	c = drv_alloc(0, 0);
	/* a region of its own, every slot out: only the bounds are wrong */
	z = drv_alloc(1, DMAP_REGION_ORDER);
	CHECK(a >= 0 && b >= 0 && c >= 0 && z >= 0);
	CHECK(a / 512 == b / 512 && a / 512 == c / 512);
	r = sim_region_of(a);
	f = r->pfn + find_next_zero_bit(r->used, DMAP_REGION_PAGES, 0);
	CHECK(f < r->pfn + DMAP_REGION_PAGES);
	CHECK(drv_share(a, 1) == 0);
	CHECK(drv_return(c, 0) == 0 && test_bit(c - r->pfn, r->pending));
	base[0] = a;
	base[1] = b;
	base[2] = c;
	base[3] = f;
	base[4] = z;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned long pfn = base[cases[i].base] + cases[i].off;
		int nid = sim_region_of(pfn)->nid;

		drv_snap_take(&before, a);
		drv_snap_take(&before_z, z);
		misuse = drv_caches[nid].stats.misuse;
		if (cases[i].share)
			err = drv_share(pfn, cases[i].nr);
		else
			err = drv_unshare(pfn, cases[i].nr);
		CHECK(err == -EINVAL);
		CHECK(drv_snap_same(&before, a) && drv_snap_same(&before_z, z));
		CHECK(drv_caches[nid].stats.misuse == misuse + 1);
		CHECK(drv_check() == 0);
		if (case_failed) {
			printf("#   case %lu: %s\n", i, cases[i].what);
			break;
		}
	}

	drv_last_put(c, 0);
	CHECK(drv_release(a, 0) == 0);
	CHECK(drv_release(b, 2) == 0);
	CHECK(drv_release(z, DMAP_REGION_ORDER) == 0);
	drv_shrink_all();
	CHECK(drv_check() == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0 && sim.pgtables == 0);
	sim_exit();
}

/*
 * A free of an allocation with shared pages needs the share lock: refused
 * without it, with nothing changed; with it, the pages are absent again
 */
static void t_free_shared(void)
{
	struct dmap_cache *cache = &drv_caches[0];
	struct dmap_region *r;
	struct drv_snap before;
	unsigned long misuse;
	long a, x;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 2);
	x = drv_alloc(0, 0);
	CHECK(a >= 0 && x >= 0 && a / 512 == x / 512);
	r = sim_region_of(a);
	CHECK(drv_share(a + 1, 2) == 0 && drv_share(x, 1) == 0);
	CHECK(present_pages(a) == 3);

	drv_snap_take(&before, a);
	misuse = cache->stats.misuse;
	CHECK(dmap_cache_mark_returned(cache, r, a, 2, false) == -EAGAIN);
	CHECK(drv_snap_same(&before, a) && cache->stats.misuse == misuse);
	CHECK(drv_check() == 0);

	/* the other allocation's page stays shared, so the region stays 4K */
	CHECK(drv_release(a, 2) == 0);
	CHECK(!sim_present(a + 1) && !sim_present(a + 2) && sim_present(x));
	CHECK(present_pages(a) == 1 && sim_level(a) == SIM_4K);
	CHECK(r->nr_shared == 1 && cache->stats.unshares == 2);
	CHECK(cache->stats.frees == 1 && cache->stats.misuse == misuse);
	CHECK(drv_check() == 0);

	/* returned but still referenced: absent at once, pending, not shared */
	CHECK(drv_return(x, 0) == 0);
	CHECK(!sim_present(x) && sim_level(x) == SIM_2M);
	CHECK(test_bit(x - r->pfn, r->pending) && !r->nr_shared);
	CHECK(drv_check() == 0);
	drv_last_put(x, 0);
	CHECK(drv_check() == 0);

	drv_shrink_all();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0 && sim.pgtables == 0);
	sim_exit();
}

/* A share whose split fails changes nothing; later shares need no split */
static void t_share_split_fails(void)
{
	struct dmap_cache *cache = &drv_caches[0];
	struct drv_snap before;
	unsigned long splits, misuse;
	long a, b;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 1);
	b = drv_alloc(0, 0);
	CHECK(a >= 0 && b >= 0 && a / 512 == b / 512);
	drv_snap_take(&before, a);
	misuse = cache->stats.misuse;

	sim_fail_nth(SIM_FAIL_PGTABLE, 1);
	CHECK(drv_share(a, 2) == -ENOMEM);
	CHECK(drv_snap_same(&before, a) && cache->stats.misuse == misuse);
	CHECK(sim_level(a) == SIM_2M && present_pages(a) == 0);
	CHECK(drv_check() == 0);

	splits = sim.pmd_splits;
	CHECK(drv_share(a, 2) == 0 && sim.pmd_splits == splits + 1);
	sim_fail_nth(SIM_FAIL_PGTABLE, 1);
	CHECK(drv_share(b, 1) == 0 && sim.pmd_splits == splits + 1);
	sim_fail_nth(SIM_FAIL_PGTABLE, 0);
	CHECK(present_pages(a) == 3);
	CHECK(drv_check() == 0);

	CHECK(drv_release(a, 1) == 0 && drv_release(b, 0) == 0);
	drv_shrink_all();
	CHECK(drv_check() == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0 && sim.pgtables == 0);
	sim_exit();
}

/* A region that sharing split goes back whole and present, under its 1G */
static void t_release_after_share(void)
{
	unsigned long boot_1g, i, absent = 0;
	long a, b;

	drv_setup(GIB_PER_NODE);
	/* released as soon as it is empty, from the free itself */
	drv_caches[0].high = 0;
	boot_1g = sim_pages(SIM_1G);
	a = drv_alloc(0, 3);
	b = drv_alloc(0, 0);
	CHECK(a >= 0 && b >= 0 && a / 512 == b / 512);
	CHECK(drv_share(a + 2, 5) == 0 && drv_share(b, 1) == 0);
	CHECK(drv_unshare(b, 1) == 0 && sim_level(a) == SIM_4K);
	CHECK(drv_release(b, 0) == 0);
	/* freed with its pages shared: the free unshares them first */
	CHECK(drv_release(a, 3) == 0);
	CHECK(drv_caches[0].nr_regions == 0 && drv_caches[0].stats.releases == 1);

	for (i = a / 512 * 512; i < a / 512 * 512 + DMAP_REGION_PAGES; i++)
		absent += !sim_present(i);
	CHECK(absent == 0);
	CHECK(sim_level(a) == SIM_1G && sim_pages(SIM_1G) == boot_1g);
	CHECK(sim.pmd_splits == 1 && sim.pmd_collapses == 1);
	CHECK(sim.pud_collapses == sim.pud_splits && sim.pgtables == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	CHECK(drv_check() == 0);
	sim_exit();
}

/*
 * A pass that re-forms three 2M areas and the 1G area over them flushes
 * once, at its end; a collapse that leaves an absent 2M entry flushes at
 * once, what was deferred included.
 */
static void t_collapse_one_flush(void)
{
	static struct dmap_collapse dc;
	unsigned long flushes, a;
	int i;

	drv_setup(GIB_PER_NODE);
	CHECK(!dmap_collapse_init(&dc, sim_nr_pages()));
	sim_attach_collapse(&dc);
	for (i = 0; i < 3; i++) {
		a = (8 + 2 * i) * SIM_PMD_PAGES + 5;
		CHECK(sim_cpa_set_ro(a, 1, true) == 0);
		CHECK(sim_cpa_set_ro(a, 1, false) == 0);
		CHECK(sim_level(a) == SIM_4K);
	}
	flushes = sim.flushes;
	dmap_collapse_pass(&dc, ~0UL, true);
	dmap_collapse_pass(&dc, ~0UL, true);
	CHECK(sim_level(a) == SIM_1G);
	CHECK(sim.pmd_collapses == 3 && sim.pud_collapses == 1);
	CHECK(sim.flushes - flushes == 1);

	dmap_env_collapse_begin();
	CHECK(sim_other_split_pmd(a) == 0);
	CHECK(sim_cpa_set_present(a, false) == 0);
	CHECK(sim_cpa_set_present(a, true) == 0);
	flushes = sim.flushes;
	CHECK(dmap_env_collapse_pmd(a, false) == 1);
	CHECK(sim.flushes == flushes);
	dmap_env_collapse_end();
	CHECK(sim.flushes - flushes == 1);
	CHECK(drv_check() == 0);
	sim_attach_collapse(NULL);
	dmap_collapse_exit(&dc);
	sim_exit();
}

/*
 * Every page of a region shared: its 4K entries are uniform and present,
 * but the collapse worker must not re-form them into a present 2M (or 1G)
 * entry: a large entry would cover the pages again as soon as one is
 * unshared, and the unshare, which cannot fail, would need a split.
 */
static void t_full_region_shared(void)
{
	static struct dmap_collapse dc;
	long a;

	drv_setup(GIB_PER_NODE);
	CHECK(!dmap_collapse_init(&dc, sim_nr_pages()));
	sim_attach_collapse(&dc);
	a = drv_alloc(0, DMAP_REGION_ORDER);
	CHECK(a >= 0);
	CHECK(drv_share(a, DMAP_REGION_PAGES) == 0);
	CHECK(present_pages(a) == DMAP_REGION_PAGES);
	dmap_collapse_pass(&dc, ~0UL, true);
	dmap_collapse_pass(&dc, ~0UL, true);
	CHECK(sim_level(a) == SIM_4K);
	CHECK(drv_check() == 0);

	/* put the 4K entries back if they went, so that the rest can run */
	if (sim_level(a) != SIM_4K)
		CHECK(sim_other_split_pmd(a) == 0);
	CHECK(drv_unshare(a + 7, 1) == 0 && !sim_present(a + 7));
	CHECK(drv_release(a, DMAP_REGION_ORDER) == 0);
	CHECK(present_pages(a) == 0 && sim_level(a) == SIM_2M);
	drv_shrink_all();
	CHECK(drv_check() == 0);
	sim_attach_collapse(NULL);
	dmap_collapse_exit(&dc);
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

/*
 * Empty regions nobody takes go back after their age, oldest first, while
 * the node has other pages out; a region taken again meanwhile is kept.
 */
static void t_trim_by_age(void)
{
	struct dmap_cache *cache = &drv_caches[0];
	unsigned long boot_1g, wait;
	long keep, a, b;

	drv_setup(GIB_PER_NODE);
	boot_1g = sim_pages(SIM_1G);
	/* three regions: one holds a page for good, two whole ones empty */
	keep = drv_alloc(0, 0);
	/* a refill arms the idle work too: its region may stay empty */
	CHECK(sim_emptied);
	a = drv_alloc(0, 9);
	b = drv_alloc(0, 9);
	CHECK(keep >= 0 && a >= 0 && b >= 0);
	CHECK(cache->nr_regions == 3);
	sim_clock = 100;
	sim_emptied = false;
	CHECK(drv_release(a, 9) == 0);
	CHECK(sim_emptied);
	sim_clock = 150;
	CHECK(drv_release(b, 9) == 0);
	CHECK(cache->nr_empty == 2);

	/* neither is due yet: the oldest is due in 10 */
	sim_clock = 190;
	CHECK(dmap_cache_trim(cache, 100, &wait) == 0);
	CHECK(wait == 10 && cache->nr_empty == 2);

	/* the oldest goes; the other is due in 50, the page stays */
	sim_clock = 200;
	CHECK(dmap_cache_trim(cache, 100, &wait) == 1);
	CHECK(wait == 50 && cache->nr_empty == 1);
	CHECK(sim_present(a) && sim_level(a) != SIM_4K);
	CHECK(!sim_present(b) && !sim_present(keep));
	CHECK(drv_check() == 0);

	/* taken and emptied again: its age starts over */
	sim_clock = 240;
	b = drv_alloc(0, 9);
	CHECK(b >= 0 && cache->nr_empty == 0);
	sim_clock = 260;
	CHECK(drv_release(b, 9) == 0);
	sim_clock = 300;
	CHECK(dmap_cache_trim(cache, 100, &wait) == 0 && wait == 60);
	sim_clock = 360;
	CHECK(dmap_cache_trim(cache, 100, &wait) == 1 && wait == 0);
	CHECK(cache->nr_empty == 0 && cache->nr_regions == 1);
	CHECK(cache->nr_used == 1 && !sim_present(keep));
	CHECK(drv_check() == 0);

	/* the clock wraps: ages are differences */
	sim_clock = ~0UL - 9;
	CHECK(drv_release(keep, 0) == 0);
	sim_clock = 89;
	CHECK(dmap_cache_trim(cache, 100, &wait) == 0 && wait == 1);
	sim_clock = 90;
	CHECK(dmap_cache_trim(cache, 100, &wait) == 1 && wait == 0);
	CHECK(cache->nr_regions == 0 && sim.blocks_out == 0);
	CHECK(sim_pages(SIM_1G) == boot_1g);
	sim_exit();
}

/*
 * A region that empties beside another empty one goes back at once while
 * the partly used regions have a region's worth of free slots, which the
 * next allocations take first; with fewer, or as the only empty region
 * (for orders the holes cannot serve), it is kept.
 */
static void t_keep_empty_by_spare(void)
{
	struct dmap_cache *cache = &drv_caches[0];
	static long pfns[4 * 512];
	unsigned long releases, b1;
	int i, k;

	drv_setup(GIB_PER_NODE);
	for (i = 0; i < 4 * 512; i++) {
		pfns[i] = drv_alloc(0, 0);
		CHECK(pfns[i] >= 0);
		/* regions are filled one after the other */
		CHECK(pfns[i] / 512 == pfns[i / 512 * 512] / 512);
	}
	CHECK(cache->nr_regions == 4 && cache->nr_empty == 0);
	releases = cache->stats.releases;
	b1 = pfns[0] / 512;

	/* 300 + 300 free in the first two: the fourth is kept, the first */
	for (k = 0; k < 2; k++)
		for (i = 0; i < 300; i++)
			CHECK(drv_release(pfns[k * 512 + i], 0) == 0);
	for (i = 3 * 512; i < 4 * 512; i++)
		CHECK(drv_release(pfns[i], 0) == 0);
	CHECK(cache->nr_empty == 1 && cache->stats.releases == releases);
	CHECK(!sim_present(pfns[3 * 512]));

	/* the third beside it goes back at once */
	for (i = 2 * 512; i < 3 * 512; i++)
		CHECK(drv_release(pfns[i], 0) == 0);
	CHECK(cache->nr_empty == 1 && cache->stats.releases == releases + 1);
	CHECK(sim_present(pfns[2 * 512]) && !sim_present(pfns[3 * 512]));
	CHECK(cache->nr_regions == 3 && cache->nr_free == 3 * 512 - 424);
	CHECK(drv_check() == 0);

	/* the next allocations fill the holes, not the empty region */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 300; i++) {
			pfns[k * 512 + i] = drv_alloc(0, 0);
			CHECK(pfns[k * 512 + i] >= 0);
			CHECK(pfns[k * 512 + i] / 512 != pfns[3 * 512] / 512);
		}
	}
	CHECK(cache->nr_empty == 1 && cache->nr_free == 512);

	/* no spare: a second empty one is kept, up to the watermark */
	for (i = 0; i < 2 * 512; i++)
		if (pfns[i] / 512 == b1)
			CHECK(drv_release(pfns[i], 0) == 0);
	CHECK(cache->nr_empty == 2 && cache->stats.releases == releases + 1);
	CHECK(drv_check() == 0);

	for (i = 0; i < 2 * 512; i++)
		if (pfns[i] / 512 != b1)
			CHECK(drv_release(pfns[i], 0) == 0);
	CHECK(cache->nr_empty == 2 && cache->stats.releases == releases + 2);
	drv_shrink_all();
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

static void run(const char *name, void (*fn)(void))
{
	tap_run(name, fn, NULL, NULL);
}

/*
 * Memory offline: empty regions of the range go back, without a collapse;
 * a region of the range that holds a page refuses, with nothing changed.
 */
static void t_offline(void)
{
	unsigned long start, collapses;
	long a, b;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 0);
	b = drv_alloc(0, 0);
	CHECK(a >= 0 && b >= 0);
	start = a & ~(SIM_PUD_PAGES - 1);

	/* a page is out: refused, nothing changed */
	CHECK(dmap_cache_offline(&drv_caches[0], start, SIM_PUD_PAGES) == -EBUSY);
	CHECK(drv_caches[0].nr_regions >= 1);
	CHECK(!sim_present(a));
	CHECK(drv_check() == 0);

	CHECK(drv_release(a, 0) == 0);
	CHECK(drv_release(b, 0) == 0);
	CHECK(drv_caches[0].nr_empty >= 1);
	collapses = sim.pud_collapses;
	/* a range without the region: nothing to do */
	CHECK(dmap_cache_offline(&drv_caches[0], start + SIM_PUD_PAGES,
				 SIM_PUD_PAGES) == 0);
	CHECK(dmap_cache_offline(&drv_caches[0], start, SIM_PUD_PAGES) >= 1);
	CHECK(drv_caches[0].nr_empty == 0 && drv_caches[0].nr_regions == 0);
	CHECK(sim_present(a) && sim_present(b));
	/* no collapse for memory that goes offline */
	CHECK(sim.pud_collapses == collapses);
	CHECK(drv_check() == 0);
	CHECK(sim.blocks_out == 0 && sim.allocs_out == 0);
	sim_exit();
}

/*
 * Memory failure: a poisoned slot, free or handed out, is retired for
 * good.  It is never handed out again, and its region is never mapped back
 * nor given to the buddy allocator (the simulator asserts both), while
 * its other slots are still used.
 */
static void t_poison(void)
{
	unsigned long region, i, misuse;
	long a, b, c;

	drv_setup(GIB_PER_NODE);
	a = drv_alloc(0, 0);
	CHECK(a >= 0);
	region = a & ~(DMAP_REGION_PAGES - 1);
	CHECK(drv_release(a, 0) == 0);

	/* a free slot of an empty region goes bad: the region stays */
	sim_poison(region + 300, true);
	drv_shrink_all();
	CHECK(sim_region_of(region) && drv_caches[0].nr_regions == 1);
	CHECK(drv_caches[0].nr_retired == 1 && drv_caches[0].nr_used == 0);
	CHECK(!sim_present(region + 300) && !sim_present(region));
	/* and memory offline cannot take it */
	CHECK(dmap_cache_offline(&drv_caches[0], region, DMAP_REGION_PAGES) ==
	      -EBUSY);
	CHECK(drv_check() == 0);

	/* a free slot goes bad: the take skips it */
	a = drv_alloc(0, 0);
	b = drv_alloc(0, 0);
	CHECK(a == (long)region && b == a + 1);
	sim_poison(b + 1, true);
	c = drv_alloc(0, 0);
	CHECK(c == b + 2);
	CHECK(drv_caches[0].nr_retired == 2);
	CHECK(drv_check() == 0);
	/* a wrong order that would take the retired slot in is refused */
	CHECK(drv_put(drv_caches, b, 1) == -EINVAL);
	CHECK(sim_region_of(region)->nr_retired == 2 && drv_check() == 0);

	/* a page that is out goes bad: retired once its last user is gone */
	sim_poison(a, true);
	/* and never shared: the kernel would read the poison */
	misuse = drv_caches[0].stats.misuse;
	CHECK(drv_share(a, 2) == -EHWPOISON && drv_share(a, 1) == -EHWPOISON);
	CHECK(!sim_present(a) && !sim_present(b));
	CHECK(sim_region_of(region)->nr_shared == 0);
	CHECK(drv_caches[0].stats.misuse == misuse && drv_check() == 0);
	CHECK(drv_release(a, 0) == 0);
	CHECK(drv_release(b, 0) == 0);
	CHECK(drv_release(c, 0) == 0);
	CHECK(drv_caches[0].nr_retired == 3 && drv_caches[0].nr_used == 0);
	CHECK(!sim_present(a) && !sim_present(b));
	drv_shrink_all();
	CHECK(sim_region_of(region) && drv_caches[0].nr_regions == 1);
	CHECK(drv_check() == 0);

	/* every good slot is still handed out, no bad one */
	for (i = 0; i < DMAP_REGION_PAGES - 3; i++) {
		long p = drv_alloc(0, 0);

		CHECK(p >= (long)region && p < (long)region + DMAP_REGION_PAGES);
		CHECK(!sim_poisoned(p));
	}
	CHECK(drv_caches[0].nr_free == 0 && drv_caches[0].nr_regions == 1);
	CHECK(drv_check() == 0);

	/* the region is the kernel's for good: free its bookkeeping by hand */
	list_del(&sim_region_of(region)->list);
	dmap_env_region_unregister(sim_region_of(region));
	sim_poison(a, false);
	sim_poison(b + 1, false);
	sim_poison(region + 300, false);
	sim_exit();
}

/*
 * memcg: a freed page keeps its charge while its cgroup has another page
 * of the region in use; handing the slot out again moves the charge
 * (sim_charge() asserts none is counted twice); the cgroup's last page in
 * the region takes what it kept there along; another cgroup's pages
 * pinning a region cost it nothing; and the buddy allocator never gets a
 * charged page (sim.c asserts).
 */
static void t_kept_charges(void)
{
	static long p[1024], in0[512], in1[512];
	struct dmap_cache *cache = &drv_caches[0];
	long keep0, keep1, q1, q2, q3;
	int i, n0 = 0, n1 = 0;

	drv_setup(GIB_PER_NODE);
	drv_memcg = 1;
	for (i = 0; i < 1024; i++) {
		p[i] = drv_alloc(0, 0);
		CHECK(p[i] >= 0 && sim_charged(p[i]) == 1);
	}
	keep0 = p[0];
	keep1 = p[512];
	CHECK(p[511] / 512 == keep0 / 512 && p[1023] / 512 == keep1 / 512);
	/* all but one page of each of the two regions */
	for (i = 0; i < 1024; i++)
		if (i % 512)
			CHECK(drv_release(p[i], 0) == 0);
	CHECK(drv_check() == 0);
	CHECK(cache->nr_charged == 1022 && sim.pages_charged == 1024);

	/* cgroup 2 fills the holes: charged once, by it */
	drv_memcg = 2;
	for (i = 0; i < 1022; i++) {
		long pfn = drv_alloc(0, 0);

		CHECK(pfn >= 0 && sim_charged(pfn) == 2);
		if (pfn / 512 == keep0 / 512 && n0 < 511)
			in0[n0++] = pfn;
		else if (pfn / 512 == keep1 / 512 && n1 < 511)
			in1[n1++] = pfn;
	}
	CHECK(n0 == 511 && n1 == 511);
	CHECK(cache->nr_charged == 0 && sim.pages_charged == 1024);
	CHECK(drv_check() == 0);

	/* cgroup 2's last page of the first region takes its charges along */
	for (i = 0; i < 510; i++)
		CHECK(drv_release(in0[i], 0) == 0);
	CHECK(cache->nr_charged == 510);
	CHECK(drv_release(in0[510], 0) == 0);
	CHECK(cache->nr_charged == 0 && sim.pages_charged == 513);
	CHECK(drv_check() == 0);

	/* cgroup 1's page pins it, and keeps cgroup 1's charges only */
	drv_memcg = 1;
	q1 = drv_alloc(0, 0);
	q2 = drv_alloc(0, 0);
	q3 = drv_alloc(0, 0);
	CHECK(q1 == keep0 + 1 && q2 == keep0 + 2 && q3 == keep0 + 3);
	CHECK(drv_release(q2, 0) == 0 && cache->nr_charged == 1);
	CHECK(drv_release(q3, 0) == 0 && cache->nr_charged == 2);
	CHECK(drv_check() == 0);

	/* a two-page allocation drops the charges under both slots */
	drv_memcg = 3;
	q2 = drv_alloc(0, 1);
	CHECK(q2 == keep0 + 2);
	CHECK(cache->nr_charged == 0 && sim.pages_charged == 514);
	CHECK(drv_release(q2, 1) == 0);

	/* a pinning page goes bad: retired; the cgroup's other page pins */
	drv_memcg = 1;
	q2 = drv_alloc(0, 0);
	CHECK(drv_release(q2, 0) == 0 && cache->nr_charged == 1);
	sim_poison(keep0, true);
	CHECK(drv_release(keep0, 0) == 0);
	CHECK(cache->nr_retired == 1 && cache->nr_charged == 1);
	CHECK(drv_check() == 0);
	/* its last page there takes the kept charge along */
	CHECK(drv_release(q1, 0) == 0);
	CHECK(cache->nr_charged == 0 && sim.pages_charged == 512);
	CHECK(drv_check() == 0);

	/* the other region empties: nothing charged, whatever the order */
	CHECK(drv_release(keep1, 0) == 0);
	for (i = 0; i < 511; i++)
		CHECK(drv_release(in1[i], 0) == 0);
	CHECK(drv_check() == 0);
	CHECK(cache->nr_charged == 0 && sim.pages_charged == 0);
	drv_shrink_all();
	CHECK(cache->nr_regions == 1);

	/* the first region is the kernel's for good, as in t_poison */
	list_del(&sim_region_of(keep0)->list);
	dmap_env_region_unregister(sim_region_of(keep0));
	sim_poison(keep0, false);
	sim_exit();
}

int main(void)
{
	/* a failed assertion aborts: keep the lines of the cases before it */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..19\n");
	run("no_pmd_split", t_no_pmd_split);
	run("orders", t_orders);
	run("misuse", t_misuse);
	run("refill_failures", t_refill_failures);
	run("presplit_block", t_presplit_block);
	run("share_one_page", t_share_one_page);
	run("unshare_last_page", t_unshare_last_page);
	run("share_misuse", t_share_misuse);
	run("free_shared", t_free_shared);
	run("share_split_fails", t_share_split_fails);
	run("release_after_share", t_release_after_share);
	run("collapse_one_flush", t_collapse_one_flush);
	run("full_region_shared_stays_4k", t_full_region_shared);
	run("trim_by_age", t_trim_by_age);
	run("keep_empty_by_spare", t_keep_empty_by_spare);
	run("offline", t_offline);
	run("poison", t_poison);
	run("kept_charges", t_kept_charges);
	run("random_with_failures", t_random);
	return test_failed ? 1 : 0;
}
