// SPDX-License-Identifier: GPL-2.0
/*
 * mininit: /init of the arm64 test guest, which has no busybox.  It mounts
 * what dmtest reads, runs the suite named on the kernel command line
 * (dmtest=check|off|demo) and reports to the host on the console as the
 * x86 guest's shell init does: "EXIT <name> <status>", "METRIC <name>
 * <value>", "DMESG: " and "SUMMARY: " lines, between "DMTEST BEGIN" and
 * "DMTEST END".  Then it powers the guest off.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "guest.h"

static char cmdline[4096];

/* The value of KEY= on the kernel command line, or DEF, in VAL */
static char *param(const char *key, const char *def, char *val, size_t size)
{
	const char *p = strstr(cmdline, key);
	size_t n;

	if (!p) {
		snprintf(val, size, "%s", def);
		return val;
	}
	p += strlen(key);
	n = strcspn(p, " \n");
	if (n >= size)
		n = size - 1;
	memcpy(val, p, n);
	val[n] = 0;
	return val;
}

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A file's lines on the console, each after PREFIX */
static void relay(const char *path, const char *prefix)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("%s: %s", prefix, line);
	fclose(f);
}

/* Warnings, BUGs and oopses in the kernel log, as the shell init counts them */
static void splats(void)
{
	static const char *const what[] = {
		"WARNING:", "BUG:", "Oops", "Call trace:", "Internal error",
	};
	static char log[1 << 20];
	int len = klogctl(3, log, sizeof(log) - 1), found = 0;
	char *line, *save;
	unsigned int i;

	if (len < 0)
		len = 0;
	log[len] = 0;
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < ARRAY_SIZE(what); i++) {
			if (strstr(line, what[i])) {
				if (found++ < 40)
					printf("DMESG: %s\n", line);
				break;
			}
		}
	}
	printf("METRIC run.dmesg_splats %d\n", found);
}

int main(void)
{
	char suite[32], pages[32];
	FILE *f;
	int rc;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 0755);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = 0;
		fclose(f);
	}
	param("dmtest=", "check", suite, sizeof(suite));
	param("dmpages=", "65536", pages, sizeof(pages));

	printf("DMTEST BEGIN %s\n", suite);
	printf("METRIC run.cmdline_directmap_off %d\n",
	       strstr(cmdline, "directmap=off") != NULL);
	{
		char *argv[] = { "/bin/dmtest", pages,
				 strcmp(suite, "demo") ? NULL : "50", NULL };

		rc = run(argv);
	}
	printf("EXIT dmtest %d\n", rc);
	relay("/sys/kernel/debug/directmap/summary", "SUMMARY");
	relay("/proc/meminfo", "MEMINFO");
	splats();
	printf("DMTEST END\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
