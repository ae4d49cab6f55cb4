// SPDX-License-Identifier: GPL-2.0
/*
 * gmemtest: guest_memfd with GUEST_MEMFD_FLAG_NO_DIRECT_MAP, in the guest.
 *
 * A KVM_X86_SW_PROTECTED_VM gets a 64 MiB guest_memfd whose private pages
 * come from directmap, absent from the direct map.  Ranges of it are
 * converted to shared and back with KVM_SET_MEMORY_ATTRIBUTES (the pages
 * stay absent: a shared gfn is backed by userspace memory in 6.12), a hole
 * is punched, and everything is closed with gfns still shared; after each
 * step the owners file (debugfs directmap/owners, whose "present" column
 * is the kernel reading each page through the direct map), /proc/vmstat
 * and the verifier must agree with what was done.  A guest_memfd without
 * the flag must leave directmap and the direct map alone.
 *
 * With directmap=off ("off") only what holds there is checked: the flag
 * is refused with EINVAL, as unknown flags are, and a guest_memfd
 * without the flag works as in a stock kernel.
 *
 * Prints TAP on stdout, the figures as "# " diagnostics, and exits 1 if a
 * check failed.
 *
 * usage: gmemtest on|off
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include <linux/types.h>

#include "guest.h"

#ifndef BIT
#define BIT(nr)		(1UL << (nr))
#endif
#ifndef BIT_ULL
#define BIT_ULL(nr)	(1ULL << (nr))
#endif

/*
 * Debian 12's uapi headers are from 6.1: what 6.12 added for guest_memfd,
 * with 6.12's values (include/uapi/linux/kvm.h, asm/kvm.h).
 */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif

#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD	BIT(2)
#endif

#ifndef KVM_SET_MEMORY_ATTRIBUTES
struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};

#define KVM_SET_MEMORY_ATTRIBUTES \
	_IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#endif

#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE	BIT_ULL(3)
#endif

#ifndef KVM_CREATE_GUEST_MEMFD
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};

#define KVM_CREATE_GUEST_MEMFD \
	_IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#endif

#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM	1
#endif

#ifndef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#define GUEST_MEMFD_FLAG_NO_DIRECT_MAP	BIT_ULL(2)
#endif

#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS	244
#endif

/* No flag of 6.12 nor of directmap */
#define GMEM_FLAG_UNKNOWN	BIT_ULL(5)

/* The ioctl numbers encode these sizes: a wrong layout would be refused */
static_assert(sizeof(struct kvm_userspace_memory_region2) == 160,
	      "kvm_userspace_memory_region2");
static_assert(sizeof(struct kvm_memory_attributes) == 32,
	      "kvm_memory_attributes");
static_assert(sizeof(struct kvm_create_guest_memfd) == 64,
	      "kvm_create_guest_memfd");

#define DEBUGFS		"/sys/kernel/debug/directmap/"
#define VMSTAT		"/proc/vmstat"
#define MEMINFO		"/proc/meminfo"
#define OWNER		"kvm-gmem"

#define REGION_PAGES	512UL		/* pages under one 2M entry */
#define GMEM_PAGES	16384UL		/* 64 MiB */
#define GMEM_GPA	(4UL << 30)
#define PLAIN_PAGES	1024UL
#define PLAIN_GPA	(8UL << 30)
#define UNBIND_GPA	(12UL << 30)

/* ---- TAP ---- */

static int tap_n, tap_failed;

/* Starts the result line of the next check: "ok N " or "not ok N " */
static bool tap_result(bool ok)
{
	tap_n++;
	tap_failed += !ok;
	printf("%sok %d ", ok ? "" : "not ", tap_n);
	return ok;
}

/* Macros, so that the compiler checks each format against its arguments */
#define check(ok, ...) ({			\
	bool __ok = tap_result(ok);		\
						\
	printf(__VA_ARGS__);			\
	putchar('\n');				\
	__ok;					\
})

#define bail(...) do {				\
	printf("Bail out! ");			\
	printf(__VA_ARGS__);			\
	putchar('\n');				\
	exit(1);				\
} while (0)

/* ---- counters ---- */

enum {
	SPLIT2, SPLIT3, COLLAPSE2, COLLAPSE3, ALLOC, FREE, SHARED, UNSHARED,
	DM4K, DM2M, DM1G, NR_COUNTERS
};

static const struct {
	const char *path, *key;
} counters[NR_COUNTERS] = {
	[SPLIT2]	= { VMSTAT, "direct_map_level2_splits" },
	[SPLIT3]	= { VMSTAT, "direct_map_level3_splits" },
	[COLLAPSE2]	= { VMSTAT, "direct_map_level2_collapses" },
	[COLLAPSE3]	= { VMSTAT, "direct_map_level3_collapses" },
	[ALLOC]		= { VMSTAT, "directmap_pages_alloc" },
	[FREE]		= { VMSTAT, "directmap_pages_free" },
	[SHARED]	= { VMSTAT, "directmap_pages_shared" },
	[UNSHARED]	= { VMSTAT, "directmap_pages_unshared" },
	[DM4K]		= { MEMINFO, "DirectMap4k" },
	[DM2M]		= { MEMINFO, "DirectMap2M" },
	[DM1G]		= { MEMINFO, "DirectMap1G" },
};

struct snap {
	long v[NR_COUNTERS];
};

static void snap(struct snap *s)
{
	int i;

	for (i = 0; i < NR_COUNTERS; i++)
		s->v[i] = read_key(counters[i].path, counters[i].key);
}

static long delta(const struct snap *a, const struct snap *b, int i)
{
	return b->v[i] - a->v[i];
}

/* The figures of one phase, for the closing note */
static void report(const char *phase, const struct snap *from,
		   const struct snap *s)
{
	printf("# %s: DirectMap4k %ld kB, 2M %ld kB, 1G %ld kB;", phase,
	       s->v[DM4K], s->v[DM2M], s->v[DM1G]);
	printf(" since start: 2M splits %ld, 2M collapses %ld, 1G splits %ld,",
	       delta(from, s, SPLIT2), delta(from, s, COLLAPSE2),
	       delta(from, s, SPLIT3));
	printf(" pages shared %ld, unshared %ld\n", delta(from, s, SHARED),
	       delta(from, s, UNSHARED));
}

/*
 * Wait until directmap is at rest: no page pending, the split and collapse
 * counters still for half a second (at most 10 s), so that what the
 * counters do next is this program's doing and the verifier is exact.
 */
static void settle(void)
{
	struct snap a, b;
	double t0 = now();
	int i;

	for (i = 0; i < 50 && dmap_sum("pending") > 0; i++)
		usleep(100000);
	snap(&b);
	do {
		a = b;
		usleep(500000);
		snap(&b);
	/* the splits and collapses, first in the snapshot */
	} while (memcmp(a.v, b.v, sizeof(long) * (COLLAPSE3 + 1)) &&
		 now() - t0 < 10.0);
}

/* ---- directmap/owners ---- */

struct owner {
	long pages, shared, present;
};

/*
 * kvm-gmem's figures, summed over its lines in case there is one per
 * guest_memfd.  Returns the number of its lines (a missing line reads as
 * zeros), or -1 if the file is missing or not in the documented form.
 */
static int owner_read_name(const char *name, struct owner *o)
{
	char line[256], w[4][32];
	long pages, shared, present;
	FILE *f = fopen(DEBUGFS "owners", "r");
	int lines = 0;

	memset(o, 0, sizeof(*o));
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "%31s %31s %31s %31s", w[0], w[1], w[2], w[3]) != 4 ||
	    strcmp(w[0], "owner") || strcmp(w[1], "pages") ||
	    strcmp(w[2], "shared") || strcmp(w[3], "present")) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %ld %ld %ld", w[0], &pages, &shared,
			   &present) != 4) {
			lines = -1;
			break;
		}
		if (strcmp(w[0], name))
			continue;
		o->pages += pages;
		o->shared += shared;
		o->present += present;
		lines++;
	}
	fclose(f);
	return lines;
}

static int owner_read(struct owner *o)
{
	return owner_read_name(OWNER, o);
}

/*
 * The same once kvm-gmem holds @pages: frees may end in a worker after the
 * syscall returns.  Gives up after 5 s and returns what it read last.
 */
static int owner_wait(struct owner *o, long pages)
{
	double t0 = now();
	int lines;

	for (;;) {
		lines = owner_read(o);
		if ((lines >= 0 && o->pages == pages) || now() - t0 > 5.0)
			return lines;
		usleep(20000);
	}
}

static bool owner_is(const struct owner *o, int lines, long pages,
		     long shared, long present)
{
	return lines >= 0 && o->pages == pages && o->shared == shared &&
	       o->present == present;
}

/* ---- KVM: each call returns an fd or 0, or -errno ---- */

static int conversions;

static int sys(int ret)
{
	return ret < 0 ? -errno : ret;
}

/* "0" or the error's name, for the checks' details */
static const char *err_str(int ret)
{
	return ret < 0 ? strerror(-ret) : "0";
}

static int gmem_create(int vm, unsigned long pages, __u64 flags)
{
	struct kvm_create_guest_memfd args = {
		.size	= pages * PAGE,
		.flags	= flags,
	};

	return sys(ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args));
}

/* Bind all of @fd as @slot at @gpa, with anonymous memory for shared */
static int gmem_bind(int vm, int fd, __u32 slot, __u64 gpa,
		     unsigned long pages)
{
	struct kvm_userspace_memory_region2 region = {
		.slot			= slot,
		.flags			= KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr	= gpa,
		.memory_size		= pages * PAGE,
		.guest_memfd_offset	= 0,
		.guest_memfd		= fd,
	};
	void *shared;

	shared = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -errno;
	region.userspace_addr = (unsigned long)shared;
	return sys(ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &region));
}

/* Make @nr pages from page @first of the slot at @gpa private or shared */
static int convert(int vm, __u64 gpa, unsigned long first, unsigned long nr,
		   bool private)
{
	struct kvm_memory_attributes attr = {
		.address	= gpa + first * PAGE,
		.size		= nr * PAGE,
		.attributes	= private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};
	int ret = sys(ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr));

	conversions += !ret;
	return ret;
}

/* Allocate ("fault in") pages of @fd, as guest_memfd knows no other way */
static int populate(int fd, unsigned long first, unsigned long nr)
{
	return sys(fallocate(fd, FALLOC_FL_KEEP_SIZE, first * PAGE,
			     nr * PAGE));
}

static int punch(int fd, unsigned long first, unsigned long nr)
{
	return sys(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     first * PAGE, nr * PAGE));
}

/* What a guest_memfd creation with @flags gives: 0 or -errno */
static int create_result(int vm, __u64 flags)
{
	int fd = gmem_create(vm, REGION_PAGES, flags);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* ---- ranges of the file, in pages ---- */

struct range {
	unsigned long first, nr;
};

/* Converted to shared and back: every shape a conversion can have */
static const struct range shared_ranges[] = {
	{ 5, 1 },				/* one page */
	{ REGION_PAGES + 100, 100 },		/* a run inside one 2M area */
	{ 2 * REGION_PAGES, REGION_PAGES },	/* a whole 2M area */
	{ 4 * REGION_PAGES - 64, 128 },		/* a run across a boundary */
};

/* Shared again before the hole is punched */
static const struct range again_ranges[] = {
	{ 8 * REGION_PAGES, 256 },
	{ 12000, 1 },
};

/* The second half of again_ranges[0], and private pages after it */
static const struct range hole = { 8 * REGION_PAGES + 128, 192 };

static unsigned long pages_of(const struct range *r, int n)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += r[i].nr;
	return sum;
}

/* 2M areas of the file that the ranges touch; they are sorted, disjoint */
static unsigned long areas_of(const struct range *r, int n)
{
	unsigned long sum = 0, last = -1UL, a;
	int i;

	for (i = 0; i < n; i++) {
		for (a = r[i].first / REGION_PAGES;
		     a <= (r[i].first + r[i].nr - 1) / REGION_PAGES; a++) {
			sum += a != last;
			last = a;
		}
	}
	return sum;
}

static unsigned long overlap(const struct range *a, const struct range *b)
{
	unsigned long lo = a->first > b->first ? a->first : b->first;
	unsigned long hi_a = a->first + a->nr, hi_b = b->first + b->nr;
	unsigned long hi = hi_a < hi_b ? hi_a : hi_b;

	return hi > lo ? hi - lo : 0;
}

/* One conversion per range: 0, or the first one's -errno */
static int convert_all(int vm, const struct range *r, int n, bool private)
{
	int i, ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = convert(vm, GMEM_GPA, r[i].first, r[i].nr, private);
	return ret;
}

/* ---- the tests ---- */

/*
 * A guest_memfd without the flag: stock KVM, in both boots.  Its pages are
 * ordinary ones, so neither directmap nor the direct map may see any of it.
 */
static void plain_gmem(int vm, bool on)
{
	const char *step = "create";
	int fd, ret, lines;
	struct snap a, b;
	struct owner o;

	snap(&a);
	fd = gmem_create(vm, PLAIN_PAGES, 0);
	ret = fd;
	if (fd < 0)
		goto out;
	step = "bind";
	ret = gmem_bind(vm, fd, 1, PLAIN_GPA, PLAIN_PAGES);
	if (ret)
		goto out;
	step = "private";
	ret = convert(vm, PLAIN_GPA, 0, PLAIN_PAGES, true);
	if (ret)
		goto out;
	step = "fallocate";
	ret = populate(fd, 0, PLAIN_PAGES);
	if (ret)
		goto out;
	step = "shared";
	ret = convert(vm, PLAIN_GPA, 0, REGION_PAGES, false);
	if (ret)
		goto out;
	step = "private again";
	ret = convert(vm, PLAIN_GPA, 0, REGION_PAGES, true);
	if (ret)
		goto out;
	step = "punch";
	ret = punch(fd, 0, REGION_PAGES / 2);
	if (ret)
		goto out;
	step = NULL;
out:
	/* while the file is open, pages allocated or not */
	lines = owner_read(&o);
	check(!step,
	      "no flag: guest_memfd of %lu pages created, bound, private, fallocated, shared and back, punched # %s%s%s",
	      PLAIN_PAGES, step ? step : "all done", step ? ": " : "",
	      step ? err_str(ret) : "");
	if (fd >= 0)
		close(fd);
	snap(&b);
	/* with directmap=off there may be no owners file: nothing is owned */
	if (!on && lines < 0) {
		lines = 0;
		o.pages = 0;
	}
	check(lines >= 0 && o.pages == 0 && delta(&a, &b, ALLOC) == 0 &&
	      delta(&a, &b, SHARED) == 0 && delta(&a, &b, UNSHARED) == 0 &&
	      delta(&a, &b, SPLIT2) == 0,
	      "no flag: nothing from directmap, nothing shared, no 2M split # kvm-gmem %ld pages while held (%d lines), pages_alloc +%ld, shared +%ld, unshared +%ld, 2M splits +%ld",
	      o.pages, lines, delta(&a, &b, ALLOC), delta(&a, &b, SHARED),
	      delta(&a, &b, UNSHARED), delta(&a, &b, SPLIT2));
}

/*
 * The flag, with directmap on: 64 MiB private, fallocated, ranges shared
 * and back, shared again, a hole punched, closed with gfns still shared.
 */
static void nodirectmap_gmem(int vm, const struct snap *start)
{
	const int nshared = ARRAY_SIZE(shared_ranges);
	const int nagain = ARRAY_SIZE(again_ranges);
	const unsigned long conv = pages_of(shared_ranges, nshared);
	const unsigned long again = pages_of(again_ranges, nagain);
	const unsigned long holed = overlap(&again_ranges[0], &hole) +
				    overlap(&again_ranges[1], &hole);
	long problems;
	struct snap a, b, c;
	struct owner o;
	int fd, ret, lines;

	fd = gmem_create(vm, GMEM_PAGES, GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
	if (!check(fd >= 0, "flag: guest_memfd of %lu pages created # %s",
		   GMEM_PAGES, fd >= 0 ? "fd" : err_str(fd)))
		bail("no guest_memfd with GUEST_MEMFD_FLAG_NO_DIRECT_MAP");
	ret = gmem_bind(vm, fd, 0, GMEM_GPA, GMEM_PAGES);
	if (!check(!ret,
		   "flag: bound as slot 0 at 4 GiB with KVM_SET_USER_MEMORY_REGION2 # %s",
		   err_str(ret)))
		bail("guest_memfd not bound");
	ret = convert(vm, GMEM_GPA, 0, GMEM_PAGES, true);
	if (!check(!ret, "flag: all of it set private # %s", err_str(ret)))
		bail("KVM_SET_MEMORY_ATTRIBUTES refused");

	/* Private pages come from directmap's regions: no 2M split */
	snap(&a);
	ret = populate(fd, 0, GMEM_PAGES);
	if (!check(!ret, "flag: fallocate of all %lu pages # %s", GMEM_PAGES,
		   err_str(ret)))
		bail("fallocate refused");
	lines = owner_wait(&o, GMEM_PAGES);
	snap(&b);
	report("fallocated", start, &b);
	check(owner_is(&o, lines, GMEM_PAGES, 0, 0),
	      "flag: owners: kvm-gmem holds %lu pages, none shared, none readable through the direct map # pages %ld shared %ld present %ld (%d lines)",
	      GMEM_PAGES, o.pages, o.shared, o.present, lines);
	check(delta(&a, &b, ALLOC) >= (long)GMEM_PAGES,
	      "flag: the pages were handed out by directmap # pages_alloc +%ld",
	      delta(&a, &b, ALLOC));
	check(delta(&a, &b, SPLIT2) == 0,
	      "flag: no 2M split for %lu private pages # 2M splits +%ld",
	      GMEM_PAGES, delta(&a, &b, SPLIT2));

	/*
	 * Shared: a shared gfn is backed by the memslot's userspace memory,
	 * not by guest_memfd, so its page, which still holds private data,
	 * stays absent: nothing maps it, nothing splits
	 */
	ret = convert_all(vm, shared_ranges, nshared, false);
	check(!ret,
	      "flag: %d ranges (%lu pages, %lu 2M areas of the file) converted to shared # %s",
	      nshared, conv, areas_of(shared_ranges, nshared), err_str(ret));
	lines = owner_wait(&o, GMEM_PAGES);
	snap(&c);
	report("shared", start, &c);
	check(owner_is(&o, lines, GMEM_PAGES, 0, 0),
	      "flag: owners: the %lu converted pages stay absent, none readable # pages %ld shared %ld present %ld",
	      conv, o.pages, o.shared, o.present);
	check(delta(&b, &c, SHARED) == 0 && delta(&b, &c, SPLIT2) == 0,
	      "flag: converting to shared mapped and split nothing # shared +%ld, 2M splits +%ld",
	      delta(&b, &c, SHARED), delta(&b, &c, SPLIT2));
	problems = read_key(DEBUGFS "verify", "problems");
	check(problems == 0,
	      "flag: verifier: no problem after the conversion # problems %ld",
	      problems);

	/* Private again: nothing to take out */
	ret = convert_all(vm, shared_ranges, nshared, true);
	check(!ret, "flag: the %d ranges converted back to private # %s",
	      nshared, err_str(ret));
	lines = owner_wait(&o, GMEM_PAGES);
	snap(&b);
	report("private again", start, &b);
	check(owner_is(&o, lines, GMEM_PAGES, 0, 0) &&
	      delta(&c, &b, UNSHARED) == 0,
	      "flag: owners: nothing shared, nothing readable, nothing unshared # pages %ld shared %ld present %ld, unshared +%ld",
	      o.pages, o.shared, o.present, delta(&c, &b, UNSHARED));

	/* Shared again, then a hole over shared and private gfns */
	ret = convert_all(vm, again_ranges, nagain, false);
	lines = owner_wait(&o, GMEM_PAGES);
	check(!ret && owner_is(&o, lines, GMEM_PAGES, 0, 0),
	      "flag: %lu pages shared again, none readable # %s, pages %ld shared %ld present %ld",
	      again, err_str(ret), o.pages, o.shared, o.present);
	snap(&b);
	ret = punch(fd, hole.first, hole.nr);
	check(!ret,
	      "flag: hole punched over %lu pages, %lu of them of shared gfns # %s",
	      hole.nr, holed, err_str(ret));
	lines = owner_wait(&o, GMEM_PAGES - hole.nr);
	snap(&c);
	report("punched", start, &c);
	check(owner_is(&o, lines, GMEM_PAGES - hole.nr, 0, 0),
	      "flag: owners: %lu pages left, none readable # pages %ld shared %ld present %ld",
	      GMEM_PAGES - hole.nr, o.pages, o.shared, o.present);
	check(delta(&b, &c, FREE) == (long)hole.nr,
	      "flag: the hole's pages were freed # pages_free +%ld",
	      delta(&b, &c, FREE));

	/* Closed with gfns still shared: main() checks that all went back */
	close(fd);
}

/*
 * Nor does a memslot whose gfns are shared map its pages, before or after
 * it is deleted.  The pages stay in the file until close.
 */
static void unbind_keeps_absent(int vm)
{
	struct kvm_userspace_memory_region2 gone = {
		.slot = 2, .flags = KVM_MEM_GUEST_MEMFD,
	};
	const char *step = "create";
	struct owner o;
	int fd, ret, lines;

	fd = gmem_create(vm, PLAIN_PAGES, GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
	ret = fd < 0 ? fd : 0;
	if (!ret) {
		step = "bind";
		ret = gmem_bind(vm, fd, 2, UNBIND_GPA, PLAIN_PAGES);
	}
	if (!ret) {
		step = "private";
		ret = convert(vm, UNBIND_GPA, 0, PLAIN_PAGES, true);
	}
	if (!ret) {
		step = "fallocate";
		ret = populate(fd, 0, PLAIN_PAGES);
	}
	if (!ret) {
		step = "shared";
		ret = convert(vm, UNBIND_GPA, 0, 100, false);
	}
	lines = owner_wait(&o, PLAIN_PAGES);
	check(!ret && owner_is(&o, lines, PLAIN_PAGES, 0, 0),
	      "unbind: 100 of %lu gfns shared in a second guest_memfd, no page readable # %s: %s, pages %ld shared %ld present %ld",
	      PLAIN_PAGES, step, err_str(ret), o.pages, o.shared, o.present);

	/* memory_size 0 deletes the slot */
	ret = sys(ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &gone));
	lines = owner_read(&o);
	check(!ret && owner_is(&o, lines, PLAIN_PAGES, 0, 0),
	      "unbind: the memslot deleted, its pages are kept and none is readable # %s, pages %ld shared %ld present %ld",
	      err_str(ret), o.pages, o.shared, o.present);
	if (fd >= 0)
		close(fd);
}

/*
 * Each guest_memfd is an owner of its own: one line in the owners file
 * while it is open, gone when it is closed, so that one file's pages and
 * lock are never another's.
 */
static void owner_per_file(int vm)
{
	int fd[2], lines[3], ret = 0, i;
	struct owner o[3];

	for (i = 0; i < 2; i++) {
		fd[i] = gmem_create(vm, PLAIN_PAGES,
				    GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
		if (fd[i] < 0 && !ret)
			ret = fd[i];
		else if (!ret)
			ret = populate(fd[i], 0, 10 * (i + 1));
	}
	lines[0] = owner_wait(&o[0], 30);
	if (fd[1] >= 0)
		close(fd[1]);
	lines[1] = owner_wait(&o[1], 10);
	if (fd[0] >= 0)
		close(fd[0]);
	lines[2] = owner_wait(&o[2], 0);
	check(!ret && lines[0] == 2 && o[0].pages == 30 && lines[1] == 1 &&
	      o[1].pages == 10 && lines[2] == 0,
	      "owners: one kvm-gmem line a guest_memfd, gone once it is closed # %s; two open: %d lines, %ld pages; one: %d lines, %ld pages; none: %d lines",
	      err_str(ret), lines[0], o[0].pages, lines[1], o[1].pages,
	      lines[2]);
}

/* ---- samples/directmap: a driver that donates pages ---- */

#define DONATE		"/sys/kernel/debug/directmap_donate/pages"
#define DONATE_OWNER	"sample-donate"

/* One command to the sample, then its owner's figures as the kernel sees */
static bool donate_step(const char *cmd, long pages, long shared)
{
	struct owner o;
	int lines, ret;

	ret = write_str(DONATE, cmd);
	lines = owner_read_name(DONATE_OWNER, &o);
	return check(!ret && owner_is(&o, lines, pages, shared, shared),
		     "sample: '%s': owners shows %ld pages, %ld shared and present # write %d, pages %ld shared %ld present %ld",
		     cmd, pages, shared, ret, o.pages, o.shared, o.present);
}

/*
 * The donation sample as a hypervisor driver would run: pages that are
 * absent, some shared back (present, at 4K), all given back.
 */
/* The verifier's first problems, as diagnostics */
static void verify_show(void)
{
	char line[256];
	FILE *f = fopen(DEBUGFS "verify", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "bad: ", 5))
			printf("# %s", line);
	if (f)
		fclose(f);
}

static void donate_sample(void)
{
	struct snap a, b;
	long problems;

	snap(&a);
	donate_step("donate 600", 600, 0);
	donate_step("share 40", 600, 40);
	/* the verifier is exact at rest: the worker may be on the shares */
	settle();
	problems = read_key(DEBUGFS "verify", "problems");
	check(problems == 0,
	      "sample: verifier: no large entry over a donated page # problems %ld",
	      problems);
	if (problems)
		verify_show();
	donate_step("unshare 15", 600, 25);
	donate_step("reclaim 600", 0, 0);
	snap(&b);
	check(delta(&a, &b, SHARED) == 40 && delta(&a, &b, UNSHARED) >= 15,
	      "sample: vmstat counted the shares # shared +%ld, unshared +%ld",
	      delta(&a, &b, SHARED), delta(&a, &b, UNSHARED));
}

int main(int argc, char **argv)
{
	struct snap start, end;
	int kvm, vm, ret, lines, i;
	struct owner o;
	long problems;
	bool on;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
		fprintf(stderr, "usage: %s on|off\n", argv[0]);
		return 2;
	}
	on = !strcmp(argv[1], "on");
	/* the host reads it as it comes, between the kernel's messages */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");

	/* from rest, with no region cached: the test's regions are fresh */
	write_str(DEBUGFS "drain", "1");
	settle();
	snap(&start);
	for (i = 0; i < NR_COUNTERS && start.v[i] >= 0; i++)
		;
	if (!check(i == NR_COUNTERS,
		   "vmstat and meminfo have the counters # %s missing",
		   i == NR_COUNTERS ? "none" : counters[i].key))
		bail("a counter is missing");
	report("start", &start, &start);
	lines = owner_read(&o);
	check((lines >= 0 || !on) && o.pages == 0,
	      "owners: kvm-gmem holds no pages before the test # %d lines, %ld pages",
	      lines, o.pages);

	kvm = sys(open("/dev/kvm", O_RDWR | O_CLOEXEC));
	vm = kvm < 0 ? kvm :
	     sys(ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM));
	if (!check(vm >= 0, "KVM_CREATE_VM with KVM_X86_SW_PROTECTED_VM # %s%s",
		   kvm < 0 ? "/dev/kvm: " : "", vm >= 0 ? "vm" : err_str(vm)))
		bail("no VM");

	ret = create_result(vm, GMEM_FLAG_UNKNOWN);
	check(ret == -EINVAL, "unknown guest_memfd flag refused with EINVAL # %s",
	      err_str(ret));
	plain_gmem(vm, on);

	/*
	 * The flags each VM can use: this one, and a default VM.  Later
	 * kernels have flags of their own (7.2: MMAP, INIT_SHARED), so only
	 * this one's bit is compared.
	 */
	ret = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);
	check(ret >= 0 && (ret & GUEST_MEMFD_FLAG_NO_DIRECT_MAP) ==
	      (on ? GUEST_MEMFD_FLAG_NO_DIRECT_MAP : 0),
	      "KVM_CAP_GUEST_MEMFD_FLAGS of the VM %s GUEST_MEMFD_FLAG_NO_DIRECT_MAP # %d",
	      on ? "has" : "lacks", ret);
	i = sys(ioctl(kvm, KVM_CREATE_VM, 0));
	ret = i < 0 ? i : ioctl(i, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);
	check(ret >= 0 && !(ret & GUEST_MEMFD_FLAG_NO_DIRECT_MAP),
	      "a default VM cannot use GUEST_MEMFD_FLAG_NO_DIRECT_MAP # %d", ret);
	if (i >= 0) {
		ret = create_result(i, GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
		check(ret == -EINVAL,
		      "a default VM: GUEST_MEMFD_FLAG_NO_DIRECT_MAP refused with EINVAL # %s",
		      err_str(ret));
		close(i);
	}

	if (!on) {
		ret = create_result(vm, GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
		check(ret == -EINVAL,
		      "directmap=off: GUEST_MEMFD_FLAG_NO_DIRECT_MAP refused with EINVAL # %s",
		      err_str(ret));
		close(vm);
		close(kvm);
		goto done;
	}

	ret = create_result(vm, GUEST_MEMFD_FLAG_NO_DIRECT_MAP |
			    GMEM_FLAG_UNKNOWN);
	check(ret == -EINVAL,
	      "the flag with an unknown one refused with EINVAL # %s",
	      err_str(ret));
	nodirectmap_gmem(vm, &start);
	unbind_keeps_absent(vm);
	owner_per_file(vm);
	close(vm);
	close(kvm);

	donate_sample();

	/* a line showing zeros and no line are both "nothing held" */
	lines = owner_wait(&o, 0);
	check(owner_is(&o, lines, 0, 0, 0),
	      "after close: kvm-gmem holds no pages # %s, pages %ld shared %ld present %ld",
	      lines > 0 ? "line there" : lines ? "no owners file" : "line gone",
	      o.pages, o.shared, o.present);
	settle();
	snap(&end);
	check(delta(&start, &end, ALLOC) >= (long)GMEM_PAGES &&
	      delta(&start, &end, FREE) == delta(&start, &end, ALLOC),
	      "every page directmap handed out was given back # %ld out, %ld back",
	      delta(&start, &end, ALLOC), delta(&start, &end, FREE));
	problems = read_key(DEBUGFS "verify", "problems");
	check(problems == 0, "verifier: no problem after close # problems %ld",
	      problems);
	report("closed", &start, &end);
	/* give back the regions the test left cached, for what runs next */
	write_str(DEBUGFS "drain", "1");
	settle();
	snap(&end);
	report("drained", &start, &end);
done:
	printf("# conversions run: %d\n", conversions);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
