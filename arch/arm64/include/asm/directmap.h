/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What arm64's page-attribute and boot mapping code asks of directmap: may
 * the linear map keep its block entries, and change 4K entries of it,
 * splitting the blocks over them first.
 */
#ifndef __ASM_DIRECTMAP_H
#define __ASM_DIRECTMAP_H

#include <linux/mm.h>

#ifdef CONFIG_DIRECTMAP
bool __init arm64_directmap_keep_blocks(void);
bool arm64_directmap_blocks(void);
int arm64_directmap_change(unsigned long start, unsigned long size,
			   pte_fn_t fn, void *data);
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
#endif

#endif /* __ASM_DIRECTMAP_H */
