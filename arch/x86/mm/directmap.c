// SPDX-License-Identifier: GPL-2.0
/*
 * x86 mechanics for directmap: remove a 2M region from the direct map as
 * one unit and put it back, re-form 2M and 1G entries, and wipe pages
 * while they are unmapped, through an mm of their own.
 *
 * A region that a 2M entry maps becomes one not-present PMD: no split.  A
 * region under a 1G entry needs that entry split to 2M first; the PMD table
 * for it is allocated before anything changes, so an unmap either completes
 * or fails with the mapping as it was, and the restore, which only sets the
 * present bit again on entries that exist, cannot fail.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/directmap.h>
#include <linux/directmap_arch.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmu_context.h>
#include <linux/sched/mm.h>
#include <linux/set_memory.h>
#include <linux/spinlock.h>
#include <asm/directmap.h>
#include <asm/tlbflush.h>

static_assert((int)DIRECTMAP_LEVEL_4K == (int)PG_LEVEL_4K &&
	      (int)DIRECTMAP_LEVEL_2M == (int)PG_LEVEL_2M &&
	      (int)DIRECTMAP_LEVEL_1G == (int)PG_LEVEL_1G &&
	      (int)DIRECTMAP_LEVEL_NUM <= (int)PG_LEVEL_NUM);

/* One wipe at a time: the wipe mm may be loaded on one CPU only */
static DEFINE_RAW_SPINLOCK(dmap_wipe_lock);

/**
 * directmap_split_pud - split the 1G entry over a direct-map address
 * @addr:	the address
 *
 * The table is allocated here, with no lock held; the split looks under
 * CPA's lock, so the table is freed again if no 1G entry maps @addr.
 * KUnit races a collapse against what follows.
 *
 * Context: process context, may sleep.
 * Return: 0 if no 1G entry maps @addr any more, or -ENOMEM.
 */
VISIBLE_IF_KUNIT int directmap_split_pud(unsigned long addr)
{
	struct page *pt;

	KUNIT_STATIC_STUB_REDIRECT(directmap_split_pud, addr);
	pt = directmap_alloc_pgtable(GFP_KERNEL);
	if (!pt)
		return -ENOMEM;
	if (set_direct_map_split_pud(addr, pt))
		__free_page(pt);
	return 0;
}

int arch_directmap_unmap_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);
	int tries = 3, err;

	if (WARN_ON_ONCE(!IS_ALIGNED(addr, PMD_SIZE)))
		return -EINVAL;

	do {
		err = directmap_split_pud(addr);
		if (err)
			return err;

		/*
		 * Covers the whole PMD: CPA clears its present bit in place.
		 * Only if the worker re-formed the 1G entry meanwhile does
		 * CPA need a table of its own, and that may fail: try again.
		 */
		err = set_memory_np(addr, PTRS_PER_PMD);
	} while (err == -ENOMEM && --tries);
	if (err)
		return err;

	/* split to 4K by someone before: one absent 2M entry again */
	directmap_region_absent(page_to_pfn(page));
	return 0;
}

void arch_directmap_restore_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);

	/* Every entry it touches exists already: nothing to allocate */
	WARN_ON_ONCE(set_direct_map_restore(addr, PTRS_PER_PMD));
}

/* set_direct_map_restore() splits the absent 2M entry, the rest stay absent */
int arch_directmap_map_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);

	if (WARN_ON_ONCE((addr & PMD_MASK) !=
			 ((addr + nr_pages * PAGE_SIZE - 1) & PMD_MASK)))
		return -EINVAL;
	/* Present and global, as before the region was unmapped */
	return set_direct_map_restore(addr, nr_pages);
}

void arch_directmap_unmap_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);

	/* Clears only the present bit, so the table can be re-formed */
	WARN_ON_ONCE(set_memory_np(addr, nr_pages));
}

/*
 * The checks are set_direct_map_collapse_pmd()'s.  The caller excludes
 * memory hotplug, or holds the area as a region (directmap_arch.h).
 */
int arch_directmap_collapse_pmd(unsigned long pfn, bool not_present)
{
	if (!pfn_to_online_page(pfn))
		return -ENOENT;
	return set_direct_map_collapse_pmd((unsigned long)pfn_to_kaddr(pfn),
					   not_present);
}

/* A pass's collapses share one TLB flush, at its end */
void arch_directmap_collapse_begin(void)
{
	set_direct_map_collapse_begin();
}

void arch_directmap_collapse_end(void)
{
	set_direct_map_collapse_end();
}

/* The checks are set_direct_map_collapse_pud()'s; memory hotplug excluded */
int arch_directmap_collapse_pud(unsigned long pfn)
{
	if (!pfn_to_online_page(pfn))
		return -ENOENT;
	if (!directmap_pud_one_resource(pfn))
		return -EAGAIN;
	return set_direct_map_collapse_pud((unsigned long)pfn_to_kaddr(pfn));
}

int arch_directmap_level(unsigned long addr, bool *present)
{
	unsigned int level = PG_LEVEL_NONE;
	pte_t *pte = lookup_address(addr, &level);

	*present = pte && pte_present(*pte);
	return pte ? level : DIRECTMAP_LEVEL_NONE;
}

unsigned long arch_directmap_pages(int level)
{
	return direct_map_pages(level);
}

/* direct_map_walk() does it, one 1G area at a time */
bool arch_directmap_walk(directmap_walk_fn fn, void *data,
			 unsigned long *walked, unsigned long *counted)
{
	unsigned long w[PG_LEVEL_NUM], c[PG_LEVEL_NUM];
	bool snapshot;

	snapshot = direct_map_walk(fn, data, w, c);
	memcpy(walked, w, DIRECTMAP_LEVEL_NUM * sizeof(*walked));
	memcpy(counted, c, DIRECTMAP_LEVEL_NUM * sizeof(*counted));
	return snapshot;
}

/*
 * Pages without a direct map are wiped through a mapping in an mm of their
 * own, as text poking writes kernel text: while it is loaded,
 * nmi_uaccess_okay() refuses NMIs' user reads.  One CPU at a time, so that
 * flushing its entries never needs an IPI.
 */
int arch_directmap_wipe_begin(struct mm_struct *mm,
			      struct arch_directmap_wipe *w)
{
	raw_spin_lock_irqsave(&dmap_wipe_lock, w->flags);
	w->prev = use_temporary_mm(mm);
	return 0;
}

void arch_directmap_wipe_end(struct mm_struct *mm, unsigned long addr,
			     unsigned int nr, struct arch_directmap_wipe *w)
{
	unuse_temporary_mm(w->prev);
	/*
	 * No CPU has the mm loaded now, so this sends no IPI: it moves the
	 * mm's TLB generation on, and the next CPU to load it flushes.
	 */
	flush_tlb_mm_range(mm, addr, addr + nr * PAGE_SIZE, PAGE_SHIFT, false);
	raw_spin_unlock_irqrestore(&dmap_wipe_lock, w->flags);
}

/* The wipe mm, with one slot */
int __init arch_directmap_init(void)
{
	struct mm_struct *mm;

	mm = mm_alloc();
	if (!mm)
		return -ENOMEM;
	/* Xen PV needs the PGD pinned */
	paravirt_enter_mmap(mm);
	/* on failure the mm keeps what tables it got: no VMA would free them */
	return directmap_wipe_init(mm, ALIGN(TASK_UNMAPPED_BASE, PMD_SIZE), 1);
}
