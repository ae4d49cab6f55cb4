// SPDX-License-Identifier: GPL-2.0
/*
 * kdumptest: secrets for the crash dump test.  It fills NR memfd_secret
 * pages with "DMSECRET-HELD-<page>" and keeps them mapped, and fills NR
 * more with "DMSECRET-FREED-<page>" and frees them (munmap and close), then
 * fills a pipe's buffer with "DMSECRET-KEPT-000000", which the filter must
 * keep, says "KDUMP READY" and waits for the crash the caller triggers.
 * The capture kernel counts the distinct markers in the vmcore and in the
 * filtered dump.
 *
 * usage: kdumptest NR
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "guest.h"

static char *secrets(long nr, const char *what, int *fdp)
{
	int fd = syscall(__NR_memfd_secret, 0);
	size_t len;
	char *p;
	long i;
	size_t off;

	if (fd < 0 || ftruncate(fd, nr * PAGE)) {
		perror("memfd_secret");
		exit(1);
	}
	p = mmap(NULL, nr * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/* built in the page itself: no copy on the stack for the control */
	for (i = 0; i < nr; i++) {
		char *page = p + i * PAGE;

		len = snprintf(page, 32, "DMSECRET-%s-%06ld.", what, i);
		for (off = len; off + len <= PAGE; off += len)
			memcpy(page + off, page, len);
	}
	*fdp = fd;
	return p;
}

int main(int argc, char **argv)
{
	long nr = argc > 1 ? atol(argv[1]) : 512;
	static char kept[PAGE];
	int held_fd, freed_fd, pipefd[2];
	size_t len, off;
	char *freed;

	secrets(nr, "HELD", &held_fd);
	freed = secrets(nr, "FREED", &freed_fd);
	if (munmap(freed, nr * PAGE) || close(freed_fd)) {
		perror("free");
		return 1;
	}
	/*
	 * The filter's positive control: a pipe's buffer page is kernel
	 * memory, which -d 31 keeps.  Written, never read.
	 */
	if (pipe(pipefd)) {
		perror("pipe");
		return 1;
	}
	len = snprintf(kept, sizeof(kept), "DMSECRET-KEPT-%06d.", 0);
	for (off = 0; off + len <= sizeof(kept); off += len)
		memcpy(kept + off, kept, len);
	if (write(pipefd[1], kept, sizeof(kept)) != sizeof(kept)) {
		perror("write");
		return 1;
	}
	printf("KDUMP READY %ld\n", nr);
	fflush(stdout);
	for (;;)
		pause();
}
