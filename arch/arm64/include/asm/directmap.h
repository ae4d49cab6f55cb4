/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What arm64's page-attribute, boot mapping and memory hotplug code asks
 * of directmap: may the linear map keep its block entries, change 4K
 * entries of it, splitting the blocks over them first, and count the
 * entries memory hotplug adds and removes.
 */
#ifndef __ASM_DIRECTMAP_H
#define __ASM_DIRECTMAP_H

#include <linux/mm.h>

#ifdef CONFIG_DIRECTMAP
bool __init arm64_directmap_keep_blocks(void);
bool arm64_directmap_blocks(void);
int arm64_directmap_change(unsigned long start, unsigned long size,
			   pte_fn_t fn, void *data);
void arm64_directmap_hotplug(unsigned long start, unsigned long size,
			     bool add);
#else
static inline bool arm64_directmap_keep_blocks(void)
{
	return false;
}

static inline bool arm64_directmap_blocks(void)
{
	return false;
}

static inline int arm64_directmap_change(unsigned long start,
					 unsigned long size, pte_fn_t fn,
					 void *data)
{
	return apply_to_page_range(&init_mm, start, size, fn, data);
}

static inline void arm64_directmap_hotplug(unsigned long start,
					   unsigned long size, bool add)
{
}
#endif

#endif /* __ASM_DIRECTMAP_H */
