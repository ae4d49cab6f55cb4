// SPDX-License-Identifier: GPL-2.0
/*
 * dmtest: the memfd_secret workload that directmap's integration tests and
 * demo run inside the guest.  It faults in NPAGES secret pages, checks that
 * each one arrives zeroed, frees them, and prints what the direct map did
 * at each phase as "METRIC <phase>.<name> <value>" lines.  With tracing
 * available it also counts the directmap tracepoints over the whole run
 * ("METRIC trace.<event> <count>"), between two snapshots taken with the
 * collapse worker stopped, so that the counters can be held against them.
 *
 * With SAMPLE_MS it also prints the DirectMap counters every SAMPLE_MS as
 * "SAMPLE <seconds> <4k kB> <2M kB> <1G kB>", and each phase as
 * "PHASE <seconds> <name>", for the demo's plot.
 *
 * usage: dmtest NPAGES [SAMPLE_MS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>

#include "guest.h"

static const struct {
	const char *name, *path, *key;
} keys[] = {
	{ "pmd_splits", "/proc/vmstat", "direct_map_level2_splits" },
	{ "pud_splits", "/proc/vmstat", "direct_map_level3_splits" },
	{ "pmd_collapses", "/proc/vmstat", "direct_map_level2_collapses" },
	{ "pud_collapses", "/proc/vmstat", "direct_map_level3_collapses" },
	{ "directmap_4k_kb", "/proc/meminfo", "DirectMap4k" },
	{ "directmap_2m_kb", "/proc/meminfo", "DirectMap2M" },
	{ "directmap_1g_kb", "/proc/meminfo", "DirectMap1G" },
	{ "tlb_flushes", "/sys/kernel/debug/directmap/stats", "kernel_tlb_flushes" },
	{ "vm_refill", "/proc/vmstat", "directmap_refill" },
	{ "vm_release", "/proc/vmstat", "directmap_release" },
	{ "vm_fallback", "/proc/vmstat", "directmap_fallback" },
	{ "vm_refill_fail", "/proc/vmstat", "directmap_refill_fail" },
	{ "vm_fallback_fail", "/proc/vmstat", "directmap_fallback_fail" },
	{ "vm_misuse", "/proc/vmstat", "directmap_misuse" },
	{ "vm_alloc_hit", "/proc/vmstat", "directmap_alloc_hit" },
	{ "vm_alloc_miss", "/proc/vmstat", "directmap_alloc_miss" },
	{ "vm_pages_alloc", "/proc/vmstat", "directmap_pages_alloc" },
	{ "vm_pages_free", "/proc/vmstat", "directmap_pages_free" },
};

static const char *const node_keys[] = {
	"used", "pending", "regions", "fallbacks", "refills", "releases",
};

/* The collapse worker's counters: /sys/kernel/mm/directmap/collapse_NAME */
static const char *const worker_keys[] = { "passes", "slept", "pending" };

static long read_worker(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/mm/directmap/collapse_%s",
		 name);
	return read_long(path);
}

static double t_start;
static int sampling;

static void snapshot(const char *phase)
{
	unsigned int i;

	if (sampling)
		printf("PHASE %.3f %s\n", now() - t_start, phase);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		printf("METRIC %s.%s %ld\n", phase, keys[i].name,
		       read_key(keys[i].path, keys[i].key));
	for (i = 0; i < ARRAY_SIZE(node_keys); i++)
		printf("METRIC %s.dmap_%s %ld\n", phase, node_keys[i],
		       dmap_sum(node_keys[i]));
	for (i = 0; i < ARRAY_SIZE(worker_keys); i++)
		printf("METRIC %s.worker_%s %ld\n", phase, worker_keys[i],
		       read_worker(worker_keys[i]));
	fflush(stdout);
}

/* kB of the direct map in 2M and 1G entries */
#define TRACING		"/sys/kernel/debug/tracing"
#define WORKER		"/sys/kernel/mm/directmap/collapse_enabled"
#define RELEASE_IDLE	"/sys/kernel/mm/directmap/release_idle_ms"

/*
 * Turn the directmap events on or off with nothing under way: the worker
 * is stopped, and given time to end its pass, around the switch and the
 * snapshot that goes with it.  Returns whether tracing is there.
 */
static int trace_switch(int on)
{
	int ok;

	write_str(WORKER, "0");
	usleep(500000);
	if (on) {
		write_str(TRACING "/buffer_size_kb", "16384");
		write_str(TRACING "/trace", "");
	}
	ok = !write_str(TRACING "/events/directmap/enable", on ? "1" : "0");
	snapshot(on ? "trace_on" : "trace_off");
	write_str(WORKER, "1");
	return ok;
}

/* The pages of a directmap_alloc or _free event EV in LINE, else 0 */
static long event_pages(const char *line, const char *ev)
{
	const char *p = strstr(line, ev);
	unsigned int order;

	p = p ? strstr(p, " order=") : NULL;
	if (!p || sscanf(p, " order=%u", &order) != 1 || order > 20)
		return 0;
	return 1L << order;
}

/* Count the events in the trace buffer, and those the buffer lost */
static void trace_count(void)
{
	long unmap = 0, restore = 0, fallback = 0, error = 0, pmd = 0, pud = 0;
	long split2 = 0, split3 = 0, allocated = 0, freed = 0;
	long in_buffer = -1, written = -1;
	char line[512];
	FILE *f = fopen(TRACING "/trace", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "# entries-in-buffer/entries-written: %ld/%ld",
			   &in_buffer, &written) == 2)
			continue;
		unmap += strstr(line, " directmap_region_unmap: ") &&
			 strstr(line, " err=0 ");
		if (strstr(line, " directmap_split: ")) {
			split2 += !!strstr(line, " level=2");
			split3 += !!strstr(line, " level=3");
		}
		allocated += event_pages(line, " directmap_alloc: ");
		freed += event_pages(line, " directmap_free: ");
		restore += !!strstr(line, " directmap_region_restore: ");
		fallback += !!strstr(line, " directmap_fallback: ");
		error += !!strstr(line, " directmap_error: ");
		if (strstr(line, " directmap_collapse: ") &&
		    strstr(line, " ret=1 ")) {
			pmd += !!strstr(line, " level=2 ");
			pud += !!strstr(line, " level=3 ");
		}
	}
	fclose(f);
	printf("METRIC trace.region_unmap %ld\n", unmap);
	printf("METRIC trace.region_restore %ld\n", restore);
	printf("METRIC trace.fallback %ld\n", fallback);
	printf("METRIC trace.error %ld\n", error);
	printf("METRIC trace.pmd_collapses %ld\n", pmd);
	printf("METRIC trace.pud_collapses %ld\n", pud);
	printf("METRIC trace.pmd_splits %ld\n", split2);
	printf("METRIC trace.pud_splits %ld\n", split3);
	printf("METRIC trace.pages_alloc %ld\n", allocated);
	printf("METRIC trace.pages_free %ld\n", freed);
	printf("METRIC trace.lost %ld\n", written - in_buffer);
}

static long large_kb(void)
{
	return read_key("/proc/meminfo", "DirectMap2M") +
	       read_key("/proc/meminfo", "DirectMap1G");
}

/* As many 1G entries as at boot, and no more 4K ones */
static int as_booted(long boot_4k, long boot_1g)
{
	return read_key("/proc/meminfo", "DirectMap1G") >= boot_1g &&
	       read_key("/proc/meminfo", "DirectMap4k") <= boot_4k;
}

/* A child that prints the DirectMap counters every @ms until killed */
static pid_t sample_start(unsigned int ms)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid)
		return pid;
	for (;;) {
		printf("SAMPLE %.3f %ld %ld %ld\n", now() - t_start,
		       read_key("/proc/meminfo", "DirectMap4k"),
		       read_key("/proc/meminfo", "DirectMap2M"),
		       read_key("/proc/meminfo", "DirectMap1G"));
		fflush(stdout);
		usleep(ms * 1000);
	}
}

static void sample_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	/* one more sample's worth, so the plot shows the end state */
	usleep(100000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Pages an owner holds, from directmap/owners; -1 without the line */
static long owner_pages(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/directmap/owners", "r");
	char line[256], who[64];
	long pages = -1, n;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", who, &n) == 2 && !strcmp(who, name))
			pages = n;
	fclose(f);
	return pages;
}

#define MPOL_DEFAULT	0
#define MPOL_BIND	2

/*
 * The worker sleeps through the passes that would only count while a 1G
 * area waits for an idle direct map.  Whether the workload above leaves
 * one waiting is up to the page allocator and to where KASLR put the
 * kernel: take one region on node 1, free it, and let it go back after a
 * short release_idle_ms.  Its 1G area then waits in the worker's queue
 * (collapse_pending) until the worker tries it, once the direct map is
 * idle, whether or not the region split it.  Snapshots "w1g_*".
 */
static void wait_1g(long boot_4k, long boot_1g)
{
	unsigned long node1 = 1UL << 1, i, n = 512;
	long idle = read_long(RELEASE_IDLE), pending, p;
	int fd, queued = 0, done = 0;
	unsigned char *map;
	char buf[32];
	double t;

	/*
	 * A pass under way after the drain may still have areas queued; with
	 * any other area waiting, "only a 1G area waits" would not hold
	 */
	for (t = now(); read_worker("pending") > 0 && now() - t < 5.0;)
		usleep(50000);
	pending = read_worker("pending");
	printf("METRIC w1g.pending_before %ld\n", pending);
	if (pending)
		return;
	if (syscall(__NR_set_mempolicy, MPOL_BIND, &node1, 8 * sizeof(node1))) {
		perror("set_mempolicy");
		return;
	}
	write_str(RELEASE_IDLE, "200");
	snapshot("w1g_start");
	fd = syscall(__NR_memfd_secret, 0);
	map = fd < 0 || ftruncate(fd, n * PAGE) ? MAP_FAILED :
		mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED) {
		for (i = 0; i < n; i++)
			map[i * PAGE] = 1;
		snapshot("w1g_held");
		munmap(map, n * PAGE);
	}
	if (fd >= 0)
		close(fd);
	syscall(__NR_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	/* queued for at least idle passes of collapse_delay_ms: seen */
	for (t = now(); !done && now() - t < 30.0; usleep(50000)) {
		p = read_worker("pending");
		queued |= p > pending;
		done = queued && p <= pending && !dmap_sum("regions") &&
		       as_booted(boot_4k, boot_1g);
	}
	printf("METRIC w1g.idle_ms %.0f\n", done ? (now() - t) * 1e3 : -1.0);
	snapshot("w1g_idle");
	if (idle >= 0) {
		snprintf(buf, sizeof(buf), "%ld", idle);
		write_str(RELEASE_IDLE, buf);
	}
}

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned long npages, i, dirty = 0;
	double t0, t1, t2, t3;
	long boot_large, large, boot_4k, boot_1g, owned;
	unsigned char *p;
	int fd, tries, traced;
	pid_t sampler = -1;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s NPAGES [SAMPLE_MS]\n", argv[0]);
		return 2;
	}
	npages = strtoul(argv[1], NULL, 0);
	t_start = now();
	if (argc == 3) {
		sampling = 1;
		sampler = sample_start(strtoul(argv[2], NULL, 0) ?: 1);
	}
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		perror("setrlimit");

	traced = trace_switch(1);
	snapshot("boot");
	boot_large = large_kb();
	boot_4k = read_key("/proc/meminfo", "DirectMap4k");
	boot_1g = read_key("/proc/meminfo", "DirectMap1G");
	fd = syscall(__NR_memfd_secret, 0);
	if (fd < 0) {
		perror("memfd_secret");
		return 1;
	}
	if (ftruncate(fd, npages * PAGE)) {
		perror("ftruncate");
		return 1;
	}
	p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	t0 = now();
	for (i = 0; i < npages; i++) {
		unsigned char *page = p + i * PAGE;

		/* the first touch faults the page in: it must be all zeros */
		if (page[0] || memcmp(page, page + 1, PAGE - 1))
			dirty++;
		memset(page, 0xa5, 64);
	}
	t1 = now();
	snapshot("held");
	owned = owner_pages("secretmem");
	printf("METRIC held.secretmem_owned %ld\n", owned);

	munmap(p, npages * PAGE);
	close(fd);
	t2 = now();

	/*
	 * The collapse worker re-forms what the workload split: time until
	 * the large mappings are back to 99.9% of what boot had.
	 */
	for (large = large_kb(); large * 1000 < boot_large * 999 &&
	     now() - t2 < 5.0; large = large_kb())
		usleep(10000);
	t3 = now();
	printf("METRIC run.repair_ms %.0f\n",
	       large * 1000 >= boot_large * 999 ? (t3 - t2) * 1e3 : -1.0);
	/*
	 * 99.9% leaves two PMDs to the worker: wait for all of them before
	 * the snapshot whose collapses are counted against the splits.
	 */
	for (; large < boot_large && now() - t2 < 5.0; large = large_kb())
		usleep(10000);
	/* returned pages come back from a worker once unreferenced */
	for (tries = 0; tries < 50 && dmap_sum("pending") > 0; tries++)
		usleep(100000);
	snapshot("freed");

	/*
	 * Nothing stays split while idle: release_idle_ms after the last
	 * free the caches give their empty regions back, and the worker
	 * re-forms their 1G entries once the direct map is idle.  Not the
	 * stock kernel's way.
	 */
	if (access(RELEASE_IDLE, F_OK) == 0) {
		while ((dmap_sum("regions") > 0 || !as_booted(boot_4k, boot_1g)) &&
		       now() - t2 < 30.0)
			usleep(50000);
		printf("METRIC run.idle_ms %.0f\n",
		       !dmap_sum("regions") && as_booted(boot_4k, boot_1g) ?
		       (now() - t2) * 1e3 : -1.0);
		snapshot("idle");
	}

	/* give every cached region back: the direct map is whole again */
	fd = open("/sys/kernel/debug/directmap/drain", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("drain");
		close(fd);
	}
	/* a drain during a pass of the worker leaves the 1G entries to it */
	for (t3 = now(); (large_kb() < boot_large ||
			  !as_booted(boot_4k, boot_1g)) && now() - t3 < 2.0;)
		usleep(10000);
	snapshot("drained");
	sample_stop(sampler);
	if (traced) {
		trace_switch(0);
		trace_count();
	}

	printf("METRIC run.pages %lu\n", npages);
	printf("METRIC run.nonzero_pages %lu\n", dirty);
	printf("METRIC run.fault_ms %.1f\n", (t1 - t0) * 1e3);
	printf("METRIC run.free_ms %.1f\n", (t2 - t1) * 1e3);
	/* only where secretmem takes its pages from directmap's caches */
	if (!sampling && owned > 0 &&
	    access(RELEASE_IDLE, F_OK) == 0)
		wait_1g(boot_4k, boot_1g);
	return 0;
}
