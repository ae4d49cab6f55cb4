// SPDX-License-Identifier: GPL-2.0
/*
 * The environment of mm/directmap/cache.c in userspace: a simulated direct
 * map and buddy allocator, behaving as x86 CPA does for the operations the
 * policy asks for.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

struct sim_stats sim;

static unsigned long nr_1g, pages_per_node;
static int nr_nodes;
static bool *pud_table;		/* per 1G: split into 2M entries */
static bool *pmd_table;		/* per 2M: split into 4K entries */
static bool *pmd_present;	/* per 2M leaf */
static unsigned long *pte_present;	/* per 4K, bitmap */
static bool *block_used;	/* per 2M: taken from the buddy allocator */
static unsigned long *cursor;	/* per node: next block to try */
static struct dmap_region **regions;	/* per 2M */

static unsigned long fail_nth[SIM_FAIL_NR];
static double fail_rate[SIM_FAIL_NR];
static unsigned int seed = 1;

void sim_fail_nth(enum sim_fail where, unsigned long nth)
{
	fail_nth[where] = nth;
}

void sim_fail_rate(enum sim_fail where, double rate)
{
	fail_rate[where] = rate;
}

static bool sim_should_fail(enum sim_fail where)
{
	if (fail_nth[where] && !--fail_nth[where])
		return true;
	return fail_rate[where] > 0 &&
	       rand_r(&seed) < fail_rate[where] * RAND_MAX;
}

void *sim_kzalloc(size_t size)
{
	void *p;

	if (sim_should_fail(SIM_FAIL_KZALLOC))
		return NULL;
	p = calloc(1, size);
	assert(p);
	sim.allocs_out++;
	return p;
}

void sim_kfree(const void *p)
{
	if (!p)
		return;
	sim.allocs_out--;
	free((void *)p);
}

void sim_init(unsigned long gib_per_node, int nodes)
{
	unsigned long nr_2m, nr_4k;

	memset(&sim, 0, sizeof(sim));
	memset(fail_nth, 0, sizeof(fail_nth));
	memset(fail_rate, 0, sizeof(fail_rate));
	nr_nodes = nodes;
	nr_1g = gib_per_node * nodes;
	pages_per_node = gib_per_node * SIM_PUD_PAGES;
	nr_2m = nr_1g * 512;
	nr_4k = nr_1g * SIM_PUD_PAGES;

	pud_table = calloc(nr_1g, sizeof(*pud_table));
	pmd_table = calloc(nr_2m, sizeof(*pmd_table));
	pmd_present = calloc(nr_2m, sizeof(*pmd_present));
	pte_present = calloc(BITS_TO_LONGS(nr_4k), sizeof(long));
	block_used = calloc(nr_2m, sizeof(*block_used));
	cursor = calloc(nodes, sizeof(*cursor));
	regions = calloc(nr_2m, sizeof(*regions));
	assert(pud_table && pmd_table && pmd_present && pte_present &&
	       block_used && cursor && regions);
}

void sim_exit(void)
{
	free(pud_table);
	free(pmd_table);
	free(pmd_present);
	free(pte_present);
	free(block_used);
	free(cursor);
	free(regions);
}

enum sim_level sim_level(unsigned long pfn)
{
	if (!pud_table[pfn / SIM_PUD_PAGES])
		return SIM_1G;
	return pmd_table[pfn / 512] ? SIM_4K : SIM_2M;
}

bool sim_present(unsigned long pfn)
{
	switch (sim_level(pfn)) {
	case SIM_1G:
		return true;
	case SIM_2M:
		return pmd_present[pfn / 512];
	default:
		return test_bit(pfn, pte_present);
	}
}

unsigned long sim_pages(enum sim_level level)
{
	unsigned long pfn, n = 0;

	for (pfn = 0; pfn < nr_1g * SIM_PUD_PAGES; pfn += 512)
		if (sim_level(pfn) == level)
			n += 512;
	return n;
}

int sim_nid_of(unsigned long pfn)
{
	return pfn / pages_per_node;
}

struct dmap_region *sim_region_of(unsigned long pfn)
{
	return regions[pfn / 512];
}

unsigned long sim_free_blocks(void)
{
	unsigned long i, n = 0;

	for (i = 0; i < nr_1g * 512; i++)
		n += !block_used[i];
	return n;
}

static void sim_split_pud(unsigned long pfn)
{
	unsigned long first = pfn / SIM_PUD_PAGES * 512, i;

	pud_table[pfn / SIM_PUD_PAGES] = true;
	for (i = 0; i < 512; i++)
		pmd_present[first + i] = true;
	sim.pud_splits++;
	sim.pgtables++;
	sim.flushes++;
}

/* Another kernel user splits the 2M page over @pfn down to 4K */
void sim_other_split_pmd(unsigned long pfn)
{
	unsigned long first = pfn / 512 * 512, i;

	if (sim_level(pfn) == SIM_1G)
		sim_split_pud(pfn);
	if (sim_level(pfn) == SIM_4K)
		return;
	for (i = 0; i < 512; i++)
		if (pmd_present[pfn / 512])
			__set_bit(first + i, pte_present);
	pmd_table[pfn / 512] = true;
	sim.pmd_splits++;
	sim.pgtables++;
	sim.flushes++;
}

/* ---- the dmap_env_*() hooks ---- */

int dmap_env_block_alloc(int nid, unsigned long *pfn)
{
	unsigned long per_node = pages_per_node / 512, i, b;

	assert(nid >= 0 && nid < nr_nodes);
	if (sim_should_fail(SIM_FAIL_BLOCK))
		return -ENOMEM;
	for (i = 0; i < per_node; i++) {
		b = nid * per_node + (cursor[nid] + i) % per_node;
		if (!block_used[b]) {
			block_used[b] = true;
			cursor[nid] = (b + 1) % per_node;
			sim.blocks_out++;
			*pfn = b * 512;
			return 0;
		}
	}
	return -ENOMEM;
}

void dmap_env_block_free(unsigned long pfn)
{
	assert(pfn % 512 == 0 && block_used[pfn / 512]);
	/* the buddy allocator only ever gets mapped memory back */
	assert(sim_present(pfn) && sim_present(pfn + 511));
	assert(!regions[pfn / 512]);
	block_used[pfn / 512] = false;
	sim.blocks_out--;
}

int dmap_env_block_unmap(unsigned long pfn)
{
	unsigned long i;

	assert(pfn % 512 == 0 && block_used[pfn / 512]);
	if (sim_level(pfn) == SIM_1G) {
		if (sim_should_fail(SIM_FAIL_PGTABLE))
			return -ENOMEM;
		sim_split_pud(pfn);
	}
	if (sim_level(pfn) == SIM_2M) {
		assert(pmd_present[pfn / 512]);
		pmd_present[pfn / 512] = false;
	} else {
		for (i = 0; i < 512; i++)
			__clear_bit(pfn + i, pte_present);
	}
	sim.flushes++;
	return 0;
}

void dmap_env_block_restore(unsigned long pfn)
{
	unsigned long i;

	/* what the unmap left in place is all the restore may need */
	assert(sim_level(pfn) != SIM_1G);
	if (sim_level(pfn) == SIM_2M) {
		assert(!pmd_present[pfn / 512]);
		pmd_present[pfn / 512] = true;
	} else {
		for (i = 0; i < 512; i++)
			__set_bit(pfn + i, pte_present);
	}
	sim.flushes++;
}

int dmap_env_collapse(unsigned long pfn)
{
	unsigned long first = pfn / SIM_PUD_PAGES * 512, i;

	if (sim_level(pfn) == SIM_1G)
		return 0;
	for (i = 0; i < 512; i++)
		if (pmd_table[first + i] || !pmd_present[first + i])
			return -EBUSY;
	pud_table[pfn / SIM_PUD_PAGES] = false;
	sim.pud_collapses++;
	sim.pgtables--;
	sim.flushes++;
	return 0;
}

int dmap_env_region_register(struct dmap_region *r)
{
	if (sim_should_fail(SIM_FAIL_REGISTER))
		return -ENOMEM;
	assert(!regions[r->pfn / 512]);
	regions[r->pfn / 512] = r;
	return 0;
}

void dmap_env_region_unregister(struct dmap_region *r)
{
	assert(regions[r->pfn / 512] == r);
	regions[r->pfn / 512] = NULL;
	sim_kfree(r);
}
