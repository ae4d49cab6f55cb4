// SPDX-License-Identifier: GPL-2.0
/*
 * Wiping pages that have no direct map.
 *
 * A page out of the direct map is zeroed through a mapping of its own in
 * an mm that no task runs, as text poking writes kernel text: non-global
 * entries in the user half, which only a CPU that loads the mm can cache,
 * and that CPU drops them before it runs anything else.  The direct map is
 * never touched, so a wipe neither splits nor flushes it.
 *
 * This file owns the mm, its page tables (set up once, so that a wipe
 * never needs memory) and the sequence; the architecture loads the mm,
 * writes its entries and flushes (arch_directmap_wipe_begin() and
 * arch_directmap_wipe_end()).  Up to DMAP_WIPE_BATCH pages, contiguous
 * or not, share one load and one flush.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <kunit/test-bug.h>
#include <linux/directmap.h>
#include <linux/directmap_arch.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <asm/directmap.h>

#include "internal.h"

#ifndef arch_directmap_clear_page_kernel
/* Only where arch_directmap_wipe_begin() can fail */
static inline void arch_directmap_clear_page_kernel(struct page *page)
{
	WARN_ON_ONCE(1);
}
#endif

static struct mm_struct *dmap_wipe_mm __ro_after_init;
static unsigned long dmap_wipe_base __ro_after_init;
static unsigned long dmap_wipe_end __ro_after_init;
/* each slot's first entry; a slot's entries are in one page table */
static pte_t **dmap_wipe_ptes __ro_after_init;

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * KUnit looks at the mapping from another CPU meanwhile: called instead of
 * the clear, in the test's own task.  Not a static stub: looking one up
 * takes a spinlock_t, and the wipe holds a raw one.
 */
void (*directmap_wipe_watch)(void *addr);
#endif

static noinline notrace void directmap_wipe_mapped(void *addr)
{
#if IS_ENABLED(CONFIG_KUNIT)
	void (*watch)(void *addr) = READ_ONCE(directmap_wipe_watch);

	if (watch && kunit_get_current_test()) {
		watch(addr);
		return;
	}
#endif
	arch_directmap_wipe_clear(addr);
}

NOKPROBE_SYMBOL(directmap_wipe_mapped);

/*
 * Between begin and end the CPU runs on the wipe mm: nothing here may be
 * traced or probed, since a handler reading user memory (perf's user call
 * chains, a BPF program's probe_read_user()) would read the wipe mm.
 */
static noinline notrace void dmap_wipe_batch(struct page **pages,
					     unsigned int nr)
{
	struct arch_directmap_wipe w;
	unsigned long addr;
	unsigned int i;
	pte_t *ptep;
	int slot;

	slot = dmap_wipe_mm ? arch_directmap_wipe_begin(dmap_wipe_mm, &w) :
			      -EBUSY;
	if (slot < 0) {
		for (i = 0; i < nr; i++)
			arch_directmap_clear_page_kernel(pages[i]);
		return;
	}
	addr = dmap_wipe_base + (unsigned long)slot * DMAP_WIPE_BATCH * PAGE_SIZE;
	ptep = dmap_wipe_ptes[slot];
	for (i = 0; i < nr; i++)
		arch_directmap_wipe_set_pte(ptep + i, pages[i]);
	for (i = 0; i < nr; i++)
		directmap_wipe_mapped((void *)(addr + i * PAGE_SIZE));
	for (i = 0; i < nr; i++)
		arch_directmap_wipe_set_pte(ptep + i, NULL);
	arch_directmap_wipe_end(dmap_wipe_mm, addr, nr, &w);
}

NOKPROBE_SYMBOL(dmap_wipe_batch);

#if IS_ENABLED(CONFIG_KUNIT)
/* loads of the wipe mm, for KUnit to count batches */
atomic_long_t dmap_wipe_loads = ATOMIC_LONG_INIT(0);
#endif

/**
 * directmap_clear_page_array - zero pages that have no direct map
 * @pages:	the pages, in any order, none twice
 * @nr:		how many
 *
 * As directmap_clear_pages(), for pages that need not be contiguous: up to
 * DMAP_WIPE_BATCH of them share one load of the wipe mm.
 *
 * Context: as directmap_clear_pages().
 */
void directmap_clear_page_array(struct page **pages, unsigned int nr)
{
	unsigned int n;

	for (; nr; nr -= n, pages += n) {
		n = min(nr, DMAP_WIPE_BATCH);
#if IS_ENABLED(CONFIG_KUNIT)
		atomic_long_inc(&dmap_wipe_loads);
#endif
		dmap_wipe_batch(pages, n);
	}
}

/**
 * directmap_clear_pages - zero pages that have no direct map
 * @page:	the first page
 * @nr:		how many
 *
 * Maps the pages where no CPU but a wiping one can reach them, not even by
 * a speculative walk, zeroes them and unmaps them again.  (On arm64 CPUs
 * that wipe at the same time share the wipe mm, whose slot of each is
 * then in reach of the others until their own wipe ends.)
 *
 * Context: process context, may be atomic; not from an interrupt handler
 * (x86's flush of the wipe mm may not nest in another flush).
 */
void directmap_clear_pages(struct page *page, unsigned int nr)
{
	struct page *pages[DMAP_WIPE_BATCH];
	unsigned int n, i;

	for (; nr; nr -= n, page += n) {
		n = min(nr, DMAP_WIPE_BATCH);
		for (i = 0; i < n; i++)
			pages[i] = page + i;
		directmap_clear_page_array(pages, n);
	}
}

/**
 * directmap_wipe_init - set up the wipe mm
 * @mm:		a new mm of the architecture's, which this file keeps
 * @base:	the user address of the first slot, DMAP_WIPE_BATCH pages aligned
 * @nr_slots:	how many slots: 1, or one per possible CPU
 *
 * Allocates the page tables of every slot now, so that a wipe never
 * needs memory.  On failure the caller still owns @mm.
 *
 * Context: boot, may sleep.
 * Return: 0 or -ENOMEM.
 */
int __init directmap_wipe_init(struct mm_struct *mm, unsigned long base,
			       unsigned int nr_slots)
{
	unsigned long addr;
	spinlock_t *ptl;	/* get_locked_pte()'s, dropped at once */
	unsigned int i;
	pte_t **ptes;

	/* an allocation of the largest order is wiped in one batch */
	BUILD_BUG_ON(DMAP_WIPE_BATCH < (1U << DIRECTMAP_MAX_ORDER));
	BUILD_BUG_ON(PTRS_PER_PTE % DMAP_WIPE_BATCH);
	if (WARN_ON_ONCE(!IS_ALIGNED(base, DMAP_WIPE_BATCH * PAGE_SIZE)))
		return -EINVAL;
	ptes = kcalloc(nr_slots, sizeof(*ptes), GFP_KERNEL);
	if (!ptes)
		return -ENOMEM;
	for (i = 0; i < nr_slots; i++) {
		addr = base + (unsigned long)i * DMAP_WIPE_BATCH * PAGE_SIZE;
		ptes[i] = get_locked_pte(mm, addr, &ptl);
		/* the tables allocated stay with the mm, which stays too */
		if (!ptes[i]) {
			kfree(ptes);
			return -ENOMEM;
		}
		/* no HIGHPTE on 64-bit: the table stays where it is */
		pte_unmap_unlock(ptes[i], ptl);
	}
	dmap_wipe_base = base;
	dmap_wipe_end = addr + DMAP_WIPE_BATCH * PAGE_SIZE;
	dmap_wipe_ptes = ptes;
	dmap_wipe_mm = mm;
	return 0;
}

/**
 * directmap_wipe_overlaps - is any of a range in the wipe mm's slots?
 * @start:	the first address
 * @size:	its size in bytes
 *
 * For an architecture whose privileged "nofault" reads of kernel memory
 * could otherwise reach a slot mid-wipe, through the wipe mm loaded on
 * that CPU (copy_from_kernel_nofault_allowed()).
 *
 * Return: true if [@start, @start + @size) overlaps a slot.
 */
bool directmap_wipe_overlaps(unsigned long start, size_t size)
{
	return dmap_wipe_end && start < dmap_wipe_end &&
	       start + size > dmap_wipe_base;
}

#ifdef CONFIG_DIRECTMAP_KUNIT_TEST
#include "tests/wipe-kunit.h"
#endif
