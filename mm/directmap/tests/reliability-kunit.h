/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for directmap's reliability: the consistency verifier (and
 * that it does catch what it looks for), injected allocation failures,
 * the misuse catalogue, secrets after free, hibernation and
 * load_unaligned_zeropad() next to a region.
 */
#ifndef _MM_DIRECTMAP_RELIABILITY_KUNIT_H
#define _MM_DIRECTMAP_RELIABILITY_KUNIT_H

#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/execmem.h>
#include <linux/kasan.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/memblock.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/of.h>
#include <linux/suspend.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/word-at-a-time.h>
#if defined(CONFIG_ARM64) && defined(CONFIG_TRANS_TABLE)
#include <asm/trans_pgd.h>
#endif

/* Injected failures per run; make stress injects 10,000 from debugfs */
#define DMAP_RTEST_FAILURES	1000

/* Allocate, check, free: the verifier is clean at rest and in between */
static void dmap_rtest_verify_clean(struct kunit *test)
{
	struct page *pages[2 * (DIRECTMAP_MAX_ORDER + 1)];
	int nid, order, n = 0;

	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
	for_each_node_state(nid, N_MEMORY) {
		for (order = 0; order <= DIRECTMAP_MAX_ORDER && n < ARRAY_SIZE(pages);
		     order++) {
			pages[n] = directmap_alloc_pages(nid, order, 0);
			KUNIT_ASSERT_NOT_NULL(test, pages[n]);
			n++;
		}
	}
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
	while (n--) {
		order = n % (DIRECTMAP_MAX_ORDER + 1);
		KUNIT_EXPECT_EQ(test, directmap_free_pages(pages[n], order), 0);
	}
	KUNIT_EXPECT_GE(test, dmap_drain(), 1UL);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/*
 * Map @page back as a driver calling set_direct_map_*() itself would: the
 * verifier reports it, and is clean once it is absent again
 */
static void dmap_rtest_expect_caught(struct kunit *test, struct page *page)
{
	KUNIT_ASSERT_EQ(test, set_direct_map_default_noflush(page), 0);
	KUNIT_EXPECT_GE_MSG(test, dmap_verify(NULL), 1UL,
			    "pfn %#lx mapped, not reported", page_to_pfn(page));
	/* absent again (and RW on x86: the verifier does not look at it) */
#ifdef CONFIG_X86
	KUNIT_ASSERT_EQ(test, set_memory_np((unsigned long)page_address(page), 1), 0);
#else
	KUNIT_ASSERT_EQ(test, set_direct_map_invalid_noflush(page), 0);
	flush_tlb_kernel_range((unsigned long)page_address(page),
			       (unsigned long)page_address(page) + PAGE_SIZE);
#endif
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/* A mapped page in a region and a wrong count are both reported */
static void dmap_rtest_verify_catches(struct kunit *test)
{
	struct dmap_cache *cache;
	struct page *page;

	page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, dmap_verify(NULL), 0UL);
	dmap_rtest_expect_caught(test, page);

	cache = &dmap_nodes[page_to_nid(page)]->cache;
	spin_lock(&cache->lock);
	cache->nr_free++;
	spin_unlock(&cache->lock);
	KUNIT_EXPECT_GE(test, dmap_verify(NULL), 1UL);
	spin_lock(&cache->lock);
	cache->nr_free--;
	spin_unlock(&cache->lock);

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	dmap_drain();
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/* What dmap_rtest_verify_catches_later() holds, freed if it stops early */
struct dmap_rtest_held {
	struct page	**pages;
	unsigned long	nr;
	struct page	*single;
};

static void dmap_rtest_free_held(void *data)
{
	struct dmap_rtest_held *held = data;

	while (held->nr)
		directmap_free_pages(held->pages[--held->nr], 0);
	if (held->single)
		directmap_free_pages(held->single, DIRECTMAP_MAX_ORDER);
	held->single = NULL;
}

/*
 * The walk looks regions and single allocations up once per boundary, not
 * once per entry: a mapped page is still found in the lowest region, at
 * either end of the highest one, and at the end of a single allocation
 * that starts below it.
 */
static void dmap_rtest_verify_catches_later(struct kunit *test)
{
	unsigned long nr = 2 * DMAP_REGION_PAGES + 1, lo = ULONG_MAX, hi = 0;
	struct dmap_rtest_held *held;
	int nid = numa_mem_id();
	struct page *page;

	held = kunit_kzalloc(test, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	held->pages = kunit_kcalloc(test, nr, sizeof(*held->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held->pages);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, dmap_rtest_free_held,
							held), 0);

	held->single = dmap_test_alloc_single(test, nid, DIRECTMAP_MAX_ORDER, NULL);
	KUNIT_ASSERT_NOT_NULL(test, held->single);
	KUNIT_ASSERT_NULL(test, dmap_region_of(page_to_pfn(held->single)));

	/* pages of at least three regions */
	while (held->nr < nr) {
		page = directmap_alloc_pages(nid, 0, 0);
		KUNIT_ASSERT_NOT_NULL(test, page);
		held->pages[held->nr++] = page;
		lo = min(lo, page_to_pfn(page));
		hi = max(hi, page_to_pfn(page));
	}
	if (!dmap_region_of(lo) || !dmap_region_of(hi))
		kunit_skip(test, "a page came from the single-page fallback");
	KUNIT_ASSERT_PTR_NE(test, dmap_region_of(lo), dmap_region_of(hi));
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	dmap_rtest_expect_caught(test, pfn_to_page(lo));
	dmap_rtest_expect_caught(test, pfn_to_page(ALIGN_DOWN(hi, DMAP_REGION_PAGES)));
	dmap_rtest_expect_caught(test, pfn_to_page(ALIGN(hi + 1, DMAP_REGION_PAGES) - 1));
	dmap_rtest_expect_caught(test, pfn_to_page(page_to_pfn(held->single) +
						   BIT(DIRECTMAP_MAX_ORDER) - 1));

	while (held->nr)
		KUNIT_EXPECT_EQ(test, directmap_free_pages(held->pages[--held->nr], 0), 0);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(held->single, DIRECTMAP_MAX_ORDER), 0);
	held->single = NULL;
	dmap_drain();
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/*
 * Failures injected at every point: each one is an error directmap
 * counts, NULL reaches the caller only when the fallback failed too, and
 * every page is accounted for.
 */
static void dmap_rtest_faults(struct kunit *test)
{
	struct dmap_torture_result res;

	KUNIT_ASSERT_EQ(test, dmap_torture_faults(DMAP_RTEST_FAILURES, 25, &res), 0);
	kunit_info(test, "%lu ops, %lu failures injected, %lu errors, %lu NULL, leaked %ld, free pages %+ld\n",
		   res.ops, res.injected, res.errors, res.nulls, res.leaked,
		   res.free_delta);
	KUNIT_EXPECT_GE(test, res.injected, (unsigned long)DMAP_RTEST_FAILURES);
	KUNIT_EXPECT_EQ(test, res.errors, res.injected);
	KUNIT_EXPECT_EQ(test, res.nulls, res.fallback_failures);
	KUNIT_EXPECT_GT(test, res.allocs, 0UL);
	KUNIT_EXPECT_EQ(test, res.free_errors, 0UL);
	KUNIT_EXPECT_EQ(test, res.readable, 0UL);
	KUNIT_EXPECT_EQ(test, res.leaked, 0L);
	/* slack for slab pages that KASAN's quarantine still holds */
	KUNIT_EXPECT_GT(test, res.free_delta, -2048L);
	KUNIT_EXPECT_EQ(test, res.problems, 0UL);
}

/* Tail pages and folios directmap never handed out are refused */
static void dmap_rtest_misuse_tail(struct kunit *test)
{
	unsigned long events = dmap_vm_event(DIRECTMAP_MISUSE);
	struct page *page;

	page = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page + 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, directmap_free_folio(page_folio(page)), -EINVAL);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_TRUE(test, dmap_test_readable(page + 1));
	__free_pages(page, 2);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_MISUSE), events + 2);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/* The sleeping calls refuse atomic context, and change nothing */
static void dmap_rtest_misuse_atomic(struct kunit *test)
{
	unsigned long events = dmap_vm_event(DIRECTMAP_MISUSE);
	struct dmap_cache *cache = &dmap_nodes[numa_mem_id()]->cache;
	struct page *page, *bad;
	unsigned long used;
	int err;

	page = directmap_alloc_pages(numa_mem_id(), 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, page);
	used = cache->nr_used;

	preempt_disable();
	bad = directmap_alloc_pages(numa_mem_id(), 0, 0);
	err = directmap_free_pages(page, 0);
	preempt_enable();
	KUNIT_EXPECT_NULL(test, bad);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	KUNIT_EXPECT_EQ(test, cache->nr_used, used);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);

	local_irq_disable();
	bad = directmap_alloc_pages(numa_mem_id(), 0, 0);
	local_irq_enable();
	KUNIT_EXPECT_NULL(test, bad);
	KUNIT_EXPECT_EQ(test, cache->nr_used, used);
	KUNIT_EXPECT_EQ(test, dmap_vm_event(DIRECTMAP_MISUSE), events + 3);

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	dmap_test_wipe_queued();
	KUNIT_EXPECT_EQ(test, cache->nr_used, used - 1);
}

struct dmap_rtest_free {
	struct page	*page;
	int		err;
};

static long dmap_rtest_free_fn(void *arg)
{
	struct dmap_rtest_free *f = arg;

	f->err = directmap_free_pages(f->page, 0);
	return 0;
}

/* A page freed on another node's CPU goes back to its own node's region */
static void dmap_rtest_wrong_node(struct kunit *test)
{
	struct dmap_rtest_free f = { };
	unsigned long used[2];
	int nid, other, cpu;

	dmap_test_need_nodes(test, 2);
	nid = first_memory_node;
	other = next_memory_node(nid);
	cpu = cpumask_first_and(cpumask_of_node(other), cpu_online_mask);
	KUNIT_ASSERT_LT(test, cpu, nr_cpu_ids);

	f.page = directmap_alloc_pages(nid, 0, 0);
	KUNIT_ASSERT_NOT_NULL(test, f.page);
	KUNIT_EXPECT_EQ(test, page_to_nid(f.page), nid);
	used[0] = dmap_nodes[nid]->cache.nr_used;
	used[1] = dmap_nodes[other]->cache.nr_used;

	work_on_cpu(cpu, dmap_rtest_free_fn, &f);
	KUNIT_EXPECT_EQ(test, f.err, 0);
	dmap_test_wipe_queued();
	KUNIT_EXPECT_EQ(test, dmap_nodes[nid]->cache.nr_used, used[0] - 1);
	KUNIT_EXPECT_EQ(test, dmap_nodes[other]->cache.nr_used, used[1]);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}

/*
 * After a free the old contents are gone through every mapping: an alias
 * once the work the free kicked has run (a tick), the direct map once the
 * region is given back.
 */
static void dmap_rtest_secret_gone(struct kunit *test)
{
	struct page *page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	char buf[16];

	KUNIT_ASSERT_NOT_NULL(test, page);
	dmap_test_fill(test, page, 0xa5);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));
	dmap_wipe_work_sync();
	KUNIT_EXPECT_TRUE(test, dmap_test_zero(test, page));
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(page));

	KUNIT_EXPECT_GE(test, dmap_drain(), 1UL);
	KUNIT_ASSERT_FALSE(test, page_is_directmap(page));
	KUNIT_ASSERT_EQ(test, copy_from_kernel_nofault(buf, page_address(page),
						       sizeof(buf)), 0L);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(buf, 0, sizeof(buf)));
}

#if defined(CONFIG_ARM64) && defined(CONFIG_TRANS_TABLE)
struct dmap_rtest_trans {
	void	*pages[16];
	int	nr;
};

static void *dmap_rtest_trans_alloc(void *arg)
{
	struct dmap_rtest_trans *tr = arg;
	void *p;

	if (tr->nr == ARRAY_SIZE(tr->pages))
		return NULL;
	p = (void *)get_zeroed_page(GFP_KERNEL);
	if (p)
		tr->pages[tr->nr++] = p;
	return p;
}

/*
 * kexec's relocation and hibernation's resume write through trans_pgd's
 * copy of the linear map: a region that is out must be present there,
 * whether it is out as a 2M block or as 4K entries.
 */
static void dmap_rtest_trans_pgd(struct kunit *test)
{
	struct page *page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	struct dmap_rtest_trans tr = {};
	struct trans_pgd_info info = {
		.trans_alloc_page = dmap_rtest_trans_alloc,
		.trans_alloc_arg = &tr,
	};
	unsigned long addr;
	bool present;
	pgd_t *copy;
	int level, err;
	u64 leaf;

	KUNIT_ASSERT_NOT_NULL(test, page);
	addr = (unsigned long)page_address(page);
	KUNIT_EXPECT_EQ(test, arch_directmap_level(addr, &present),
			DMAP_TEST_REGION_LEVEL);
	KUNIT_EXPECT_FALSE(test, present);

	err = trans_pgd_create_copy(&info, &copy, addr & PMD_MASK,
				    (addr & PMD_MASK) + PMD_SIZE);
	KUNIT_EXPECT_EQ(test, err, 0);
	if (!err) {
		level = dmap_test_walk(copy, addr, &leaf);
		KUNIT_EXPECT_TRUE_MSG(test, dmap_test_leaf_valid(leaf),
				      "a region is out in the copy (level %d)", level);
		KUNIT_EXPECT_EQ(test, level, DMAP_TEST_REGION_LEVEL);
	}
	while (tr.nr)
		free_page((unsigned long)tr.pages[--tr.nr]);
	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
}
#endif

#if defined(CONFIG_ARM64) && defined(CONFIG_KPROBES) && defined(CONFIG_HOTPLUG_CPU)
static int dmap_rtest_cpu_toggler(void *arg)
{
	unsigned int cpu = cpumask_last(cpu_online_mask);
	atomic_t *toggles = arg;

	while (!kthread_should_stop()) {
		if (!remove_cpu(cpu)) {
			atomic_inc(toggles);
			WARN_ON(add_cpu(cpu));
		}
		cond_resched();
	}
	return 0;
}

static atomic_t dmap_rtest_hits;

/* Probed at its entry and inside its body, by name: never cloned */
static noinline __noclone int dmap_rtest_probed(int x)
{
	barrier();
	return x * 3 + 1;
}

static int dmap_rtest_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic_inc(&dmap_rtest_hits);
	return 0;
}

/*
 * Real kprobes at the entry of a function and on its second instruction,
 * registered and hit while a CPU goes offline and online.
 */
static void dmap_rtest_kprobes(struct kunit *test, int round)
{
	struct kprobe kp[2] = {
		{ .symbol_name = "dmap_rtest_probed", .pre_handler = dmap_rtest_pre },
		{ .symbol_name = "dmap_rtest_probed", .offset = AARCH64_INSN_SIZE,
		  .pre_handler = dmap_rtest_pre },
	};
	struct kprobe *kps[] = { &kp[0], &kp[1] };
	int err;

	/* both or neither: none may outlive this frame */
	err = register_kprobes(kps, ARRAY_SIZE(kps));
	if (!err) {
		KUNIT_EXPECT_EQ(test, dmap_rtest_probed(round), round * 3 + 1);
		unregister_kprobes(kps, ARRAY_SIZE(kps));
	}
	KUNIT_EXPECT_EQ(test, err, 0);
}

/*
 * register_kprobe() takes the CPU hotplug lock and text_mutex before
 * alloc_insn_page() makes the page read-only and executable, which
 * changes its linear alias: that change must not take the hotplug lock
 * again, a recursive read that deadlocks once a hotplug writer waits
 * (lockdep reports it as recursive locking).  The alias going read-only
 * shows that the path ran; a CPU goes offline and online meanwhile, and
 * real kprobes are registered and hit.
 */
static void dmap_rtest_kprobe_insn_page(struct kunit *test)
{
	struct task_struct *toggler;
	atomic_t toggles = ATOMIC_INIT(0);
	unsigned long alias;
	int i, level;
	bool present;
	void *slot;
	u8 c = 0;

	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU: nothing to take offline");
	atomic_set(&dmap_rtest_hits, 0);
	toggler = kthread_run(dmap_rtest_cpu_toggler, &toggles, "dmap-cpu-toggle");
	KUNIT_ASSERT_FALSE(test, IS_ERR(toggler));
	/* until the CPU went offline and online a few times */
	for (i = 0; i < 20 || (atomic_read(&toggles) < 3 && i < 1000); i++) {
		cpus_read_lock();
		mutex_lock(&text_mutex);
		slot = alloc_insn_page();
		mutex_unlock(&text_mutex);
		cpus_read_unlock();
		KUNIT_ASSERT_NOT_NULL(test, slot);

		alias = (unsigned long)page_address(vmalloc_to_page(slot));
		KUNIT_EXPECT_NE_MSG(test, copy_to_kernel_nofault((void *)alias, &c, 1), 0,
				    "the linear alias of an instruction page is writable");
		level = arch_directmap_level(alias, &present);
		KUNIT_EXPECT_EQ(test, level, DIRECTMAP_LEVEL_4K);
		KUNIT_EXPECT_TRUE(test, present);
		execmem_free(slot);
		dmap_rtest_kprobes(test, i);
	}
	kthread_stop(toggler);
	/* two probes hit once per round */
	KUNIT_EXPECT_EQ(test, atomic_read(&dmap_rtest_hits), 2 * i);
	kunit_info(test, "%d offline/online cycles meanwhile\n", atomic_read(&toggles));
}
#endif

#if defined(CONFIG_ARM64) && defined(CONFIG_MEMORY_HOTREMOVE)
/* The linear map's size, as the DirectMap counters have it */
static unsigned long dmap_rtest_mapped(void)
{
	return arch_directmap_pages(DIRECTMAP_LEVEL_4K) * PAGE_SIZE +
	       arch_directmap_pages(DIRECTMAP_LEVEL_2M) * PMD_SIZE +
	       arch_directmap_pages(DIRECTMAP_LEVEL_1G) * PUD_SIZE;
}

/*
 * Memory hot-added and hot-removed (a memory block past the end of RAM,
 * left offline, so never touched): the DirectMap counters follow the
 * linear map both ways, and the walk that checks them agrees.  Only on
 * QEMU's virt board, where nothing lies past the end of RAM: on hardware
 * a Normal mapping of that address space may take speculative accesses.
 */
static void dmap_rtest_hotplug_counts(struct kunit *test)
{
	u64 size = memory_block_size_bytes();
	u64 start = ALIGN(PFN_PHYS(max_pfn), SZ_1G) + SZ_1G;
	unsigned long before = dmap_rtest_mapped();
	int err;

	if (!of_machine_is_compatible("linux,dummy-virt"))
		kunit_skip(test, "not QEMU's virt board: no free address space known");
	/* an online block of memory that does not exist would be handed out */
	if (mhp_get_default_online_type() != MMOP_OFFLINE)
		kunit_skip(test, "hot-added memory goes online by default");

	err = add_memory(memory_add_physaddr_to_nid(start), start, size,
			 MHP_NONE);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "adding [%#llx, %#llx)", start,
			    start + size);
	KUNIT_EXPECT_EQ_MSG(test, dmap_rtest_mapped(), before + size,
			    "DirectMap grew by %ld kB, not %llu",
			    (long)(dmap_rtest_mapped() - before) / 1024,
			    size / 1024);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);

	KUNIT_ASSERT_EQ(test, remove_memory(start, size), 0);
	KUNIT_EXPECT_EQ(test, dmap_rtest_mapped(), before);
	KUNIT_EXPECT_EQ(test, dmap_verify(NULL), 0UL);
}
#endif

/*
 * load_unaligned_zeropad() reading off the end of a mapped page into a
 * region gets the bytes up to the end of the page and zeroes, not an oops.
 */
static void dmap_rtest_zeropad(struct kunit *test)
{
	struct page *page = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	unsigned long start, want = 0, got;
	struct dmap_region *r;
	bool present;
	int level;

	KUNIT_ASSERT_NOT_NULL(test, page);
	r = dmap_region_of(page_to_pfn(page));
	KUNIT_ASSERT_NOT_NULL(test, r);
	start = (unsigned long)pfn_to_kaddr(r->pfn);
	level = arch_directmap_level(start - PAGE_SIZE, &present);
	KUNIT_ASSERT_TRUE_MSG(test, level && present &&
			      !page_is_directmap(virt_to_page(start - PAGE_SIZE)),
			      "the page before region %#lx is not mapped", r->pfn);
	KUNIT_EXPECT_FALSE(test, dmap_test_readable(pfn_to_page(r->pfn)));

	/* three bytes of the mapped page, then five of the region */
	KUNIT_ASSERT_EQ(test, copy_from_kernel_nofault(&want, (void *)(start - 3), 3), 0L);
	/* the fixup reads the page before, which may be free and poisoned */
	kasan_disable_current();
	got = load_unaligned_zeropad((void *)(start - 3));
	kasan_enable_current();
	KUNIT_EXPECT_EQ(test, got, want);

	KUNIT_EXPECT_EQ(test, directmap_free_pages(page, 0), 0);
}

static struct kunit_case dmap_rtest_cases[] = {
	KUNIT_CASE(dmap_rtest_verify_clean),
	KUNIT_CASE(dmap_rtest_verify_catches),
	KUNIT_CASE(dmap_rtest_verify_catches_later),
	KUNIT_CASE_SLOW(dmap_rtest_faults),
	KUNIT_CASE(dmap_rtest_misuse_tail),
	KUNIT_CASE(dmap_rtest_misuse_atomic),
	KUNIT_CASE(dmap_rtest_wrong_node),
	KUNIT_CASE(dmap_rtest_secret_gone),
#if defined(CONFIG_ARM64) && defined(CONFIG_TRANS_TABLE)
	KUNIT_CASE(dmap_rtest_trans_pgd),
#endif
#if defined(CONFIG_ARM64) && defined(CONFIG_KPROBES) && defined(CONFIG_HOTPLUG_CPU)
	KUNIT_CASE(dmap_rtest_kprobe_insn_page),
#endif
#if defined(CONFIG_ARM64) && defined(CONFIG_MEMORY_HOTREMOVE)
	KUNIT_CASE(dmap_rtest_hotplug_counts),
#endif
	KUNIT_CASE(dmap_rtest_zeropad),
	{}
};

static struct kunit_suite dmap_rtest_suite = {
	.name = "directmap_reliability",
	.init = dmap_test_init,
	.exit = dmap_test_exit,
	.test_cases = dmap_rtest_cases,
};

kunit_test_suite(dmap_rtest_suite);

#endif /* _MM_DIRECTMAP_RELIABILITY_KUNIT_H */
