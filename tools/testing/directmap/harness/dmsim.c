// SPDX-License-Identifier: GPL-2.0
/*
 * dmsim: replay allocation traces over a simulated direct map of up to
 * several TiB through four policies, and compare each with the limit.
 *
 *   stock     6.12: each secret page unmapped on its own (a split of its
 *             2M, and 1G, mapping), one flush per page, nothing repaired
 *   mainline  v6.15+: the same.  Its collapse runs only in set_memory_rox()
 *             and only over the range passed in (execmem and BPF addresses
 *             in vmalloc space), never over the direct-map aliases that
 *             cpa_process_alias() changes, so the direct map fares as stock
 *   cache     directmap's region cache (mm/directmap/cache.c), no worker
 *   collapse  the cache and the collapse worker (mm/directmap/collapse.c),
 *             with CPA noting every change as the kernel's hooks do
 *
 * The directmap policies are the kernel's own files, compiled here.  The
 * limit is what no policy can beat on the same run: only 2M areas that hold
 * pages of different permissions need 4K entries; secret pages packed 512
 * to a 2M region leave less than one region per node idle; each node needs
 * as many split 1G areas as its regions fill, or as hold changed pages.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "sim.h"
#include "trace.h"

enum policy { POL_STOCK, POL_MAINLINE, POL_CACHE, POL_COLLAPSE, POL_NR };

static const char * const policy_name[POL_NR] = {
	"stock", "mainline", "cache", "collapse",
};

static const char * const policy_what[POL_NR] = {
	"stock 6.12", "mainline 6.15+", "directmap cache", "cache+collapse",
};

#define MAX_NODES	16	/* the help text says so too */
#define MAX_READ	16	/* trace files a run replays */
#define NR_SAMPLES	400
#define NO_PAGE		(-1L)
#define FAILED		(-2L)	/* the allocation failed: its free is a no-op */

static struct {
	unsigned long	gib_per_node;
	int		nodes;
	unsigned long	ops;
	uint64_t	seed;
	unsigned long	period;		/* steps between worker passes */
	unsigned long	batch;		/* areas a pass may try */
	unsigned long	check_every;	/* recount the invariants this often */
	unsigned long	high;		/* empty regions a node keeps */
	unsigned long	release_idle;	/* steps an empty region is kept */
	unsigned int	backoff;	/* collapse_backoff_passes, 0: default */
	unsigned int	idle;		/* collapse_idle_passes, 0: default */
} cfg = {
	.gib_per_node	= 256,
	.nodes		= 4,
	.ops		= 10000000,
	.seed		= 1,
	.period		= 20000,
	.batch		= 512,
	.high		= 2,
	/* the kernel's defaults: 5 s, with a pass every 200 ms */
	.release_idle	= 25 * 20000,
};

struct sample {
	unsigned long	op;
	double		mib_4k;
	double		limit_4k;
};

struct result {
	enum policy	policy;
	unsigned long	ops;
	double		seconds;
	struct sim_stats s;
	unsigned long	fallbacks, alloc_failures, shrinks;
	unsigned long	passes, slept;	/* the worker's */
	double		avg_4k_mib, peak_4k_mib, end_4k_mib;
	double		avg_1g_split, end_1g_split;
	double		avg_idle_mib, peak_held_mib;
	double		lim_4k_mib, lim_1g_split, lim_idle_mib;
	double		lim_4k_peak_mib;
	unsigned long	lim_flushes, lim_pmd_splits;
	double		gap_pct;
	unsigned long	invariants_broken;
	struct sample	samples[NR_SAMPLES + 2];
	unsigned int	nr_samples;
};

/* Everything one replay owns */
static struct {
	enum policy	policy;
	struct dmap_cache nodes[MAX_NODES];
	struct dmap_collapse dc;
	long		*secret, *anon, *load_pfns;
	uint32_t	*load_base;
	uint16_t	*load_nr;
	unsigned long	load_top;
	unsigned long	held[MAX_NODES];	/* secret pages held */
	unsigned long	idle_due;	/* step the idle work runs, 0: not armed */
	unsigned long	held_all, held_peak;	/* over every node */
	uint8_t		*ro_seen;	/* per 2M: has held an RO page */
	unsigned long	lim_1g[MAX_NODES];	/* lower bound, per node */
	unsigned long	lim_regions[MAX_NODES];
	unsigned long	lim_slack[MAX_NODES];	/* idle pages, packed */
	unsigned long	sleep_skip, slept;	/* the worker's, see below */
	bool		more;
	struct result	*res;
} r;

static void die(const char *what)
{
	fprintf(stderr, "dmsim: %s\n", what);
	exit(2);
}

static void *zalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

static bool cached(void)
{
	return r.policy == POL_CACHE || r.policy == POL_COLLAPSE;
}

static unsigned long cache_idle(void)
{
	unsigned long n = 0;
	int nid;

	if (cached())
		for (nid = 0; nid < cfg.nodes; nid++)
			n += r.nodes[nid].nr_free;
	return n;
}

static void shrink_all(void)
{
	int nid;

	for (nid = 0; nid < cfg.nodes; nid++)
		dmap_cache_shrink(&r.nodes[nid], ~0UL, 0);
	r.res->shrinks++;
}

/* A page of the rest of the system; the cache shrinks under pressure */
static long page_alloc(int nid)
{
	long pfn = sim_page_alloc(nid);

	if (pfn < 0 && cached()) {
		shrink_all();
		pfn = sim_page_alloc(nid);
	}
	if (pfn < 0)
		r.res->alloc_failures++;
	return pfn < 0 ? FAILED : pfn;
}

/* The stock path: one page, unmapped and flushed on its own */
static long single_alloc(int nid)
{
	long pfn = page_alloc(nid);

	if (pfn < 0)
		return pfn;
	if (sim_cpa_set_present(pfn, false)) {
		sim_page_free(pfn);
		r.res->alloc_failures++;
		return FAILED;
	}
	sim.flushes++;
	return pfn;
}

/* What mm/directmap/core.c does: from the cache, else one page */
static long secret_alloc(int nid)
{
	long pfn;

	if (!cached())
		return single_alloc(nid);
	pfn = drv_take(&r.nodes[nid], 0);
	if (pfn >= 0)
		return pfn;
	r.res->fallbacks++;
	return single_alloc(nid);
}

static void secret_free(unsigned long pfn)
{
	if (!sim_region_of(pfn)) {
		if (sim_cpa_set_present(pfn, true))
			die("restore failed: no page table can be needed");
		sim_page_free(pfn);
	} else if (drv_put(r.nodes, pfn, 0)) {
		die("the cache refused a page it handed out");
	}
}

static void load(const struct trace_op *op)
{
	unsigned long base = r.load_top, i;
	long pfn;

	r.load_base[op->id] = base;
	r.load_nr[op->id] = 0;
	for (i = 0; i < op->nr; i++) {
		pfn = page_alloc(op->nid);
		if (pfn < 0)
			break;
		r.load_pfns[r.load_top++] = pfn;
		r.load_nr[op->id]++;
	}
	for (i = 0; i < r.load_nr[op->id]; i++) {
		unsigned long area = r.load_pfns[base + i] / 512;

		if (sim_cpa_set_ro(r.load_pfns[base + i], 1, true))
			die("split failed without failure injection");
		/* an area that held an RO page needed one split at least */
		r.res->lim_pmd_splits += !r.ro_seen[area];
		r.ro_seen[area] = 1;
	}
	/* set_memory_rox() collapses nothing here: see the top of the file */
	sim.flushes++;
}

static void unload(const struct trace_op *op)
{
	unsigned long base = r.load_base[op->id], i;

	for (i = 0; i < r.load_nr[op->id]; i++)
		if (sim_cpa_set_ro(r.load_pfns[base + i], 1, false))
			die("split failed without failure injection");
	sim.flushes++;
	for (i = 0; i < r.load_nr[op->id]; i++)
		sim_page_free(r.load_pfns[base + i]);
	r.load_nr[op->id] = 0;
}

/* The limit's terms for @nid after its held pages or RO pages changed */
static void limit_update(int nid)
{
	unsigned long regions = (r.held[nid] + 511) / 512;
	unsigned long puds = (regions + 511) / 512;
	unsigned long ro = sim_ro_1g(nid);

	if (regions > r.lim_regions[nid])
		r.res->lim_flushes += regions - r.lim_regions[nid];
	r.lim_regions[nid] = regions;
	r.lim_slack[nid] = regions * 512 - r.held[nid];
	r.lim_1g[nid] = puds > ro ? puds : ro;
}

static unsigned long bad_id(const struct trace *t, unsigned long i,
			    const char *what)
{
	fprintf(stderr, "dmsim: %s: operation %lu %s id %u\n", t->name, i,
		what, t->ops[i].id);
	exit(2);
}

/* One step; returns the node whose limit terms changed, or -1 */
static int step(const struct trace *t, unsigned long i)
{
	const struct trace_op *op = &t->ops[i];
	long pfn;

	switch (op->type) {
	case T_SECRET_ALLOC:
		if (r.secret[op->id] != NO_PAGE)
			bad_id(t, i, "allocates the live");
		pfn = secret_alloc(op->nid);
		r.secret[op->id] = pfn;
		if (pfn < 0)
			return -1;
		r.held[op->nid]++;
		if (++r.held_all > r.held_peak)
			r.held_peak = r.held_all;
		return op->nid;
	case T_SECRET_FREE:
		pfn = r.secret[op->id];
		if (pfn == NO_PAGE)
			bad_id(t, i, "frees the unallocated");
		r.secret[op->id] = NO_PAGE;
		if (pfn < 0)
			return -1;
		secret_free(pfn);
		r.held[sim_nid_of(pfn)]--;
		r.held_all--;
		return sim_nid_of(pfn);
	case T_ANON_ALLOC:
		if (r.anon[op->id] != NO_PAGE)
			bad_id(t, i, "allocates the live");
		r.anon[op->id] = page_alloc(op->nid);
		return -1;
	case T_ANON_FREE:
		pfn = r.anon[op->id];
		if (pfn == NO_PAGE)
			bad_id(t, i, "frees the unallocated");
		r.anon[op->id] = NO_PAGE;
		if (pfn >= 0)
			sim_page_free(pfn);
		return -1;
	case T_RO:
	case T_ROX:
		if (r.load_base[op->id] != UINT32_MAX)
			bad_id(t, i, "loads the live");
		r.res->lim_flushes++;
		load(op);
		return op->nid;
	case T_RW:
		if (r.load_base[op->id] == UINT32_MAX)
			bad_id(t, i, "unloads the unloaded");
		r.res->lim_flushes++;
		pfn = r.load_nr[op->id] ? r.load_pfns[r.load_base[op->id]] : -1;
		unload(op);
		r.load_base[op->id] = UINT32_MAX;
		return pfn < 0 ? -1 : sim_nid_of(pfn);
	default:
		return -1;
	}
}

/*
 * A period of worker.c's thread: a pass, unless its last pass left
 * nothing and nothing kicked it since, or it sleeps through the passes
 * dmap_collapse_idle_wait() named and nothing kicked it since; woken or
 * done sleeping, it skips those it slept through.
 */
static void worker_period(void)
{
	/* nothing was left after its last pass: it waits for a kick */
	if (!r.more && !sim_kicked)
		return;
	if (r.sleep_skip) {
		if (!sim_kicked && r.slept < r.sleep_skip) {
			r.slept++;
			return;
		}
		dmap_collapse_skip(&r.dc, r.slept);
	}
	sim_kicked = false;
	r.more = dmap_collapse_pass(&r.dc, cfg.batch, false);
	r.sleep_skip = r.more ? dmap_collapse_idle_wait(&r.dc) : 0;
	r.slept = 0;
}

/*
 * What core.c's idle work does: armed when a region goes onto an empty
 * list, it gives back the empty regions that nobody took for
 * release_idle_ms, and runs again when the next of them is due
 */
static void release_idle(unsigned long now)
{
	unsigned long wait, next = 0;
	int nid;

	if (!r.idle_due || now < r.idle_due)
		return;
	r.idle_due = 0;
	for (nid = 0; nid < cfg.nodes; nid++) {
		if (!r.nodes[nid].nr_empty)
			continue;
		dmap_cache_trim(&r.nodes[nid], cfg.release_idle, &wait);
		if (wait && (!next || wait < next))
			next = wait;
	}
	if (next)
		r.idle_due = now + next;
}

static double mib(double pages)
{
	return pages * 4096.0 / (1 << 20);
}

static void replay(const struct trace *t, enum policy pol,
		   struct result *res)
{
	unsigned long every = t->nr_ops / NR_SAMPLES + 1, i;
	double sum_4k = 0, sum_1g = 0, sum_idle = 0, sum_l4k = 0;
	double sum_l1g = 0, sum_lidle = 0;
	unsigned long lim_1g = 0, lim_slack = 0;
	struct timespec t0, t1;
	int nid;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	r.policy = pol;
	r.res = res;
	res->policy = pol;
	res->ops = t->nr_ops;

	sim_init(cfg.gib_per_node, cfg.nodes);
	for (nid = 0; nid < cfg.nodes; nid++)
		dmap_cache_init(&r.nodes[nid], nid, cfg.high);
	if (pol == POL_COLLAPSE) {
		if (dmap_collapse_init(&r.dc, sim_nr_pages()))
			die("out of memory");
		/* as the sysfs knobs set them */
		r.dc.backoff = cfg.backoff ?: r.dc.backoff;
		r.dc.idle = cfg.idle ?: r.dc.idle;
		sim_attach_collapse(&r.dc);
	}
	r.secret = zalloc(t->ids[T_SECRET_ALLOC], sizeof(long));
	r.anon = zalloc(t->ids[T_ANON_ALLOC], sizeof(long));
	r.load_base = zalloc(t->ids[T_RO], sizeof(uint32_t));
	r.load_nr = zalloc(t->ids[T_RO], sizeof(uint16_t));
	r.load_pfns = zalloc(t->load_pages, sizeof(long));
	memset(r.secret, 0xff, t->ids[T_SECRET_ALLOC] * sizeof(long));
	memset(r.anon, 0xff, t->ids[T_ANON_ALLOC] * sizeof(long));
	memset(r.load_base, 0xff, t->ids[T_RO] * sizeof(uint32_t));
	r.ro_seen = zalloc(sim_nr_pages() / 512, 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < t->nr_ops; i++) {
		/* the clock of empty regions' ages */
		sim_clock = i + 1;
		nid = step(t, i);
		/* core.c arms its idle work unless it is pending already */
		if (sim_emptied && !r.idle_due)
			r.idle_due = i + 1 + cfg.release_idle;
		sim_emptied = false;
		if (nid >= 0) {
			lim_1g -= r.lim_1g[nid];
			lim_slack -= r.lim_slack[nid];
			limit_update(nid);
			lim_1g += r.lim_1g[nid];
			lim_slack += r.lim_slack[nid];
		}
		if (pol == POL_COLLAPSE && (i + 1) % cfg.period == 0)
			worker_period();
		if (pol == POL_COLLAPSE && cfg.release_idle)
			release_idle(i + 1);

		/* Time averages over every step */
		sum_4k += sim.areas_4k;
		sum_1g += sim.areas_1g_split;
		sum_idle += cache_idle();
		sum_l4k += sim.ro_areas;
		sum_l1g += lim_1g;
		sum_lidle += lim_slack;
		if (sim.areas_4k * 2.0 > res->peak_4k_mib)
			res->peak_4k_mib = sim.areas_4k * 2.0;
		if (sim.ro_areas * 2.0 > res->lim_4k_peak_mib)
			res->lim_4k_peak_mib = sim.ro_areas * 2.0;
		if (i % every == 0 || i + 1 == t->nr_ops) {
			struct sample *s = &res->samples[res->nr_samples++];

			s->op = i + 1;
			s->mib_4k = sim.areas_4k * 2.0;
			s->limit_4k = sim.ro_areas * 2.0;
		}
		if (cfg.check_every && (i + 1) % cfg.check_every == 0)
			res->invariants_broken += sim_check();
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	res->s = sim;
	res->passes = r.dc.stats.passes;
	res->slept = r.dc.stats.slept;
	res->avg_4k_mib = sum_4k * 2.0 / t->nr_ops;
	res->end_4k_mib = sim.areas_4k * 2.0;
	res->avg_1g_split = sum_1g / t->nr_ops;
	res->end_1g_split = sim.areas_1g_split;
	res->avg_idle_mib = mib(sum_idle / t->nr_ops);
	res->peak_held_mib = mib(r.held_peak);
	res->lim_4k_mib = sum_l4k * 2.0 / t->nr_ops;
	res->lim_1g_split = sum_l1g / t->nr_ops;
	res->lim_idle_mib = mib(sum_lidle / t->nr_ops);
	res->gap_pct = (res->avg_4k_mib - res->lim_4k_mib) * 100.0 /
		       (sim_nr_pages() / 256.0);
	res->invariants_broken += sim_check();
	/* Every trace frees all it allocates: nothing may be left out */
	if (sim.pages_out)
		res->invariants_broken++;
	if (cached()) {
		for (nid = 0; nid < cfg.nodes; nid++)
			if (r.nodes[nid].nr_used)
				res->invariants_broken++;
	}
	if (res->invariants_broken)
		fprintf(stderr, "dmsim: %s/%s: %lu invariants broken\n",
			t->name, policy_name[pol], res->invariants_broken);

	for (nid = 0; nid < cfg.nodes && cached(); nid++)
		dmap_cache_shrink(&r.nodes[nid], ~0UL, 0);
	if (pol == POL_COLLAPSE)
		dmap_collapse_exit(&r.dc);
	free(r.secret);
	free(r.anon);
	free(r.load_base);
	free(r.load_nr);
	free(r.load_pfns);
	free(r.ro_seen);
	sim_exit();
}

/* ---- output ---- */

/* How many times the limit; a policy at a limit of 0 is 1x when at 0 too */
static double ratio(double x, double limit)
{
	if (limit > 0)
		return x / limit;
	return x > 0 ? 1e9 : 1.0;
}

static void print_table(const struct trace *t, struct result *res, int n)
{
	const struct result *lim = &res[n - 1];
	int p;

	printf("\ntrace %s: %s; %lu operations, %lu GiB (%d nodes)\n",
	       t->name, t->what, t->nr_ops, cfg.gib_per_node * cfg.nodes,
	       cfg.nodes);
	printf("%-15s %9s %4s %10s %7s %10s %10s %8s %8s %11s %7s %6s\n",
	       "policy", "PMD split", "PUD", "4K MiB avg", "x limit",
	       "4K MiB max", "4K MiB end", "1G split", "idle MiB",
	       "TLB flushes", "gap %", "Mops/s");
	for (p = 0; p < n; p++)
		printf("%-15s %9lu %4lu %10.1f %7.2f %10.1f %10.1f %8.1f %8.1f %11lu %7.3f %6.1f\n",
		       policy_what[res[p].policy], res[p].s.pmd_splits,
		       res[p].s.pud_splits, res[p].avg_4k_mib,
		       ratio(res[p].avg_4k_mib, res[p].lim_4k_mib),
		       res[p].peak_4k_mib, res[p].end_4k_mib,
		       res[p].avg_1g_split, res[p].avg_idle_mib,
		       res[p].s.flushes, res[p].gap_pct,
		       res[p].ops / res[p].seconds / 1e6);
	printf("%-15s %9lu %4s %10.1f %7.2f %10s %10.1f %8.1f %8.1f %11lu %7.3f\n",
	       "limit", lim->lim_pmd_splits, "-", lim->lim_4k_mib, 1.0, "-",
	       0.0, lim->lim_1g_split, lim->lim_idle_mib, lim->lim_flushes,
	       0.0);
}

/* The figures "never worse than stock" and "near the limit" are about */
enum figure { FIG_PMD, FIG_PUD, FIG_4K_AVG, FIG_4K_PEAK, FIG_1G_AVG,
	      FIG_IDLE, FIG_FLUSHES, FIG_NR };

static const char * const figure_name[FIG_NR] = {
	"pmd_splits", "pud_splits", "mib_4k_avg", "mib_4k_peak",
	"split_1g_avg", "idle_mib_avg", "tlb_flushes",
};

static const char * const figure_what[FIG_NR] = {
	"PMD splits", "PUD splits", "4K MiB avg", "4K MiB max",
	"1G split avg", "idle MiB avg", "TLB flushes",
};

static double figure(const struct result *x, enum figure f)
{
	switch (f) {
	case FIG_PMD:		return x->s.pmd_splits;
	case FIG_PUD:		return x->s.pud_splits;
	case FIG_4K_AVG:	return x->avg_4k_mib;
	case FIG_4K_PEAK:	return x->peak_4k_mib;
	case FIG_1G_AVG:	return x->avg_1g_split;
	case FIG_IDLE:		return x->avg_idle_mib;
	default:		return x->s.flushes;
	}
}

/*
 * The limit of each figure: no policy does better on the same trace.  The
 * 4K peak's is the most 2M areas that held pages of both permissions at
 * once; PUD splits have none the simulator can compute (-1).
 */
static double figure_limit(const struct result *x, enum figure f)
{
	switch (f) {
	case FIG_PMD:		return x->lim_pmd_splits;
	case FIG_PUD:		return -1;
	case FIG_4K_AVG:	return x->lim_4k_mib;
	case FIG_4K_PEAK:	return x->lim_4k_peak_mib;
	case FIG_1G_AVG:	return x->lim_1g_split;
	case FIG_IDLE:		return x->lim_idle_mib;
	default:		return x->lim_flushes;
	}
}

/* directmap (cache+collapse) per figure: against stock and the limit */
static void print_figures(const struct result *res, int n)
{
	const struct result *st = &res[POL_STOCK], *dm = &res[n - 1];
	int f;

	printf("%-15s %12s %12s %12s %8s %8s\n", "figure", "stock",
	       policy_what[dm->policy], "limit", "x limit", "x stock");
	for (f = 0; f < FIG_NR; f++) {
		double d = figure(dm, f), s = figure(st, f);
		double l = figure_limit(dm, f);

		printf("%-15s %12.1f %12.1f ", figure_what[f], s, d);
		if (l < 0)
			printf("%12s %8s", "-", "-");
		else
			printf("%12.1f %8.2f", l, ratio(d, l));
		/* stock holds no memory idle: nothing to compare */
		if (f == FIG_IDLE)
			printf(" %8s\n", "-");
		else
			printf(" %8.2f%s\n", ratio(d, s),
			       d > s ? "  worse than stock" : "");
	}
	printf("collapse worker: %lu passes, %lu slept through while only 1G areas waited\n",
	       dm->passes, dm->slept);
}

static void json_result(FILE *f, const struct result *x, bool last)
{
	int fig;

	fprintf(f, "      {\"policy\": \"%s\", \"ops\": %lu, ",
		policy_name[x->policy], x->ops);
	fprintf(f, "\"seconds\": %.3f, \"pmd_splits\": %lu, ", x->seconds,
		x->s.pmd_splits);
	fprintf(f, "\"pud_splits\": %lu, \"pmd_collapses\": %lu, ",
		x->s.pud_splits, x->s.pmd_collapses);
	fprintf(f, "\"pud_collapses\": %lu, \"tlb_flushes\": %lu, ",
		x->s.pud_collapses, x->s.flushes);
	fprintf(f, "\"mib_4k_avg\": %.3f, \"mib_4k_peak\": %.3f, ",
		x->avg_4k_mib, x->peak_4k_mib);
	fprintf(f, "\"mib_4k_end\": %.3f, \"split_1g_avg\": %.3f, ",
		x->end_4k_mib, x->avg_1g_split);
	fprintf(f, "\"split_1g_end\": %.0f, \"idle_mib_avg\": %.3f, ",
		x->end_1g_split, x->avg_idle_mib);
	fprintf(f, "\"held_mib_peak\": %.3f, \"fallbacks\": %lu, ",
		x->peak_held_mib, x->fallbacks);
	fprintf(f, "\"alloc_failures\": %lu, \"shrinks\": %lu, ",
		x->alloc_failures, x->shrinks);
	fprintf(f, "\"worker_passes\": %lu, \"worker_slept\": %lu, ",
		x->passes, x->slept);
	fprintf(f, "\"gap_pct\": %.4f, \"times_limit\": %.4f, ", x->gap_pct,
		ratio(x->avg_4k_mib, x->lim_4k_mib));
	fprintf(f, "\"invariants_broken\": %lu,\n", x->invariants_broken);
	fprintf(f, "       \"times_limit_by_figure\": {");
	for (fig = 0; fig < FIG_NR; fig++) {
		double l = figure_limit(x, fig);

		fprintf(f, "%s\"%s\": ", fig ? ", " : "", figure_name[fig]);
		if (l < 0)
			fprintf(f, "null");
		else
			fprintf(f, "%.4f", ratio(figure(x, fig), l));
	}
	fprintf(f, "},\n");
	fprintf(f, "       \"limit\": {\"pmd_splits\": %lu, ",
		x->lim_pmd_splits);
	fprintf(f, "\"mib_4k_avg\": %.3f, \"split_1g_avg\": %.3f, ",
		x->lim_4k_mib, x->lim_1g_split);
	fprintf(f, "\"idle_mib_avg\": %.3f, \"mib_4k_peak\": %.3f, ",
		x->lim_idle_mib, x->lim_4k_peak_mib);
	fprintf(f, "\"tlb_flushes\": %lu}}%s\n", x->lim_flushes,
		last ? "" : ",");
}

static void write_csv(const char *dir, const struct trace *t,
		      const struct result *res, int n)
{
	char path[4096];
	unsigned int s;
	FILE *f;
	int p;

	snprintf(path, sizeof(path), "%s/sim-%s.csv", dir, t->name);
	f = fopen(path, "w");
	if (!f)
		die("cannot write the CSV file");
	fprintf(f, "# op");
	for (p = 0; p < n; p++)
		fprintf(f, " %s", policy_name[res[p].policy]);
	fprintf(f, " limit\n");
	for (s = 0; s < res[0].nr_samples; s++) {
		fprintf(f, "%lu", res[0].samples[s].op);
		for (p = 0; p < n; p++)
			fprintf(f, " %.1f", res[p].samples[s].mib_4k);
		fprintf(f, " %.1f\n", res[n - 1].samples[s].limit_4k);
	}
	fclose(f);
}

static const char * const help[] = {
	"Usage: dmsim [options]",
	"Replay allocation traces over a simulated direct map through the stock,",
	"mainline and directmap policies; print a table, and optionally JSON and",
	"per-trace CSV of 4K-mapped memory over time.",
	"  -g, --gib-per-node N   GiB of direct map per node (default 256)",
	"  -n, --nodes N          NUMA nodes, at most 16 (default 4)",
	"  -o, --ops N            operations per generated trace (default 10^7)",
	"  -s, --seed N           seed of the generators (default 1)",
	"  -t, --trace NAME       generate only this trace (repeatable)",
	"  -r, --read FILE        replay a trace file instead (see trace.c);",
	"                         repeatable, up to 16",
	"  -w, --write DIR        also write each trace to DIR/NAME.trace",
	"  -j, --json FILE        write the results as JSON",
	"  -c, --csv DIR          write DIR/sim-NAME.csv for plotting",
	"  -p, --period N         steps between collapse passes (default 20000)",
	"  -i, --release-idle N   steps an empty region nobody takes is kept,",
	"                         0 for good (default 500000: 5 s)",
	"  -b, --backoff N        collapse_backoff_passes (default the kernel's)",
	"  -I, --idle-passes N    collapse_idle_passes (default the kernel's)",
	"  -k, --check N          recount every invariant every N steps",
	"  -h, --help             this text",
	"traces:",
};

static void print_help(FILE *f)
{
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(help); k++)
		fprintf(f, "%s\n", help[k]);
	for (k = 0; k < nr_trace_kinds; k++)
		fprintf(f, "  %-10s %s\n", trace_kinds[k].name,
			trace_kinds[k].what);
}

/* A trace file's name without its directory and ".trace", in @buf */
static const char *trace_name(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n;

	snprintf(buf, size, "%s", base ? base + 1 : path);
	n = strlen(buf);
	if (n > 6 && !strcmp(buf + n - 6, ".trace"))
		buf[n - 6] = 0;
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gib-per-node", 1, NULL, 'g' }, { "nodes", 1, NULL, 'n' },
		{ "ops", 1, NULL, 'o' }, { "seed", 1, NULL, 's' },
		{ "trace", 1, NULL, 't' }, { "read", 1, NULL, 'r' },
		{ "write", 1, NULL, 'w' }, { "json", 1, NULL, 'j' },
		{ "csv", 1, NULL, 'c' }, { "period", 1, NULL, 'p' },
		{ "check", 1, NULL, 'k' }, { "help", 0, NULL, 'h' },
		{ "release-idle", 1, NULL, 'i' }, { "backoff", 1, NULL, 'b' },
		{ "idle-passes", 1, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	const char *json = NULL, *csv = NULL, *wdir = NULL;
	const char *rfiles[MAX_READ];
	unsigned int nr_rfiles = 0;
	bool want[16] = { false }, any = false;
	unsigned long broken = 0;
	struct result *res;
	FILE *jf = NULL;
	unsigned int k;
	int c, p, first = 1;

	while ((c = getopt_long(argc, argv, "g:n:o:s:t:r:w:j:c:p:k:i:b:I:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'g':
			cfg.gib_per_node = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			cfg.nodes = atoi(optarg);
			break;
		case 'o':
			cfg.ops = strtoul(optarg, NULL, 0);
			break;
		case 's':
			cfg.seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			if (nr_rfiles == MAX_READ)
				die("too many trace files");
			rfiles[nr_rfiles++] = optarg;
			break;
		case 'w':
			wdir = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'p':
			cfg.period = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			cfg.check_every = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			cfg.release_idle = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			cfg.backoff = strtoul(optarg, NULL, 0);
			break;
		case 'I':
			cfg.idle = strtoul(optarg, NULL, 0);
			break;
		case 't':
			for (k = 0; k < nr_trace_kinds; k++)
				if (!strcmp(optarg, trace_kinds[k].name))
					break;
			if (k == nr_trace_kinds) {
				fprintf(stderr, "dmsim: no trace '%s'\n", optarg);
				print_help(stderr);
				return 2;
			}
			want[k] = true;
			any = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		default:
			print_help(stderr);
			return 2;
		}
	}
	if (cfg.nodes < 1 || cfg.nodes > MAX_NODES || !cfg.gib_per_node ||
	    !cfg.ops || !cfg.period || optind != argc) {
		print_help(stderr);
		return 2;
	}
	res = zalloc(POL_NR, sizeof(*res));
	if (json) {
		jf = fopen(json, "w");
		if (!jf)
			die("cannot write the JSON file");
		fprintf(jf, "{\"gib_per_node\": %lu, \"nodes\": %d, ",
			cfg.gib_per_node, cfg.nodes);
		fprintf(jf, "\"period\": %lu, \"batch\": %lu, ", cfg.period,
			cfg.batch);
		fprintf(jf, "\"seed\": %llu,\n \"traces\": [\n",
			(unsigned long long)cfg.seed);
	}

	for (k = 0; k < (nr_rfiles ?: nr_trace_kinds); k++) {
		char name[256];
		struct trace t;

		if (nr_rfiles) {
			const char *rfile = rfiles[k];
			FILE *f = fopen(rfile, "r");

			if (!f)
				die("cannot open the trace file");
			trace_init(&t, trace_name(rfile, name, sizeof(name)),
				   "recorded", 0);
			c = trace_read(&t, f, rfile);
			fclose(f);
			if (c) {
				trace_free(&t);
				free(res);
				return 2;
			}
			if (t.nodes > cfg.nodes)
				die("the trace has more nodes than the machine");
		} else {
			if (any && !want[k])
				continue;
			trace_init(&t, trace_kinds[k].name, trace_kinds[k].what,
				   cfg.nodes);
			trace_kinds[k].gen(&t, cfg.gib_per_node * cfg.nodes *
					   (SIM_PUD_PAGES), cfg.ops, cfg.seed);
		}
		if (wdir) {
			char path[4096];
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s.trace", wdir,
				 t.name);
			f = fopen(path, "w");
			if (!f || trace_write(&t, f) || fclose(f))
				die("cannot write the trace file");
		}
		for (p = 0; p < POL_NR; p++) {
			replay(&t, p, &res[p]);
			broken += res[p].invariants_broken;
		}
		print_table(&t, res, POL_NR);
		print_figures(res, POL_NR);
		if (csv)
			write_csv(csv, &t, res, POL_NR);
		if (jf) {
			fprintf(jf, "%s  {\"name\": \"%s\", \"ops\": %lu, \"runs\": [\n",
				first ? "" : ",\n", t.name, t.nr_ops);
			for (p = 0; p < POL_NR; p++)
				json_result(jf, &res[p], p == POL_NR - 1);
			fprintf(jf, "  ]}");
			first = 0;
		}
		trace_free(&t);
	}
	if (jf) {
		fprintf(jf, "\n]}\n");
		fclose(jf);
	}
	free(res);
	if (broken)
		fprintf(stderr, "dmsim: %lu invariants broken\n", broken);
	return broken ? 1 : 0;
}
