// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation traces for the simulator.
 *
 * Each generator writes the operations one workload makes of the page
 * allocator and of the direct map, from a seed, so that every policy
 * replays the same sequence.  Every trace ends with everything freed and
 * an idle tail, so the figures show what is repaired afterwards.
 *
 * The text format (trace_read(), trace_write()), one operation a line:
 *   nodes K		first line after comments: number of nodes
 *   a NID ID		secret page allocated on NID (memfd_secret, guest_memfd)
 *   f ID		secret page freed
 *   A NID ID		other page allocated
 *   F ID		other page freed
 *   r NID NR ID	NR pages allocated and made read-only (module, BPF)
 *   x NID NR ID	the same with set_memory_rox()
 *   w ID		those pages made read-write and freed
 *   i [N]		an idle step, or N of them (at most 10^7)
 * IDs are per kind (a/A/r+x) and below 2^32; '#' starts a comment.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "trace.h"

/*
 * Steps after the teardown: 50 periods, past the 25 that the caches keep
 * their empty regions and the 16 the worker waits before 1G areas
 */
#define IDLE_TAIL	1000000

static const char trace_letter[T_NR] = "afAFrxwi";

void trace_init(struct trace *t, const char *name, const char *what,
		int nodes)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->what = what;
	t->nodes = nodes;
}

void trace_free(struct trace *t)
{
	free(t->ops);
	t->ops = NULL;
	t->nr_ops = 0;
	t->cap = 0;
}

static void emit(struct trace *t, int type, int nid, unsigned int nr,
		 uint32_t id)
{
	if (t->nr_ops == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1 << 16;
		t->ops = realloc(t->ops, t->cap * sizeof(*t->ops));
		if (!t->ops) {
			perror("trace");
			exit(2);
		}
	}
	t->ops[t->nr_ops++] = (struct trace_op){ type, nid, nr, id };
}

/* ---- generators ---- */

struct gen {
	struct trace	*t;
	uint64_t	rng;
	unsigned long	pages;
	int		nodes;
	uint32_t	*anon;		/* live other pages */
	unsigned long	nr_anon, anon_max;
	uint32_t	*loads;		/* live loads */
	unsigned long	nr_loads;
};

#define MAX_LOADS	4096

static uint64_t rnd(struct gen *g)
{
	/* xorshift64*: fast, and the same on every machine */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned long below(struct gen *g, unsigned long n)
{
	return n ? rnd(g) % n : 0;
}

static void gen_init(struct gen *g, struct trace *t, unsigned long pages,
		     unsigned long anon_max, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->t = t;
	g->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	g->pages = pages;
	g->nodes = t->nodes;
	g->anon_max = anon_max;
	g->anon = calloc(anon_max + 1, sizeof(*g->anon));
	g->loads = calloc(MAX_LOADS, sizeof(*g->loads));
	if (!g->anon || !g->loads) {
		perror("trace");
		exit(2);
	}
}

static uint32_t new_id(struct trace *t, int type)
{
	return t->ids[type]++;
}

/* One step of the rest of the system: a page allocated or freed */
static void anon_step(struct gen *g)
{
	unsigned long k;

	if (g->nr_anon < g->anon_max && (!g->nr_anon || below(g, 2))) {
		g->anon[g->nr_anon] = new_id(g->t, T_ANON_ALLOC);
		emit(g->t, T_ANON_ALLOC, below(g, g->nodes), 1,
		     g->anon[g->nr_anon++]);
	} else if (g->nr_anon) {
		k = below(g, g->nr_anon);
		emit(g->t, T_ANON_FREE, 0, 1, g->anon[k]);
		g->anon[k] = g->anon[--g->nr_anon];
	}
}

/* A module or BPF program loaded or unloaded: set_memory_ro/rox/rw */
static void noise_step(struct gen *g, unsigned int max_pages)
{
	unsigned long k;
	unsigned int nr;
	int type;

	if (g->nr_loads < MAX_LOADS && (!g->nr_loads || below(g, 2))) {
		type = below(g, 2) ? T_ROX : T_RO;
		nr = 1 + below(g, max_pages);
		g->loads[g->nr_loads] = new_id(g->t, T_RO);
		g->t->load_pages += nr;
		emit(g->t, type, below(g, g->nodes), nr, g->loads[g->nr_loads++]);
	} else if (g->nr_loads) {
		k = below(g, g->nr_loads);
		emit(g->t, T_RW, 0, 0, g->loads[k]);
		g->loads[k] = g->loads[--g->nr_loads];
	}
}

/* What runs beside each step of a workload */
static void background(struct gen *g, unsigned int anon_in, unsigned int noise_in)
{
	if (anon_in && !below(g, anon_in))
		anon_step(g);
	if (noise_in && !below(g, noise_in))
		noise_step(g, 16);
}

/* Everything freed, then idle steps for the repair to show */
static void gen_teardown(struct gen *g)
{
	while (g->nr_anon)
		emit(g->t, T_ANON_FREE, 0, 1, g->anon[--g->nr_anon]);
	while (g->nr_loads)
		emit(g->t, T_RW, 0, 0, g->loads[--g->nr_loads]);
	for (unsigned long i = 0; i < IDLE_TAIL; i++)
		emit(g->t, T_IDLE, 0, 0, 0);
	free(g->anon);
	free(g->loads);
}

struct range {
	uint32_t	first;
	uint32_t	nr;
};

/* @size secret pages allocated on one node, one after the other */
static void alloc_range(struct gen *g, struct range *r, unsigned long size,
			unsigned int anon_in, unsigned int noise_in)
{
	int nid = below(g, g->nodes);

	r->first = g->t->ids[T_SECRET_ALLOC];
	r->nr = size;
	for (unsigned long i = 0; i < size; i++) {
		emit(g->t, T_SECRET_ALLOC, nid, 1, new_id(g->t, T_SECRET_ALLOC));
		background(g, anon_in, noise_in);
	}
}

static void free_range(struct gen *g, struct range *r, unsigned int anon_in)
{
	for (uint32_t i = 0; i < r->nr; i++) {
		emit(g->t, T_SECRET_FREE, 0, 1, r->first + i);
		background(g, anon_in, 1000);
	}
}

/* One of @nr ranges freed, picked at random; returns its size */
static unsigned long free_any_range(struct gen *g, struct range *rs,
				    unsigned long *nr, unsigned int anon_in)
{
	unsigned long k = below(g, *nr), size = rs[k].nr;

	free_range(g, &rs[k], anon_in);
	rs[k] = rs[--*nr];
	return size;
}

/*
 * memfd_secret churn: files of 1 to 2048 pages (sizes spread over powers
 * of two) created, faulted in page by page and closed, interleaved with
 * the rest of the system's allocations and a module load now and then.
 */
static void gen_secretmem(struct trace *t, unsigned long pages,
			  unsigned long nr_ops, uint64_t seed)
{
	unsigned long held = 0, held_max = pages / 64, nr_files = 0;
	struct range *files;
	struct gen g;

	if (held_max > nr_ops / 8)
		held_max = nr_ops / 8;
	gen_init(&g, t, pages, nr_ops / 16, seed);
	files = calloc(nr_ops / 2 + 1, sizeof(*files));
	while (t->nr_ops < nr_ops) {
		unsigned long size = 1 + below(&g, 1UL << (1 + below(&g, 11)));

		if (!nr_files || (held + size <= held_max && below(&g, 2))) {
			alloc_range(&g, &files[nr_files++], size, 2, 1000);
			held += size;
		} else {
			held -= free_any_range(&g, files, &nr_files, 2);
		}
	}
	while (nr_files)
		free_range(&g, &files[--nr_files], 2);
	free(files);
	gen_teardown(&g);
}

/*
 * Confidential VMs: guests of 1/1024 to 1/64 of memory populated page by
 * page through guest_memfd, run, and torn down, up to four at a time.
 */
static void gen_cvm(struct trace *t, unsigned long pages, unsigned long nr_ops,
		    uint64_t seed)
{
	unsigned long held = 0, nr_vms = 0;
	unsigned long vm_min = pages / 1024, vm_max = pages / 64;
	struct range vms[4];
	struct gen g;

	if (vm_max > nr_ops / 6)
		vm_max = nr_ops / 6;
	if (vm_min > vm_max / 2)
		vm_min = vm_max / 2;
	gen_init(&g, t, pages, nr_ops / 64, seed);
	while (t->nr_ops < nr_ops) {
		unsigned long size = vm_min + below(&g, vm_max - vm_min + 1);

		if (!nr_vms || (nr_vms < 4 && held + size <= pages / 8 &&
				below(&g, 2))) {
			alloc_range(&g, &vms[nr_vms++], size, 16, 2000);
			held += size;
		} else {
			held -= free_any_range(&g, vms, &nr_vms, 16);
		}
	}
	while (nr_vms)
		free_range(&g, &vms[--nr_vms], 16);
	gen_teardown(&g);
}

#define SHARED	0x80000000u	/* a gfn that is shared: its id is an anon one */

/*
 * guest_memfd conversions: one guest per node, populated private, then
 * runs of 1 to 512 gfns converted to shared (the private page freed, a
 * shared one allocated) and back, as guests do for bounce buffers.
 */
static void gen_convert(struct trace *t, unsigned long pages,
			unsigned long nr_ops, uint64_t seed)
{
	unsigned long vm = pages / 16 / t->nodes, gfn, end, i;
	uint32_t **gfns;
	struct gen g;
	int nid;

	if (vm > nr_ops / 4 / t->nodes)
		vm = nr_ops / 4 / t->nodes;
	if (!vm)
		vm = 1;
	gen_init(&g, t, pages, nr_ops / 64, seed);
	gfns = calloc(t->nodes, sizeof(*gfns));
	for (nid = 0; nid < t->nodes; nid++) {
		gfns[nid] = calloc(vm, sizeof(**gfns));
		for (i = 0; i < vm; i++) {
			gfns[nid][i] = new_id(t, T_SECRET_ALLOC);
			emit(t, T_SECRET_ALLOC, nid, 1, gfns[nid][i]);
			background(&g, 16, 2000);
		}
	}
	while (t->nr_ops < nr_ops) {
		bool to_shared = below(&g, 2);

		nid = below(&g, t->nodes);
		gfn = below(&g, vm);
		end = gfn + (1UL << below(&g, 10));
		if (end > vm)
			end = vm;
		for (; gfn < end; gfn++) {
			uint32_t *s = &gfns[nid][gfn];

			if (to_shared && !(*s & SHARED)) {
				emit(t, T_SECRET_FREE, 0, 1, *s);
				*s = new_id(t, T_ANON_ALLOC) | SHARED;
				emit(t, T_ANON_ALLOC, nid, 1, *s & ~SHARED);
			} else if (!to_shared && (*s & SHARED)) {
				emit(t, T_ANON_FREE, 0, 1, *s & ~SHARED);
				*s = new_id(t, T_SECRET_ALLOC);
				emit(t, T_SECRET_ALLOC, nid, 1, *s);
			}
			background(&g, 16, 2000);
		}
	}
	for (nid = 0; nid < t->nodes; nid++) {
		for (i = 0; i < vm; i++) {
			uint32_t s = gfns[nid][i];

			emit(t, s & SHARED ? T_ANON_FREE : T_SECRET_FREE, 0, 1,
			     s & ~SHARED);
		}
		free(gfns[nid]);
	}
	free(gfns);
	gen_teardown(&g);
}

/*
 * Module and BPF loads and unloads only: 1 to 64 pages made read-only
 * (half through set_memory_rox()), up to 4096 loaded at once, beside the
 * rest of the system's allocations.
 */
static void gen_noise(struct trace *t, unsigned long pages,
		      unsigned long nr_ops, uint64_t seed)
{
	struct gen g;

	gen_init(&g, t, pages, nr_ops / 16, seed);
	while (t->nr_ops < nr_ops) {
		noise_step(&g, 64);
		anon_step(&g);
	}
	gen_teardown(&g);
}

const struct trace_kind trace_kinds[] = {
	{ "secretmem", "memfd_secret churn, 1-2048 page files", gen_secretmem },
	{ "cvm", "confidential VMs populated and torn down", gen_cvm },
	{ "convert", "guest_memfd shared/private conversions", gen_convert },
	{ "ro-noise", "module/BPF set_memory_ro/rox/rw only", gen_noise },
};

const unsigned int nr_trace_kinds = ARRAY_SIZE(trace_kinds);

/* ---- the text format ---- */

int trace_write(const struct trace *t, FILE *f)
{
	const struct trace_op *op;

	fprintf(f, "# directmap trace: %s (%s)\nnodes %d\n", t->name, t->what,
		t->nodes);
	for (op = t->ops; op < t->ops + t->nr_ops; op++) {
		char c = trace_letter[op->type];

		switch (op->type) {
		case T_SECRET_ALLOC:
		case T_ANON_ALLOC:
			fprintf(f, "%c %u %u\n", c, op->nid, op->id);
			break;
		case T_RO:
		case T_ROX:
			fprintf(f, "%c %u %u %u\n", c, op->nid, op->nr, op->id);
			break;
		case T_IDLE: {
			const struct trace_op *end = op;

			/* runs of at most 10^7, as trace_read() takes them */
			while (end + 1 < t->ops + t->nr_ops &&
			       end[1].type == T_IDLE && end - op + 1 < 10000000)
				end++;
			if (end == op)
				fprintf(f, "i\n");
			else
				fprintf(f, "i %lu\n",
					(unsigned long)(end - op + 1));
			op = end;
			break;
		}
		default:
			fprintf(f, "%c %u\n", c, op->id);
		}
	}
	return ferror(f) ? -1 : 0;
}

int trace_read(struct trace *t, FILE *f, const char *path)
{
	unsigned long line = 0, nid, nr, id;
	char buf[256], c, *type;
	int n, id_kind;

	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		if (!t->nodes) {
			if (sscanf(buf, "nodes %d", &t->nodes) != 1 ||
			    t->nodes < 1 || t->nodes > 255)
				goto bad;
			continue;
		}
		c = buf[0];
		type = memchr(trace_letter, c, T_NR);
		if (!type || (buf[1] != ' ' && buf[1] != '\n'))
			goto bad;
		n = type - trace_letter;
		nid = 0;
		nr = 0;
		id = 0;
		switch (n) {
		case T_SECRET_ALLOC:
		case T_ANON_ALLOC:
			if (sscanf(buf + 1, "%lu %lu", &nid, &id) != 2)
				goto bad;
			nr = 1;
			break;
		case T_RO:
		case T_ROX:
			if (sscanf(buf + 1, "%lu %lu %lu", &nid, &nr, &id) != 3 ||
			    !nr || nr > 0xffff)
				goto bad;
			break;
		case T_IDLE:
			/* "i N": N idle steps */
			if (buf[1] == '\n')
				break;
			if (sscanf(buf + 1, "%lu%c", &nr, &c) != 2 || c != '\n' ||
			    !nr || nr > 10000000)
				goto bad;
			while (--nr)
				emit(t, n, 0, 0, 0);
			break;
		default:
			if (sscanf(buf + 1, "%lu", &id) != 1)
				goto bad;
		}
		if (nid >= (unsigned long)t->nodes || id > 0xfffffffeUL)
			goto bad;
		/* loads through set_memory_ro() and _rox() share their ids */
		id_kind = n == T_ROX ? T_RO : n;
		if ((id_kind == T_SECRET_ALLOC || id_kind == T_ANON_ALLOC ||
		     id_kind == T_RO) && id >= t->ids[id_kind])
			t->ids[id_kind] = id + 1;
		if (id_kind == T_RO)
			t->load_pages += nr;
		emit(t, n, nid, nr, id);
	}
	if (!t->nodes) {
		fprintf(stderr, "%s: no 'nodes' line\n", path);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "%s:%lu: not a trace operation: %s", path, line, buf);
	return -1;
}
