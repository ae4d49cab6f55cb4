/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Allocation traces for the simulator: generated from a seed, or read from
 * a text file (one operation a line, see trace.c), and replayed the same
 * through every policy.
 */
#ifndef _DIRECTMAP_TRACE_H
#define _DIRECTMAP_TRACE_H

#include <stdint.h>
#include <stdio.h>

enum trace_type {
	T_SECRET_ALLOC,	/* a page that must leave the direct map */
	T_SECRET_FREE,
	T_ANON_ALLOC,	/* a page of anything else */
	T_ANON_FREE,
	T_RO,		/* load: @nr pages made read-only (set_memory_ro) */
	T_ROX,		/* the same through set_memory_rox() */
	T_RW,		/* unload: read-write again, pages freed */
	T_IDLE,		/* nothing happens for one step */
	T_NR,
};

/* @id names a page (secret, anon) or a load (ro/rox/rw) for its free */
struct trace_op {
	uint8_t		type;
	uint8_t		nid;
	uint16_t	nr;
	uint32_t	id;
};

struct trace {
	const char	*name;
	const char	*what;
	struct trace_op	*ops;
	unsigned long	nr_ops, cap;
	unsigned long	ids[T_NR];	/* ids used by each kind of alloc */
	unsigned long	load_pages;	/* pages over all loads */
	int		nodes;
};

/* Generators: about @nr_ops operations over @pages pages of @nodes nodes */
typedef void (*trace_gen_t)(struct trace *t, unsigned long pages,
			    unsigned long nr_ops, uint64_t seed);

struct trace_kind {
	const char	*name;
	const char	*what;
	trace_gen_t	gen;
};

extern const struct trace_kind trace_kinds[];
extern const unsigned int nr_trace_kinds;

void trace_init(struct trace *t, const char *name, const char *what,
		int nodes);
void trace_free(struct trace *t);
int trace_write(const struct trace *t, FILE *f);
/* 0, or -1 with a message naming the line that is wrong */
int trace_read(struct trace *t, FILE *f, const char *path);

#endif
