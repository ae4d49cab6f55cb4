/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a directmap KUnit case needs of the machine it runs on: where that
 * is missing, the case is skipped with the reason, as kfence_test does,
 * rather than failed.  `make check` boots two CPUs on two NUMA nodes with
 * 1G pages, so nothing is skipped there.
 */
#ifndef _MM_DIRECTMAP_NEEDS_KUNIT_H
#define _MM_DIRECTMAP_NEEDS_KUNIT_H

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/directmap_arch.h>
#include <linux/nodemask.h>

#include "../differ.h"

static inline void dmap_test_need_cpus(struct kunit *test, unsigned int nr)
{
	if (num_online_cpus() < nr)
		kunit_skip(test, "needs %u CPUs online", nr);
}

static inline void dmap_test_need_nodes(struct kunit *test, unsigned int nr)
{
	if (num_node_state(N_MEMORY) < nr)
		kunit_skip(test, "needs %u NUMA nodes with memory", nr);
}

/* arm64 without BBML2_NOABORT keeps the linear map at 4K */
static inline void dmap_test_need_blocks(struct kunit *test)
{
	if (!dmap_test_blocks())
		kunit_skip(test, "the linear map has no blocks (no BBML2_NOABORT)");
}

/* A 2M or 4M block that a 1G entry maps, to split and re-form */
static inline void dmap_test_need_1g(struct kunit *test)
{
	if (!arch_directmap_pages(DIRECTMAP_LEVEL_1G))
		kunit_skip(test, "the direct map has no 1G entries");
}

#endif /* _MM_DIRECTMAP_NEEDS_KUNIT_H */
