/* SPDX-License-Identifier: GPL-2.0 */
/* Drive mm/directmap/cache.c over the simulator; see driver.c */
#ifndef _DIRECTMAP_DRIVER_H
#define _DIRECTMAP_DRIVER_H

#include "internal.h"

#define DRV_NODES	2

extern struct dmap_node drv_nodes[DRV_NODES];

void drv_setup(unsigned long gib_per_node);
/* The kernel's alloc and free paths over any array of node caches */
long drv_take(struct dmap_node *dn, unsigned int order);
int drv_put(struct dmap_node *nodes, unsigned long pfn, unsigned int order);
/* The same over drv_nodes */
long drv_alloc(int nid, unsigned int order);
int drv_release(unsigned long pfn, unsigned int order);
void drv_shrink_all(void);
/* Return the number of broken invariants, each printed */
unsigned long drv_check(void);

#endif
