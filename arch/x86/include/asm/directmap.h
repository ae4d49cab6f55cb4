/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How x86 wipes pages that have no direct map (see
 * <linux/directmap_arch.h>), then what directmap's KUnit tests and
 * torture ask of x86's direct map: the arm64 answers are in arm64's
 * asm/directmap.h.
 */
#ifndef _ASM_X86_DIRECTMAP_H
#define _ASM_X86_DIRECTMAP_H

#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/mmu_context.h>
#include <linux/pgtable.h>
#include <asm/set_memory.h>
#include <asm/smap.h>
#include <asm/tlbflush.h>

/* What a wipe saves: the interrupt flags and the mm it switched from */
struct arch_directmap_wipe {
	unsigned long		flags;
	struct mm_struct	*prev;
};

/*
 * Zero the page mapped at @addr for a wipe.  The wipe slot is in the lower
 * half, which LASS keeps the kernel from touching unless AC is set: no
 * call in between (objtool), so the string instruction itself.  No probe
 * can read the wipe mm: nmi_uaccess_okay() is false while it is loaded.
 */
static __always_inline void arch_directmap_wipe_clear(void *addr)
{
	unsigned long cnt = PAGE_SIZE / sizeof(u64);

	stac();
	asm volatile("rep stosq"
		     : "+D" (addr), "+c" (cnt) : "a" (0UL) : "memory");
	clac();
}

/* A writable, non-global entry for a wipe, or none */
static __always_inline void arch_directmap_wipe_set_pte(pte_t *ptep,
							struct page *page)
{
	pgprot_t prot = __pgprot(pgprot_val(PAGE_KERNEL) & ~_PAGE_GLOBAL);

	set_pte(ptep, page ? mk_pte(page, prot) : __pte(0));
}

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

/* May the CPU use the leaf entry @val? */
static inline bool arch_directmap_leaf_valid(u64 val)
{
	return val & _PAGE_PRESENT;
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
