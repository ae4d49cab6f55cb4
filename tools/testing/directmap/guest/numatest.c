// SPDX-License-Identifier: GPL-2.0
/*
 * numatest: memfd_secret pages come from the node that the task's
 * mempolicy and cpuset give, as stock page-cache pages do, not from the
 * node of the CPU it runs on.
 *
 * Pinned to CPU 0 (node 0), it faults secret pages in under
 * set_mempolicy(MPOL_BIND, node 1), then in a cpuset whose cpuset.mems
 * is 1, and counts where directmap handed them out (debugfs
 * directmap/stats, "used" per node).
 *
 * Then, in a memory cgroup, it faults secret pages in and checks that
 * directmap's entries for them are charged to it (memory.stat slab), and
 * that the 2M regions its freed pages leave pinned stay charged to it
 * until the slots are reused or their regions empty (memory.current).
 *
 * Prints "METRIC numa.<name> <value>" lines; exits 1 if a check failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGES		256
#define MEMCG_PAGES	8192
/* 4 regions' worth; one page of every 256 stays */
#define PIN_PAGES	2048
#define MPOL_DEFAULT	0
#define MPOL_BIND	2
#define CG		"/sys/fs/cgroup"

#include "guest.h"

static void metric(const char *name, long value, int ok)
{
	guest_metric("numa", name, value, ok);
}

/* Pages directmap has handed out on @nid */
static long used_on(int nid)
{
	return dmap_node_value(nid, "used");
}

/* A secret file of @pages pages, mapped */
static char *secret_map(int *fd, long pages)
{
	char *p;

	*fd = syscall(__NR_memfd_secret, 0);
	if (*fd < 0 || ftruncate(*fd, pages * PAGE))
		return MAP_FAILED;
	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	return p;
}

static void secret_unmap(int fd, char *p, long pages)
{
	if (p != MAP_FAILED)
		munmap(p, pages * PAGE);
	if (fd >= 0)
		close(fd);
}

/* Fault PAGES secret pages in; the fd keeps them */
static int secret_pages(void)
{
	int fd, i;
	char *p = secret_map(&fd, PAGES);

	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < PAGES; i++)
		p[i * PAGE] = 1;
	munmap(p, PAGES * PAGE);
	return fd;
}

/* Fault pages in and say how many landed on nodes 0 and 1 */
static void count(const char *name)
{
	long n0 = used_on(0), n1 = used_on(1);
	char key[64];
	int fd, i;

	fd = secret_pages();
	snprintf(key, sizeof(key), "%s_faulted", name);
	metric(key, fd >= 0, fd >= 0);
	snprintf(key, sizeof(key), "%s_node0", name);
	metric(key, used_on(0) - n0, used_on(0) - n0 == 0);
	snprintf(key, sizeof(key), "%s_node1", name);
	metric(key, used_on(1) - n1, used_on(1) - n1 >= PAGES);
	if (fd >= 0)
		close(fd);
	/* returned pages go back to their slots once unreferenced */
	for (i = 0; i < 100 && used_on(1) > n1; i++)
		usleep(20000);
}

/* A key of a cgroup's memory.stat, or -1 */
static long memcg_stat(const char *key)
{
	return read_key(CG "/memtest/memory.stat", key);
}

/* The memcg's charge in pages (memory.current: exact, no flush needed) */
static long memcg_pages(void)
{
	return read_long(CG "/memtest/memory.current") / (long)PAGE;
}

/* Wait until directmap took back what the task freed, on any node */
static void settle(void)
{
	int i;

	for (i = 0; i < 250 && dmap_sum("pending") > 0; i++)
		usleep(20000);
}

/*
 * A page kept in a 2M region pins the whole region: its free slots nobody
 * else but secret pages can have.  Faulting a page of file "keep" for
 * every 255 of file "drop" and closing "drop" leaves such regions; the
 * memcg that freed the slots stays charged for them while it pins them
 * (debugfs stats count them, "charged").  Reusing them moves the charge
 * (none is counted twice); once its last page in a region goes, nothing
 * stays charged.  A keep page every 256 lands in every region the test
 * fills but at most two (the first and last, which may be shared).
 */
static void pinned(void)
{
	long base, full, punched, refaulted, last, kept0, kept;
	char *keep, *drop, *again;
	int kfd, dfd, afd, i, k = 0, d = 0;

	settle();
	base = memcg_pages();
	kept0 = dmap_sum("charged");
	keep = secret_map(&kfd, PIN_PAGES / 256);
	drop = secret_map(&dfd, PIN_PAGES);
	if (keep == MAP_FAILED || drop == MAP_FAILED) {
		metric("pin_faulted", 0, 0);
		secret_unmap(kfd, keep, PIN_PAGES / 256);
		secret_unmap(dfd, drop, PIN_PAGES);
		return;
	}
	for (i = 0; i < PIN_PAGES; i++) {
		if (i % 256 == 0)
			keep[k++ * PAGE] = 1;
		else
			drop[d++ * PAGE] = 1;
	}
	/* up to a charge batch (64 pages) may have been charged before */
	full = memcg_pages() - base;
	secret_unmap(dfd, drop, PIN_PAGES);
	settle();
	punched = memcg_pages() - base;
	kept = dmap_sum("charged") - kept0;
	/* before: the memcg paid 8 pages for the 4 or more regions pinned */
	metric("pin_charged_full", full, full >= d - 64);
	metric("pin_charged_punched", punched, punched >= full / 2);
	metric("pin_kept_slots", kept, kept >= d / 2 && kept <= d);

	/* the same memcg fills the holes again: charged once, not twice */
	again = secret_map(&afd, d);
	for (i = 0; again != MAP_FAILED && i < d; i++)
		again[i * PAGE] = 1;
	refaulted = memcg_pages() - base;
	kept = dmap_sum("charged") - kept0;
	/* pages in use plus kept slots, a charge batch and the xarrays */
	metric("pin_charged_refaulted", refaulted,
	       again != MAP_FAILED && refaulted <= k + d + kept + 128);
	metric("pin_kept_refaulted", kept, kept < d);

	secret_unmap(afd, again, d);
	secret_unmap(kfd, keep, PIN_PAGES / 256);
	settle();
	last = memcg_pages() - base;
	metric("pin_charged_after_close", last, last <= full / 8);
	metric("pin_kept_after_close", dmap_sum("charged") - kept0,
	       dmap_sum("charged") <= kept0);
}

/*
 * directmap's bookkeeping of the pages a task faults in is charged to the
 * task's memcg, as the page cache's own xarray is: two more entries per
 * page beside the page cache's one, so at least twice its slab.
 */
static void memcg(const char *pid)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	long before, after, pc;
	char *p;
	int fd, i, err;

	err = write_errno(CG "/cgroup.subtree_control", "+memory");
	mkdir(CG "/memtest", 0755);
	err = err ?: write_errno(CG "/memtest/cgroup.procs", pid);
	metric("memcg_set", err, !err);
	if (err)
		return;

	/* memfd_secret counts against RLIMIT_MEMLOCK */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	sleep(2);	/* memcg stats are flushed every 2 s */
	before = memcg_stat("slab");
	p = secret_map(&fd, MEMCG_PAGES);
	for (i = 0; p != MAP_FAILED && i < MEMCG_PAGES; i++)
		p[i * PAGE] = 1;
	metric("memcg_faulted", p != MAP_FAILED, p != MAP_FAILED);
	sleep(3);
	after = memcg_stat("slab");
	/* the page cache's xarray: 576-byte nodes of 64 entries */
	pc = MEMCG_PAGES / 64 * 576;
	metric("memcg_slab_bytes", after - before, after - before >= 2 * pc);
	metric("memcg_page_cache_xarray_bytes", pc, 1);
	secret_unmap(fd, p, MEMCG_PAGES);
	pinned();
	write_errno(CG "/cgroup.procs", pid);
	rmdir(CG "/memtest");
}

int main(void)
{
	unsigned long node1 = 1UL << 1;
	cpu_set_t cpu0;
	char pid[32];
	int err;

	if (used_on(1) < 0) {
		printf("# numatest: no node 1 in directmap/stats: skipped\n");
		return 0;
	}
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	err = sched_setaffinity(0, sizeof(cpu0), &cpu0);
	metric("pinned_cpu0", err ? errno : 0, !err);

	err = syscall(__NR_set_mempolicy, MPOL_BIND, &node1, 8 * sizeof(node1));
	metric("mempolicy_set", err ? errno : 0, !err);
	count("mempolicy");
	syscall(__NR_set_mempolicy, MPOL_DEFAULT, NULL, 0);

	mkdir(CG, 0755);
	mount("cgroup2", CG, "cgroup2", 0, NULL);
	err = write_errno(CG "/cgroup.subtree_control", "+cpuset");
	mkdir(CG "/numatest", 0755);
	err = err ?: write_errno(CG "/numatest/cpuset.cpus", "0-1");
	err = err ?: write_errno(CG "/numatest/cpuset.mems", "1");
	snprintf(pid, sizeof(pid), "%d", getpid());
	err = err ?: write_errno(CG "/numatest/cgroup.procs", pid);
	metric("cpuset_set", err, !err);
	count("cpuset");
	write_errno(CG "/cgroup.procs", pid);
	rmdir(CG "/numatest");
	memcg(pid);
	return guest_failed;
}
