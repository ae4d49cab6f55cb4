// SPDX-License-Identifier: GPL-2.0
/*
 * x86 mechanics for directmap: remove a 2M region from the direct map as
 * one unit and put it back, re-form 2M and 1G entries, and wipe pages
 * while they are unmapped.
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
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/set_memory.h>
#include <linux/vmalloc.h>
#include <asm/tlbflush.h>

static_assert((int)DIRECTMAP_LEVEL_4K == (int)PG_LEVEL_4K &&
	      (int)DIRECTMAP_LEVEL_2M == (int)PG_LEVEL_2M &&
	      (int)DIRECTMAP_LEVEL_1G == (int)PG_LEVEL_1G &&
	      (int)DIRECTMAP_LEVEL_NUM <= (int)PG_LEVEL_NUM);

/*
 * Per-CPU kernel address used to wipe a page that has no direct map: only
 * its own CPU ever maps it, with interrupts off, so a local INVLPG is the
 * only flush it needs.
 */
static DEFINE_PER_CPU(pte_t *, dmap_clear_pte);
static DEFINE_PER_CPU(unsigned long, dmap_clear_addr);

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

/**
 * arch_directmap_unmap_region - remove a 2M region from the direct map
 * @page:	first page of a PMD-aligned, PMD-sized block
 *
 * Context: process context, may sleep.
 * Return: 0 with the whole region not present and the TLBs flushed once, or
 * a negative errno with the mapping as it was.
 */
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

	/*
	 * Split to 4K by someone before: make the absent table one absent 2M
	 * entry, so that the restore gives back a 2M mapping.  The block is
	 * ours alone; if this cannot be done now (a contended lock) the
	 * worker is told to try again later.
	 */
	if (set_direct_map_collapse_pmd(addr, true) < 0)
		directmap_note_pte(addr);
	return 0;
}

/**
 * arch_directmap_restore_region - put a 2M region back into the direct map
 * @page:	first page of a region unmapped by arch_directmap_unmap_region()
 *
 * Context: process context, may sleep.
 */
void arch_directmap_restore_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);

	/* Every entry it touches exists already: nothing to allocate */
	WARN_ON_ONCE(set_direct_map_restore(addr, PTRS_PER_PMD));
}

/**
 * arch_directmap_map_pages - make pages of an unmapped region present again
 * @page:	first page
 * @nr_pages:	pages from @page on, all in one region
 *
 * For in-place sharing.  The region's absent 2M entry is split into a
 * table of 4K entries, all absent but these, so that no present large
 * entry ever covers a page that is still private (SEV-SNP's RMP needs
 * 4K entries over private pages).
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM with nothing changed if the split found no memory.
 */
int arch_directmap_map_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);

	if (WARN_ON_ONCE((addr & PMD_MASK) !=
			 ((addr + nr_pages * PAGE_SIZE - 1) & PMD_MASK)))
		return -EINVAL;
	/* Present and global, as before the region was unmapped */
	return set_direct_map_restore(addr, nr_pages);
}

/**
 * arch_directmap_unmap_pages - take pages mapped by arch_directmap_map_pages() out
 * @page:	first page
 * @nr_pages:	pages from @page on, as mapped
 *
 * Their 4K entries exist, so this cannot fail; the TLBs are flushed
 * before it returns.
 *
 * Context: process context, may sleep.
 */
void arch_directmap_unmap_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);

	/* Clears only the present bit, so the table can be re-formed */
	WARN_ON_ONCE(set_memory_np(addr, nr_pages));
}

/**
 * arch_directmap_collapse_pmd - re-form the 2M entry over a frame
 * @pfn:	a frame in the direct map
 * @not_present: directmap owns the whole 2M area, so entries that are all
 *		not present may be re-formed too
 *
 * Context: process context, may sleep; not from reclaim (memory hotplug
 * allocates with its lock held).
 * Return: 1 if re-formed now, 0 if a large entry mapped it already, -ENOENT
 * if @pfn is offline, or -EAGAIN, -EBUSY or -EOPNOTSUPP (see
 * set_direct_map_collapse_pmd()).
 */
int arch_directmap_collapse_pmd(unsigned long pfn, bool not_present)
{
	int ret = -ENOENT;

	/* Memory hot-remove frees direct-map tables under this lock alone */
	get_online_mems();
	if (pfn_to_online_page(pfn))
		ret = set_direct_map_collapse_pmd((unsigned long)pfn_to_kaddr(pfn),
						  not_present);
	put_online_mems();
	return ret;
}

/**
 * arch_directmap_collapse_pud - re-form the 1G entry over a frame
 * @pfn:	a frame in the direct map
 *
 * Context: process context, may sleep; not from reclaim (memory hotplug
 * allocates with its lock held).
 * Return: 1 if re-formed now, 0 if a 1G entry mapped it already, -ENOENT
 * if @pfn is offline, -EAGAIN if more than one System RAM resource lies
 * under the area (see directmap_pud_one_resource()), or -EAGAIN, -EBUSY
 * or -EOPNOTSUPP (see set_direct_map_collapse_pud()).
 */
int arch_directmap_collapse_pud(unsigned long pfn)
{
	int ret;

	get_online_mems();
	if (!pfn_to_online_page(pfn))
		ret = -ENOENT;
	else if (!directmap_pud_one_resource(pfn))
		ret = -EAGAIN;
	else
		ret = set_direct_map_collapse_pud((unsigned long)pfn_to_kaddr(pfn));
	put_online_mems();
	return ret;
}

/**
 * arch_directmap_level - the level of the direct-map entry over an address
 * @addr:	a direct-map address
 * @present:	set to whether that entry is present
 *
 * Return: a DIRECTMAP_LEVEL_*, DIRECTMAP_LEVEL_NONE if nothing maps @addr.
 */
int arch_directmap_level(unsigned long addr, bool *present)
{
	unsigned int level = PG_LEVEL_NONE;
	pte_t *pte = lookup_address(addr, &level);

	*present = pte && pte_present(*pte);
	return pte ? level : DIRECTMAP_LEVEL_NONE;
}

/**
 * arch_directmap_pages - what a DirectMap line of /proc/meminfo counts
 * @level:	DIRECTMAP_LEVEL_4K, _2M or _1G
 *
 * Return: the number of entries of the direct map at @level.
 */
unsigned long arch_directmap_pages(int level)
{
	return direct_map_pages(level);
}

/**
 * arch_directmap_walk - visit every leaf entry of the direct map
 * @fn:		called for each leaf, or NULL to only count
 * @data:	passed to @fn
 * @walked:	entries found per level (DIRECTMAP_LEVEL_NUM of them)
 * @counted:	what the DirectMap counters say, per level
 *
 * See direct_map_walk().
 *
 * Context: process context, may sleep.
 * Return: true if @walked and @counted are one snapshot; false if the
 * direct map changed during the walk.
 */
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

/**
 * arch_directmap_clear_page - zero a page that has no direct map
 * @page:	the page
 *
 * Maps @page at this CPU's private address, zeroes it and unmaps it again;
 * the direct map is never touched.
 */
void arch_directmap_clear_page(struct page *page)
{
	unsigned long flags, addr;
	pte_t *ptep;

	local_irq_save(flags);
	ptep = this_cpu_read(dmap_clear_pte);
	addr = this_cpu_read(dmap_clear_addr);
	set_pte(ptep, mk_pte(page, PAGE_KERNEL));
	clear_page((void *)addr);
	pte_clear(&init_mm, addr, ptep);
	flush_tlb_one_kernel(addr);
	local_irq_restore(flags);
}

static int dmap_clear_pte_collect(pte_t *pte, unsigned long addr, void *data)
{
	unsigned long start = (unsigned long)data;
	unsigned int cpu = (addr - start) >> PAGE_SHIFT;

	if (!cpu_possible(cpu))
		return 0;
	per_cpu(dmap_clear_pte, cpu) = pte;
	per_cpu(dmap_clear_addr, cpu) = addr;
	return 0;
}

/**
 * arch_directmap_init - set up the per-CPU addresses that wipe pages
 *
 * Return: 0, or -ENOMEM.
 */
int __init arch_directmap_init(void)
{
	unsigned long size = (unsigned long)nr_cpu_ids << PAGE_SHIFT;
	struct vm_struct *area;
	unsigned long start;
	int err;

	area = get_vm_area(size, VM_MAP);
	if (!area)
		return -ENOMEM;

	start = (unsigned long)area->addr;
	/* Allocates the page tables now, so that a wipe never needs memory */
	err = apply_to_page_range(&init_mm, start, size, dmap_clear_pte_collect,
				  (void *)start);
	if (err)
		free_vm_area(area);
	return err;
}
