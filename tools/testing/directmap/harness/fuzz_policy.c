// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the region cache policy (mm/directmap/cache.c):
 * each input is a program of allocations, frees (right and wrong), shrinks
 * and injected failures on a simulated two-node direct map.  Every
 * invariant is checked after every operation, and at the end everything
 * must be back: no block, page table or allocation leaked, no PMD split,
 * every 1G entry whole.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"
#include "sim.h"

#define MAX_OUT		512

struct out {
	unsigned long	pfn;
	unsigned int	order;
};

static void must(int cond, const char *what, unsigned long a, unsigned long b)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_cache: %s (%lu, %lu)\n", what, a, b);
	abort();
}

static uint8_t next(const uint8_t **data, size_t *size)
{
	uint8_t b = 0;

	if (*size) {
		b = **data;
		(*data)++;
		(*size)--;
	}
	return b;
}

static void op_alloc(struct out *out, int *n, uint8_t a, uint8_t b)
{
	unsigned int order = b % 5;	/* 4 is past the API, not the policy */
	long pfn;

	if (*n >= MAX_OUT)
		return;
	pfn = drv_alloc(a % DRV_NODES, order);
	if (pfn < 0)
		return;
	must(!(pfn & ((1UL << order) - 1)), "misaligned", pfn, order);
	must(!sim_present(pfn), "handed out while mapped", pfn, order);
	must(sim_nid_of(pfn) == a % DRV_NODES, "wrong node", pfn, a);
	out[*n].pfn = pfn;
	out[(*n)++].order = order;
}

static void op_free(struct out *out, int *n, uint8_t a, uint8_t b)
{
	unsigned int k, order;
	unsigned long used;
	struct out o;
	int nid;

	if (!*n)
		return;
	k = ((unsigned int)a << 8 | b) % *n;
	o = out[k];
	nid = sim_nid_of(o.pfn);
	if (b & 0x80) {
		/* a wrong order, a tail page or a double free changes nothing */
		order = (b & 0x40) ? o.order + 1 : o.order;
		used = drv_nodes[nid].nr_used;
		if (b & 0x20 && o.order)
			must(drv_release(o.pfn + 1, o.order) < 0,
			     "tail freed", o.pfn, o.order);
		else if (order != o.order)
			must(drv_release(o.pfn, order) < 0,
			     "wrong order freed", o.pfn, order);
		must(drv_nodes[nid].nr_used == used, "misuse changed state",
		     used, drv_nodes[nid].nr_used);
		return;
	}
	must(drv_release(o.pfn, o.order) == 0, "free failed", o.pfn, o.order);
	out[k] = out[--*n];
	must(drv_release(o.pfn, o.order) < 0, "double free", o.pfn, o.order);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out out[MAX_OUT];
	unsigned long boot_1g;
	int n = 0;

	drv_setup(1);
	boot_1g = sim_pages(SIM_1G);
	while (size) {
		uint8_t op = next(&data, &size);
		uint8_t a = next(&data, &size);
		uint8_t b = next(&data, &size);

		switch (op % 8) {
		case 0: case 1: case 2:
			op_alloc(out, &n, a, b);
			break;
		case 3: case 4:
			op_free(out, &n, a, b);
			break;
		case 5:
			dmap_cache_shrink(&drv_nodes[a % DRV_NODES], b % 4, a % 3);
			break;
		case 6:
			sim_fail_nth(a % SIM_FAIL_NR, b % 4 + 1);
			break;
		default:
			/* a run of allocations, to fill regions and refill */
			while (b-- % 64)
				op_alloc(out, &n, a, a);
			break;
		}
		must(drv_check() == 0, "invariants", op, n);
	}

	for (n--; n >= 0; n--)
		must(drv_release(out[n].pfn, out[n].order) == 0, "final free",
		     out[n].pfn, out[n].order);
	drv_shrink_all();
	must(drv_check() == 0, "invariants at the end", 0, 0);
	must(sim.blocks_out == 0, "blocks leaked", sim.blocks_out, 0);
	must(sim.allocs_out == 0, "allocations leaked", sim.allocs_out, 0);
	must(sim.pgtables == 0, "page tables leaked", sim.pgtables, 0);
	must(sim.pmd_splits == 0, "PMD split", sim.pmd_splits, 0);
	must(sim_pages(SIM_1G) == boot_1g, "1G not whole", sim_pages(SIM_1G),
	     boot_1g);
	sim_exit();
	return 0;
}
