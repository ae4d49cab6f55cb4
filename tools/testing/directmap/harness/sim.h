/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated direct map for the directmap policy code: 1G, 2M and 4K
 * entries with split and present bits, a buddy allocator of 2M blocks per
 * node, and failure injection on every allocation the policy triggers.
 */
#ifndef _DIRECTMAP_SIM_H
#define _DIRECTMAP_SIM_H

#include <stdbool.h>

#include <linux/errno.h>

#include "internal.h"

#define SIM_PUD_PAGES	DMAP_PUD_PAGES	/* 4K pages per 1G */

enum sim_level { SIM_1G, SIM_2M, SIM_4K };

/* Where an injected failure hits */
enum sim_fail {
	SIM_FAIL_KZALLOC,	/* bookkeeping */
	SIM_FAIL_BLOCK,		/* a 2M block from the buddy allocator */
	SIM_FAIL_REGISTER,	/* the region lookup */
	SIM_FAIL_PGTABLE,	/* a page-table page for a 1G split */
	SIM_FAIL_NR,
};

struct sim_stats {
	unsigned long pmd_splits;
	unsigned long pud_splits;
	unsigned long pud_collapses;
	unsigned long flushes;		/* kernel TLB flushes */
	unsigned long pgtables;		/* page-table pages in use */
	unsigned long blocks_out;	/* 2M blocks taken from the buddy */
	unsigned long allocs_out;	/* kzalloc()s not freed yet */
};

extern struct sim_stats sim;

void sim_init(unsigned long gib_per_node, int nodes);
void sim_exit(void);
/* Fail the nth (1-based) next call at @where; 0 turns it off */
void sim_fail_nth(enum sim_fail where, unsigned long nth);
/* Fail every call at @where with this probability (0..1) */
void sim_fail_rate(enum sim_fail where, double rate);

enum sim_level sim_level(unsigned long pfn);
bool sim_present(unsigned long pfn);
unsigned long sim_pages(enum sim_level level);
struct dmap_region *sim_region_of(unsigned long pfn);
int sim_nid_of(unsigned long pfn);
unsigned long sim_free_blocks(void);
void sim_other_split_pmd(unsigned long pfn);

#endif
