// SPDX-License-Identifier: GPL-2.0
/*
 * hibtest: no page leaves directmap while hibernation is under way.
 *
 * Both ways into hibernation notify PM_HIBERNATION_PREPARE first and
 * PM_POST_HIBERNATION last; in between, a page handed out would end up in
 * the image or need its direct map back with interrupts off.
 *
 *   snapshot  /dev/snapshot is opened (PREPARE) and held: a child faults a
 *             memfd_secret page in meanwhile, which must not complete
 *             until the device is closed (POST), and then must.
 *   state     "disk" is written to /sys/power/state with pm_test=freezer
 *             (PREPARE, freeze, thaw, POST) while secretmem pages are
 *             held: refused; then without: it runs, and a fault after it
 *             completes.
 *
 * Prints "METRIC hib.<name> <value>" lines; exits 1 if a check failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

static void metric(const char *name, long value, int ok)
{
	guest_metric("hib", name, value, ok);
}

/* A secretmem fd with one page faulted in, or -1 */
static int secret_page(void)
{
	int fd = syscall(__NR_memfd_secret, 0);
	char *p;

	if (fd < 0 || ftruncate(fd, PAGE))
		return -1;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	p[0] = 1;
	munmap(p, PAGE);
	return fd;
}

/*
 * A child that faults a secret page in and says so on a pipe.  It closes
 * @dev first: /dev/snapshot notifies POST only once its last file
 * reference is gone.
 */
static pid_t faulter(int *rfd, int dev)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd;

		close(pfd[0]);
		if (dev >= 0)
			close(dev);
		fd = secret_page();
		if (write(pfd[1], fd >= 0 ? "y" : "n", 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	*rfd = pfd[0];
	return pid;
}

/*
 * What the child said within @ms: 1 done, 0 failed (or died), -1 nothing
 * yet
 */
static int heard(int rfd, int ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(rfd, &c, 1) == 1 && c == 'y';
}

static void snapshot_window(void)
{
	int dev, rfd, during, after;
	pid_t pid;

	dev = open("/dev/snapshot", O_RDONLY);
	metric("snapshot_open", dev >= 0 ? 0 : errno, dev >= 0);
	if (dev < 0)
		return;
	pid = faulter(&rfd, dev);
	during = heard(rfd, 1500);
	/* -1: still faulting while the device is open */
	metric("snapshot_fault_while_open", during, during == -1);
	close(dev);
	after = during == -1 ? heard(rfd, 10000) : during;
	metric("snapshot_fault_after_close", after, after == 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(rfd);
}

static int power_state(const char *what)
{
	return write_errno("/sys/power/state", what);
}

static void state_window(void)
{
	int test = open("/sys/power/pm_test", O_WRONLY);
	int held, err, rfd, after;
	pid_t pid;

	metric("pm_test", test >= 0 ? 0 : errno, test >= 0);
	if (test < 0)
		return;
	if (write(test, "freezer", 7) != 7)
		metric("pm_test_freezer", errno, 0);

	held = secret_page();
	err = power_state("disk");
	metric("state_with_secret_held", err, err == EBUSY || err == EPERM);
	close(held);
	/* the page comes back once its file is gone */
	usleep(500000);

	err = power_state("disk");
	metric("state_without_secret", err, err == 0);
	pid = faulter(&rfd, -1);
	after = heard(rfd, 10000);
	metric("state_fault_after", after, after == 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(rfd);

	if (write(test, "none", 4) != 4)
		metric("pm_test_none", errno, 0);
	close(test);
}

int main(void)
{
	snapshot_window();
	state_window();
	return guest_failed;
}
