/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What directmap's guest programs (dmtest, dmbench, gmemtest, hibtest,
 * numatest) share:
 * reading the kernel's "key value" files and directmap's per-node stats,
 * writing a sysfs or debugfs file, and a monotonic clock.
 */
#ifndef _DIRECTMAP_GUEST_H
#define _DIRECTMAP_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

#define PAGE		4096UL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The number a one-number file (sysfs, cgroup) holds, or -1 */
static inline long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long val = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/* The value of KEY in a /proc/vmstat or /proc/meminfo style file, or -1 */
static inline long read_key(const char *path, const char *key)
{
	size_t len = strlen(key);
	FILE *f = fopen(path, "r");
	char line[512];
	long val = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) &&
		    (line[len] == ' ' || line[len] == ':')) {
			val = strtol(line + len + 1 + (line[len] == ':'), NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* Sum "name value" pairs of every "node" line of directmap's debugfs stats */
static inline long dmap_sum(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/directmap/stats", "r");
	char line[1024], *p;
	long sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char pat[64];

		if (strncmp(line, "node ", 5))
			continue;
		snprintf(pat, sizeof(pat), " %s ", name);
		p = strstr(line, pat);
		if (p)
			sum += strtol(p + strlen(pat), NULL, 10);
	}
	fclose(f);
	return sum;
}

/* The value of NAME on the "node NID" line of directmap's stats, or -1 */
static inline long dmap_node_value(int nid, const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/directmap/stats", "r");
	char line[1024], pat[64], *p;
	long val = -1;
	int n;

	if (!f)
		return -1;
	snprintf(pat, sizeof(pat), " %s ", name);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "node %d", &n) != 1 || n != nid)
			continue;
		p = strstr(line, pat);
		if (p)
			val = strtol(p + strlen(pat), NULL, 10);
	}
	fclose(f);
	return val;
}

/* Write S to PATH in one write(): 0, or the errno of the refusal */
static inline int write_errno(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = errno;
	close(fd);
	return ret;
}

/*
 * "METRIC PREFIX.NAME VALUE" for the host; a wrong one is said and
 * counted in guest_failed
 */
static int guest_failed;

static inline void guest_metric(const char *prefix, const char *name,
				long value, int ok)
{
	printf("METRIC %s.%s %ld\n", prefix, name, value);
	if (!ok) {
		printf("# %s: %s = %ld is wrong\n", prefix, name, value);
		guest_failed = 1;
	}
	fflush(stdout);
}

/* Write S to the file at PATH in one write(): 0, or -1 if refused */
static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) == (ssize_t)strlen(s))
		ret = 0;
	close(fd);
	return ret;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* _DIRECTMAP_GUEST_H */
