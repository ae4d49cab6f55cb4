/* SPDX-License-Identifier: GPL-2.0 */
/* Drive mm/directmap/cache.c over the simulator; see driver.c */
#ifndef _DIRECTMAP_DRIVER_H
#define _DIRECTMAP_DRIVER_H

#include "policy.h"

#define DRV_NODES	2

extern struct dmap_cache drv_caches[DRV_NODES];
/* The memory cgroup (1..255) that order-0 allocations are charged to */
extern int drv_memcg;

void drv_setup(unsigned long gib_per_node);
/* The kernel's alloc and free paths over any array of node caches */
long drv_take(struct dmap_cache *cache, unsigned int order);
int drv_put(struct dmap_cache *nodes, unsigned long pfn, unsigned int order);
/* drv_put() in its two steps: the owner gives back, the last reference goes */
int drv_mark(struct dmap_cache *nodes, unsigned long pfn, unsigned int order);
void drv_reclaim(struct dmap_cache *nodes, unsigned long pfn,
		 unsigned int order);
/* The same over drv_caches */
long drv_alloc(int nid, unsigned int order);
int drv_release(unsigned long pfn, unsigned int order);
int drv_return(unsigned long pfn, unsigned int order);
void drv_last_put(unsigned long pfn, unsigned int order);
/* In-place sharing of region pages, under the node's share lock */
int drv_share(unsigned long pfn, unsigned long nr_pages);
int drv_unshare(unsigned long pfn, unsigned long nr_pages);
void drv_shrink_all(void);
/* What a share, unshare or refused free may change, to see that it did not */
struct drv_snap {
	DECLARE_BITMAP(used, DMAP_REGION_PAGES);
	DECLARE_BITMAP(pending, DMAP_REGION_PAGES);
	DECLARE_BITMAP(shared, DMAP_REGION_PAGES);
	DECLARE_BITMAP(present, DMAP_REGION_PAGES);
	unsigned int nr_shared, nr_free;
	int level;
	unsigned long pmd_splits, pmd_collapses, flushes, pgtables;
	unsigned long shares, unshares, frees, nr_used;
};

/* The region of @pfn (which must have one), its node and the page tables */
void drv_snap_take(struct drv_snap *s, unsigned long pfn);
bool drv_snap_same(const struct drv_snap *before, unsigned long pfn);

/* Return the number of broken invariants, each printed */
unsigned long drv_check(void);

#endif
