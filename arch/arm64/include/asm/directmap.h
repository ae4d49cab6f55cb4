/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What arm64's page-attribute, page-table and memory hotplug code asks of
 * directmap: count the linear map's splits and the entries memory hotplug
 * adds and removes, and keep blocks from being re-formed over a range
 * between its split and its change.  Then how arm64 wipes pages
 * that have no linear map (see <linux/directmap_arch.h>), and what
 * directmap's KUnit tests and torture ask of arm64's linear map (x86's
 * asm/directmap.h answers the same).
 */
#ifndef __ASM_DIRECTMAP_H
#define __ASM_DIRECTMAP_H

#include <linux/mm.h>
#include <linux/cpufeature.h>
#include <linux/set_memory.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>

#ifdef CONFIG_DIRECTMAP
bool arm64_directmap_blocks(void);
void arm64_directmap_split(unsigned long addr, bool pud);
int arm64_directmap_change_begin(unsigned long start, unsigned long size);
void arm64_directmap_change_end(unsigned long start, unsigned long size);
void arm64_directmap_hotplug(unsigned long start, unsigned long size,
			     bool add);
#else
static inline bool arm64_directmap_blocks(void)
{
	return false;
}

static inline void arm64_directmap_split(unsigned long addr, bool pud)
{
}

static inline int arm64_directmap_change_begin(unsigned long start,
					       unsigned long size)
{
	return 0;
}

static inline void arm64_directmap_change_end(unsigned long start,
					      unsigned long size)
{
}

static inline void arm64_directmap_hotplug(unsigned long start,
					   unsigned long size, bool add)
{
}
#endif

/* What a wipe saves: the interrupt masks and the TTBRs it replaced */
struct arch_directmap_wipe {
	unsigned long	flags;
	u64		ttbr0;
	u64		ttbr1;
};

/* A writable, non-global entry for a wipe, or none */
static __always_inline void arch_directmap_wipe_set_pte(pte_t *ptep,
							struct page *page)
{
	pgprot_t prot = __pgprot(pgprot_val(PAGE_KERNEL) | PTE_NG);

	__set_pte(ptep, page ? mk_pte(page, prot) : __pte(0));
}

/*
 * Zero the page mapped at @addr for a wipe, inline: clear_page() is not
 * on the kprobe blacklist, and the wipe's window may not be probed.  The
 * loop is aligned so that it never straddles a cache line or a page of
 * text: where it did, emulation (QEMU TCG) took 1.8 us more per page.
 */
static __always_inline void arch_directmap_wipe_clear(void *addr)
{
	unsigned long p = (unsigned long)addr, n = PAGE_SIZE;

	asm volatile("	.p2align 4\n"
		     "1:	stp	xzr, xzr, [%0], #16\n"
		     "	subs	%1, %1, #16\n"
		     "	b.ne	1b\n"
		     : "+r" (p), "+r" (n) : : "memory", "cc");
}

/* Where the wipe mm cannot be loaded */
void arch_directmap_clear_page_kernel(struct page *page);
#define arch_directmap_clear_page_kernel arch_directmap_clear_page_kernel

/* Not on CPUs without BBML2_NOABORT: the linear map stays at 4K there */
static inline bool arch_directmap_has_blocks(void)
{
	return arm64_directmap_blocks();
}

/* The page tables this CPU translates @addr with, as loaded */
static inline pgd_t *arch_directmap_loaded_pgd(unsigned long addr)
{
	u64 ttbr0 = read_sysreg(ttbr0_el1);

	if (addr >= TASK_SIZE_MAX)
		return swapper_pg_dir;
	/* TTBR0 itself: reserved_pg_dir where no user mm is loaded */
	return phys_to_virt(ttbr0 &
			    ~(TTBRx_EL1_ASID_MASK | TTBRx_EL1_CnP_MASK));
}

/* May the CPU use the leaf entry @val? */
static inline bool arch_directmap_leaf_valid(u64 val)
{
	return val & PTE_VALID;
}

/* Is a present leaf entry global, so that any CPU may cache it? */
static inline bool arch_directmap_leaf_global(u64 val)
{
	return !(val & PTE_NG);
}

/* Software PAN keeps TTBR0 switched off in the kernel: no wipe mm then */
bool arm64_directmap_wipe_mm(void);

static inline bool arch_directmap_wipes_in_mm(void)
{
	return !system_uses_ttbr0_pan() && arm64_directmap_wipe_mm();
}

/* Would a pseudo-NMI here be refused?  They are masked by PSTATE.I alone */
static inline bool arch_directmap_nmi_uaccess_refused(void)
{
	return read_sysreg(daif) & PSR_I_BIT;
}

/* Change the linear-map entry of each page of [addr, addr + nr pages) */
static inline int arm64_directmap_set_each(unsigned long addr, int nr,
					   int (*set)(struct page *page))
{
	struct page *page = virt_to_page((void *)addr);
	int i, err;

	for (i = 0; i < nr; i++) {
		err = set(page + i);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Make the 4K entries of [addr, addr + nr pages) differ from their
 * neighbours, splitting the blocks over them, and the same again.
 * set_memory_ro() takes vmalloc addresses only: they leave the linear map.
 */
static inline int arch_directmap_differ(unsigned long addr, int nr)
{
	int err = arm64_directmap_set_each(addr, nr,
					   set_direct_map_invalid_noflush);

	if (!err)
		flush_tlb_kernel_range(addr, addr + nr * PAGE_SIZE);
	return err;
}

static inline int arch_directmap_same(unsigned long addr, int nr)
{
	return arm64_directmap_set_each(addr, nr,
					set_direct_map_default_noflush);
}

#endif /* __ASM_DIRECTMAP_H */
