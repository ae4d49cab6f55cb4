// SPDX-License-Identifier: GPL-2.0
/*
 * directmap microbenchmarks, run from debugfs so that every contender is
 * measured in the same boot:
 *
 *   echo "alloc MODE PAGES ROUNDS" > /sys/kernel/debug/directmap/bench
 *	Allocate PAGES zeroed order-0 pages, then free them; ROUNDS times
 *	after one round that warms caches up and is not counted.  MODE is
 *	"directmap" (directmap_alloc_pages()), "stock" (6.12's secretmem
 *	path: a zeroed page, set_direct_map_invalid_noflush() and a flush of
 *	its range; on free set_direct_map_default_noflush() and a wipe) or
 *	"plain" (alloc_page() with __GFP_ZERO, __free_page()).
 *
 *   echo "wipe PAGES ROUNDS" > /sys/kernel/debug/directmap/bench
 *	The part of a directmap free that a plain free does not have: zero
 *	PAGES pages of directmap's one at a time where they are mapped for
 *	it (directmap_clear_pages(), a switch to the wipe mm and back, or
 *	an alias and its flush), against zeroing as many plain pages
 *	through the direct map; and 1 << DIRECTMAP_MAX_ORDER pages to a
 *	directmap_clear_pages() call, near what a page costs in the
 *	batches that frees are wiped in.
 *
 *   echo "walk PAGES TOUCHES SPLIT" > /sys/kernel/debug/directmap/bench
 *	Take PAGES pages from the page allocator and read one word of
 *	TOUCHES pages picked at random among them, through the direct map:
 *	kernel work whose cost is its TLB misses.  With SPLIT 1 the 2M entry
 *	over each of them is split first, as the stock secretmem path leaves
 *	it.  The collapse worker is held off until the walk is done.
 *
 * Reading the file gives the last run's figures as "name value" lines.
 */
#define pr_fmt(fmt) "directmap: " fmt

#include <linux/debugfs.h>
#include <linux/directmap.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_buf.h>
#include <linux/set_memory.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>
#include <asm/tlbflush.h>

#include "policy.h"
#include "internal.h"

#define DMAP_BENCH_MAX_PAGES	(SZ_4G >> PAGE_SHIFT)
#define DMAP_BENCH_MAX_ROUNDS	1000
#define DMAP_BENCH_MAX_TOUCHES	(1000UL * 1000 * 1000)
#define DMAP_BENCH_CHUNKS	16	/* a walk is timed in this many parts */

enum dmap_bench_mode { DMAP_BENCH_DIRECTMAP, DMAP_BENCH_STOCK, DMAP_BENCH_PLAIN };

static const char *const dmap_bench_modes[] = {
	[DMAP_BENCH_DIRECTMAP]	= "directmap",
	[DMAP_BENCH_STOCK]	= "stock",
	[DMAP_BENCH_PLAIN]	= "plain",
};

static DEFINE_MUTEX(dmap_bench_mutex);
static char dmap_bench_result[1024];

/* What a run changed: split, flushed */
struct dmap_bench_counts {
	unsigned long	pmd_splits;
	unsigned long	pud_splits;
	unsigned long	flushes;
};

static void dmap_bench_counts(struct dmap_bench_counts *c)
{
	c->pmd_splits = dmap_vm_event(DIRECT_MAP_LEVEL2_SPLIT);
	c->pud_splits = dmap_vm_event(DIRECT_MAP_LEVEL3_SPLIT);
	c->flushes = nr_kernel_tlb_flushes();
}

static void dmap_bench_counts_since(struct dmap_bench_counts *c)
{
	struct dmap_bench_counts now;

	dmap_bench_counts(&now);
	c->pmd_splits = now.pmd_splits - c->pmd_splits;
	c->pud_splits = now.pud_splits - c->pud_splits;
	c->flushes = now.flushes - c->flushes;
}

static struct page *dmap_bench_alloc(enum dmap_bench_mode mode)
{
	unsigned long addr;
	struct page *page;

	switch (mode) {
	case DMAP_BENCH_DIRECTMAP:
		return directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
	case DMAP_BENCH_STOCK:
		page = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!page)
			return NULL;
		if (set_direct_map_invalid_noflush(page)) {
			__free_page(page);
			return NULL;
		}
		addr = (unsigned long)page_address(page);
		flush_tlb_kernel_range(addr, addr + PAGE_SIZE);
		return page;
	case DMAP_BENCH_PLAIN:
		return alloc_page(GFP_KERNEL | __GFP_ZERO);
	}
	return NULL;
}

static void dmap_bench_free(enum dmap_bench_mode mode, struct page *page)
{
	switch (mode) {
	case DMAP_BENCH_DIRECTMAP:
		WARN_ON_ONCE(directmap_free_pages(page, 0));
		break;
	case DMAP_BENCH_STOCK:
		/* the entry was split when it was unmapped: cannot fail */
		WARN_ON_ONCE(set_direct_map_default_noflush(page));
		clear_highpage(page);
		__free_page(page);
		break;
	case DMAP_BENCH_PLAIN:
		__free_page(page);
		break;
	}
}

/* One round: allocate @nr pages, free them; false if an allocation failed */
/* Times of one round, and of all rounds together */
struct dmap_bench_times {
	u64	alloc_ns;
	u64	free_ns;
};

static bool dmap_bench_round(enum dmap_bench_mode mode, struct page **pages,
			     unsigned long nr, struct dmap_bench_times *t)
{
	unsigned long i, got;
	u64 t0, t1, t2;

	t0 = ktime_get_ns();
	for (got = 0; got < nr; got++) {
		pages[got] = dmap_bench_alloc(mode);
		if (!pages[got])
			break;
	}
	t1 = ktime_get_ns();
	for (i = 0; i < got; i++)
		dmap_bench_free(mode, pages[i]);
	t2 = ktime_get_ns();

	t->alloc_ns = t1 - t0;
	t->free_ns = t2 - t1;
	cond_resched();
	return got == nr;
}

static int dmap_bench_alloc_run(struct seq_buf *s, enum dmap_bench_mode mode,
				unsigned long nr, unsigned long rounds)
{
	struct dmap_bench_times t, best = { U64_MAX / 2, U64_MAX / 2 };
	struct dmap_bench_counts c;
	unsigned long done, n;
	struct page **pages;
	u64 sum = 0;

	if (mode == DMAP_BENCH_DIRECTMAP && !directmap_enabled())
		return -EOPNOTSUPP;
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	/* warm-up: a directmap node has its regions, the buddy its pages */
	if (!dmap_bench_round(mode, pages, nr, &t)) {
		kvfree(pages);
		return -ENOMEM;
	}
	/*
	 * The best round stands for the cost: what a round lost to others
	 * (a host that preempts an emulated CPU, say) is not the code's.
	 */
	dmap_bench_counts(&c);
	for (done = 0; done < rounds; done++) {
		if (!dmap_bench_round(mode, pages, nr, &t))
			break;
		sum += t.alloc_ns + t.free_ns;
		if (t.alloc_ns + t.free_ns < best.alloc_ns + best.free_ns)
			best = t;
	}
	dmap_bench_counts_since(&c);
	kvfree(pages);
	if (done < rounds)
		return -ENOMEM;

	n = nr * rounds;
	seq_buf_printf(s, "mode %s\npages %lu\nrounds %lu\n",
		       dmap_bench_modes[mode], nr, rounds);
	seq_buf_printf(s, "ns_per_page %llu\nmean_ns_per_page %llu\n",
		       div64_u64(best.alloc_ns + best.free_ns, nr),
		       div64_u64(sum, n));
	seq_buf_printf(s, "alloc_ns_per_page %llu\nfree_ns_per_page %llu\n",
		       div64_u64(best.alloc_ns, nr), div64_u64(best.free_ns, nr));
	seq_buf_printf(s, "tlb_flushes %lu\ntlb_flushes_per_1000_pages %lu\n",
		       c.flushes, DIV_ROUND_UP(c.flushes * 1000, n));
	seq_buf_printf(s, "pmd_splits %lu\npud_splits %lu\n", c.pmd_splits,
		       c.pud_splits);
	return 0;
}

/*
 * Wipes of the largest allocation: what one switch to the wipe mm costs.
 * A run holds twice PAGES pages of directmap's meanwhile.
 */
#define DMAP_BENCH_WIPE_ORDER	DIRECTMAP_MAX_ORDER

static int dmap_bench_wipe_run(struct seq_buf *s, unsigned long nr,
			       unsigned long rounds)
{
	u64 t0, t1, t2, t3, best_wipe = U64_MAX, best_direct = U64_MAX;
	unsigned long nr_batch = nr >> DMAP_BENCH_WIPE_ORDER, got_batch = 0;
	unsigned long i, r, got_dm = 0, got_plain = 0;
	struct page **dm, **plain, **batch;
	u64 best_batch = U64_MAX;
	int err = -ENOMEM;

	if (!directmap_enabled())
		return -EOPNOTSUPP;
	dm = kvmalloc_array(nr, sizeof(*dm), GFP_KERNEL);
	plain = kvmalloc_array(nr, sizeof(*plain), GFP_KERNEL);
	batch = kvmalloc_array(nr_batch, sizeof(*batch), GFP_KERNEL);
	if (!dm || !plain || !batch)
		goto out;
	for (; got_dm < nr; got_dm++) {
		dm[got_dm] = directmap_alloc_pages(NUMA_NO_NODE, 0, 0);
		if (!dm[got_dm])
			goto out;
	}
	for (; got_batch < nr_batch; got_batch++) {
		batch[got_batch] = directmap_alloc_pages(NUMA_NO_NODE,
							 DMAP_BENCH_WIPE_ORDER,
							 0);
		if (!batch[got_batch])
			goto out;
	}
	for (; got_plain < nr; got_plain++) {
		plain[got_plain] = alloc_page(GFP_KERNEL);
		if (!plain[got_plain])
			goto out;
	}

	/* alternate the two, and keep the best round of each */
	for (r = 0; r < rounds; r++) {
		t0 = ktime_get_ns();
		for (i = 0; i < nr; i++)
			directmap_clear_pages(dm[i], 1);
		t1 = ktime_get_ns();
		for (i = 0; i < nr; i++)
			clear_page(page_address(plain[i]));
		t2 = ktime_get_ns();
		for (i = 0; i < nr_batch; i++)
			directmap_clear_pages(batch[i],
					      1 << DMAP_BENCH_WIPE_ORDER);
		t3 = ktime_get_ns();
		best_wipe = min(best_wipe, t1 - t0);
		best_direct = min(best_direct, t2 - t1);
		best_batch = min(best_batch, t3 - t2);
		cond_resched();
	}

	seq_buf_printf(s, "pages %lu\nrounds %lu\n", nr, rounds);
	seq_buf_printf(s, "wipe_ns_per_page %llu\ndirect_ns_per_page %llu\n",
		       div64_u64(best_wipe, nr), div64_u64(best_direct, nr));
	if (nr_batch)
		seq_buf_printf(s, "batch_pages %u\nwipe_batch_ns_per_page %llu\n",
			       1U << DMAP_BENCH_WIPE_ORDER,
			       div64_u64(best_batch,
					 nr_batch << DMAP_BENCH_WIPE_ORDER));
	err = 0;
out:
	while (got_batch--)
		WARN_ON_ONCE(directmap_free_pages(batch[got_batch],
						  DMAP_BENCH_WIPE_ORDER));
	while (got_dm--)
		WARN_ON_ONCE(directmap_free_pages(dm[got_dm], 0));
	while (got_plain--)
		__free_page(plain[got_plain]);
	kvfree(dm);
	kvfree(plain);
	kvfree(batch);
	return err;
}

/* The level of the direct-map entry over @page, or 0 if not present */
static unsigned int dmap_bench_level(struct page *page)
{
	bool present;
	int level = arch_directmap_level((unsigned long)page_address(page),
					 &present);

	return present ? level : 0;
}

/* Split the 2M entries over @pages, as the stock secretmem path does */
static int dmap_bench_split(struct page **pages, unsigned long nr)
{
	unsigned long i;
	int err;

	for (i = 0; i < nr; i++) {
		if (dmap_bench_level(pages[i]) == DIRECTMAP_LEVEL_4K)
			continue;
		err = set_direct_map_invalid_noflush(pages[i]);
		if (err)
			return err;
		WARN_ON_ONCE(set_direct_map_default_noflush(pages[i]));
		if (!(i % 4096))
			cond_resched();
	}
	flush_tlb_all();
	return 0;
}

static int dmap_bench_walk_run(struct seq_buf *s, unsigned long nr,
			       unsigned long touches, bool split)
{
	unsigned long levels[DIRECTMAP_LEVEL_NUM] = { 0 }, i, j, got, chunk;
	u64 x = 0x9e3779b97f4a7c15ULL, sum = 0, best = U64_MAX;
	struct dmap_bench_counts c;
	struct page **pages;
	bool worker;
	int err = 0;

	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (got = 0; got < nr; got++) {
		pages[got] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (!pages[got]) {
			err = -ENOMEM;
			goto out;
		}
	}

	/* no collapse pass, and its TLB flushes, in the middle of the walk */
	worker = dmap_collapse_set_enabled(false);
	dmap_bench_counts(&c);
	if (split) {
		err = dmap_bench_split(pages, nr);
		if (err)
			goto worker;
	}
	for (i = 0; i < nr; i++)
		levels[dmap_bench_level(pages[i])]++;

	/* in chunks, keeping the best: a preempted chunk is not the walk's */
	chunk = max(touches / DMAP_BENCH_CHUNKS, 1UL);
	for (i = 0; i < touches; i += chunk) {
		u64 t0 = ktime_get_ns();

		for (j = 0; j < chunk; j++) {
			u64 *word;

			/* xorshift64: cheap, no pattern the prefetchers follow */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			word = page_address(pages[x % nr]) +
			       ((x >> 40) & (PAGE_SIZE - 8));
			sum += READ_ONCE(*word);
		}
		best = min(best, ktime_get_ns() - t0);
		cond_resched();
	}
	dmap_bench_counts_since(&c);

	seq_buf_printf(s, "pages %lu\ntouches %lu\nsplit %d\n", nr, touches,
		       split);
	seq_buf_printf(s, "ns_per_touch_x1000 %llu\n",
		       div64_u64(best * 1000, chunk));
	seq_buf_printf(s, "pages_at_4k %lu\npages_at_2m %lu\npages_at_1g %lu\n",
		       levels[DIRECTMAP_LEVEL_4K], levels[DIRECTMAP_LEVEL_2M],
		       levels[DIRECTMAP_LEVEL_1G]);
	seq_buf_printf(s, "pmd_splits %lu\npud_splits %lu\nchecksum %llu\n",
		       c.pmd_splits, c.pud_splits, sum & 0xffff);
worker:
	dmap_collapse_set_enabled(worker);
out:
	while (got--)
		__free_page(pages[got]);
	kvfree(pages);
	return err;
}

static int dmap_bench_run(struct seq_buf *s, const char *buf)
{
	unsigned long nr, n;
	char name[16];
	int mode;

	if (sscanf(buf, "walk %lu %lu %d", &nr, &n, &mode) == 3) {
		if (!nr || nr > DMAP_BENCH_MAX_PAGES || !n ||
		    n > DMAP_BENCH_MAX_TOUCHES || mode < 0 || mode > 1)
			return -EINVAL;
		return dmap_bench_walk_run(s, nr, n, mode);
	}
	if (sscanf(buf, "wipe %lu %lu", &nr, &n) == 2) {
		if (!nr || nr > DMAP_BENCH_MAX_PAGES || !n ||
		    n > DMAP_BENCH_MAX_ROUNDS)
			return -EINVAL;
		return dmap_bench_wipe_run(s, nr, n);
	}
	if (sscanf(buf, "alloc %15s %lu %lu", name, &nr, &n) == 3) {
		mode = match_string(dmap_bench_modes,
				    ARRAY_SIZE(dmap_bench_modes), name);
		if (mode < 0 || !nr || nr > DMAP_BENCH_MAX_PAGES || !n ||
		    n > DMAP_BENCH_MAX_ROUNDS)
			return -EINVAL;
		return dmap_bench_alloc_run(s, mode, nr, n);
	}
	return -EINVAL;
}

static ssize_t dmap_bench_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct seq_buf s;
	char buf[64];
	int err;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	mutex_lock(&dmap_bench_mutex);
	seq_buf_init(&s, dmap_bench_result, sizeof(dmap_bench_result));
	err = dmap_bench_run(&s, buf);
	if (err)
		dmap_bench_result[0] = '\0';
	mutex_unlock(&dmap_bench_mutex);
	return err ? err : count;
}

static ssize_t dmap_bench_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&dmap_bench_mutex);
	ret = simple_read_from_buffer(ubuf, count, ppos, dmap_bench_result,
				      strlen(dmap_bench_result));
	mutex_unlock(&dmap_bench_mutex);
	return ret;
}

static const struct file_operations dmap_bench_fops = {
	.owner	= THIS_MODULE,
	.read	= dmap_bench_read,
	.write	= dmap_bench_write,
	.llseek	= default_llseek,
};

static int __init dmap_bench_init(void)
{
	dmap_debugfs_file("bench", 0600, &dmap_bench_fops);
	return 0;
}
late_initcall(dmap_bench_init);
