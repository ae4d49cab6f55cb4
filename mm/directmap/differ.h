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

/* The page tables the current CPU translates @addr with */
static inline struct mm_struct *dmap_test_loaded_mm(unsigned long addr)
{
#ifdef CONFIG_X86
	return this_cpu_read(cpu_tlbstate.loaded_mm);
#else
	/* TTBR1 for kernel addresses, TTBR0 (the active mm) for the others */
	return addr >= TASK_SIZE_MAX ? &init_mm : current->active_mm;
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
