/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fail_directmap: where directmap and its architecture code allocate, and
 * the fault attribute that makes those allocations fail on request.
 */
#ifndef _MM_DIRECTMAP_FAIL_H
#define _MM_DIRECTMAP_FAIL_H

#include <linux/types.h>

enum dmap_fail_point {
	DMAP_FAIL_REFILL,	/* the 2M block of a region */
	DMAP_FAIL_PGTABLE,	/* a page-table page an unmap needs */
	DMAP_FAIL_BOOKKEEPING,	/* a region's struct, the pfn indexes */
	DMAP_FAIL_SINGLE,	/* pages for the single-page fallback */
	DMAP_FAIL_SPLIT,	/* the fallback's split of the direct map */
	DMAP_FAIL_NR
};

#define DMAP_FAIL_ALL		(BIT(DMAP_FAIL_NR) - 1)

/* What a test sets, and what it gets back */
struct dmap_fail_config {
	unsigned long	points;		/* mask of BIT(enum dmap_fail_point) */
	unsigned long	probability;	/* percent */
	int		times;		/* -1: no limit */
	bool		task_filter;	/* only tasks with make-it-fail */
};

#ifdef CONFIG_FAIL_DIRECTMAP
bool dmap_should_fail(enum dmap_fail_point point);
void dmap_fail_configure(const struct dmap_fail_config *new,
			 struct dmap_fail_config *old);
unsigned long dmap_fail_injected(void);
#else
static inline bool dmap_should_fail(enum dmap_fail_point point)
{
	return false;
}

static inline void dmap_fail_configure(const struct dmap_fail_config *new,
				       struct dmap_fail_config *old) { }

static inline unsigned long dmap_fail_injected(void)
{
	return 0;
}
#endif

#endif /* _MM_DIRECTMAP_FAIL_H */
