/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For KUnit and the torture: make the 4K entries of direct-map pages differ from their
 * neighbours, which splits the large entries over them, and make them the
 * same again, so that the collapse worker may re-form those entries.  x86
 * makes them read-only; arm64's set_memory_ro() takes vmalloc addresses
 * only, so there they leave the linear map instead.
 */
#ifndef _MM_DIRECTMAP_DIFFER_H
#define _MM_DIRECTMAP_DIFFER_H

#include <linux/mm.h>
#include <linux/set_memory.h>
#include <asm/tlbflush.h>
#ifdef CONFIG_ARM64
#include <asm/directmap.h>
#endif

/*
 * Does the direct map keep large entries?  Not arm64's linear map on CPUs
 * without BBML2_NOABORT: regions are taken out at 4K there, and nothing
 * is split or re-formed.
 */
static inline bool dmap_test_blocks(void)
{
#ifdef CONFIG_ARM64
	return arm64_directmap_blocks();
#else
	return true;
#endif
}

/* The page tables the current CPU translates @addr with, as loaded */
static inline pgd_t *dmap_test_loaded_pgd(unsigned long addr)
{
#ifdef CONFIG_X86
	return this_cpu_read(cpu_tlbstate.loaded_mm)->pgd;
#else
	u64 ttbr0 = read_sysreg(ttbr0_el1);

	if (addr >= TASK_SIZE_MAX)
		return swapper_pg_dir;
	/* TTBR0 itself: reserved_pg_dir where no user mm is loaded */
	return phys_to_virt(ttbr0 & ~(TTBR_ASID_MASK | TTBR_CNP_BIT));
#endif
}

/* Is a present leaf entry @val global, so that any CPU may cache it? */
static inline bool dmap_test_leaf_global(u64 val)
{
#ifdef CONFIG_X86
	return val & _PAGE_GLOBAL;
#else
	return !(val & PTE_NG);
#endif
}

/* Are pages wiped in an mm of their own here, not at a kernel address? */
static inline bool dmap_test_wipe_in_mm(void)
{
#ifdef CONFIG_ARM64
	/* software PAN keeps TTBR0 switched off in the kernel */
	return !system_uses_ttbr0_pan();
#else
	return true;
#endif
}

/* Would an NMI here be refused reads of user memory? */
static inline bool dmap_test_nmi_uaccess_refused(void)
{
#ifdef CONFIG_X86
	return !nmi_uaccess_okay();
#else
	/* pseudo-NMIs are masked by PSTATE.I alone */
	return read_sysreg(daif) & PSR_I_BIT;
#endif
}

static inline int dmap_differ(unsigned long addr, int nr)
{
#ifdef CONFIG_X86
	return set_memory_ro(addr, nr);
#else
	int i, err;

	for (i = 0; i < nr; i++) {
		err = set_direct_map_invalid_noflush(virt_to_page(addr) + i);
		if (err)
			return err;
	}
	flush_tlb_kernel_range(addr, addr + nr * PAGE_SIZE);
	return 0;
#endif
}

static inline int dmap_same(unsigned long addr, int nr)
{
#ifdef CONFIG_X86
	return set_memory_rw(addr, nr);
#else
	int i, err;

	for (i = 0; i < nr; i++) {
		err = set_direct_map_default_noflush(virt_to_page(addr) + i);
		if (err)
			return err;
	}
	return 0;
#endif
}

#endif /* _MM_DIRECTMAP_DIFFER_H */
