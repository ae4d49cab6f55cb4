/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For KUnit and the torture: make the 4K entries of direct-map pages
 * differ from their neighbours, which splits the large entries over them,
 * and make them the same again, so that the collapse worker may re-form
 * those entries; and what else the tests ask of the architecture's direct
 * map.  Each architecture answers in its asm/directmap.h.
 */
#ifndef _MM_DIRECTMAP_DIFFER_H
#define _MM_DIRECTMAP_DIFFER_H

#include <linux/mm.h>
#include <asm/directmap.h>

/*
 * Does the direct map keep large entries?  Not arm64's linear map on CPUs
 * without BBML2_NOABORT: regions are taken out at 4K there, and nothing
 * is split or re-formed.
 */
static inline bool dmap_test_blocks(void)
{
	return arch_directmap_has_blocks();
}

/* The page tables the current CPU translates @addr with, as loaded */
static inline pgd_t *dmap_test_loaded_pgd(unsigned long addr)
{
	return arch_directmap_loaded_pgd(addr);
}

/* Is a present leaf entry @val global, so that any CPU may cache it? */
static inline bool dmap_test_leaf_global(u64 val)
{
	return arch_directmap_leaf_global(val);
}

/* May the CPU use the leaf entry @val (is it valid, present)? */
static inline bool dmap_test_leaf_valid(u64 val)
{
	return arch_directmap_leaf_valid(val);
}

/* Are pages wiped in an mm of their own here, not at a kernel address? */
static inline bool dmap_test_wipe_in_mm(void)
{
	return arch_directmap_wipes_in_mm();
}

/* Would an NMI here be refused reads of user memory? */
static inline bool dmap_test_nmi_uaccess_refused(void)
{
	return arch_directmap_nmi_uaccess_refused();
}

static inline int dmap_differ(unsigned long addr, int nr)
{
	return arch_directmap_differ(addr, nr);
}

static inline int dmap_same(unsigned long addr, int nr)
{
	return arch_directmap_same(addr, nr);
}

#endif /* _MM_DIRECTMAP_DIFFER_H */
