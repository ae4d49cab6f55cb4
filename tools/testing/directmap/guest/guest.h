/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What directmap's guest programs (dmtest, dmbench) share: reading the
 * kernel's "key value" files and a monotonic clock.
 */
#ifndef _DIRECTMAP_GUEST_H
#define _DIRECTMAP_GUEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

#define PAGE		4096UL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

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

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* _DIRECTMAP_GUEST_H */
