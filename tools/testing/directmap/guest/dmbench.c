// SPDX-License-Identifier: GPL-2.0
/*
 * dmbench: directmap's benchmarks inside the guest.  Every figure is printed
 * as "METRIC <bench>.<name> <value>" for benchmarks/bench.py.
 *
 *   dmbench micro PAGES ROUNDS [NAME]
 *	alloc+free of PAGES pages, ROUNDS times, for plain alloc_page(), the
 *	stock secretmem path and directmap, in this boot (debugfs
 *	directmap/bench, CONFIG_DIRECTMAP_BENCH), reported as NAME (micro);
 *	then the cost of directmap's wipe against a plain clear_page()
 *   dmbench walk PAGES TOUCHES [NAME [split]]
 *	kernel reads of TOUCHES random pages out of PAGES, over the direct
 *	map as it is and over one split to 4K; with NAME only one of the
 *	two, reported as NAME
 *   dmbench churn SECONDS FILES MAXPAGES SEED [memfd]
 *	memfd_secret churn: up to FILES secret files of 1..MAXPAGES pages
 *	created, faulted in and closed at random, interleaved with anonymous
 *	memory, for SECONDS; with "memfd", the same sequence of plain
 *	memfd_create() files, the baseline, reported as churn_plain
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "guest.h"

#define BENCH		"/sys/kernel/debug/directmap/bench"
#define STATS		"/sys/kernel/debug/directmap/stats"

/* Run one debugfs bench command; print its lines as METRIC PREFIX.name */
static int bench_cmd(const char *prefix, const char *cmd)
{
	char buf[1024], *line, *save;
	ssize_t n;
	int fd;

	fd = open(BENCH, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "dmbench: %s: %s\n", BENCH, strerror(errno));
		return -1;
	}
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		int err = errno;

		printf("METRIC %s.errno %d\n", prefix, err);
		fprintf(stderr, "dmbench: \"%s\": %s\n", cmd, strerror(err));
		close(fd);
		return -1;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64], val[64];

		if (sscanf(line, "%63s %63s", name, val) == 2 &&
		    strspn(val, "0123456789") == strlen(val))
			printf("METRIC %s.%s %s\n", prefix, name, val);
	}
	fflush(stdout);
	return 0;
}

static int bench_micro(int argc, char **argv)
{
	static const char *const modes[] = { "plain", "directmap", "stock" };
	const char *name = argc == 3 ? argv[2] : "micro";
	char cmd[64], prefix[64];
	unsigned int i;
	int failed = 0;

	if (argc != 2 && argc != 3)
		return 2;
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		snprintf(cmd, sizeof(cmd), "alloc %s %s %s", modes[i], argv[0],
			 argv[1]);
		snprintf(prefix, sizeof(prefix), "%s.%s", name, modes[i]);
		/* directmap=off has no directmap to measure: not a failure */
		if (bench_cmd(prefix, cmd) && strcmp(modes[i], "directmap"))
			failed = 1;
	}
	snprintf(cmd, sizeof(cmd), "wipe %s %s", argv[0], argv[1]);
	snprintf(prefix, sizeof(prefix), "%s.wipe", name);
	bench_cmd(prefix, cmd);
	return failed;
}

static int bench_walk(int argc, char **argv)
{
	char cmd[64];
	int failed;

	if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[3], "split")))
		return 2;
	/* with a name: once, over the direct map as it is or split first */
	if (argc >= 3) {
		snprintf(cmd, sizeof(cmd), "walk %s %s %d", argv[0], argv[1],
			 argc == 4);
		return bench_cmd(argv[2], cmd) ? 1 : 0;
	}
	snprintf(cmd, sizeof(cmd), "walk %s %s 0", argv[0], argv[1]);
	failed = bench_cmd("walk.intact", cmd);
	snprintf(cmd, sizeof(cmd), "walk %s %s 1", argv[0], argv[1]);
	failed |= bench_cmd("walk.split", cmd);
	return failed ? 1 : 0;
}

/* ---- memfd_secret churn ---- */

struct secret {
	unsigned char	*p;
	size_t		len;
	int		fd;
};

static unsigned long long rng;

static unsigned long rnd(unsigned long n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* 1..max pages, log-uniform: many small files, some large ones */
static unsigned long rnd_pages(unsigned long max)
{
	unsigned long bits = 0, n;

	while ((1UL << bits) < max)
		bits++;
	n = 1 + rnd(1UL << rnd(bits + 1));
	return n > max ? max : n;
}

static int secret_open(struct secret *s, unsigned long pages, bool plain)
{
	unsigned long i;

	s->fd = plain ? memfd_create("dmbench", 0) :
			syscall(__NR_memfd_secret, 0);
	if (s->fd < 0)
		return -1;
	s->len = pages * PAGE;
	if (ftruncate(s->fd, s->len))
		goto fail;
	s->p = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->p == MAP_FAILED)
		goto fail;
	for (i = 0; i < pages; i++)
		s->p[i * PAGE] = 0x5a;
	return 0;
fail:
	close(s->fd);
	return -1;
}

static void secret_close(struct secret *s)
{
	munmap(s->p, s->len);
	close(s->fd);
}

/* Anonymous memory between the secrets, as a real process has */
static void anon_touch(void)
{
	size_t len = (1 + rnd(64)) * PAGE;
	unsigned char *p;
	size_t off;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
	munmap(p, len);
}

static const struct {
	const char *name, *path, *key;
} counters[] = {
	{ "pmd_splits", "/proc/vmstat", "direct_map_level2_splits" },
	{ "pud_splits", "/proc/vmstat", "direct_map_level3_splits" },
	{ "pmd_collapses", "/proc/vmstat", "direct_map_level2_collapses" },
	{ "refills", "/proc/vmstat", "directmap_refill" },
	{ "fallbacks", "/proc/vmstat", "directmap_fallback" },
	{ "tlb_flushes", STATS, "kernel_tlb_flushes" },
};

static int bench_churn(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned long nfiles, maxpages, open = 0, ops = 0, pages = 0, failed = 0;
	long before[ARRAY_SIZE(counters)];
	const char *name = "churn";
	struct secret *files;
	double secs, t0, t;
	bool plain = false;
	unsigned int i;

	if (argc == 5 && !strcmp(argv[4], "memfd")) {
		plain = true;
		name = "churn_plain";
	} else if (argc != 4) {
		return 2;
	}
	secs = atof(argv[0]);
	nfiles = strtoul(argv[1], NULL, 0);
	maxpages = strtoul(argv[2], NULL, 0);
	rng = strtoull(argv[3], NULL, 0) | 1;
	if (!nfiles || !maxpages || secs <= 0)
		return 2;
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		perror("setrlimit");
	files = calloc(nfiles, sizeof(*files));
	if (!files)
		return 1;

	for (i = 0; i < ARRAY_SIZE(counters); i++)
		before[i] = read_key(counters[i].path, counters[i].key);
	t0 = now();
	do {
		/* grow while below half the files, then as likely to shrink */
		if (open < nfiles && (open < nfiles / 2 || rnd(2))) {
			unsigned long n = rnd_pages(maxpages);

			if (secret_open(&files[open], n, plain)) {
				failed++;
			} else {
				open++;
				pages += n;
			}
		} else if (open) {
			unsigned long victim = rnd(open);

			secret_close(&files[victim]);
			files[victim] = files[--open];
		}
		anon_touch();
		ops++;
		t = now();
	} while (t - t0 < secs);
	while (open)
		secret_close(&files[--open]);

	printf("METRIC %s.seconds %.3f\n", name, t - t0);
	printf("METRIC %s.ops %lu\n", name, ops);
	printf("METRIC %s.failed_ops %lu\n", name, failed);
	printf("METRIC %s.pages %lu\n", name, pages);
	printf("METRIC %s.pages_per_s %.0f\n", name, pages / (t - t0));
	for (i = 0; i < ARRAY_SIZE(counters); i++) {
		long after = read_key(counters[i].path, counters[i].key);

		printf("METRIC %s.%s %ld\n", name, counters[i].name,
		       before[i] < 0 || after < 0 ? -1 : after - before[i]);
	}
	printf("METRIC %s.directmap_4k_kb %ld\n", name,
	       read_key("/proc/meminfo", "DirectMap4k"));
	free(files);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc >= 2 && !strcmp(argv[1], "micro"))
		ret = bench_micro(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "walk"))
		ret = bench_walk(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "churn"))
		ret = bench_churn(argc - 2, argv + 2);
	if (ret == 2)
		fprintf(stderr,
			"usage: dmbench micro PAGES ROUNDS [NAME]\n"
			"       dmbench walk PAGES TOUCHES [NAME [split]]\n"
			"       dmbench churn SECONDS FILES MAXPAGES SEED [memfd]\n");
	fflush(stdout);
	return ret;
}
