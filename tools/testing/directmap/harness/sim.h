/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated machine for the directmap policy code: a direct map of 1G, 2M
 * and 4K entries with present and read-only bits, CPA's split and collapse
 * as x86 does them, a page allocator of 4K pages and 2M blocks per node,
 * and failure injection on every allocation the policy triggers.  Shared
 * by the unit tests, the fuzzer and the trace-driven simulator.
 */
#ifndef _DIRECTMAP_SIM_H
#define _DIRECTMAP_SIM_H

#include <stdbool.h>

#include <linux/errno.h>

#include "policy.h"

#define SIM_PUD_PAGES	DMAP_PUD_PAGES	/* 4K pages per 1G */
#define SIM_PMD_PAGES	DMAP_REGION_PAGES	/* 4K pages per 2M */

enum sim_level { SIM_1G, SIM_2M, SIM_4K };

/* Where an injected failure hits */
enum sim_fail {
	SIM_FAIL_KZALLOC,	/* bookkeeping */
	SIM_FAIL_BLOCK,		/* a 2M block from the buddy allocator */
	SIM_FAIL_REGISTER,	/* the region lookup */
	SIM_FAIL_PGTABLE,	/* a page-table page for a split */
	SIM_FAIL_NR,
};

struct sim_stats {
	unsigned long pmd_splits;
	unsigned long pud_splits;
	unsigned long pmd_collapses;
	unsigned long pud_collapses;
	unsigned long flushes;		/* kernel TLB flushes */
	unsigned long pgtables;		/* page-table pages in use */
	unsigned long blocks_out;	/* 2M blocks taken from the buddy */
	unsigned long pages_out;	/* 4K pages taken from the buddy */
	unsigned long pages_charged;	/* 4K pages a memory cgroup pays for */
	unsigned long allocs_out;	/* kzalloc()s not freed yet */
	unsigned long areas_4k;		/* 2M areas mapped by 4K entries now */
	unsigned long areas_1g_split;	/* 1G areas mapped by smaller entries */
	unsigned long ro_areas;		/* 2M areas with some, not all, pages RO */
};

extern struct sim_stats sim;
/* An area was marked, or a region went back: as worker.c's kick */
extern bool sim_kicked;
/* What dmap_env_now() returns: the replay's step, or a test's own clock */
extern unsigned long sim_clock;
/* A region went onto an empty list: as core.c's arming of its idle work */
extern bool sim_emptied;

void sim_init(unsigned long gib_per_node, int nodes);
void sim_exit(void);
/* Fail the nth (1-based) next call at @where; 0 turns it off */
void sim_fail_nth(enum sim_fail where, unsigned long nth);
/* Fail every call at @where with this probability (0..1) */
void sim_fail_rate(enum sim_fail where, double rate);
/* CPA notes its changes to @dc, as the kernel's CPA hooks do; NULL: none */
void sim_attach_collapse(struct dmap_collapse *dc);

enum sim_level sim_level(unsigned long pfn);
bool sim_present(unsigned long pfn);
bool sim_ro(unsigned long pfn);
unsigned long sim_pages(enum sim_level level);
struct dmap_region *sim_region_of(unsigned long pfn);
int sim_nid_of(unsigned long pfn);
unsigned long sim_nr_pages(void);
/* 1G areas of @nid that hold a page with changed permissions */
unsigned long sim_ro_1g(int nid);
/* Page tables = the incremental counters; returns the number of mismatches */
unsigned long sim_check(void);

/* Memory failure marks a page, or (unpoison) clears the mark */
void sim_poison(unsigned long pfn, bool poisoned);
bool sim_poisoned(unsigned long pfn);

/* Memory cgroup charges of the pages handed out, as the page cache's */
void sim_charge(unsigned long pfn, int memcg);
int sim_charged(unsigned long pfn);
void sim_uncharge(unsigned long pfn);

/* The buddy allocator: 4K pages, LIFO, from partly used blocks first */
long sim_page_alloc(int nid);
void sim_page_free(unsigned long pfn);

/* CPA as x86 does it: split what is in the way, note; the caller flushes */
int sim_cpa_set_present(unsigned long pfn, bool present);
int sim_cpa_set_ro(unsigned long pfn, unsigned long nr, bool ro);
/* Another kernel user splits the 2M page over @pfn down to 4K */
int sim_other_split_pmd(unsigned long pfn);

#endif
