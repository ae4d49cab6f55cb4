// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 mechanics for directmap: keep the block entries of the linear map
 * under rodata=full, split them only where a caller needs 4K entries,
 * re-form them once the entries under them agree again, and take
 * directmap's 2M regions out and back as single block entries.
 *
 * The Arm ARM lets an entry go from valid to invalid, or from invalid to
 * valid, at any time.  Changing the size of a live mapping (a valid block
 * into a table, or back) needs break-before-make: clear the entry, flush
 * the TLBs, write the new entry.  Unless every CPU has FEAT_BBM level 2
 * without TLB conflict aborts, nothing may touch the range in between, so
 * the change runs under stop_machine(): the other CPUs wait in
 * dmap_bbm_stop() reading kernel-image data only, and the changing CPU
 * writes the entry through a private alias of its table page, which may
 * itself lie in the range.
 *
 * Taking a region out clears the valid bit of its 2M block entry, and
 * putting it back sets it again, which cannot fail.  Only a region under
 * a 1G block needs a split, prepared before anything changes.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/cleanup.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/directmap.h>
#include <linux/kfence.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/stop_machine.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <asm/cpu.h>
#include <asm/cputype.h>
#include <asm/directmap.h>
#include <asm/kfence.h>
#include <asm/set_memory.h>
#include <asm/tlbflush.h>

/* Blocks kept in the linear map; decided once, by map_mem() */
static bool dmap_lm_blocks __ro_after_init;
/* Every CPU may change the size of a live entry in place */
static bool dmap_bbml2 __read_mostly;

/*
 * Serialises every change to the shape of the linear map (splits,
 * collapses, regions taken out) with the 4K changes of set_memory_*() and
 * set_direct_map_*(), so that no table is freed under them.  Whoever may
 * change a live entry takes the CPU hotplug lock first, for
 * stop_machine_cpuslocked(), and the memory hotplug lock after it where
 * it may free a table, as memory hot-remove frees them too.
 */
static DEFINE_MUTEX(dmap_lm_lock);
/* Leaf entries of the linear map per level, present or not */
static unsigned long dmap_lm_count[DIRECTMAP_LEVEL_NUM];

/* The alias a break-before-make writes its entry through */
static pte_t *dmap_bbm_ptep;
static unsigned long dmap_bbm_addr;
static atomic_t dmap_bbm_arrived;
static int dmap_bbm_done;

/* TLB flushes directmap issued for the linear map and its wipe addresses */
static atomic_long_t dmap_tlb_flushes;

/* Per-CPU address that wipes pages with no linear map */
static DEFINE_PER_CPU(pte_t *, dmap_clear_pte);
static DEFINE_PER_CPU(unsigned long, dmap_clear_addr);

/**
 * arm64_directmap_keep_blocks - may map_mem() map the linear map with blocks?
 *
 * With rodata=full any page of the linear map may need a 4K entry of its
 * own, which 6.12 gets by mapping all of it at 4K.  directmap splits blocks
 * where needed instead, but not under debug_pagealloc, which changes
 * entries from atomic context, nor for a KFENCE pool set up late, whose
 * pages must be at 4K wherever they land.
 *
 * Return: true if the linear map keeps its blocks.
 */
bool __init arm64_directmap_keep_blocks(void)
{
	const char *why = NULL;

	if (!directmap_requested())
		why = "directmap=off";
	else if (debug_pagealloc_enabled())
		why = "debug_pagealloc";
	else if (arm64_kfence_can_set_direct_map())
		why = "a late KFENCE pool";
	if (why) {
		pr_info("linear map at 4K for %s\n", why);
		return false;
	}
	dmap_lm_blocks = true;
	return true;
}

/**
 * arm64_directmap_blocks - does the linear map have block entries?
 *
 * Return: true if arm64_directmap_keep_blocks() said so at boot.
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
			     unsigned long *walked, unsigned long addr,
			     pud_t *pudp)
{
	u64 *pmd = (u64 *)pmd_offset(pudp, addr);
	u64 *pte, desc;
	int i, j;

	for (i = 0; i < PTRS_PER_PMD; i++, addr += PMD_SIZE) {
		desc = READ_ONCE(pmd[i]);
		if (!desc)
			continue;
		if (!dmap_is_table(desc)) {
			dmap_lm_leaf_found(fn, data, walked, addr,
					   DIRECTMAP_LEVEL_2M, desc);
			continue;
		}
		pte = (u64 *)pte_offset_kernel((pmd_t *)&pmd[i], addr);
		for (j = 0; j < PTRS_PER_PTE; j++) {
			desc = READ_ONCE(pte[j]);
			if (desc)
				dmap_lm_leaf_found(fn, data, walked,
						   addr + j * PAGE_SIZE,
						   DIRECTMAP_LEVEL_4K, desc);
		}
	}
}

/* Visit every leaf of the linear map, under dmap_lm_lock */
static void dmap_lm_walk(directmap_walk_fn fn, void *data,
			 unsigned long *walked)
{
	unsigned long addr, next;
	pud_t *pudp;
	u64 desc;

	memset(walked, 0, DIRECTMAP_LEVEL_NUM * sizeof(*walked));
	for (addr = PAGE_OFFSET; addr < PAGE_END; addr = next) {
		next = pgd_addr_end(addr, PAGE_END);
		pudp = dmap_lm_pud(addr);
		if (!pudp)
			continue;
		for (; addr < next; addr += PUD_SIZE, pudp++) {
			desc = pud_val(READ_ONCE(*pudp));
			if (!desc)
				continue;
			if (dmap_is_table(desc))
				dmap_lm_walk_pud(fn, data, walked, addr, pudp);
			else
				dmap_lm_leaf_found(fn, data, walked, addr,
						   DIRECTMAP_LEVEL_1G, desc);
		}
	}
}

/**
 * arch_directmap_level - the level of the linear-map entry over an address
 * @addr:	a linear-map address
 * @present:	set to whether that entry is valid
 *
 * Context: process context, may sleep.
 * Return: a DIRECTMAP_LEVEL_*, DIRECTMAP_LEVEL_NONE if nothing maps @addr.
 */
int arch_directmap_level(unsigned long addr, bool *present)
{
	int level;
	u64 *entry;

	guard(mutex)(&dmap_lm_lock);
	entry = dmap_lm_leaf(addr, &level);
	*present = entry && (READ_ONCE(*entry) & PTE_VALID);
	return level;
}

/**
 * arch_directmap_pages - what a DirectMap line of /proc/meminfo counts
 * @level:	DIRECTMAP_LEVEL_4K, _2M or _1G
 *
 * Return: the number of entries of the linear map at @level.
 */
unsigned long arch_directmap_pages(int level)
{
	return READ_ONCE(dmap_lm_count[level]);
}

/**
 * arch_directmap_walk - visit every leaf entry of the linear map
 * @fn:		called for each leaf with its address, level and valid bit,
 *		or NULL to only count; must not sleep
 * @data:	passed to @fn
 * @walked:	entries found per level (DIRECTMAP_LEVEL_NUM of them)
 * @counted:	what the DirectMap counters say, per level, at the same time
 *
 * Context: process context, may sleep.
 * Return: true: the walk and @counted are one snapshot.
 */
bool arch_directmap_walk(directmap_walk_fn fn, void *data,
			 unsigned long *walked, unsigned long *counted)
{
	guard(mutex)(&dmap_lm_lock);
	dmap_lm_walk(fn, data, walked);
	memcpy(counted, dmap_lm_count, sizeof(dmap_lm_count));
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

/* ---- changing live entries ---- */

static void dmap_lm_begin(void)
{
	cpus_read_lock();
	mutex_lock(&dmap_lm_lock);
}

static void dmap_lm_end(void)
{
	mutex_unlock(&dmap_lm_lock);
	cpus_read_unlock();
}

struct dmap_bbm {
	u64	*entry;		/* the entry, through the alias */
	u64	val;		/* what it becomes */
	u64	*below;		/* the table it replaces or splits from */
	u64	first;		/* its first entry, as checked before */
	u64	stride;		/* output step from entry to entry of it */
	int	ret;
};

/* The table under a collapse still says what was checked before the stop */
static bool dmap_table_uniform(const u64 *table, u64 first, u64 stride)
{
	int i;

	for (i = 0; i < PTRS_PER_PTE; i++)
		if (READ_ONCE(table[i]) != first + i * stride)
			return false;
	return true;
}

/*
 * Break, flush, make.  Nothing the linear map maps is touched between the
 * break and the make: @entry is the alias, and the rest is the stack
 * (vmalloc) and code.
 */
static noinline notrace __no_sanitize_address void
dmap_bbm_write(u64 *entry, u64 val)
{
	WRITE_ONCE(*entry, 0);
	flush_tlb_all();
	WRITE_ONCE(*entry, val);
	dsb(ishst);
	isb();
}

/* Runs on every online CPU with interrupts off */
static int dmap_bbm_stop(void *arg)
{
	struct dmap_bbm *bbm = arg;

	if (atomic_inc_return(&dmap_bbm_arrived) != 1) {
		/* kernel-image data only until the make is done */
		while (!smp_load_acquire(&dmap_bbm_done))
			cpu_relax();
		return 0;
	}
	while (atomic_read(&dmap_bbm_arrived) < num_online_cpus())
		cpu_relax();
	if (bbm->below && !dmap_table_uniform(bbm->below, bbm->first, bbm->stride))
		bbm->ret = -EAGAIN;
	else
		dmap_bbm_write(bbm->entry, bbm->val);
	/* the make is visible before anyone leaves the wait */
	smp_store_release(&dmap_bbm_done, 1);
	return 0;
}

/*
 * Replace the live entry at @entry by @val, a table by a block of the same
 * output and attributes or the other way round.  For a collapse, @below is
 * the table being replaced, checked again with every CPU held.
 */
static int dmap_replace_live(u64 *entry, u64 val, u64 *below, u64 first,
			     u64 stride)
{
	struct dmap_bbm bbm = {
		.val = val, .below = below, .first = first, .stride = stride,
	};
	int err;

	lockdep_assert_held(&dmap_lm_lock);
	lockdep_assert_cpus_held();
	if (WARN_ONCE(!dmap_bbm_ptep, "directmap: linear-map split before early initcalls\n"))
		return -EBUSY;
	/* the hotplug lock held: no CPU comes online unchecked meanwhile */
	if (READ_ONCE(dmap_bbml2)) {
		if (below && !dmap_table_uniform(below, first, stride))
			return -EAGAIN;
		WRITE_ONCE(*entry, val);
		flush_tlb_all();
		atomic_long_inc(&dmap_tlb_flushes);
		return 0;
	}

	__set_pte(dmap_bbm_ptep, pfn_pte(virt_to_pfn(entry), PAGE_KERNEL));
	bbm.entry = (u64 *)(dmap_bbm_addr + offset_in_page(entry));
	atomic_set(&dmap_bbm_arrived, 0);
	WRITE_ONCE(dmap_bbm_done, 0);
	err = stop_machine_cpuslocked(dmap_bbm_stop, &bbm, cpu_online_mask);
	__set_pte(dmap_bbm_ptep, __pte(0));
	flush_tlb_kernel_range(dmap_bbm_addr, dmap_bbm_addr + PAGE_SIZE);
	atomic_long_add(bbm.ret ? 1 : 2, &dmap_tlb_flushes);
	return err ?: bbm.ret;
}

static u64 dmap_table_desc(struct page *table)
{
	/* as map_mem() links its tables: never executable */
	return __phys_to_pte_val(page_to_phys(table)) | PMD_TYPE_TABLE |
	       PMD_TABLE_UXN | PMD_TABLE_PXN;
}

static void dmap_free_table(u64 *table)
{
	struct page *page = virt_to_page(table);

	/* the boot-time tables came from memblock */
	if (PageReserved(page))
		free_reserved_page(page);
	else
		__free_page(page);
}

/*
 * Split the block entry at @entry, over the area at @addr of @level, into
 * a table of the entries of the level below, absent if it was absent.
 */
static int dmap_split(u64 *entry, unsigned long addr, int level)
{
	u64 blk = READ_ONCE(*entry), *table;
	bool pud = level == DIRECTMAP_LEVEL_1G;
	struct page *pt;
	int i, err;

	if (pud && !(blk & PTE_VALID))
		return -EFAULT;
	/*
	 * Under dmap_lm_lock, which directmap's shrinker takes to restore a
	 * region: no direct reclaim here, or reclaim could wait on us.
	 */
	pt = directmap_alloc_pgtable(GFP_NOWAIT);
	if (!pt)
		return -ENOMEM;
	table = page_address(pt);
	for (i = 0; i < PTRS_PER_PTE; i++)
		table[i] = pud ? blk + i * PMD_SIZE :
				 (blk | PTE_TABLE_BIT) + i * PAGE_SIZE;
	/* the table's contents before the entry that links it */
	dsb(ishst);

	if (blk & PTE_VALID) {
		err = dmap_replace_live(entry, dmap_table_desc(pt), NULL, 0, 0);
		if (err) {
			__free_page(pt);
			return err;
		}
	} else {
		/* invalid to valid: no break needed */
		set_pmd((pmd_t *)entry, __pmd(dmap_table_desc(pt)));
	}

	dmap_lm_count[level]--;
	dmap_lm_count[level - 1] += PTRS_PER_PTE;
	count_vm_event(pud ? DIRECT_MAP_LEVEL3_SPLIT : DIRECT_MAP_LEVEL2_SPLIT);
	directmap_note_split(addr, pud ? 3 : 2);
	if (pud)
		directmap_note_pmd(addr);
	else
		directmap_note_pte(addr);
	return 0;
}

/* Split the blocks over @addr until an entry of @level or below maps it */
static int dmap_lm_split(unsigned long addr, int level)
{
	int found, err;
	u64 *entry;

	for (;;) {
		entry = dmap_lm_leaf(addr, &found);
		if (!entry)
			return -EFAULT;
		if (found <= level)
			return 0;
		err = dmap_split(entry, found == DIRECTMAP_LEVEL_1G ?
				 addr & PUD_MASK : addr & PMD_MASK, found);
		if (err)
			return err;
	}
}

static bool dmap_lm_is_4k(unsigned long start, unsigned long end)
{
	unsigned long addr;
	int level;

	for (addr = start; addr < end; addr = (addr & PMD_MASK) + PMD_SIZE)
		if (dmap_lm_leaf(addr, &level) && level != DIRECTMAP_LEVEL_4K)
			return false;
	return true;
}

/**
 * arm64_directmap_change - apply @fn to 4K entries of the linear map
 * @start:	first linear-map address
 * @size:	bytes from @start on
 * @fn:		called for each 4K entry, as apply_to_page_range() does
 * @data:	passed to @fn
 *
 * Splits the blocks over the range first, under break-before-make where
 * they are live, and tells the collapse worker about every 2M area that
 * changed.  Callers with interrupts off (hibernation's copy) and the
 * KFENCE pool, which is at 4K for good, may only change 4K entries.
 *
 * Context: process context, may sleep, unless interrupts are off.
 * Return: 0, -ENOMEM if a split found no page table, -EBUSY for a split
 * with interrupts off, or what apply_to_page_range() returns.
 */
int arm64_directmap_change(unsigned long start, unsigned long size,
			   pte_fn_t fn, void *data)
{
	unsigned long addr, end = start + size;
	int err = 0;

	if (!dmap_lm_blocks || is_kfence_address((void *)start))
		return apply_to_page_range(&init_mm, start, size, fn, data);

	if (irqs_disabled()) {
		if (WARN_ONCE(!dmap_lm_is_4k(start, end),
			      "directmap: linear map split at %#lx with interrupts off\n",
			      start))
			return -EBUSY;
		return apply_to_page_range(&init_mm, start, size, fn, data);
	}

	dmap_lm_begin();
	for (addr = start; addr < end && !err; addr = (addr & PMD_MASK) + PMD_SIZE)
		err = dmap_lm_split(addr, DIRECTMAP_LEVEL_4K);
	if (!err)
		err = apply_to_page_range(&init_mm, start, size, fn, data);
	dmap_lm_end();

	for (addr = start; addr < end; addr = (addr & PMD_MASK) + PMD_SIZE)
		directmap_note_pte(addr);
	return err;
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

/* Replace the 4K table over the 2M area at @addr by one block entry */
static int dmap_collapse_pmd_locked(unsigned long addr, bool not_present)
{
	pmd_t *pmdp = dmap_lm_pmd(addr);
	u64 *table, first, desc;
	int err;

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

	if (first & PTE_VALID) {
		err = dmap_replace_live((u64 *)pmdp, first & ~PTE_TABLE_BIT,
					table, first, PAGE_SIZE);
		if (err)
			return err;
	} else if (not_present) {
		/* a valid table entry into an invalid one: a break, no make */
		set_pmd(pmdp, __pmd(first & ~PTE_TABLE_BIT));
		flush_tlb_all();
		atomic_long_inc(&dmap_tlb_flushes);
	} else {
		return -EAGAIN;
	}

	dmap_free_table(table);
	dmap_lm_count[DIRECTMAP_LEVEL_4K] -= PTRS_PER_PTE;
	dmap_lm_count[DIRECTMAP_LEVEL_2M]++;
	count_vm_event(DIRECT_MAP_LEVEL2_COLLAPSE);
	directmap_note_pmd(addr);
	return 1;
}

/**
 * arch_directmap_collapse_pmd - re-form the 2M block entry over a frame
 * @pfn:	a frame in the linear map
 * @not_present: directmap owns the whole 2M area, so 4K entries that are
 *		all invalid may become one invalid block entry too
 *
 * Context: process context, may sleep.
 * Return: 1 if re-formed now, 0 if a block mapped it already, -EAGAIN if
 * the entries under it differ, -EOPNOTSUPP where the linear map has no
 * blocks or the area holds the KFENCE pool.
 */
int arch_directmap_collapse_pmd(unsigned long pfn, bool not_present)
{
	unsigned long addr = (unsigned long)pfn_to_kaddr(pfn) & PMD_MASK;
	int ret;

	if (!dmap_lm_blocks || dmap_overlaps_kfence(addr, PMD_SIZE))
		return -EOPNOTSUPP;
	cpus_read_lock();
	get_online_mems();
	mutex_lock(&dmap_lm_lock);
	ret = dmap_collapse_pmd_locked(addr, not_present);
	mutex_unlock(&dmap_lm_lock);
	put_online_mems();
	cpus_read_unlock();
	return ret;
}

/**
 * arch_directmap_collapse_pud - re-form the 1G block entry over a frame
 * @pfn:	a frame in the linear map
 *
 * Context: process context, may sleep.
 * Return: 1 if re-formed now, 0 if a 1G block mapped it already, -EAGAIN
 * if the 2M entries under it are not all valid blocks that agree or more
 * than one System RAM resource lies under it, -EOPNOTSUPP where the
 * linear map has no blocks or 1G ones.
 */
int arch_directmap_collapse_pud(unsigned long pfn)
{
	unsigned long addr = (unsigned long)pfn_to_kaddr(pfn) & PUD_MASK;
	u64 *table, first, desc;
	pud_t *pudp;
	int ret;

	if (!dmap_lm_blocks || !pud_sect_supported() ||
	    dmap_overlaps_kfence(addr, PUD_SIZE))
		return -EOPNOTSUPP;

	cpus_read_lock();
	get_online_mems();
	mutex_lock(&dmap_lm_lock);
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
	ret = dmap_replace_live((u64 *)pudp, first, table, first, PMD_SIZE);
	if (ret)
		goto out;

	dmap_free_table(table);
	dmap_lm_count[DIRECTMAP_LEVEL_2M] -= PTRS_PER_PMD;
	dmap_lm_count[DIRECTMAP_LEVEL_1G]++;
	count_vm_event(DIRECT_MAP_LEVEL3_COLLAPSE);
	ret = 1;
out:
	mutex_unlock(&dmap_lm_lock);
	put_online_mems();
	cpus_read_unlock();
	return ret;
}

/* ---- directmap's regions ---- */

/**
 * arch_directmap_unmap_region - take a 2M region out of the linear map
 * @page:	first page of a PMD-aligned, PMD-sized block
 *
 * A 2M block entry becomes invalid in place.  Under a 1G block the block
 * is split first; its table is allocated before anything changes.  A
 * region split to 4K by someone before has each entry made invalid, then
 * becomes one invalid block entry, unless the linear map is kept at 4K
 * (debug_pagealloc, a late KFENCE pool, directmap=off).
 *
 * Context: process context, may sleep.
 * Return: 0 with the whole region invalid and the TLBs flushed, or a
 * negative errno with the mapping as it was.
 */
int arch_directmap_unmap_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);
	int level, err, i;
	u64 *entry;

	if (WARN_ON_ONCE(!IS_ALIGNED(addr, PMD_SIZE)))
		return -EINVAL;

	dmap_lm_begin();
	err = dmap_lm_split(addr, DIRECTMAP_LEVEL_2M);
	if (err)
		goto out;
	entry = dmap_lm_leaf(addr, &level);
	if (level == DIRECTMAP_LEVEL_2M) {
		if (WARN_ON_ONCE(!(READ_ONCE(*entry) & PTE_VALID))) {
			err = -EFAULT;
			goto out;
		}
		WRITE_ONCE(*entry, READ_ONCE(*entry) & ~PTE_VALID);
		flush_tlb_kernel_range(addr, addr + PMD_SIZE);
		atomic_long_inc(&dmap_tlb_flushes);
		goto out;
	}

	for (i = 0; i < PTRS_PER_PTE; i++)
		WRITE_ONCE(entry[i], READ_ONCE(entry[i]) & ~PTE_VALID);
	flush_tlb_kernel_range(addr, addr + PMD_SIZE);
	atomic_long_inc(&dmap_tlb_flushes);
	/*
	 * All invalid, and ours: no live entry changes, no table is shared.
	 * One invalid block would be made valid as a block on restore, which
	 * a linear map kept at 4K must never get: keep the table then.
	 */
	if (dmap_lm_blocks && dmap_collapse_pmd_locked(addr, true) < 0)
		directmap_note_pte(addr);
out:
	dmap_lm_end();
	return err;
}

/**
 * arch_directmap_restore_region - put a 2M region back into the linear map
 * @page:	first page of a region taken out by arch_directmap_unmap_region()
 *
 * Sets valid bits on entries that exist: nothing to allocate, no break.
 *
 * Context: process context, may sleep.
 */
void arch_directmap_restore_region(struct page *page)
{
	unsigned long addr = (unsigned long)page_address(page);
	int level, i;
	u64 *entry;

	guard(mutex)(&dmap_lm_lock);
	entry = dmap_lm_leaf(addr, &level);
	if (WARN_ON_ONCE(!entry || level == DIRECTMAP_LEVEL_1G))
		return;
	if (level == DIRECTMAP_LEVEL_2M) {
		WRITE_ONCE(*entry, READ_ONCE(*entry) | PTE_VALID);
	} else {
		for (i = 0; i < PTRS_PER_PTE; i++)
			WRITE_ONCE(entry[i], READ_ONCE(entry[i]) | PTE_VALID);
	}
	dsb(ishst);
	isb();
}

/**
 * arch_directmap_map_pages - make pages of a region valid again
 * @page:	first page
 * @nr_pages:	pages from @page on, all in one region
 *
 * For in-place sharing.  The region's invalid block entry becomes a table
 * of invalid 4K entries but these, so that no valid block ever maps a
 * page that is still private.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM with nothing changed if the split found no memory.
 */
int arch_directmap_map_pages(struct page *page, unsigned long nr_pages)
{
	unsigned long addr = (unsigned long)page_address(page);
	unsigned long i;
	int level, err;
	u64 *entry;

	if (WARN_ON_ONCE((addr & PMD_MASK) !=
			 ((addr + nr_pages * PAGE_SIZE - 1) & PMD_MASK)))
		return -EINVAL;

	dmap_lm_begin();
	err = dmap_lm_split(addr, DIRECTMAP_LEVEL_4K);
	if (!err) {
		entry = dmap_lm_leaf(addr, &level);
		for (i = 0; i < nr_pages; i++)
			WRITE_ONCE(entry[i], READ_ONCE(entry[i]) | PTE_VALID);
		dsb(ishst);
		isb();
	}
	dmap_lm_end();
	return err;
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
	unsigned long i;
	int level;
	u64 *entry;

	guard(mutex)(&dmap_lm_lock);
	entry = dmap_lm_leaf(addr, &level);
	if (WARN_ON_ONCE(level != DIRECTMAP_LEVEL_4K))
		return;
	for (i = 0; i < nr_pages; i++)
		WRITE_ONCE(entry[i], READ_ONCE(entry[i]) & ~PTE_VALID);
	flush_tlb_kernel_range(addr, addr + nr_pages * PAGE_SIZE);
	atomic_long_inc(&dmap_tlb_flushes);
}

/**
 * arch_directmap_clear_page - zero a page that has no linear map
 * @page:	the page
 *
 * Maps @page at this CPU's private address, zeroes it and unmaps it again.
 * The flush is broadcast: another CPU may have walked the entry
 * speculatively.
 */
void arch_directmap_clear_page(struct page *page)
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

/**
 * nr_kernel_tlb_flushes - TLB flushes directmap issued on arm64
 *
 * x86 counts every flush of kernel mappings; on arm64, where a flush is a
 * broadcast instruction rather than an IPI, only those of directmap's
 * arch code are counted: removals, splits, collapses and wipes.
 *
 * Return: the number of flushes since boot.
 */
unsigned long nr_kernel_tlb_flushes(void)
{
	return atomic_long_read(&dmap_tlb_flushes);
}

/* ---- setting up ---- */

/*
 * CPUs whose FEAT_BBM level 2 is known never to raise a TLB conflict
 * abort; the ID register cannot say so.  The list upstream keeps too.
 */
static const struct midr_range dmap_bbml2_noabort[] = {
	MIDR_REV_RANGE(MIDR_CORTEX_X4, 0, 3, 0xf),
	MIDR_REV_RANGE(MIDR_NEOVERSE_V3, 0, 2, 0xf),
	MIDR_ALL_VERSIONS(MIDR_AMPERE1),
	MIDR_ALL_VERSIONS(MIDR_AMPERE1A),
	{}
};

static bool dmap_bbml2_usable(void)
{
	u64 mmfr2 = read_sanitised_ftr_reg(SYS_ID_AA64MMFR2_EL1);
	unsigned int bbm;
	int cpu;

	bbm = cpuid_feature_extract_unsigned_field(mmfr2,
						   ID_AA64MMFR2_EL1_BBM_SHIFT);
	if (bbm < ID_AA64MMFR2_EL1_BBM_2)
		return false;
	for_each_online_cpu(cpu)
		if (!is_midr_in_range_list(per_cpu(cpu_data, cpu).reg_midr,
					   dmap_bbml2_noabort))
			return false;
	return true;
}

/* A CPU without it turns the in-place path off for good */
static int dmap_bbml2_cpu_online(unsigned int cpu)
{
	if (READ_ONCE(dmap_bbml2) && !dmap_bbml2_usable()) {
		WRITE_ONCE(dmap_bbml2, false);
		pr_info("CPU%u: linear-map blocks change by break-before-make from now on\n",
			cpu);
	}
	return 0;
}

static int dmap_pte_collect(pte_t *pte, unsigned long addr, void *data)
{
	unsigned long start = (unsigned long)data;
	unsigned int slot = (addr - start) >> PAGE_SHIFT;

	if (slot == nr_cpu_ids) {
		dmap_bbm_ptep = pte;
		dmap_bbm_addr = addr;
	} else if (cpu_possible(slot)) {
		per_cpu(dmap_clear_pte, slot) = pte;
		per_cpu(dmap_clear_addr, slot) = addr;
	}
	return 0;
}

/*
 * The linear map is counted once it is built, and the alias for
 * break-before-make is set up before anyone may split a block.
 */
static int __init dmap_lm_init(void)
{
	unsigned long size = ((unsigned long)nr_cpu_ids + 1) << PAGE_SHIFT;
	struct vm_struct *area;
	unsigned long start;
	int err;

	mutex_lock(&dmap_lm_lock);
	dmap_lm_walk(NULL, NULL, dmap_lm_count);
	mutex_unlock(&dmap_lm_lock);

	area = get_vm_area(size, VM_MAP);
	if (!area)
		return -ENOMEM;
	start = (unsigned long)area->addr;
	/* allocates the page tables now: a wipe or a split never needs them */
	err = apply_to_page_range(&init_mm, start, size, dmap_pte_collect,
				  (void *)start);
	if (err) {
		free_vm_area(area);
		return err;
	}

	if (!dmap_lm_blocks)
		return 0;
	dmap_bbml2 = dmap_bbml2_usable();
	if (dmap_bbml2)
		cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "arm64/directmap:online",
					  dmap_bbml2_cpu_online, NULL);
	pr_info("linear map keeps its blocks; they change by %s\n",
		dmap_bbml2 ? "FEAT_BBM level 2" : "break-before-make under stop_machine");
	return 0;
}
early_initcall(dmap_lm_init);

/**
 * arch_directmap_init - check that directmap can work on this linear map
 *
 * Return: 0, -EOPNOTSUPP without rodata=full (the linear map may not
 * change at all then), or -ENOMEM if the early setup failed.
 */
int __init arch_directmap_init(void)
{
	if (!can_set_direct_map()) {
		pr_info("rodata=full is off: the linear map cannot change\n");
		return -EOPNOTSUPP;
	}
	return dmap_bbm_ptep ? 0 : -ENOMEM;
}
