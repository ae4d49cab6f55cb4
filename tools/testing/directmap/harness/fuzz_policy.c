// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the directmap policy (mm/directmap/cache.c and
 * collapse.c): each input is a program of allocations, frees (right and
 * wrong), shrinks, injected failures, other users' permission changes,
 * splits and set_memory_4k() pins, stock-style single pages, and collapse
 * passes and ranges, on a simulated two-node direct map.  Every invariant
 * is checked after every operation; at the end everything is freed, the
 * collapse policy runs until nothing is marked, and the direct map must be
 * whole again but for the pinned areas: no block, page table or
 * allocation leaked.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"
#include "sim.h"

#define MAX_OUT		512
#define MAX_PAGES	64	/* RO pages, single secret pages, pins */

static struct dmap_collapse dc;
static unsigned long ro_pages[MAX_PAGES], singles[MAX_PAGES], pins[MAX_PAGES];
static int nr_ro, nr_singles, nr_pins;

struct out {
	unsigned long	pfn;
	unsigned int	order;
};

static void must(int cond, const char *what, unsigned long a, unsigned long b)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_policy: %s (%lu, %lu)\n", what, a, b);
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

static int make_ro(unsigned long pfn, bool on)
{
	return sim_cpa_set_ro(pfn, 1, on);
}

/* The stock secretmem path: one page unmapped on its own */
static int make_absent(unsigned long pfn, bool on)
{
	return sim_cpa_set_present(pfn, !on);
}

/*
 * Another user's page with one change of the direct map made to it
 * (@make), or one of them given back and freed; giving back cannot fail,
 * since the split is made
 */
static void op_page(unsigned long *pages, int *nr, uint8_t a, bool make,
		    int (*change)(unsigned long pfn, bool on))
{
	unsigned long pfn;
	long p;
	int k;

	if (make && *nr < MAX_PAGES) {
		p = sim_page_alloc(a % DRV_NODES);
		if (p < 0)
			return;
		if (change(p, true)) {
			sim_page_free(p);
			return;
		}
		pages[(*nr)++] = p;
	} else if (!make && *nr) {
		k = a % *nr;
		pfn = pages[k];
		must(!change(pfn, false), "undo failed", pfn, 0);
		sim_page_free(pfn);
		pages[k] = pages[--*nr];
	}
}

/*
 * set_memory_4k() on a page its caller keeps for good (kfence's pool):
 * split, then the area must stay at 4K
 */
static void op_pin(uint8_t a)
{
	long p;

	if (nr_pins == MAX_PAGES)
		return;
	p = sim_page_alloc(a % DRV_NODES);
	if (p < 0)
		return;
	if (sim_other_split_pmd(p)) {
		sim_page_free(p);
		return;
	}
	dmap_collapse_pin(&dc, p, 1);
	pins[nr_pins++] = p;
}

static void check_all(struct out *out, int n, uint8_t op)
{
	int i;

	must(drv_check() == 0, "invariants", op, n);
	for (i = 0; i < n; i++)
		must(!sim_present(out[i].pfn) &&
		     !sim_present(out[i].pfn + (1UL << out[i].order) - 1),
		     "handed-out page mapped", out[i].pfn, op);
	for (i = 0; i < nr_ro; i++)
		must(sim_present(ro_pages[i]) && sim_ro(ro_pages[i]),
		     "RO page lost its permission", ro_pages[i], op);
	for (i = 0; i < nr_singles; i++)
		must(!sim_present(singles[i]), "single page mapped", singles[i],
		     op);
	for (i = 0; i < nr_pins; i++)
		must(sim_level(pins[i]) == SIM_4K, "pinned area collapsed",
		     pins[i], op);
}

/* Areas and 1G areas the pins keep split */
static void pinned_areas(unsigned long *pmds, unsigned long *puds)
{
	int i, j;

	*pmds = *puds = 0;
	for (i = 0; i < nr_pins; i++) {
		bool seen_pmd = false, seen_pud = false;

		for (j = 0; j < i; j++) {
			seen_pmd |= pins[j] / 512 == pins[i] / 512;
			seen_pud |= pins[j] / SIM_PUD_PAGES ==
				    pins[i] / SIM_PUD_PAGES;
		}
		*pmds += !seen_pmd;
		*puds += !seen_pud;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out out[MAX_OUT];
	unsigned long pmds, puds, pfn;
	int n = 0, i;

	drv_setup(1);
	must(!dmap_collapse_init(&dc, sim_nr_pages()), "init", 0, 0);
	sim_attach_collapse(&dc);
	nr_ro = 0;
	nr_singles = 0;
	nr_pins = 0;
	while (size) {
		uint8_t op = next(&data, &size);
		uint8_t a = next(&data, &size);
		uint8_t b = next(&data, &size);

		pfn = ((unsigned long)a << 8 | b) * 64 % sim_nr_pages();
		switch (op % 16) {
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
		case 7:
			/* a run of allocations, to fill regions and refill */
			while (b-- % 64)
				op_alloc(out, &n, a, a);
			break;
		case 8: case 9:
			op_page(ro_pages, &nr_ro, a, op % 16 == 8, make_ro);
			break;
		case 10: case 11:
			op_page(singles, &nr_singles, a, op % 16 == 10,
				make_absent);
			break;
		case 12:
			dmap_collapse_pass(&dc, b % 8 + 1, a & 1);
			break;
		case 13:
			dmap_collapse_range(&dc, pfn, 1 + b % 1024);
			break;
		case 14:
			/* others change their own pages, never a region's */
			if (!sim_region_of(pfn))
				sim_other_split_pmd(pfn);
			break;
		default:
			op_pin(a);
			break;
		}
		check_all(out, n, op);
	}

	sim_fail_nth(SIM_FAIL_PGTABLE, 0);
	for (n--; n >= 0; n--)
		must(drv_release(out[n].pfn, out[n].order) == 0, "final free",
		     out[n].pfn, out[n].order);
	while (nr_ro)
		op_page(ro_pages, &nr_ro, 0, false, make_ro);
	while (nr_singles)
		op_page(singles, &nr_singles, 0, false, make_absent);
	drv_shrink_all();
	for (i = 0; i < 64 && (dmap_collapse_waiting(&dc, false) ||
			       dmap_collapse_waiting(&dc, true)); i++)
		dmap_collapse_pass(&dc, ~0UL, true);
	check_all(out, 0, 0);
	pinned_areas(&pmds, &puds);
	must(sim.blocks_out == 0, "blocks leaked", sim.blocks_out, 0);
	must(sim.pages_out == nr_pins, "pages leaked", sim.pages_out, nr_pins);
	must(sim.areas_4k == pmds, "4K areas left", sim.areas_4k, pmds);
	must(sim.areas_1g_split == puds, "1G areas left split",
	     sim.areas_1g_split, puds);
	while (nr_pins)
		sim_page_free(pins[--nr_pins]);
	sim_attach_collapse(NULL);
	dmap_collapse_exit(&dc);
	must(sim.allocs_out == 0, "allocations leaked", sim.allocs_out, 0);
	sim_exit();
	return 0;
}
