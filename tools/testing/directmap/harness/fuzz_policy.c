// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the directmap policy (mm/directmap/cache.c and
 * collapse.c): each input is a program of allocations, frees (right and
 * wrong), shrinks, injected failures, other users' permission changes,
 * splits and set_memory_4k() pins, stock-style single pages, collapse
 * passes and ranges, in-place shares and unshares (right and wrong), and
 * allocations returned while still referenced, on a simulated two-node
 * direct map.  Every invariant is checked after every operation; at the
 * end everything is freed, the collapse policy runs until nothing is
 * marked, and the direct map must be whole again but for the pinned
 * areas: no block, page table or allocation leaked.  A broken invariant
 * aborts.
 *
 * An input is a list of (op, a, b) byte triples, decoded by op % 24 in
 * LLVMFuzzerTestOneInput(); ops 0..15 mean what they meant before sharing
 * came, so the seeds in corpus/ written before it still do what they did.
 * The seeds are written by hand, one triple per step: corpus/share, for
 * one, is
 *
 *   printf '\x00\x00\x02\x00\x00\x04\x00\x00\x00\x06\x03\x00'
 *   printf '\x10\x00\x12\x10\x00\x12\x10\x01\x00\x11\x01\xff'
 *   printf '\x0c\x01\x07\x12\x01\x00\x16\x00\x00\x16\x04\x03'
 *   printf '\x16\x00\x06\x14\x02\x00\x16\x00\x01\x15\x00\x00'
 *   printf '\x03\x00\x00\x00\x00\x01\x17\x01\x00\x0c\x01\x07'
 *
 * concatenated: three allocations (orders 2, 4, 0); the next split fails;
 * a share that fails on the split, the same share again, two more (no
 * split); a collapse pass; an unshare; shares of a free slot, of a range
 * that wraps around, an unshare on past the region; the order-0
 * allocation returned while referenced, a share of it, its last put; a
 * free of an allocation with a page shared; an allocation shared whole
 * and freed; a collapse pass.
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

/* An allocation and which of its pages (at most 16) its owner shared */
struct out {
	unsigned long	pfn;
	unsigned int	order;
	unsigned long	shared;
};

/* Returned by their owner, still referenced: slots pending */
static struct out returned[MAX_PAGES];
static int nr_returned;

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
	/* three memory cgroups share the regions */
	drv_memcg = 1 + (a >> 4) % 3;
	pfn = drv_alloc(a % DRV_NODES, order);
	if (pfn < 0)
		return;
	must(!(pfn & ((1UL << order) - 1)), "misaligned", pfn, order);
	must(!sim_present(pfn), "handed out while mapped", pfn, order);
	must(sim_nid_of(pfn) == a % DRV_NODES, "wrong node", pfn, a);
	out[*n].pfn = pfn;
	out[*n].shared = 0;
	out[(*n)++].order = order;
}

/*
 * The owner frees out[k]: with pages shared, the free without the share
 * lock is refused first, with nothing changed (drv_release() then retries
 * under the lock, as core.c does)
 */
static void free_out(struct out *out, int *n, unsigned int k)
{
	struct out o = out[k];
	struct dmap_region *r = sim_region_of(o.pfn);
	struct drv_snap before;

	if (o.shared) {
		drv_snap_take(&before, o.pfn);
		must(dmap_cache_mark_returned(&drv_caches[r->nid], r, o.pfn,
					      o.order, false) == -EAGAIN,
		     "shared pages freed without the share lock", o.pfn, o.order);
		must(drv_snap_same(&before, o.pfn), "refused free changed state",
		     o.pfn, o.order);
	}
	must(drv_release(o.pfn, o.order) == 0, "free failed", o.pfn, o.order);
	out[k] = out[--*n];
	must(drv_release(o.pfn, o.order) < 0, "double free", o.pfn, o.order);
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
		used = drv_caches[nid].nr_used;
		if (b & 0x20 && o.order)
			must(drv_release(o.pfn + 1, o.order) < 0,
			     "tail freed", o.pfn, o.order);
		else if (order != o.order)
			must(drv_release(o.pfn, order) < 0,
			     "wrong order freed", o.pfn, order);
		must(drv_caches[nid].nr_used == used, "misuse changed state",
		     used, drv_caches[nid].nr_used);
		return;
	}
	free_out(out, n, k);
}

/*
 * Share (@share) or unshare pages of one allocation: the result must be
 * what the owner's own record of its shared pages says, and a refused or
 * failed call changes nothing
 */
static void op_flip(struct out *out, int n, uint8_t a, uint8_t b, bool share)
{
	unsigned long size, off, len, mask, pfn;
	struct drv_snap before;
	struct out *o;
	bool valid;
	int err;

	if (!n)
		return;
	o = &out[a % n];
	size = 1UL << o->order;
	off = b % size;
	len = 1 + b / size % (size - off);
	mask = ((1UL << len) - 1) << off;
	valid = share ? !(o->shared & mask) : (o->shared & mask) == mask;
	pfn = o->pfn + off;

	drv_snap_take(&before, pfn);
	err = share ? drv_share(pfn, len) : drv_unshare(pfn, len);
	if (!valid)
		must(err == -EINVAL, "wrong share allowed", pfn, len);
	else if (share)
		must(!err || err == -ENOMEM, "share failed", pfn, err);
	else
		must(!err, "unshare failed", pfn, err);
	if (err)
		must(drv_snap_same(&before, pfn), "failed share changed state",
		     pfn, len);
	else if (share)
		o->shared |= mask;
	else
		o->shared &= ~mask;
}

/*
 * Shares and unshares that can only be wrong: a free slot, a returned
 * page, a range on past the region or one so long it wraps around
 */
static void op_flip_wrong(struct out *out, int n, uint8_t a, uint8_t b)
{
	unsigned long pfn, nr = 1, slot;
	struct drv_snap before;
	struct dmap_region *r;
	struct out *o;
	int err;

	if (!n)
		return;
	o = &out[a % n];
	r = sim_region_of(o->pfn);
	pfn = o->pfn + b / 8 % (1UL << o->order);
	switch (b % 4) {
	case 0:
		slot = find_next_zero_bit(r->used, DMAP_REGION_PAGES, a);
		if (slot >= DMAP_REGION_PAGES)
			return;
		pfn = r->pfn + slot;
		break;
	case 1:
		if (!nr_returned)
			return;
		o = &returned[a % nr_returned];
		pfn = o->pfn + b / 8 % (1UL << o->order);
		break;
	case 2:
		nr = r->pfn + DMAP_REGION_PAGES - pfn + 1 + a % 4;
		break;
	default:
		/* no pages, or so many that slot + nr wraps around */
		nr = a & 1 ? 0 : ~0UL - a / 2 % 8;
	}
	drv_snap_take(&before, pfn);
	err = b & 4 ? drv_unshare(pfn, nr) : drv_share(pfn, nr);
	must(err == -EINVAL, "wrong share allowed", pfn, nr);
	must(drv_snap_same(&before, pfn), "wrong share changed state", pfn, nr);
}

/* The owner gives out[a % n] back while the pages are still referenced */
static void op_return(struct out *out, int *n, uint8_t a)
{
	unsigned int k;
	struct out o;

	if (!*n || nr_returned == MAX_PAGES)
		return;
	k = a % *n;
	o = out[k];
	must(drv_return(o.pfn, o.order) == 0, "return failed", o.pfn, o.order);
	must(drv_return(o.pfn, o.order) < 0, "double return", o.pfn, o.order);
	o.shared = 0;
	returned[nr_returned++] = o;
	out[k] = out[--*n];
}

/* The last reference to a returned allocation goes */
static void op_last_put(uint8_t a)
{
	int k;

	if (!nr_returned)
		return;
	k = a % nr_returned;
	drv_last_put(returned[k].pfn, returned[k].order);
	returned[k] = returned[--nr_returned];
}

/* Share every page of an allocation that has none shared, then free it */
static void op_free_shared(struct out *out, int *n, uint8_t a)
{
	unsigned int k;
	struct out *o;

	if (!*n)
		return;
	k = a % *n;
	o = &out[k];
	if (!o->shared && !drv_share(o->pfn, 1UL << o->order))
		o->shared = (1UL << (1UL << o->order)) - 1;
	free_out(out, n, k);
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

/*
 * Each page of what is out is present exactly when its owner shared it,
 * then at 4K; returned ones are absent, their slots pending
 */
static void check_out(const struct out *o, bool is_returned, uint8_t op)
{
	struct dmap_region *r = sim_region_of(o->pfn);
	unsigned long i, pfn;
	bool shared;

	must(!!r, "handed-out page has no region", o->pfn, op);
	for (i = 0; i < 1UL << o->order; i++) {
		pfn = o->pfn + i;
		shared = o->shared >> i & 1;
		must(sim_present(pfn) == shared, shared ? "shared page absent" :
		     "handed-out page mapped", pfn, op);
		must(!shared || sim_level(pfn) == SIM_4K,
		     "shared page mapped large", pfn, op);
		must(test_bit(pfn - r->pfn, r->shared) == shared,
		     "share lost", pfn, op);
		must(test_bit(pfn - r->pfn, r->pending) == is_returned,
		     "returned page not pending", pfn, op);
	}
}

static void check_all(struct out *out, int n, uint8_t op)
{
	int i;

	must(drv_check() == 0, "invariants", op, n);
	for (i = 0; i < n; i++)
		check_out(&out[i], false, op);
	for (i = 0; i < nr_returned; i++)
		check_out(&returned[i], true, op);
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

/*
 * The idle work's trim: what stays empty is younger than @age, newest
 * first, and the oldest is due when the trim says
 */
static void op_trim(struct dmap_cache *cache, unsigned long age)
{
	unsigned long wait, last = 0, n = 0;
	struct dmap_region *r;

	dmap_cache_trim(cache, age, &wait);
	list_for_each_entry(r, &cache->empty, list) {
		must(sim_clock - r->empty_since < age, "trim kept an old region",
		     r->pfn, sim_clock - r->empty_since);
		must(!n || r->empty_since <= last, "empty list out of order",
		     r->pfn, last);
		last = r->empty_since;
		n++;
	}
	must(n == cache->nr_empty, "nr_empty", n, cache->nr_empty);
	must(n ? wait == age - (sim_clock - last) : !wait, "trim wait", wait,
	     n);
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
	nr_returned = 0;
	while (size) {
		uint8_t op = next(&data, &size);
		uint8_t a = next(&data, &size);
		uint8_t b = next(&data, &size);

		pfn = ((unsigned long)a << 8 | b) * 64 % sim_nr_pages();
		switch (op % 24) {
		case 0: case 1: case 2:
			op_alloc(out, &n, a, b);
			break;
		case 3: case 4:
			op_free(out, &n, a, b);
			break;
		case 5:
			if (b & 0x80) {
				/* the idle work, some time later */
				sim_clock += a;
				op_trim(&drv_caches[a % DRV_NODES], b % 64);
				break;
			}
			dmap_cache_shrink(&drv_caches[a % DRV_NODES], b % 4, a % 3);
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
			op_page(ro_pages, &nr_ro, a, op % 24 == 8, make_ro);
			break;
		case 10: case 11:
			op_page(singles, &nr_singles, a, op % 24 == 10,
				make_absent);
			break;
		case 12:
			dmap_collapse_pass(&dc, b % 8 + 1, a & 1);
			break;
		case 13:
			dmap_collapse_range(&dc, pfn, 1 + b % 1024, a & 2);
			break;
		case 14:
			/* others change their own pages, never a region's */
			if (!sim_region_of(pfn))
				sim_other_split_pmd(pfn);
			break;
		case 15:
			op_pin(a);
			break;
		case 16: case 17:
			op_flip(out, n, a, b, true);
			break;
		case 18: case 19:
			op_flip(out, n, a, b, false);
			break;
		case 20:
			op_return(out, &n, a);
			break;
		case 21:
			op_last_put(a);
			break;
		case 22:
			op_flip_wrong(out, n, a, b);
			break;
		default:
			op_free_shared(out, &n, a);
			break;
		}
		check_all(out, n, op);
	}

	sim_fail_nth(SIM_FAIL_PGTABLE, 0);
	for (n--; n >= 0; n--)
		must(drv_release(out[n].pfn, out[n].order) == 0, "final free",
		     out[n].pfn, out[n].order);
	while (nr_returned)
		op_last_put(0);
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
