// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of mm/directmap/collapse.c, the real collapse policy, over a
 * model of the direct map's 2M and 1G areas.  Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>

#include <linux/errno.h>

#include "policy.h"
#include "tap.h"

#define GIB		4
#define NR_PMDS		(GIB * 512UL)

/* What the 4K entries under a 2M area look like */
enum area_state {
	AREA_LARGE,		/* one 2M entry (or under a 1G one) */
	AREA_UNIFORM,		/* a table of alike present entries */
	AREA_MIXED,		/* a table of entries that differ */
	AREA_ABSENT,		/* a table of entries all not present */
};

static struct {
	enum area_state area[NR_PMDS];
	bool owned[NR_PMDS];
	bool pud_large[GIB];
	unsigned long pmd_calls, pud_calls;
	unsigned long batches, outside;	/* begun; calls outside a batch */
	bool in_batch;
	int busy_next;		/* fail this many calls with -EBUSY */
	long busy_area;		/* and every try of this 2M area, if >= 0 */
	int alloc_fail_nth;	/* fail the nth bitmap_zalloc() */
	int allocs_out;
} m;

static struct dmap_collapse dc;

unsigned long *bitmap_zalloc(unsigned int nbits, gfp_t flags)
{
	if (m.alloc_fail_nth && !--m.alloc_fail_nth)
		return NULL;
	m.allocs_out++;
	return calloc(BITS_TO_LONGS(nbits), sizeof(unsigned long));
}

void bitmap_free(const unsigned long *map)
{
	if (map)
		m.allocs_out--;
	free((void *)map);
}

int dmap_env_collapse_pmd(unsigned long pfn, bool not_present)
{
	unsigned long a = pfn >> DMAP_REGION_ORDER;

	m.pmd_calls++;
	m.outside += !m.in_batch;
	if (m.busy_next) {
		m.busy_next--;
		return -EBUSY;
	}
	if (m.busy_area == (long)a)
		return -EBUSY;
	switch (m.area[a]) {
	case AREA_LARGE:
		return 0;
	case AREA_UNIFORM:
		m.area[a] = AREA_LARGE;
		return 1;
	case AREA_ABSENT:
		if (!not_present)
			return -EAGAIN;
		m.area[a] = AREA_LARGE;
		return 1;
	default:
		return -EAGAIN;
	}
}

int dmap_env_collapse_pud(unsigned long pfn)
{
	unsigned long g = pfn >> DMAP_PUD_ORDER, a;

	m.pud_calls++;
	m.outside += !m.in_batch;
	if (m.pud_large[g])
		return 0;
	for (a = g * 512; a < (g + 1) * 512; a++)
		if (m.area[a] != AREA_LARGE)
			return -EAGAIN;
	m.pud_large[g] = true;
	return 1;
}

/* A batch nests in nothing and ends before the next begins */
void dmap_env_collapse_begin(void)
{
	CHECK(!m.in_batch);
	m.in_batch = true;
	m.batches++;
}

void dmap_env_collapse_end(void)
{
	CHECK(m.in_batch);
	m.in_batch = false;
}

bool dmap_env_area_owned(unsigned long pfn)
{
	return m.owned[pfn >> DMAP_REGION_ORDER];
}

static unsigned long pfn_of(unsigned long area)
{
	return area << DMAP_REGION_ORDER;
}

/* A CPA split under @area: the 1G over it splits, the 2M area too */
static void split(unsigned long area, enum area_state state)
{
	m.pud_large[area / 512] = false;
	m.area[area] = state;
	dmap_collapse_note(&dc, pfn_of(area), true);
	dmap_collapse_note(&dc, pfn_of(area), false);
}

static void setup(void)
{
	unsigned long g;

	memset(&m, 0, sizeof(m));
	m.busy_area = -1;
	for (g = 0; g < GIB; g++)
		m.pud_large[g] = true;
	if (dmap_collapse_init(&dc, NR_PMDS << DMAP_REGION_ORDER))
		abort();
}

static void teardown(void)
{
	dmap_collapse_exit(&dc);
	CHECK(m.allocs_out == 0);
}

/*
 * An area is tried only after a whole quiet period; its 1G area once
 * nothing changed for dc.idle passes, in the pass that finds it so
 */
static void test_aging(void)
{
	unsigned int i;

	split(700, AREA_UNIFORM);

	CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(m.pmd_calls == 0 && m.area[700] == AREA_UNIFORM);
	CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(m.area[700] == AREA_LARGE);
	CHECK(dc.stats.level2 == 1);
	CHECK(!m.pud_large[1] && m.pud_calls == 0);
	CHECK(dmap_collapse_waiting(&dc, false) == 0);
	CHECK(dmap_collapse_waiting(&dc, true) == 1);
	/* the second pass was the first quiet one: dc.idle - 2 more */
	for (i = 0; i < dc.idle - 2; i++)
		CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(!m.pud_large[1] && m.pud_calls == 0);
	CHECK(!dmap_collapse_pass(&dc, 100, false));
	CHECK(m.pud_large[1] && dc.stats.level3 == 1);
	CHECK(m.pud_calls == 1);
	CHECK(dmap_collapse_waiting(&dc, true) == 0);
}

/* An area that keeps changing is left alone until it is quiet */
static void test_hysteresis(void)
{
	int i;

	split(5, AREA_UNIFORM);
	for (i = 0; i < 10; i++) {
		dmap_collapse_note(&dc, pfn_of(5) + i, false);
		dmap_collapse_pass(&dc, 100, false);
		CHECK(m.area[5] == AREA_UNIFORM);
	}
	CHECK(m.pmd_calls == 0);
	dmap_collapse_pass(&dc, 100, false);
	CHECK(m.area[5] == AREA_LARGE && m.pmd_calls == 1);
}

/* set_memory_4k() areas are never tried, by a pass or by a range */
static void test_pinned(void)
{
	dmap_collapse_pin(&dc, pfn_of(9) + 3, 1);
	split(9, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[9] == AREA_UNIFORM && m.pmd_calls == 0);
	CHECK(dc.stats.pinned == 1);
	CHECK(dmap_collapse_range(&dc, pfn_of(9), 512, true) == -EAGAIN);
	CHECK(m.area[9] == AREA_UNIFORM && m.pmd_calls == 0);
	/* a pin across a boundary pins both areas */
	dmap_collapse_pin(&dc, pfn_of(11) - 1, 2);
	split(10, AREA_UNIFORM);
	split(11, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[10] == AREA_UNIFORM && m.area[11] == AREA_UNIFORM);
	/* memory that went offline forgets its pins */
	dmap_collapse_unpin(&dc, pfn_of(10), 2 * 512);
	split(10, AREA_UNIFORM);
	split(11, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[10] == AREA_LARGE && m.area[11] == AREA_LARGE);
	CHECK(m.area[9] == AREA_UNIFORM);
}

/* The batch bounds a pass; quiet areas left over go first next time */
static void test_budget(void)
{
	unsigned long a;

	for (a = 100; a < 110; a++)
		split(a, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 3, false);
	CHECK(m.pmd_calls == 0);
	CHECK(dmap_collapse_pass(&dc, 3, false));
	CHECK(m.pmd_calls == 3 && dc.stats.level2 == 3);
	/* the rest was quiet already: no extra period */
	dmap_collapse_pass(&dc, 3, false);
	dmap_collapse_pass(&dc, 3, false);
	CHECK(m.pmd_calls == 9);
	dmap_collapse_pass(&dc, 3, false);
	CHECK(dc.stats.level2 == 10);
	for (a = 100; a < 110; a++)
		CHECK(m.area[a] == AREA_LARGE);
}

/* A contended lock puts the try off; the area is not lost */
static void test_busy(void)
{
	split(20, AREA_UNIFORM);
	m.busy_next = 1;
	CHECK(dmap_collapse_pass(&dc, 100, true));
	CHECK(dc.stats.busy == 1 && m.area[20] == AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, false);
	dmap_collapse_pass(&dc, 100, false);
	CHECK(m.area[20] == AREA_LARGE);
}

/*
 * A lock contended on every try of one area is no change of the direct
 * map: the other 1G areas still re-form once it is idle, and the
 * contended one after the contention
 */
static void test_busy_is_no_change(void)
{
	unsigned int i;

	split(800, AREA_UNIFORM);
	split(1600, AREA_UNIFORM);
	m.busy_area = 800;
	for (i = 0; i < dc.idle + 4; i++)
		dmap_collapse_pass(&dc, 100, false);
	CHECK(m.area[1600] == AREA_LARGE && m.pud_large[3]);
	CHECK(m.area[800] == AREA_UNIFORM && !m.pud_large[1]);
	CHECK(dc.stats.busy >= dc.idle && dc.stats.idle >= 1);
	m.busy_area = -1;
	CHECK(!dmap_collapse_pass(&dc, 100, false));
	CHECK(m.area[800] == AREA_LARGE && m.pud_large[1]);
	CHECK(dmap_collapse_waiting(&dc, false) == 0 &&
	      dmap_collapse_waiting(&dc, true) == 0);
}

/* Entries that differ are dropped until the next change marks them */
static void test_mixed(void)
{
	split(30, AREA_MIXED);
	CHECK(!dmap_collapse_pass(&dc, 100, true));
	CHECK(dc.stats.not_uniform >= 1 && m.area[30] == AREA_MIXED);
	CHECK(dmap_collapse_waiting(&dc, false) == 0);
	m.area[30] = AREA_UNIFORM;
	dmap_collapse_note(&dc, pfn_of(30), false);
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[30] == AREA_LARGE);
}

/* Absent tables become one absent entry only where directmap owns all */
static void test_absent(void)
{
	split(40, AREA_ABSENT);
	split(41, AREA_ABSENT);
	m.owned[41] = true;
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[40] == AREA_ABSENT && m.area[41] == AREA_LARGE);
}

/* Notes: once per area until a pass takes them; out of range ignored */
static void test_note(void)
{
	CHECK(dmap_collapse_note(&dc, pfn_of(50), false));
	CHECK(!dmap_collapse_note(&dc, pfn_of(50) + 511, false));
	CHECK(dmap_collapse_note(&dc, pfn_of(51), false));
	CHECK(!dmap_collapse_note(&dc, pfn_of(NR_PMDS), false));
	CHECK(!dmap_collapse_note(&dc, pfn_of(NR_PMDS) << 9, true));
	CHECK(dmap_collapse_waiting(&dc, false) == 2);
	dmap_collapse_pin(&dc, pfn_of(NR_PMDS - 1), 4096);
	CHECK(dmap_collapse_waiting(&dc, false) == 2);
}

/* The explicit call re-forms 2M then 1G at once, no aging */
static void test_range(void)
{
	unsigned long calls;

	m.pud_large[2] = false;
	m.area[1024 + 3] = AREA_UNIFORM;
	CHECK(dmap_collapse_range(&dc, pfn_of(1024 + 3), 512, true) == 0);
	CHECK(m.area[1024 + 3] == AREA_LARGE && m.pud_large[2]);
	CHECK(dc.stats.level2 == 1 && dc.stats.level3 == 1);
	/* already whole: nothing to do, no error */
	CHECK(dmap_collapse_range(&dc, pfn_of(1024), 1024, true) == 0);
	CHECK(dc.stats.level2 == 1 && dc.stats.level3 == 1);
	m.area[1030] = AREA_MIXED;
	m.pud_large[2] = false;
	CHECK(dmap_collapse_range(&dc, pfn_of(1030), 1, true) == -EAGAIN);
	m.busy_next = 1;
	CHECK(dmap_collapse_range(&dc, pfn_of(1030), 1, true) == -EBUSY);
	/* empty, past the end, wrapping: refused, nothing tried */
	calls = m.pmd_calls + m.pud_calls;
	CHECK(dmap_collapse_range(&dc, pfn_of(1030), 0, true) == -EINVAL);
	CHECK(dmap_collapse_range(&dc, pfn_of(NR_PMDS - 1), 513, true) == -EINVAL);
	CHECK(dmap_collapse_range(&dc, pfn_of(NR_PMDS), 1, true) == -EINVAL);
	CHECK(dmap_collapse_range(&dc, ~0UL, 2, true) == -EINVAL);
	CHECK(m.pmd_calls + m.pud_calls == calls);
	CHECK(dmap_collapse_range(&dc, pfn_of(NR_PMDS - 1), 512, true) == 0);
}

/*
 * A pass, and a range, is one batch for the architecture: every try
 * inside it, so that the TLBs may be invalidated once at its end
 */
static void test_batch(void)
{
	split(5, AREA_UNIFORM);
	split(6, AREA_UNIFORM);
	split(900, AREA_UNIFORM);
	CHECK(!dmap_collapse_pass(&dc, 100, true));
	CHECK(m.batches == 1 && !m.in_batch);
	CHECK(dc.stats.level2 == 3 && dc.stats.level3 == 2);
	m.area[7] = AREA_UNIFORM;
	m.pud_large[0] = false;
	CHECK(dmap_collapse_range(&dc, pfn_of(7), 1, true) == 0);
	CHECK(m.batches == 2 && !m.in_batch);
	CHECK(m.pmd_calls + m.pud_calls > 0 && m.outside == 0);
}

/* Passes until the next epoch ends with a pass */
static void pass_to_epoch(unsigned long *passes)
{
	do {
		dmap_collapse_pass(&dc, 100, false);
		(*passes)++;
	} while (dc.nr_passes % dc.backoff);
}

/*
 * A 2M area changed again after it was re-formed waits for a whole quiet
 * epoch from then on; the others keep the one-period hysteresis
 */
static void test_bounce_2m(void)
{
	unsigned long passes = 0;

	split(40, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, false);
	dmap_collapse_pass(&dc, 100, false);
	CHECK(m.area[40] == AREA_LARGE && dc.stats.bounced == 0);
	/* split again: it bounced */
	split(40, AREA_UNIFORM);
	split(41, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, false);
	CHECK(dc.stats.bounced == 1);
	dmap_collapse_pass(&dc, 100, false);
	CHECK(m.area[41] == AREA_LARGE);
	CHECK(m.area[40] == AREA_UNIFORM);
	CHECK(dmap_collapse_waiting(&dc, false) == 1);
	/* a change within the epoch puts it off to the end of the next */
	dmap_collapse_note(&dc, pfn_of(40), false);
	pass_to_epoch(&passes);
	CHECK(m.area[40] == AREA_UNIFORM);
	pass_to_epoch(&passes);
	CHECK(m.area[40] == AREA_LARGE);
	CHECK(passes > dc.backoff && passes <= 2 * dc.backoff);
	CHECK(dmap_collapse_waiting(&dc, false) == 0);
	/* the history stays: the next split waits for an epoch too */
	passes = 0;
	split(40, AREA_UNIFORM);
	pass_to_epoch(&passes);
	CHECK(dc.stats.bounced == 2);
	CHECK(m.area[40] == AREA_UNIFORM || passes == dc.backoff);
	pass_to_epoch(&passes);
	CHECK(m.area[40] == AREA_LARGE);
	/* a flush does not wait */
	split(40, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[40] == AREA_LARGE && dc.stats.bounced == 3);
	/*
	 * Due at the end of an epoch but left over by the budget, then
	 * changed again: it waits for the next epoch, not the next pass
	 */
	passes = 0;
	split(40, AREA_UNIFORM);
	pass_to_epoch(&passes);
	do {
		dmap_collapse_pass(&dc, dc.nr_passes % dc.backoff ==
				   dc.backoff - 1 ? 0 : 100, false);
	} while (dc.nr_passes % dc.backoff);
	CHECK(m.area[40] == AREA_UNIFORM && dc.stats.bounced == 4);
	CHECK(dmap_collapse_waiting(&dc, false) == 1);
	dmap_collapse_note(&dc, pfn_of(40), false);
	dmap_collapse_pass(&dc, 100, false);
	CHECK(m.area[40] == AREA_UNIFORM);
	pass_to_epoch(&passes);
	CHECK(m.area[40] == AREA_UNIFORM);
	pass_to_epoch(&passes);
	CHECK(m.area[40] == AREA_LARGE);
}

/*
 * 1G areas wait until no area was marked for dc.idle passes; then the
 * 1G areas and everything else waiting go at once
 */
static void test_pud_waits_for_idle(void)
{
	unsigned int i;

	split(600, AREA_UNIFORM);
	for (i = 0; i < 4 * dc.backoff; i++) {
		dmap_collapse_note(&dc, pfn_of(2000) + i, false);
		dmap_collapse_pass(&dc, 100, false);
	}
	/* the 2M area after a period, the 1G area not while others change */
	CHECK(m.area[600] == AREA_LARGE && !m.pud_large[1]);
	CHECK(dmap_collapse_waiting(&dc, true) == 1);
	CHECK(dc.stats.idle == 0);
	for (i = 0; i < dc.idle; i++) {
		CHECK(!m.pud_large[1]);
		dmap_collapse_pass(&dc, 100, false);
	}
	CHECK(m.pud_large[1] && dc.stats.idle == 1);
	CHECK(dmap_collapse_waiting(&dc, true) == 0);
	CHECK(dmap_collapse_waiting(&dc, false) == 0);
	/* a region given back: its 2M now, its 1G left to the worker */
	split(601, AREA_UNIFORM);
	CHECK(dmap_collapse_range(&dc, pfn_of(601), 512, false) == 0);
	CHECK(m.area[601] == AREA_LARGE && !m.pud_large[1]);
	CHECK(dmap_collapse_waiting(&dc, true) == 1);
	/* an explicit collapse of the 1G does not wait */
	CHECK(dmap_collapse_range(&dc, pfn_of(601), 512, true) == 0);
	CHECK(m.pud_large[1]);
	/* neither does a flush */
	split(602, AREA_UNIFORM);
	dmap_collapse_pass(&dc, 100, true);
	CHECK(m.area[602] == AREA_LARGE && m.pud_large[1]);
}

/*
 * While only 1G areas wait for idleness, the worker sleeps through the
 * passes dmap_collapse_idle_wait() names and skips them: the 1G area is
 * re-formed in the pass a polling worker would re-form it in.  Not while a
 * 2M area waits, nor once an area was marked.
 */
static void test_idle_wait(void)
{
	unsigned long k;

	split(700, AREA_UNIFORM);
	/* the 2M area waits a period */
	CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(dmap_collapse_idle_wait(&dc) == 0);
	CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(m.area[700] == AREA_LARGE && !m.pud_large[1]);
	/* as in test_aging: the second pass was the first quiet one */
	k = dmap_collapse_idle_wait(&dc);
	CHECK(k == dc.idle - 2);
	/* a mark: the next pass is not quiet, no sleeping through it */
	dmap_collapse_note(&dc, pfn_of(2000), false);
	CHECK(dmap_collapse_idle_wait(&dc) == 0);
	CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(dc.quiet == 0 && !m.pud_large[1]);
	/* a 2M area waits for its period: no sleeping either */
	CHECK(dmap_collapse_idle_wait(&dc) == 0);
	CHECK(dmap_collapse_pass(&dc, 100, false));
	CHECK(m.pud_calls == 0);
	k = dmap_collapse_idle_wait(&dc);
	CHECK(k == dc.idle - 2);
	/* slept through: the next pass finds the direct map idle */
	dmap_collapse_skip(&dc, k);
	CHECK(dc.stats.slept == k && !m.pud_large[1]);
	CHECK(!dmap_collapse_pass(&dc, 100, false));
	CHECK(m.pud_large[1] && m.pud_calls == 1 && dc.stats.idle == 1);
	CHECK(dc.stats.passes + dc.stats.slept == 4 + dc.idle - 2 + 1);
	/* nothing waits: nothing to sleep through either */
	CHECK(dmap_collapse_idle_wait(&dc) == 0);
}

/* Each allocation of init can fail; nothing leaks */
static void test_init_enomem(void)
{
	struct dmap_collapse other;
	int nth;

	for (nth = 1; nth <= 9; nth++) {
		m.alloc_fail_nth = nth;
		CHECK(dmap_collapse_init(&other, 1UL << 30) == -ENOMEM);
	}
	m.alloc_fail_nth = 0;
	CHECK(m.allocs_out == 9);	/* only dc's own bitmaps */
}

static void run(const char *name, void (*fn)(void))
{
	tap_run(name, fn, setup, teardown);
}

int main(void)
{
	printf("TAP version 13\n1..15\n");
	run("collapse_aging", test_aging);
	run("collapse_hysteresis", test_hysteresis);
	run("collapse_pinned", test_pinned);
	run("collapse_budget", test_budget);
	run("collapse_busy_retried", test_busy);
	run("collapse_mixed_dropped", test_mixed);
	run("collapse_absent_owned_only", test_absent);
	run("collapse_note", test_note);
	run("collapse_range", test_range);
	run("collapse_one_batch", test_batch);
	run("collapse_bounce_2m_waits_an_epoch", test_bounce_2m);
	run("collapse_pud_waits_for_idle", test_pud_waits_for_idle);
	run("collapse_busy_is_no_change", test_busy_is_no_change);
	run("collapse_init_enomem", test_init_enomem);
	run("collapse_sleeps_until_idle", test_idle_wait);
	printf("# %d passed, %d failed\n", test_nr - test_failed, test_failed);
	return test_failed ? 1 : 0;
}
