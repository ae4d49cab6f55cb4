// SPDX-License-Identifier: GPL-2.0
/*
 * The environment of mm/directmap in userspace: a simulated direct map and
 * page allocator, behaving as x86 CPA and the buddy allocator do for the
 * operations the policy and its competitors ask for.
 *
 * Sized for a 1 TiB direct map: per 4K page three bits (present, read-only,
 * allocated), per 2M area one small struct, per 1G area two words.  Every
 * operation is O(1) or O(512); the counters the simulator reports are kept
 * incrementally and sim_check() recounts them from the tables.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

struct sim_stats sim;

/* What the buddy allocator did with a 2M block */
enum sim_block {
	BLK_FREE,	/* whole, on its node's free list */
	BLK_PARTIAL,	/* 4K pages out, some free: on the partial list */
	BLK_FULL,	/* every 4K page out */
	BLK_TAKEN,	/* handed out whole, to directmap */
};

struct sim_pmd {
	uint8_t		table;		/* split into 4K entries */
	uint8_t		present;	/* the 2M leaf's present bit */
	uint8_t		ro;		/* the 2M leaf is read-only */
	uint8_t		state;		/* enum sim_block */
	uint16_t	nr_free;	/* 4K pages free in a partial block */
	uint16_t	nr_ro;		/* read-only 4K pages */
	int32_t		prev, next;	/* on a free or partial list */
};

struct sim_node {
	int32_t		free_head;
	int32_t		partial_head;
	unsigned long	ro_1g;		/* 1G areas with read-only pages */
};

static unsigned long nr_1g, nr_2m, pages_per_node;
static int nr_nodes;
static bool *pud_table;			/* per 1G: split into 2M entries */
static uint32_t *pud_ro_areas;		/* per 1G: 2M areas with RO pages */
static struct sim_pmd *pmd;		/* per 2M */
static unsigned long *pte_present;	/* per 4K */
static unsigned long *pte_ro;		/* per 4K */
static unsigned long *page_used;	/* per 4K: handed out by sim_page_alloc() */
static unsigned long *page_poison;	/* per 4K: memory failure marked it */
static uint8_t *page_memcg;		/* per 4K: the memory cgroup paying, or 0 */
static struct sim_node *node;
static struct dmap_region **regions;	/* per 2M */
static struct dmap_collapse *notes;

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

bool sim_kicked;
unsigned long sim_clock;
bool sim_emptied;

void sim_attach_collapse(struct dmap_collapse *dc)
{
	notes = dc;
	sim_kicked = false;
}

/* As worker.c: a note that marks an area wakes the worker */
static void sim_note(unsigned long pfn, bool pud)
{
	if (notes && dmap_collapse_note(notes, pfn, pud))
		sim_kicked = true;
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

/* The collapse policy's bitmaps are bookkeeping too */
unsigned long *bitmap_zalloc(unsigned int nbits, gfp_t flags)
{
	return sim_kzalloc(BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

void bitmap_free(const unsigned long *map)
{
	sim_kfree(map);
}

/* ---- the buddy allocator's lists of 2M blocks ---- */

static void list_push(int32_t *head, unsigned long b)
{
	pmd[b].prev = -1;
	pmd[b].next = *head;
	if (*head >= 0)
		pmd[*head].prev = b;
	*head = b;
}

static void list_remove(int32_t *head, unsigned long b)
{
	if (pmd[b].prev >= 0)
		pmd[pmd[b].prev].next = pmd[b].next;
	else
		*head = pmd[b].next;
	if (pmd[b].next >= 0)
		pmd[pmd[b].next].prev = pmd[b].prev;
}

void sim_init(unsigned long gib_per_node, int nodes)
{
	unsigned long nr_4k, b;
	int nid;

	memset(&sim, 0, sizeof(sim));
	sim_clock = 0;
	sim_emptied = false;
	memset(fail_nth, 0, sizeof(fail_nth));
	memset(fail_rate, 0, sizeof(fail_rate));
	notes = NULL;
	nr_nodes = nodes;
	nr_1g = gib_per_node * nodes;
	pages_per_node = gib_per_node * SIM_PUD_PAGES;
	nr_2m = nr_1g * 512;
	nr_4k = nr_1g * SIM_PUD_PAGES;

	pud_table = calloc(nr_1g, sizeof(*pud_table));
	pud_ro_areas = calloc(nr_1g, sizeof(*pud_ro_areas));
	pmd = calloc(nr_2m, sizeof(*pmd));
	pte_present = calloc(BITS_TO_LONGS(nr_4k), sizeof(long));
	pte_ro = calloc(BITS_TO_LONGS(nr_4k), sizeof(long));
	page_used = calloc(BITS_TO_LONGS(nr_4k), sizeof(long));
	page_poison = calloc(BITS_TO_LONGS(nr_4k), sizeof(long));
	page_memcg = calloc(nr_4k, sizeof(*page_memcg));
	node = calloc(nodes, sizeof(*node));
	regions = calloc(nr_2m, sizeof(*regions));
	assert(pud_table && pud_ro_areas && pmd && pte_present && pte_ro &&
	       page_used && page_poison && page_memcg && node && regions);

	for (nid = 0; nid < nodes; nid++) {
		node[nid].free_head = -1;
		node[nid].partial_head = -1;
	}
	/* Lowest address first, as a freshly booted zone hands them out */
	for (b = nr_2m; b-- > 0;) {
		pmd[b].present = 1;
		list_push(&node[b * 512 / pages_per_node].free_head, b);
	}
}

void sim_exit(void)
{
	free(pud_table);
	free(pud_ro_areas);
	free(pmd);
	free(pte_present);
	free(pte_ro);
	free(page_used);
	free(page_poison);
	free(page_memcg);
	free(node);
	free(regions);
}

enum sim_level sim_level(unsigned long pfn)
{
	if (!pud_table[pfn / SIM_PUD_PAGES])
		return SIM_1G;
	return pmd[pfn / 512].table ? SIM_4K : SIM_2M;
}

bool sim_present(unsigned long pfn)
{
	switch (sim_level(pfn)) {
	case SIM_1G:
		return true;
	case SIM_2M:
		return pmd[pfn / 512].present;
	default:
		return test_bit(pfn, pte_present);
	}
}

bool sim_ro(unsigned long pfn)
{
	switch (sim_level(pfn)) {
	case SIM_1G:
		return false;
	case SIM_2M:
		return pmd[pfn / 512].ro;
	default:
		return test_bit(pfn, pte_ro);
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

unsigned long sim_nr_pages(void)
{
	return nr_1g * SIM_PUD_PAGES;
}

struct dmap_region *sim_region_of(unsigned long pfn)
{
	return regions[pfn / 512];
}

unsigned long sim_ro_1g(int nid)
{
	return node[nid].ro_1g;
}

/* ---- CPA: splits and collapses ---- */

static int sim_split_pud(unsigned long pfn)
{
	unsigned long first = pfn / SIM_PUD_PAGES * 512, i;

	if (sim_should_fail(SIM_FAIL_PGTABLE))
		return -ENOMEM;
	pud_table[pfn / SIM_PUD_PAGES] = true;
	for (i = 0; i < 512; i++) {
		pmd[first + i].table = 0;
		pmd[first + i].present = 1;
		pmd[first + i].ro = 0;
	}
	sim.pud_splits++;
	sim.areas_1g_split++;
	sim.pgtables++;
	sim.flushes++;
	sim_note(pfn, true);
	return 0;
}

static int sim_split_pmd(unsigned long pfn)
{
	struct sim_pmd *p = &pmd[pfn / 512];
	unsigned long first = pfn / 512 * 512, w;

	if (sim_should_fail(SIM_FAIL_PGTABLE))
		return -ENOMEM;
	for (w = first / BITS_PER_LONG; w < (first + 512) / BITS_PER_LONG; w++) {
		pte_present[w] = p->present ? ~0UL : 0;
		pte_ro[w] = p->ro ? ~0UL : 0;
	}
	p->table = 1;
	sim.pmd_splits++;
	sim.areas_4k++;
	sim.pgtables++;
	sim.flushes++;
	sim_note(pfn, false);
	return 0;
}

/* Split whatever maps @pfn down to 4K entries */
static int sim_split_to_4k(unsigned long pfn)
{
	int err = 0;

	if (sim_level(pfn) == SIM_1G)
		err = sim_split_pud(pfn);
	if (!err && sim_level(pfn) == SIM_2M)
		err = sim_split_pmd(pfn);
	return err;
}

int sim_other_split_pmd(unsigned long pfn)
{
	return sim_split_to_4k(pfn);
}

/* A 4K table becomes one 2M leaf again; the caller flushes */
static void sim_make_pmd_leaf(unsigned long pfn, bool present, bool ro)
{
	struct sim_pmd *p = &pmd[pfn / 512];

	p->table = 0;
	p->present = present;
	p->ro = ro;
	sim.pmd_collapses++;
	sim.areas_4k--;
	sim.pgtables--;
}

/* Are the 512 bits of the 2M area at @first all set (1), all clear (0)? */
static int sim_area_bits(const unsigned long *map, unsigned long first)
{
	unsigned long w, all = ~0UL, any = 0;

	for (w = first / BITS_PER_LONG; w < (first + 512) / BITS_PER_LONG; w++) {
		all &= map[w];
		any |= map[w];
	}
	if (all == ~0UL)
		return 1;
	return any ? -1 : 0;
}

/*
 * As x86: collapses in a batch that leave a present entry share one flush
 * at its end (or at every 512th); one that leaves an absent entry flushes
 * at once, for those deferred too.  (arm64 flushes every 64th, and up to
 * 8 areas by address.)
 */
static bool sim_collapse_batch;
static unsigned int sim_batch_deferred;

static void sim_collapse_flush(bool present)
{
	if (sim_collapse_batch && present && ++sim_batch_deferred < 512)
		return;
	sim.flushes++;
	sim_batch_deferred = 0;
}

int dmap_env_collapse_pmd(unsigned long pfn, bool not_present)
{
	unsigned long first = pfn / 512 * 512;
	int present, ro;

	if (sim_level(pfn) != SIM_4K)
		return 0;
	/* as env.c: a region is never re-formed while a page is shared */
	if (not_present && sim_region_of(pfn) && sim_region_of(pfn)->nr_shared)
		return -EAGAIN;
	present = sim_area_bits(pte_present, first);
	ro = sim_area_bits(pte_ro, first);
	if (present < 0 || ro < 0 || (!present && (!not_present || ro)))
		return -EAGAIN;
	sim_make_pmd_leaf(pfn, present, ro);
	sim_collapse_flush(present);
	return 1;
}

void dmap_env_collapse_begin(void)
{
	assert(!sim_collapse_batch);
	sim_collapse_batch = true;
}

void dmap_env_collapse_end(void)
{
	assert(sim_collapse_batch);
	sim_collapse_batch = false;
	if (sim_batch_deferred)
		sim.flushes++;
	sim_batch_deferred = 0;
}

int dmap_env_collapse_pud(unsigned long pfn)
{
	unsigned long first = pfn / SIM_PUD_PAGES * 512, i;

	if (!pud_table[pfn / SIM_PUD_PAGES])
		return 0;
	for (i = first; i < first + 512; i++)
		if (pmd[i].table || !pmd[i].present || pmd[i].ro)
			return -EAGAIN;
	pud_table[pfn / SIM_PUD_PAGES] = false;
	sim.pud_collapses++;
	sim.areas_1g_split--;
	sim.pgtables--;
	sim_collapse_flush(true);
	return 1;
}

bool dmap_env_area_owned(unsigned long pfn)
{
	return regions[pfn / 512];
}

int sim_cpa_set_present(unsigned long pfn, bool present)
{
	int err = sim_split_to_4k(pfn);

	if (err)
		return err;
	if (test_bit(pfn, pte_present) != present) {
		if (present)
			__set_bit(pfn, pte_present);
		else
			__clear_bit(pfn, pte_present);
		sim_note(pfn, false);
	}
	return 0;
}

static void sim_count_ro(unsigned long pfn, int delta)
{
	struct sim_pmd *p = &pmd[pfn / 512];
	unsigned long g = pfn / SIM_PUD_PAGES;
	bool was_partial = p->nr_ro && p->nr_ro < 512;

	if (delta > 0 && !p->nr_ro++ && !pud_ro_areas[g]++)
		node[sim_nid_of(pfn)].ro_1g++;
	if (delta < 0 && !--p->nr_ro && !--pud_ro_areas[g])
		node[sim_nid_of(pfn)].ro_1g--;
	sim.ro_areas += (p->nr_ro && p->nr_ro < 512) - was_partial;
}

int sim_cpa_set_ro(unsigned long pfn, unsigned long nr, bool ro)
{
	unsigned long p;
	int err;

	/* Every split first: a failure leaves no permission changed */
	for (p = pfn; p < pfn + nr; p++) {
		err = sim_split_to_4k(p);
		if (err)
			return err;
	}
	for (p = pfn; p < pfn + nr; p++) {
		if (test_bit(p, pte_ro) == ro)
			continue;
		if (ro)
			__set_bit(p, pte_ro);
		else
			__clear_bit(p, pte_ro);
		sim_count_ro(p, ro ? 1 : -1);
		sim_note(p, false);
	}
	return 0;
}

/* ---- the buddy allocator ---- */

long sim_page_alloc(int nid)
{
	struct sim_node *n = &node[nid];
	unsigned long pfn;
	int32_t b = n->partial_head;

	if (b < 0) {
		b = n->free_head;
		if (b < 0)
			return -ENOMEM;
		list_remove(&n->free_head, b);
		pmd[b].state = BLK_PARTIAL;
		pmd[b].nr_free = 512;
		list_push(&n->partial_head, b);
	}
	pfn = find_next_zero_bit(page_used, (b + 1) * 512UL, b * 512UL);
	assert(pfn < (b + 1) * 512UL);
	__set_bit(pfn, page_used);
	if (!--pmd[b].nr_free) {
		list_remove(&n->partial_head, b);
		pmd[b].state = BLK_FULL;
	}
	sim.pages_out++;
	return pfn;
}

void sim_page_free(unsigned long pfn)
{
	struct sim_node *n = &node[sim_nid_of(pfn)];
	unsigned long b = pfn / 512;

	assert(test_bit(pfn, page_used));
	assert(pmd[b].state == BLK_PARTIAL || pmd[b].state == BLK_FULL);
	__clear_bit(pfn, page_used);
	if (pmd[b].state == BLK_FULL) {
		pmd[b].state = BLK_PARTIAL;
		list_push(&n->partial_head, b);
	}
	if (++pmd[b].nr_free == 512) {
		/* The buddies merge back into a whole 2M block */
		list_remove(&n->partial_head, b);
		pmd[b].state = BLK_FREE;
		list_push(&n->free_head, b);
	}
	sim.pages_out--;
}

/* Memory failure: the page stays where it is, marked */
void sim_poison(unsigned long pfn, bool poisoned)
{
	if (poisoned)
		__set_bit(pfn, page_poison);
	else
		__clear_bit(pfn, page_poison);
}

bool sim_poisoned(unsigned long pfn)
{
	return test_bit(pfn, page_poison);
}

/* Memory cgroup @memcg (1..255) is charged for a page its task got */
void sim_charge(unsigned long pfn, int memcg)
{
	/* charged twice: the cache handed out a slot it did not uncharge */
	assert(memcg > 0 && memcg < 256 && !page_memcg[pfn]);
	page_memcg[pfn] = memcg;
	sim.pages_charged++;
}

int sim_charged(unsigned long pfn)
{
	return page_memcg[pfn];
}

void sim_uncharge(unsigned long pfn)
{
	assert(page_memcg[pfn]);
	page_memcg[pfn] = 0;
	sim.pages_charged--;
}

/* Is any page of the 2M block @pfn starts poisoned? */
static bool sim_block_poisoned(unsigned long pfn)
{
	return find_next_bit(page_poison, pfn + 512, pfn) < pfn + 512;
}

/* ---- the dmap_env_*() hooks of mm/directmap/cache.c ---- */

unsigned long dmap_env_now(void)
{
	return sim_clock;
}

void dmap_env_region_emptied(struct dmap_cache *cache)
{
	sim_emptied = true;
}

bool dmap_env_page_poisoned(unsigned long pfn)
{
	return sim_poisoned(pfn);
}

bool dmap_env_same_charge(unsigned long pfn, unsigned long other)
{
	return page_memcg[pfn] && page_memcg[pfn] == page_memcg[other];
}

void dmap_env_uncharge(unsigned long pfn)
{
	/* a slot of a registered region */
	assert(sim_region_of(pfn));
	sim_uncharge(pfn);
}

int dmap_env_block_alloc(int nid, unsigned long *pfn)
{
	struct sim_node *n = &node[nid];
	int32_t b = n->free_head;

	assert(nid >= 0 && nid < nr_nodes);
	if (sim_should_fail(SIM_FAIL_BLOCK) || b < 0)
		return -ENOMEM;
	list_remove(&n->free_head, b);
	pmd[b].state = BLK_TAKEN;
	sim.blocks_out++;
	*pfn = b * 512UL;
	return 0;
}

void dmap_env_block_free(unsigned long pfn)
{
	unsigned long b = pfn / 512;

	assert(pfn % 512 == 0 && pmd[b].state == BLK_TAKEN);
	/* the buddy allocator only ever gets mapped memory back */
	assert(sim_present(pfn) && sim_present(pfn + 511));
	assert(!regions[b]);
	/* nor a poisoned page, nor one a memory cgroup still pays for */
	assert(!sim_block_poisoned(pfn));
	for (unsigned long i = pfn; i < pfn + 512; i++)
		assert(!page_memcg[i]);
	pmd[b].state = BLK_FREE;
	list_push(&node[sim_nid_of(pfn)].free_head, b);
	sim.blocks_out--;
}

int dmap_env_block_unmap(unsigned long pfn)
{
	unsigned long w;

	assert(pfn % 512 == 0 && pmd[pfn / 512].state == BLK_TAKEN);
	if (sim_level(pfn) == SIM_1G && sim_split_pud(pfn))
		return -ENOMEM;
	if (sim_level(pfn) == SIM_2M) {
		assert(pmd[pfn / 512].present);
		pmd[pfn / 512].present = 0;
	} else {
		/* A table of the whole region: one absent 2M entry instead */
		for (w = pfn / BITS_PER_LONG; w < (pfn + 512) / BITS_PER_LONG; w++)
			assert(!pte_ro[w]);
		sim_make_pmd_leaf(pfn, false, false);
	}
	sim_note(pfn, true);
	sim.flushes++;
	return 0;
}

void dmap_env_block_restore(unsigned long pfn)
{
	/* what the unmap left in place is all the restore may need */
	assert(sim_level(pfn) == SIM_2M && !pmd[pfn / 512].present);
	/* a poisoned page is never mapped again */
	assert(!sim_block_poisoned(pfn));
	pmd[pfn / 512].present = 1;
	sim_note(pfn, true);
	/* no flush, as the kernel: an entry that was absent is in no TLB */
}

/* The pages a share or unshare names lie in one region of directmap's */
static void sim_assert_region_pages(unsigned long pfn, unsigned long nr)
{
	assert(nr && nr <= 512 && pfn / 512 == (pfn + nr - 1) / 512);
	assert(regions[pfn / 512] && pmd[pfn / 512].state == BLK_TAKEN);
}

/*
 * Shared pages at 4K, as x86 CPA maps them: the region's absent 2M leaf is
 * split into 512 absent entries first (the one step that can fail, with
 * nothing changed), then the pages are made present.
 */
int dmap_env_pages_map(unsigned long pfn, unsigned long nr_pages)
{
	unsigned long p;

	sim_assert_region_pages(pfn, nr_pages);
	/* a region's 1G entry was split when it was unmapped */
	assert(sim_level(pfn) != SIM_1G);
	if (sim_level(pfn) == SIM_2M) {
		assert(!pmd[pfn / 512].present && !pmd[pfn / 512].ro);
		if (sim_split_pmd(pfn))
			return -ENOMEM;
	}
	for (p = pfn; p < pfn + nr_pages; p++) {
		/* only private pages are shared: none is present yet */
		assert(!test_bit(p, pte_present) && !test_bit(p, pte_ro));
		__set_bit(p, pte_present);
	}
	/* absent to present needs no flush; the split counted its own */
	sim_note(pfn, false);
	return 0;
}

void dmap_env_pages_unmap(unsigned long pfn, unsigned long nr_pages)
{
	unsigned long p;

	sim_assert_region_pages(pfn, nr_pages);
	/* cannot fail because it needs no split: the 4K entries must exist */
	assert(sim_level(pfn) == SIM_4K);
	for (p = pfn; p < pfn + nr_pages; p++) {
		assert(test_bit(p, pte_present));
		__clear_bit(p, pte_present);
	}
	sim_note(pfn, false);
	sim.flushes++;
}

/* As env.c: re-form one absent 2M leaf now, or leave it to the worker */
void dmap_env_region_absent(unsigned long pfn)
{
	unsigned long first = pfn / 512 * 512;

	assert(pfn % 512 == 0 && regions[pfn / 512]);
	assert(sim_level(first) != SIM_4K || !sim_area_bits(pte_present, first));
	if (dmap_env_collapse_pmd(pfn, true) < 0)
		sim_note(pfn, false);
}

/*
 * As the kernel: with a collapse policy, re-form the range through it;
 * without one, only the 1G over the region.  0 if it was re-formed.
 */
int dmap_env_collapse(unsigned long pfn)
{
	if (notes) {
		/* the 1G area is left to the worker, which is woken */
		sim_kicked = true;
		return dmap_collapse_range(notes, pfn, 512, false);
	}
	return dmap_env_collapse_pud(pfn) == 1 ? 0 : -EAGAIN;
}

struct dmap_region *dmap_env_region_alloc(int nid)
{
	assert(nid >= 0 && nid < nr_nodes);
	return sim_kzalloc(sizeof(struct dmap_region));
}

void dmap_env_region_free(struct dmap_region *r)
{
	sim_kfree(r);
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

/* ---- a recount, for the tests and the fuzzer ---- */

#define SIM_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "sim: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		bad++;							\
	}								\
} while (0)

/*
 * The SEV-SNP rule over one region: no present large entry covers a page
 * of it (a private page under one faults the host on access), and a page
 * is present exactly when its owner shared it, then at 4K.  Also the
 * region's own sharing bookkeeping.
 */
static unsigned long sim_check_region(struct dmap_region *r)
{
	unsigned long first = r->pfn, bad = 0, w, weight = 0;
	enum sim_level level = sim_level(first);

	for (w = 0; w < BITS_TO_LONGS(DMAP_REGION_PAGES); w++) {
		weight += __builtin_popcountl(r->shared[w]);
		SIM_CHECK(!(r->shared[w] & ~r->used[w]));
		SIM_CHECK(!(r->shared[w] & r->pending[w]));
		if (level == SIM_4K) {
			SIM_CHECK(pte_present[first / BITS_PER_LONG + w] ==
				  r->shared[w]);
			SIM_CHECK(!pte_ro[first / BITS_PER_LONG + w]);
		}
	}
	SIM_CHECK(weight == r->nr_shared);
	if (level != SIM_4K) {
		SIM_CHECK(!sim_present(first));
		SIM_CHECK(!r->nr_shared);
	}
	/*
	 * With nothing shared it is one absent 2M leaf again: the simulator's
	 * dmap_env_region_absent() cannot fail, so none is left to the worker
	 */
	if (!r->nr_shared)
		SIM_CHECK(level == SIM_2M);
	return bad;
}

unsigned long sim_check(void)
{
	unsigned long areas_4k = 0, split_1g = 0, ro_areas = 0, used = 0;
	unsigned long taken = 0, bad = 0, b, g, p;

	for (g = 0; g < nr_1g; g++)
		split_1g += pud_table[g];
	for (b = 0; b < nr_2m; b++) {
		struct sim_pmd *a = &pmd[b];
		unsigned long first = b * 512, n_used = 0, n_ro = 0;

		for (p = first; p < first + 512; p += BITS_PER_LONG) {
			n_used += __builtin_popcountl(page_used[p / BITS_PER_LONG]);
			if (a->table)
				n_ro += __builtin_popcountl(pte_ro[p / BITS_PER_LONG]);
		}
		if (!a->table && a->ro)
			n_ro = 512;
		if (pud_table[first / SIM_PUD_PAGES])
			areas_4k += a->table;
		else
			SIM_CHECK(!a->table && !regions[b]);
		SIM_CHECK(n_ro == a->nr_ro);
		ro_areas += n_ro && n_ro < 512;
		used += n_used;
		taken += a->state == BLK_TAKEN;
		switch (a->state) {
		case BLK_FREE:
			SIM_CHECK(!n_used && !regions[b]);
			break;
		case BLK_TAKEN:
			SIM_CHECK(!n_used);
			break;
		default:
			SIM_CHECK(!regions[b] && a->nr_free == 512 - n_used);
			SIM_CHECK((a->state == BLK_FULL) == !a->nr_free);
		}
		/* A region: absent but for its shared pages, see above */
		if (regions[b]) {
			SIM_CHECK(a->state == BLK_TAKEN && regions[b]->pfn == first);
			bad += sim_check_region(regions[b]);
		}
		/* Directmap gives no page away mapped, the buddy none unmapped */
		if (a->state == BLK_FREE)
			SIM_CHECK(sim_present(first) && sim_present(first + 511));
	}
	SIM_CHECK(areas_4k == sim.areas_4k);
	SIM_CHECK(split_1g == sim.areas_1g_split);
	SIM_CHECK(areas_4k + split_1g == sim.pgtables);
	SIM_CHECK(ro_areas == sim.ro_areas);
	SIM_CHECK(used == sim.pages_out);
	SIM_CHECK(taken == sim.blocks_out);
	return bad;
}
