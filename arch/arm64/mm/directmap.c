// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 mechanics for directmap: take directmap's 2M regions out of the
 * linear map and back, and, where every CPU may change the size of a live
 * entry in place, re-form the linear map's blocks once the entries under
 * them agree again.
 *
 * The Arm ARM lets an entry go from valid to invalid, or from invalid to
 * valid, at any time.  Changing the size of a live mapping (a valid block
 * into a table, or back) needs break-before-make, and nothing may touch
 * the range in between: not even a pseudo-NMI, an SDEI event or a kprobe,
 * which stop_machine() does not hold off.  So the linear map has blocks
 * only where every CPU has BBM level 2 without TLB conflict aborts
 * (ARM64_HAS_BBML2_NOABORT), whose sizes split_kernel_leaf_mapping()
 * changes in place, and directmap re-forms them only there.  Anywhere else
 * it is at 4K: regions are taken out and put back 4K entry by 4K entry,
 * one TLB flush each way, and nothing is re-formed.
 *
 * Taking a region out makes its entries present-invalid, and putting it
 * back makes them valid again, which cannot fail.  Only a region under a
 * 1G block needs a split first.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/bitfield.h>
#include <linux/cleanup.h>
#include <linux/cpufeature.h>
#include <linux/kprobes.h>
#include <linux/directmap.h>
#include <linux/directmap_arch.h>
#include <linux/kfence.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmu_context.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <asm/daifflags.h>
#include <asm/directmap.h>
#include <asm/kfence.h>
#include <asm/mmu.h>
#include <asm/set_memory.h>
#include <asm/tlbflush.h>

/*
 * Does the linear map have blocks that directmap re-forms?  Decided once
 * the CPUs are up: only where all have BBML2_NOABORT.
 */
static bool dmap_lm_blocks __ro_after_init;

/*
 * Every change to the shape of the linear map (splits, collapses, regions
 * taken out) is serialised with the 4K changes of set_memory_*() and
 * set_direct_map_*() by pgtable_split_lock, so that no table is freed
 * under them.  Splits allocate under it, with direct reclaim: directmap's
 * shrinker never takes it.  Whoever walks tables that memory hot-remove
 * may free takes get_online_mems() first, but for a region's holder
 * (directmap_arch.h); a collapse, which frees a
 * table, also takes init_mm's mmap lock for writing (ptdump and kexec's
 * copy walk under it) and frees the table after an RCU grace period
 * (walkers with interrupts off).
 */
static void dmap_batch_flush(void);
static void dmap_batch_flush_pending(void);

/*
 * Serialises putting regions back, which directmap's shrinker does without
 * pgtable_split_lock, with the collapses that free the tables under them.
 * Taken inside pgtable_split_lock; nothing allocates under it.
 */
static DEFINE_MUTEX(dmap_restore_lock);
/* Leaf entries of the linear map per level, present or not */
static unsigned long dmap_lm_count[DIRECTMAP_LEVEL_NUM];

/* TLB flushes directmap issued for the linear map and its wipe addresses */
static atomic_long_t dmap_tlb_flushes;

/*
 * Pages with no linear map are wiped at an address in the user half of an
 * mm that no task runs, as EFI runtime services run in efi_mm: each CPU
 * has a slot of non-global entries of its own there, so only a CPU that
 * loads the mm can cache them, and that CPU drops the mm's ASID from its
 * own TLB after the wipe: no broadcast TLBI per page.  Where the mm cannot
 * be loaded (interrupts, software PAN), a per-CPU kernel address is used
 * with a broadcast flush.
 */
static DEFINE_PER_CPU(pte_t *, dmap_clear_pte);
static DEFINE_PER_CPU(unsigned long, dmap_clear_addr);

/**
 * arm64_directmap_blocks - does directmap re-form the linear map's blocks?
 *
 * Return: true if the linear map had blocks once the CPUs were up, all
 * with BBML2_NOABORT.
 */
bool arm64_directmap_blocks(void)
{
	return dmap_lm_blocks;
}

/* ---- walking the linear map ---- */

/* Every level's entries are 64-bit descriptors: PUD, PMD and PTE alike */
static_assert(sizeof(pud_t) == sizeof(u64) && sizeof(pmd_t) == sizeof(u64) &&
	      sizeof(pte_t) == sizeof(u64));

/*
 * A table entry, always valid.  Anything else that is not empty is a block,
 * valid, or invalid where directmap took its region out.
 */
static bool dmap_is_table(u64 desc)
{
	return (desc & PMD_TYPE_MASK) == PMD_TYPE_TABLE;
}

/* The PUD entry over @addr, or NULL if there is no table for it */
static pud_t *dmap_lm_pud(unsigned long addr)
{
	pgd_t *pgdp = pgd_offset_k(addr);
	p4d_t *p4dp;

	if (pgd_none(READ_ONCE(*pgdp)))
		return NULL;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(READ_ONCE(*p4dp)))
		return NULL;
	return pud_offset(p4dp, addr);
}

/* The leaf entry of the linear map over @addr and its level, or NULL */
static u64 *dmap_lm_leaf(unsigned long addr, int *level)
{
	pud_t *pudp = dmap_lm_pud(addr);
	pmd_t *pmdp;
	u64 desc;

	*level = DIRECTMAP_LEVEL_NONE;
	if (!pudp)
		return NULL;
	desc = pud_val(READ_ONCE(*pudp));
	if (!desc)
		return NULL;
	if (!dmap_is_table(desc)) {
		*level = DIRECTMAP_LEVEL_1G;
		return (u64 *)pudp;
	}
	pmdp = pmd_offset(pudp, addr);
	desc = pmd_val(READ_ONCE(*pmdp));
	if (!desc)
		return NULL;
	if (!dmap_is_table(desc)) {
		*level = DIRECTMAP_LEVEL_2M;
		return (u64 *)pmdp;
	}
	*level = DIRECTMAP_LEVEL_4K;
	return (u64 *)pte_offset_kernel(pmdp, addr);
}

/* The PMD entry over @addr if a PMD table maps it, else NULL */
static pmd_t *dmap_lm_pmd(unsigned long addr)
{
	pud_t *pudp = dmap_lm_pud(addr);

	if (!pudp || !dmap_is_table(pud_val(READ_ONCE(*pudp))))
		return NULL;
	return pmd_offset(pudp, addr);
}

static void dmap_lm_leaf_found(directmap_walk_fn fn, void *data,
			       unsigned long *walked, unsigned long addr,
			       int level, u64 desc)
{
	walked[level]++;
	if (fn)
		fn(addr, level, desc & PTE_VALID, data);
}

static void dmap_lm_walk_pud(directmap_walk_fn fn, void *data,
			     unsigned long *walked, pud_t *pudp,
			     unsigned long addr, unsigned long end)
{
	u64 *pmd = (u64 *)pmd_offset(pudp, addr);
	unsigned long next;
	u64 *pte, desc;

	for (; addr < end; addr = next, pmd++) {
		next = pmd_addr_end(addr, end);
		desc = READ_ONCE(*pmd);
		if (!desc)
			continue;
		if (!dmap_is_table(desc)) {
			dmap_lm_leaf_found(fn, data, walked, addr & PMD_MASK,
					   DIRECTMAP_LEVEL_2M, desc);
			continue;
		}
		pte = (u64 *)pte_offset_kernel((pmd_t *)pmd, addr);
		for (; addr < next; addr += PAGE_SIZE, pte++) {
			desc = READ_ONCE(*pte);
			if (desc)
				dmap_lm_leaf_found(fn, data, walked, addr,
						   DIRECTMAP_LEVEL_4K, desc);
		}
	}
}

/*
 * Visit every leaf of the linear map over [start, end), under
 * pgtable_split_lock; a block is visited once if the range touches it.
 */
static void dmap_lm_walk(directmap_walk_fn fn, void *data,
			 unsigned long *walked, unsigned long start,
			 unsigned long end)
{
	unsigned long addr, next;
	pud_t *pudp;
	u64 desc;

	memset(walked, 0, DIRECTMAP_LEVEL_NUM * sizeof(*walked));
	for (addr = start; addr < end; addr = next) {
		pudp = dmap_lm_pud(addr);
		if (!pudp) {
			next = pgd_addr_end(addr, end);
			continue;
		}
		next = pud_addr_end(addr, end);
		desc = pud_val(READ_ONCE(*pudp));
		if (!desc)
			continue;
		if (dmap_is_table(desc))
			dmap_lm_walk_pud(fn, data, walked, pudp, addr, next);
		else
			dmap_lm_leaf_found(fn, data, walked, addr & PUD_MASK,
					   DIRECTMAP_LEVEL_1G, desc);
	}
}

int arch_directmap_level(unsigned long addr, bool *present)
{
	int level;
	u64 *entry;

	get_online_mems();
	mutex_lock(&pgtable_split_lock);
	entry = dmap_lm_leaf(addr, &level);
	*present = entry && (READ_ONCE(*entry) & PTE_VALID);
	mutex_unlock(&pgtable_split_lock);
	put_online_mems();
	return level;
}

unsigned long arch_directmap_pages(int level)
{
	return READ_ONCE(dmap_lm_count[level]);
}

bool arch_directmap_walk(directmap_walk_fn fn, void *data,
			 unsigned long *walked, unsigned long *counted)
{
	get_online_mems();
	mutex_lock(&pgtable_split_lock);
	dmap_lm_walk(fn, data, walked, PAGE_OFFSET, PAGE_END);
	memcpy(counted, dmap_lm_count, sizeof(dmap_lm_count));
	mutex_unlock(&pgtable_split_lock);
	put_online_mems();
	return true;
}

void arch_report_meminfo(struct seq_file *m)
{
	seq_printf(m, "DirectMap4k:    %8lu kB\n",
		   arch_directmap_pages(DIRECTMAP_LEVEL_4K) << (PAGE_SHIFT - 10));
	seq_printf(m, "DirectMap2M:    %8lu kB\n",
		   arch_directmap_pages(DIRECTMAP_LEVEL_2M) << (PMD_SHIFT - 10));
	seq_printf(m, "DirectMap1G:    %8lu kB\n",
		   arch_directmap_pages(DIRECTMAP_LEVEL_1G) << (PUD_SHIFT - 10));
}

/**
 * arm64_directmap_hotplug - count the entries memory hotplug maps or unmaps
 * @start:	linear-map address of the memory
 * @size:	its size
 * @add:	true once it is mapped, false before it is unmapped
 *
 * Keeps the DirectMap lines of /proc/meminfo, and the walk that checks
 * them, equal to the linear map.
 *
 * Context: under the memory hotplug lock, held for writing.
 */
void arm64_directmap_hotplug(unsigned long start, unsigned long size,
			     bool add)
{
	unsigned long walked[DIRECTMAP_LEVEL_NUM];
	int level;

	guard(mutex)(&pgtable_split_lock);
	dmap_batch_flush();
	dmap_lm_walk(NULL, NULL, walked, start, start + size);
	for (level = DIRECTMAP_LEVEL_4K; level < DIRECTMAP_LEVEL_NUM; level++) {
		if (add)
			dmap_lm_count[level] += walked[level];
		else
			dmap_lm_count[level] -= walked[level];
	}
}

/* ---- changing live entries ---- */

/*
 * Write a PUD or PMD entry: with three levels of tables the PUD entries
 * are those of swapper_pg_dir, which is read-only and written through the
 * fixmap.
 */
static void dmap_set_entry(u64 *entry, int level, u64 val)
{
	if (level == DIRECTMAP_LEVEL_1G)
		set_pud((pud_t *)entry, __pud(val));
	else
		set_pmd((pmd_t *)entry, __pmd(val));
}

/*
 * Invalidate every TLB and walk-cache entry that translates @addr, at any
 * level: one broadcast TLBI, which also removes a block entry as a whole
 * (the Arm ARM has a TLBI by any address in a block invalidate all of it).
 * No level hint, as the TLB may still hold a block entry from before an
 * in-place split.  No smaller entry outlives a block: a collapse flushes
 * its whole area.
 */
static void dmap_flush_addr(unsigned long addr)
{
	__flush_tlb_kernel_pgtable(addr);
	atomic_long_inc(&dmap_tlb_flushes);
}

/*
 * Invalidate a 2M area: its leaf entries, or with @walk_caches the walk
 * caches too, whose entry for the area one TLBI by any address in it
 * removes.  With range TLBIs the leaves take one or two instructions,
 * else one invalidation of everything rather than 512.
 */
static void dmap_flush_area(unsigned long addr, bool walk_caches)
{
	atomic_long_inc(&dmap_tlb_flushes);
	if (!system_supports_tlb_range()) {
		flush_tlb_all();
		return;
	}
	flush_tlb_kernel_range(addr, addr + PMD_SIZE);
	if (walk_caches)
		__flush_tlb_kernel_pgtable(addr);
}

/**
 * arm64_directmap_split - count a split of the linear map
 * @addr:	the address of the block that was split
 * @pud:	true for a 1G block, false for a 2M one
 *
 * Keeps the DirectMap lines exact and tells the collapse worker where to
 * look later.  Contiguous entries split do not change the count.
 *
 * Context: pgtable_split_lock held, or the boot CPU alone.
 */
void arm64_directmap_split(unsigned long addr, bool pud)
{
	int level = pud ? DIRECTMAP_LEVEL_1G : DIRECTMAP_LEVEL_2M;

	if (!__is_lm_address(__tag_reset(addr)))
		return;
	/* mainline's own splits too: no walk cache of a replaced table */
	dmap_batch_flush_pending();
	dmap_lm_count[level]--;
	dmap_lm_count[level - 1] += PTRS_PER_PTE;
	directmap_note_split(addr, pud ? 3 : 2);
	if (pud)
		directmap_note_pmd(addr);
	else
		directmap_note_pte(addr);
}

/*
 * Take pgtable_split_lock with the linear map split at @start and @end,
 * in place.  Only with blocks, that is with BBML2_NOABORT on every CPU.
 *
 * Return: 0 with the lock held, or -ENOMEM without it.
 */
static int dmap_lm_lock_split(unsigned long start, unsigned long end)
{
	int err;

	mutex_lock(&pgtable_split_lock);
	dmap_batch_flush();
	err = __split_kernel_leaf_mapping(start, end);
	if (err)
		mutex_unlock(&pgtable_split_lock);
	return err;
}

/* 4K entries, none contiguous at either end: no split needed */
static bool dmap_lm_is_4k(unsigned long start, unsigned long end)
{
	unsigned long addr;
	int level;
	u64 *entry;

	for (addr = start; addr < end; addr = (addr & PMD_MASK) + PMD_SIZE)
		if (dmap_lm_leaf(addr, &level) && level != DIRECTMAP_LEVEL_4K)
			return false;
	entry = dmap_lm_leaf(start, &level);
	if (entry && (READ_ONCE(*entry) & PTE_CONT))
		return false;
	entry = dmap_lm_leaf(end - PAGE_SIZE, &level);
	return !(entry && (READ_ONCE(*entry) & PTE_CONT));
}

/**
 * arm64_directmap_change_begin - prepare a change of 4K linear-map entries
 * @start:	first address
 * @size:	bytes from @start on
 *
 * Where directmap re-forms the linear map's blocks, splits those over the
 * range in place and holds pgtable_split_lock until
 * arm64_directmap_change_end(), so that no block is re-formed over the
 * range before the caller changed it.  Callers with interrupts off
 * (hibernation's copy) may only change entries split already.  No CPU
 * hotplug lock is taken: set_memory_*() runs under it too (kprobes).
 *
 * Context: process context, may sleep, unless interrupts are off.
 * Return: 1 with the range split and the lock held, 0 if directmap does
 * not manage the range (the caller splits it itself), -ENOMEM if a split
 * found no page table, or -EBUSY where a split would be needed with
 * interrupts off.
 */
int arm64_directmap_change_begin(unsigned long start, unsigned long size)
{
	unsigned long end = start + size;
	int err;

	if (!dmap_lm_blocks || !__is_lm_address(__tag_reset(start)) ||
	    is_kfence_address((void *)start))
		return 0;

	if (irqs_disabled()) {
		/* nobody may re-form the range between the check and the change */
		if (in_interrupt() || !mutex_trylock(&pgtable_split_lock))
			return -EBUSY;
		dmap_batch_flush();
		if (WARN_ONCE(!dmap_lm_is_4k(start, end),
			      "directmap: linear map split at %#lx with interrupts off\n",
			      start)) {
			mutex_unlock(&pgtable_split_lock);
			return -EBUSY;
		}
		return 1;
	}

	err = dmap_lm_lock_split(start, end);
	return err ? err : 1;
}

/**
 * arm64_directmap_change_end - end what arm64_directmap_change_begin() began
 * @start:	as passed to it
 * @size:	as passed to it
 *
 * Tells the collapse worker which 2M areas changed.
 *
 * Context: as arm64_directmap_change_begin(), which returned 1.
 */
void arm64_directmap_change_end(unsigned long start, unsigned long size)
{
	unsigned long addr, end = start + size;

	mutex_unlock(&pgtable_split_lock);
	if (irqs_disabled())
		return;
	for (addr = start; addr < end; addr = (addr & PMD_MASK) + PMD_SIZE)
		directmap_note_pte(addr);
}

/* ---- collapsing ---- */

/* The KFENCE pool must stay at 4K, as arm64_kfence_map_pool() made it */
static bool dmap_overlaps_kfence(unsigned long addr, unsigned long size)
{
#ifdef CONFIG_KFENCE
	unsigned long pool = (unsigned long)__kfence_pool;

	return pool && addr < pool + KFENCE_POOL_SIZE && pool < addr + size;
#else
	return false;
#endif
}

/*
 * The table under a collapse says the same thing at every entry, but for
 * the contiguous hints of some, which the block does without.
 */
static bool dmap_table_uniform(const u64 *table, u64 first, u64 stride)
{
	int i;

	first &= ~PTE_CONT;
	for (i = 0; i < PTRS_PER_PTE; i++)
		if ((READ_ONCE(table[i]) & ~PTE_CONT) != first + i * stride)
			return false;
	return true;
}

static void dmap_free_table_rcu(struct rcu_head *head)
{
	free_linear_map_table(container_of(head, struct page, rcu_head));
}

static void dmap_free_table(u64 *table)
{
	call_rcu(&virt_to_page(table)->rcu_head, dmap_free_table_rcu);
}

/*
 * The invalidations of a collapse pass, deferred to its end, and the
 * tables it replaced, freed after them.  Under BBM level 2 the old
 * entries translate as the new blocks do, so they may stay in the TLBs
 * meanwhile, but only until the linear map changes again: every other
 * change under dmap_lm_lock invalidates what is deferred first, since
 * its own flush counts on no smaller entry outliving a block, and on no
 * walk cache pointing at a replaced table.  Only the task that began the
 * batch defers its collapses.  Under dmap_lm_lock.
 */
#define DMAP_BATCH_MAX		64
/* more 2M areas than this: one invalidation of everything */
#define DMAP_BATCH_RANGES	8

static struct {
	struct task_struct	*owner;
	unsigned int		nr;
	bool			all;
	unsigned long		areas[DMAP_BATCH_MAX];
	u64			*tables[DMAP_BATCH_MAX];
} dmap_batch;

static void dmap_batch_flush(void)
{
	unsigned int i;

	lockdep_assert_held(&pgtable_split_lock);
	if (!dmap_batch.nr)
		return;
	if (dmap_batch.all || dmap_batch.nr > DMAP_BATCH_RANGES ||
	    !system_supports_tlb_range()) {
		flush_tlb_all();
		atomic_long_inc(&dmap_tlb_flushes);
	} else {
		for (i = 0; i < dmap_batch.nr; i++)
			dmap_flush_area(dmap_batch.areas[i], true);
	}
	for (i = 0; i < dmap_batch.nr; i++)
		dmap_free_table(dmap_batch.tables[i]);
	dmap_batch.nr = 0;
	dmap_batch.all = false;
}

/* At a split, which may run at boot, before anything was deferred */
static void dmap_batch_flush_pending(void)
{
	if (dmap_batch.nr)
		dmap_batch_flush();
}

/* The calling task owns the batch, unless another task does already */
void arch_directmap_collapse_begin(void)
{
	mutex_lock(&pgtable_split_lock);
	if (!dmap_batch.owner)
		dmap_batch.owner = current;
	mutex_unlock(&pgtable_split_lock);
}

void arch_directmap_collapse_end(void)
{
	mutex_lock(&pgtable_split_lock);
	if (dmap_batch.owner == current) {
		dmap_batch_flush();
		dmap_batch.owner = NULL;
	}
	mutex_unlock(&pgtable_split_lock);
}

/*
 * Replace @table, linked at @entry over the area at @addr, by the one
 * block entry @val, in place (BBM level 2), and free it once no walk may
 * use it any more.  The table's leaf entries translate alike, but they
 * must not outlive the block: invalidating it later takes one TLBI by
 * address, which would leave the smaller entries of other addresses.
 * So the whole area is invalidated, walk caches included, now or at the
 * end of the caller's batch.
 */
static void dmap_collapse_entry(u64 *entry, unsigned long addr, int level,
				u64 val, u64 *table)
{
	dmap_set_entry(entry, level, val);
	if (dmap_batch.nr == DMAP_BATCH_MAX)
		dmap_batch_flush();
	dmap_batch.all |= level != DIRECTMAP_LEVEL_2M;
	dmap_batch.areas[dmap_batch.nr] = addr;
	dmap_batch.tables[dmap_batch.nr++] = table;
	/*
	 * Another task's collapse found the batch empty, or the block is
	 * invalid, a region whose restore takes no lock and must find no
	 * walk cache of the old table: invalidate at once.
	 */
	if (dmap_batch.owner != current || !(val & PTE_VALID))
		dmap_batch_flush();
}

/* A 4K entry as a block entry of the same output, valid or not */
static u64 dmap_pte_to_block(u64 pte)
{
	return (pte & ~(PTE_TYPE_MASK | PTE_CONT)) | (pte & PTE_VALID);
}

/* Replace the 4K table over the 2M area at @addr by one block entry */
static int dmap_collapse_pmd_locked(unsigned long addr, bool not_present)
{
	pmd_t *pmdp = dmap_lm_pmd(addr);
	u64 *table, first, desc;

	if (!pmdp) {
		pud_t *pudp = dmap_lm_pud(addr);

		/* a 1G block maps it, or nothing does */
		return pudp && pud_val(READ_ONCE(*pudp)) ? 0 : -EAGAIN;
	}
	desc = pmd_val(READ_ONCE(*pmdp));
	if (!desc)
		return -EAGAIN;
	if (!dmap_is_table(desc))
		return 0;

	table = (u64 *)pte_offset_kernel(pmdp, addr);
	first = READ_ONCE(table[0]);
	if (!first || !IS_ALIGNED(__pte_to_phys(__pte(first)), PMD_SIZE) ||
	    !dmap_table_uniform(table, first, PAGE_SIZE))
		return -EAGAIN;
	/* invalid entries become one invalid block only over a region */
	if (!(first & PTE_VALID) && !not_present)
		return -EAGAIN;

	dmap_collapse_entry((u64 *)pmdp, addr, DIRECTMAP_LEVEL_2M,
			    dmap_pte_to_block(first), table);
	dmap_lm_count[DIRECTMAP_LEVEL_4K] -= PTRS_PER_PTE;
	dmap_lm_count[DIRECTMAP_LEVEL_2M]++;
	count_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	directmap_note_pmd(addr);
	return 1;
}

int arch_directmap_collapse_pmd(unsigned long pfn, bool not_present)
{
	unsigned long addr = (unsigned long)pfn_to_kaddr(pfn) & PMD_MASK;
	int ret;

	if (!dmap_lm_blocks || dmap_overlaps_kfence(addr, PMD_SIZE))
		return -EOPNOTSUPP;
	/*
	 * The caller excludes memory hot-remove, or holds the area as a
	 * region (directmap_arch.h); ptdump walks under init_mm's lock.
	 */
	mmap_write_lock(&init_mm);
	mutex_lock(&pgtable_split_lock);
	if (dmap_batch.owner != current)
		dmap_batch_flush();
	mutex_lock(&dmap_restore_lock);
	ret = dmap_collapse_pmd_locked(addr, not_present);
	mutex_unlock(&dmap_restore_lock);
	mutex_unlock(&pgtable_split_lock);
	mmap_write_unlock(&init_mm);
	return ret;
}

int arch_directmap_collapse_pud(unsigned long pfn)
{
	unsigned long addr = (unsigned long)pfn_to_kaddr(pfn) & PUD_MASK;
	u64 *table, first, desc;
	pud_t *pudp;
	int ret;

	if (!dmap_lm_blocks || !pud_sect_supported() ||
	    dmap_overlaps_kfence(addr, PUD_SIZE))
		return -EOPNOTSUPP;

	/* memory hotplug excluded by the caller */
	mmap_write_lock(&init_mm);
	mutex_lock(&pgtable_split_lock);
	if (dmap_batch.owner != current)
		dmap_batch_flush();
	mutex_lock(&dmap_restore_lock);
	pudp = dmap_lm_pud(addr);
	desc = pudp ? pud_val(READ_ONCE(*pudp)) : 0;
	ret = -EAGAIN;
	/* hot-remove tears a 1G block down only with all its memory */
	if (!desc || !directmap_pud_one_resource(pfn))
		goto out;
	ret = 0;
	if (!dmap_is_table(desc))
		goto out;

	table = (u64 *)pmd_offset(pudp, addr);
	first = READ_ONCE(table[0]);
	ret = -EAGAIN;
	if (!(first & PTE_VALID) || dmap_is_table(first) ||
	    !IS_ALIGNED(__pte_to_phys(__pte(first)), PUD_SIZE) ||
	    !dmap_table_uniform(table, first, PMD_SIZE))
		goto out;

	dmap_collapse_entry((u64 *)pudp, addr, DIRECTMAP_LEVEL_1G,
			    first & ~PTE_CONT,
			    table);
	dmap_lm_count[DIRECTMAP_LEVEL_2M] -= PTRS_PER_PMD;
	dmap_lm_count[DIRECTMAP_LEVEL_1G]++;
	count_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE);
	ret = 1;
out:
	mutex_unlock(&dmap_restore_lock);
	mutex_unlock(&pgtable_split_lock);
	mmap_write_unlock(&init_mm);
	return ret;
}

/* ---- directmap's regions ---- */

/* Make a leaf entry present-invalid, or valid again */
static u64 dmap_invalid(u64 desc)
{
	return (desc & ~PTE_VALID) | PTE_PRESENT_INVALID;
}

/* as the kernel maps it: PTE_PRESENT_INVALID is nG while valid */
static u64 dmap_valid(u64 desc)
{
	return (desc & ~PTE_PRESENT_INVALID) | PTE_VALID | PTE_MAYBE_NG;
}

/*
 * A 2M block entry becomes invalid in place, with one TLBI.  Under a 1G
 * block the block is split first, in place.  A region mapped at 4K (a linear map without blocks,
 * or an area split before) has each of its entries made invalid, with one
 * flush of the range, and then, where the linear map has blocks, becomes
 * one invalid block entry.
 */
int arch_directmap_unmap_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);
	int level, err, i;
	u64 *entry;

	if (WARN_ON_ONCE(!IS_ALIGNED(addr, PMD_SIZE)))
		return -EINVAL;

	if (dmap_lm_blocks) {
		err = dmap_lm_lock_split(addr, addr + PMD_SIZE);
		if (err)
			return err;
	} else {
		mutex_lock(&pgtable_split_lock);
		dmap_batch_flush();
	}
	err = -EFAULT;
	entry = dmap_lm_leaf(addr, &level);
	if (!entry)
		goto out;
	if (level == DIRECTMAP_LEVEL_2M) {
		if (WARN_ON_ONCE(!(READ_ONCE(*entry) & PTE_VALID)))
			goto out;
		/* valid to invalid: no break needed */
		set_pmd((pmd_t *)entry, __pmd(dmap_invalid(READ_ONCE(*entry))));
		dmap_flush_addr(addr);
	} else {
		for (i = 0; i < PTRS_PER_PTE; i++)
			WRITE_ONCE(entry[i], dmap_invalid(READ_ONCE(entry[i])));
		dmap_flush_area(addr, false);
	}
	err = 0;
out:
	mutex_unlock(&pgtable_split_lock);
	/*
	 * All invalid, and ours: one invalid block, its table freed.  Not
	 * where the linear map is kept at 4K: a restore would make the block
	 * valid.
	 */
	if (!err && level == DIRECTMAP_LEVEL_4K && dmap_lm_blocks)
		directmap_region_absent(page_to_pfn(page));
	return err;
}

/*
 * Makes entries that exist valid: nothing to allocate, no break, and a
 * region mapped at 4K stays at 4K.  Not under pgtable_split_lock: the
 * shrinker gets here from reclaim, which splits enter with that lock
 * held.  dmap_restore_lock keeps collapses from freeing the region's
 * table meanwhile; memory hot-remove needs its entries empty; and the
 * collapse that made the region one invalid block invalidated the walk
 * caches at once.
 */
void arch_directmap_restore_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);
	int level, i;
	u64 *entry;

	guard(mutex)(&dmap_restore_lock);
	entry = dmap_lm_leaf(addr, &level);
	if (WARN_ON_ONCE(!entry || level == DIRECTMAP_LEVEL_1G))
		return;
	if (level == DIRECTMAP_LEVEL_2M) {
		set_pmd((pmd_t *)entry, __pmd(dmap_valid(READ_ONCE(*entry))));
	} else {
		for (i = 0; i < PTRS_PER_PTE; i++)
			WRITE_ONCE(entry[i], dmap_valid(READ_ONCE(entry[i])));
		dsb(ishst);
		isb();
	}
}

/* The region's invalid block becomes a table of invalid 4K entries first */
int arch_directmap_map_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);
	unsigned long i;
	int level, err = 0;
	u64 *entry;

	if (WARN_ON_ONCE((addr & PMD_MASK) !=
			 ((addr + nr_pages * PAGE_SIZE - 1) & PMD_MASK)))
		return -EINVAL;

	if (dmap_lm_blocks) {
		err = dmap_lm_lock_split(addr, addr + nr_pages * PAGE_SIZE);
		if (err)
			return err;
		/* the whole region: its block has no boundary to split at */
		if (nr_pages == PTRS_PER_PTE)
			err = __split_kernel_leaf_mapping(addr, addr + PAGE_SIZE);
		if (err) {
			mutex_unlock(&pgtable_split_lock);
			return err;
		}
	} else {
		mutex_lock(&pgtable_split_lock);
		dmap_batch_flush();
	}
	entry = dmap_lm_leaf(addr, &level);
	if (!WARN_ON_ONCE(level != DIRECTMAP_LEVEL_4K)) {
		for (i = 0; i < nr_pages; i++)
			WRITE_ONCE(entry[i], dmap_valid(READ_ONCE(entry[i])));
		dsb(ishst);
		isb();
	} else {
		err = -EFAULT;
	}
	mutex_unlock(&pgtable_split_lock);
	return err;
}

void arch_directmap_unmap_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);
	unsigned long i;
	int level;
	u64 *entry;

	guard(mutex)(&pgtable_split_lock);
	dmap_batch_flush();
	/*
	 * No contiguous group may stay half valid: split those at the ends,
	 * which needs no table, the 4K entries being there.
	 */
	if (dmap_lm_blocks)
		WARN_ON_ONCE(__split_kernel_leaf_mapping(addr, addr +
							 nr_pages * PAGE_SIZE));
	entry = dmap_lm_leaf(addr, &level);
	if (WARN_ON_ONCE(level != DIRECTMAP_LEVEL_4K))
		return;
	for (i = 0; i < nr_pages; i++)
		WRITE_ONCE(entry[i], dmap_invalid(READ_ONCE(entry[i])));
	flush_tlb_kernel_range(addr, addr + nr_pages * PAGE_SIZE);
	atomic_long_inc(&dmap_tlb_flushes);
}

/* At this CPU's kernel address, with a broadcast flush */
void arch_directmap_clear_page_kernel(struct page *page)
{
	unsigned long flags, addr;
	pte_t *ptep;

	local_irq_save(flags);
	ptep = this_cpu_read(dmap_clear_pte);
	addr = this_cpu_read(dmap_clear_addr);
	__set_pte(ptep, mk_pte(page, PAGE_KERNEL));
	clear_page((void *)addr);
	__set_pte(ptep, __pte(0));
	flush_tlb_kernel_range(addr, addr + PAGE_SIZE);
	local_irq_restore(flags);
	atomic_long_inc(&dmap_tlb_flushes);
}

/* The wipe mm's TTBR0 and its pinned ASID, which no rollover changes */
static u64 dmap_wipe_ttbr0 __ro_after_init;
static u16 dmap_wipe_asid __ro_after_init;

/* post_ttbr_update_workaround(), inline: that one may be traced */
static __always_inline void dmap_post_ttbr_update(void)
{
	if (IS_ENABLED(CONFIG_CAVIUM_ERRATUM_27456))
		asm(ALTERNATIVE("nop; nop; nop", "ic iallu; dsb nsh; isb",
				ARM64_WORKAROUND_CAVIUM_27456));
}

/*
 * Interrupts are masked from here to the end, pseudo-NMIs included, and
 * nothing from here to the end is traced or probed: a user-memory read
 * there (perf's user call chains, a BPF program's probe_read_user())
 * would read the wipe mm instead of the task's.  So the TTBRs are
 * written here, as cpu_do_switch_mm() would, without the context
 * switching code (the ASID is pinned), and written back at the end: the
 * CPU's context is as it was.  No CnP: only this CPU's TLB is cleaned,
 * so its entries of the mm must stay its own, not its SMT siblings'.
 */
notrace int arch_directmap_wipe_begin(struct mm_struct *mm,
				      struct arch_directmap_wipe *w)
{
	u64 ttbr1;

	if (in_interrupt() || system_uses_ttbr0_pan() || !dmap_wipe_asid)
		return -EBUSY;

	w->flags = local_daif_save();
	w->ttbr0 = read_sysreg(ttbr0_el1);
	w->ttbr1 = read_sysreg(ttbr1_el1);
	/* as check_and_switch_context() does before an ASID change, for CnP */
	if (system_supports_cnp())
		cpu_set_reserved_ttbr0();
	/* TCR_EL1.A1: TTBR1 holds the ASID */
	ttbr1 = (w->ttbr1 & ~TTBRx_EL1_ASID_MASK) |
		FIELD_PREP(TTBRx_EL1_ASID_MASK, dmap_wipe_asid);
	cpu_set_reserved_ttbr0_nosync();
	write_sysreg(ttbr1, ttbr1_el1);
	write_sysreg(dmap_wipe_ttbr0, ttbr0_el1);
	isb();
	dmap_post_ttbr_update();
	return raw_smp_processor_id();
}

NOKPROBE_SYMBOL(arch_directmap_wipe_begin);

notrace void arch_directmap_wipe_end(struct mm_struct *mm, unsigned long addr,
				     unsigned int nr,
				     struct arch_directmap_wipe *w)
{
	cpu_set_reserved_ttbr0_nosync();
	write_sysreg(w->ttbr1, ttbr1_el1);
	isb();
	/*
	 * All of the ASID, on this CPU: a walk here may have cached other
	 * CPUs' slots too.  The entries were cleared without a barrier.
	 */
	dsb(nshst);
	__tlbi(aside1, (u64)dmap_wipe_asid << 48);
	dsb(nsh);
	write_sysreg(w->ttbr0, ttbr0_el1);
	isb();
	dmap_post_ttbr_update();
	local_daif_restore(w->flags);
}

NOKPROBE_SYMBOL(arch_directmap_wipe_end);

/*
 * Privileged nofault reads (bpf_probe_read_kernel()) of a wipe slot: the
 * wipe mm is loaded only with everything masked, but not for SDEI events,
 * whose handlers may be probed.  Nothing else lives at those addresses.
 */
bool copy_from_kernel_nofault_allowed(const void *unsafe_src, size_t size)
{
	return !directmap_wipe_overlaps((unsigned long)unsafe_src, size);
}

/* Is the wipe mm usable: its tables set up and its ASID pinned? */
bool arm64_directmap_wipe_mm(void)
{
	return dmap_wipe_asid;
}

/* Those of this file: a flush is a broadcast instruction, not an IPI */
unsigned long nr_kernel_tlb_flushes(void)
{
	return atomic_long_read(&dmap_tlb_flushes);
}

/* ---- setting up ---- */

static int dmap_pte_collect(pte_t *pte, unsigned long addr, void *data)
{
	unsigned long start = (unsigned long)data;
	unsigned int cpu = (addr - start) >> PAGE_SHIFT;

	if (cpu_possible(cpu)) {
		per_cpu(dmap_clear_pte, cpu) = pte;
		per_cpu(dmap_clear_addr, cpu) = addr;
	}
	return 0;
}

/* Why the linear map has no blocks: the first reason that holds */
static const char *__init dmap_lm_4k_why(void)
{
	if (!cpu_supports_bbml2_noabort())
		return "CPUs without BBML2_NOABORT";
	if (debug_pagealloc_enabled())
		return "debug_pagealloc";
	if (!directmap_requested())
		return "directmap=off";
	if (!system_supports_bbml2_noabort())
		return "CPUs without BBML2_NOABORT";
	return "a late KFENCE pool";
}

/*
 * The linear map is counted once the CPUs are up (a CPU without
 * BBML2_NOABORT has the linear map split to 4K), the wipe addresses set up
 */
static int __init dmap_lm_init(void)
{
	unsigned long size = (unsigned long)nr_cpu_ids << PAGE_SHIFT;
	struct vm_struct *area;
	unsigned long start;
	int err;

	mutex_lock(&pgtable_split_lock);
	dmap_lm_walk(NULL, NULL, dmap_lm_count, PAGE_OFFSET, PAGE_END);
	dmap_lm_blocks = directmap_requested() && linear_map_requires_bbml2 &&
			 system_supports_bbml2_noabort();
	mutex_unlock(&pgtable_split_lock);

	area = get_vm_area(size, VM_MAP);
	if (!area)
		return -ENOMEM;
	start = (unsigned long)area->addr;
	/* allocates the page tables now: a wipe never needs them */
	err = apply_to_page_range(&init_mm, start, size, dmap_pte_collect,
				  (void *)start);
	if (err) {
		free_vm_area(area);
		return err;
	}
	if (dmap_lm_blocks)
		pr_info("linear map keeps its blocks; BBML2_NOABORT changes their size in place\n");
	else if (can_set_direct_map() &&
		 (!linear_map_requires_bbml2 || !system_supports_bbml2_noabort()))
		pr_info("linear map at 4K for %s\n", dmap_lm_4k_why());
	return 0;
}
arch_initcall(dmap_lm_init);

int __init arch_directmap_init(void)
{
	struct mm_struct *mm;

	if (!can_set_direct_map()) {
		pr_info("rodata=full is off: the linear map cannot change\n");
		return -EOPNOTSUPP;
	}
	if (!per_cpu(dmap_clear_pte, 0))
		return -ENOMEM;
	/*
	 * The wipe mm, with a slot per CPU, as a 64-bit task's mmap base:
	 * nothing else maps there.  Without it, wipes keep the kernel
	 * address and its broadcast; the mm and the tables it got stay.
	 */
	mm = mm_alloc();
	/* pinned first: without an ASID the mm would be of no use */
	if (!mm || !arm64_mm_context_get(mm) ||
	    directmap_wipe_init(mm, DEFAULT_MAP_WINDOW_64 / 4, nr_cpu_ids)) {
		pr_info("no wipe mm: pages are wiped at a kernel address\n");
		return 0;
	}
	/*
	 * The kernel's ASID of the pair, as cpu_do_switch_mm() puts in
	 * TTBR1 (SDEI's entry tells the two apart by its low bit).  It may
	 * have served an mm before a rollover: forget what any CPU cached.
	 */
	dmap_wipe_asid = ASID(mm);
	flush_tlb_all();
	dmap_wipe_ttbr0 = phys_to_ttbr(virt_to_phys(mm->pgd));
	return 0;
}
