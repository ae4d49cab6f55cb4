// SPDX-License-Identifier: GPL-2.0
/*
 * kdumpscan: count the distinct pages of kdumptest's secrets in a stream
 * (a vmcore, or makedumpfile's flattened output): the markers
 * "DMSECRET-HELD-<page>", "DMSECRET-FREED-<page>" and the control's
 * "DMSECRET-KEPT-<page>".  busybox strings and
 * grep take ten minutes over a 4 GiB vmcore in TCG; this takes seconds.
 *
 * usage: kdumpscan PREFIX < STREAM
 * prints "METRIC PREFIX.HELD <pages>", ".FREED" and ".KEPT" the same way
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK	(1 << 20)
#define KEEP	32		/* longer than a marker */
#define MAX_NR	(1 << 20)

static unsigned char seen[3][MAX_NR / 8];

static long count(int kind)
{
	long i, n = 0;

	for (i = 0; i < MAX_NR; i++)
		n += !!(seen[kind][i / 8] & (1 << (i % 8)));
	return n;
}

int main(int argc, char **argv)
{
	static const char * const kinds[] = { "HELD-", "FREED-", "KEPT-" };
	static char buf[KEEP + CHUNK + 1];
	size_t have = 0, len, k;
	const char *p, *end;
	ssize_t got;
	char *e;
	long nr;

	if (argc != 2)
		return 2;
	for (;;) {
		got = read(0, buf + have, CHUNK);
		if (got < 0) {
			perror("read");
			return 1;
		}
		len = have + got;
		end = buf + len;
		for (p = buf; (p = memmem(p, end - p, "DMSECRET-", 9)); p += 9) {
			for (k = 0; k < 3; k++) {
				size_t kl = strlen(kinds[k]);

				if (end - p < 9 + (long)kl + 7 ||
				    memcmp(p + 9, kinds[k], kl))
					continue;
				nr = strtol(p + 9 + kl, &e, 10);
				if (e == p + 9 + kl + 6 && nr >= 0 && nr < MAX_NR)
					seen[k][nr / 8] |= 1 << (nr % 8);
			}
		}
		if (!got)
			break;
		/* a marker may straddle two reads */
		have = len < KEEP ? len : KEEP;
		memmove(buf, end - have, have);
	}
	printf("METRIC %s.HELD %ld\nMETRIC %s.FREED %ld\nMETRIC %s.KEPT %ld\n",
	       argv[1], count(0), argv[1], count(1), argv[1], count(2));
	return 0;
}
