/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What mm/directmap asks of the architecture: the page-table mechanics
 * of the direct map (x86's physmap, arm64's linear map), implemented in
 * arch/<arch>/mm/directmap.c.  Drivers use <linux/directmap.h>, never
 * this.
 *
 * A region is the naturally aligned 2M (PMD_ORDER) block that starts at
 * a page; "re-form" (collapse) makes one large entry of the entries
 * under an area again.
 */
#ifndef _LINUX_DIRECTMAP_ARCH_H
#define _LINUX_DIRECTMAP_ARCH_H

#include <linux/types.h>

struct page;

/* The levels of the direct map; x86's enum pg_level numbers them the same */
enum directmap_level {
	DIRECTMAP_LEVEL_NONE,
	DIRECTMAP_LEVEL_4K,
	DIRECTMAP_LEVEL_2M,
	DIRECTMAP_LEVEL_1G,
	DIRECTMAP_LEVEL_NUM,
};

typedef void (*directmap_walk_fn)(unsigned long addr, int level, bool present,
				  void *data);

/**
 * arch_directmap_init - check that directmap can work on this direct map
 *
 * Sets up what wiping pages needs: an mm of its own, handed to
 * directmap_wipe_init().
 *
 * Return: 0; -EOPNOTSUPP where the direct map may not change at all
 * (arm64 without rodata=full); -ENOMEM.
 */
int arch_directmap_init(void);

/**
 * arch_directmap_level - the level of the direct-map entry over an address
 * @addr:	a direct-map address
 * @present:	set to whether that entry is present (valid)
 *
 * Context: process context, may sleep; arm64 takes the memory hotplug
 * lock and the mutex of linear-map changes, so not under either, nor
 * under mmap_lock.
 * Return: a DIRECTMAP_LEVEL_*, DIRECTMAP_LEVEL_NONE if nothing maps @addr.
 */
int arch_directmap_level(unsigned long addr, bool *present);

/**
 * arch_directmap_pages - what a DirectMap line of /proc/meminfo counts
 * @level:	DIRECTMAP_LEVEL_4K, _2M or _1G
 *
 * Return: the number of entries of the direct map at @level.
 */
unsigned long arch_directmap_pages(int level);

/**
 * arch_directmap_walk - visit every leaf entry of the direct map
 * @fn:		called for each leaf with its address, level and present
 *		bit, or NULL to only count; must not sleep
 * @data:	passed to @fn
 * @walked:	entries found per level (DIRECTMAP_LEVEL_NUM of them)
 * @counted:	what the DirectMap counters say, per level
 *
 * Context: process context, may sleep; as arch_directmap_level().
 * Return: true if @walked and @counted are one snapshot; false if the
 * direct map changed during the walk (x86 walks one 1G area at a time).
 */
bool arch_directmap_walk(directmap_walk_fn fn, void *data,
			 unsigned long *walked, unsigned long *counted);

/**
 * arch_directmap_unmap_region - take a 2M region out of the direct map
 * @page:	first page of a PMD-aligned, PMD-sized block
 *
 * Splits at most a 1G entry over it, with a table allocated before
 * anything changes; one TLB flush.
 *
 * Context: process context, may sleep.
 * Return: 0 with the whole region not present and the TLBs flushed, or a
 * negative errno with the mapping as it was.
 */
int arch_directmap_unmap_region(struct page *page);

/**
 * arch_directmap_restore_region - put a 2M region back into the direct map
 * @page:	first page of a region taken out by arch_directmap_unmap_region()
 *
 * Sets present bits on entries that exist: cannot fail.
 *
 * Context: process context, may sleep.
 */
void arch_directmap_restore_region(struct page *page);

/**
 * arch_directmap_map_pages - make pages of a region present again
 * @page:	first page
 * @nr_pages:	pages from @page on, all in one region
 *
 * For in-place sharing.  The region's absent 2M entry becomes a table of
 * absent 4K entries but these, so that no present large entry ever maps a
 * page that is still private (SEV-SNP's RMP needs 4K entries there).
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM with nothing changed if the split found no memory.
 */
int arch_directmap_map_pages(struct page *page, unsigned long nr_pages);

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
void arch_directmap_unmap_pages(struct page *page, unsigned long nr_pages);

/**
 * arch_directmap_collapse_pmd - re-form the 2M entry over a frame
 * @pfn:	a frame in the direct map
 * @not_present: directmap owns the whole 2M area, so 4K entries that are
 *		all not present may become one absent 2M entry too
 *
 * Memory hot-remove frees direct-map tables under the memory hotplug
 * lock alone, so the caller excludes it (get_online_mems()), unless it
 * holds the 2M area as one of directmap's regions, whose memory cannot go
 * offline meanwhile.  That holder takes no lock: a refill or a release
 * may run in a fault that holds mmap_lock, which memory online takes
 * under the hotplug lock.  Present entries that are uniform are re-formed
 * either way.
 *
 * Context: process context, may sleep; not from reclaim (arm64 takes the
 * mutex under which splits allocate).  Memory hotplug excluded, or the
 * area a region the caller holds.
 * Return: 1 if re-formed now, 0 if a large entry mapped it already,
 * -EAGAIN if the entries under it differ, -EBUSY if a lock was contended,
 * -ENOENT if @pfn is offline, -EOPNOTSUPP where the direct map keeps no
 * large entries there (arm64 without BBML2_NOABORT, the KFENCE pool).
 */
int arch_directmap_collapse_pmd(unsigned long pfn, bool not_present);

/**
 * arch_directmap_collapse_pud - re-form the 1G entry over a frame
 * @pfn:	a frame in the direct map
 *
 * Context: process context, may sleep; not from reclaim.  Memory hotplug
 * excluded (get_online_mems()).
 * Return: as arch_directmap_collapse_pmd(); -EAGAIN also if more than one
 * System RAM resource lies under the area (directmap_pud_one_resource()).
 */
int arch_directmap_collapse_pud(unsigned long pfn);

/**
 * arch_directmap_collapse_begin - begin a batch of collapses
 *
 * Until arch_directmap_collapse_end(), the architecture may defer the TLB
 * invalidations of the calling task's collapses that leave a valid
 * entry, and the freeing of the tables they replaced: what the TLBs hold
 * meanwhile translates as the new entries do.  Any other change of the
 * direct map meanwhile invalidates what was deferred first.  Begin and
 * end pair in one task and do not nest.
 *
 * Context: process context, may sleep.
 */
void arch_directmap_collapse_begin(void);

/**
 * arch_directmap_collapse_end - end a batch of collapses
 *
 * Invalidates what the batch deferred, once, and frees its tables.
 *
 * Context: process context, may sleep.
 */
void arch_directmap_collapse_end(void);

struct arch_directmap_wipe;	/* in <asm/directmap.h> */
struct mm_struct;

/**
 * arch_directmap_wipe_begin - load the wipe mm on this CPU
 * @mm:		the wipe mm (directmap_wipe_init())
 * @w:		what arch_directmap_wipe_end() needs back
 *
 * Masks interrupts (pseudo-NMIs included) and loads @mm, with no other
 * CPU using the slot returned meanwhile.  No NMI may read user memory
 * until arch_directmap_wipe_end(): it would read @mm.  Neither is traced.
 *
 * Return: the slot to map pages at, with arch_directmap_wipe_set_pte();
 * -EBUSY where @mm cannot be loaded now: then each page is wiped by
 * arch_directmap_clear_page_kernel(), which such an architecture defines.
 */
int arch_directmap_wipe_begin(struct mm_struct *mm,
			      struct arch_directmap_wipe *w);

/**
 * arch_directmap_wipe_end - unload the wipe mm and forget its entries
 * @mm:		the wipe mm
 * @addr:	the first address the wipe mapped
 * @nr:		how many pages it mapped from there
 * @w:		what arch_directmap_wipe_begin() filled in
 *
 * Goes back to the mm that was loaded and flushes what this CPU may have
 * cached of @mm's entries, without a broadcast or an IPI where it can.
 */
void arch_directmap_wipe_end(struct mm_struct *mm, unsigned long addr,
			     unsigned int nr, struct arch_directmap_wipe *w);

/*
 * <asm/directmap.h> also defines, inline:
 *
 * arch_directmap_wipe_set_pte(ptep, page): map @page at a wipe slot's
 * entry, writable, not global, or clear the entry if @page is NULL;
 * arch_directmap_wipe_clear(addr): zero the page mapped at @addr, with
 * nothing a probe could stop in if one could read the wipe mm;
 * a macro arch_directmap_clear_page_kernel with a function of that name,
 * where arch_directmap_wipe_begin() can fail.
 */

/**
 * nr_kernel_tlb_flushes - TLB flushes of kernel mappings since boot
 *
 * x86 counts every one (each is an IPI); arm64, where a flush is a
 * broadcast instruction, those of its directmap code: removals, splits,
 * collapses and the wipes that fell back to a kernel address.
 *
 * Return: the number of flushes.
 */
unsigned long nr_kernel_tlb_flushes(void);

/* Services of mm/directmap for the architecture */
bool directmap_requested(void);
bool directmap_pud_one_resource(unsigned long pfn);
struct page *directmap_alloc_pgtable(gfp_t gfp);
void directmap_region_absent(unsigned long pfn);
int directmap_wipe_init(struct mm_struct *mm, unsigned long base,
			unsigned int nr_slots);
bool directmap_wipe_overlaps(unsigned long start, size_t size);

#if IS_ENABLED(CONFIG_KUNIT) && defined(CONFIG_X86)
int directmap_split_pud(unsigned long addr);
#endif

#endif /* _LINUX_DIRECTMAP_ARCH_H */
