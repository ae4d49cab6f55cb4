/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What directmap's KUnit tests and torture ask of x86's direct map: the
 * arm64 answers are in arm64's asm/directmap.h.
 */
#ifndef _ASM_X86_DIRECTMAP_H
#define _ASM_X86_DIRECTMAP_H

#include <linux/types.h>
#include <asm/pgtable_types.h>
#include <asm/set_memory.h>
#include <asm/tlbflush.h>

/* x86 maps the direct map with large entries wherever it can */
static inline bool arch_directmap_has_blocks(void)
{
	return true;
}

/* The page tables this CPU translates @addr with, as loaded */
static inline pgd_t *arch_directmap_loaded_pgd(unsigned long addr)
{
	return this_cpu_read(cpu_tlbstate.loaded_mm)->pgd;
}

/* Is a present leaf entry global, so that any CPU may cache it? */
static inline bool arch_directmap_leaf_global(u64 val)
{
	return val & _PAGE_GLOBAL;
}

/* Pages are always wiped in an mm of their own */
static inline bool arch_directmap_wipes_in_mm(void)
{
	return true;
}

/* Would an NMI here be refused reads of user memory? */
static inline bool arch_directmap_nmi_uaccess_refused(void)
{
	return !nmi_uaccess_okay();
}

/*
 * Make the 4K entries of [addr, addr + nr pages) differ from their
 * neighbours (read-only), splitting the large entries over them, and the
 * same again.
 */
static inline int arch_directmap_differ(unsigned long addr, int nr)
{
	return set_memory_ro(addr, nr);
}

static inline int arch_directmap_same(unsigned long addr, int nr)
{
	return set_memory_rw(addr, nr);
}

#endif /* _ASM_X86_DIRECTMAP_H */
