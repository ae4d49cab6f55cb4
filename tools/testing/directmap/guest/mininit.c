// SPDX-License-Identifier: GPL-2.0
/*
 * mininit: /init of the arm64 test guest, which has no busybox.  It mounts
 * what dmtest reads, runs the suite named on the kernel command line
 * (dmtest=check|off|demo|storm|bench) and reports to the host on the console as
 * the x86 guest's shell init does: "EXIT <name> <status>", "METRIC <name>
 * <value>", "DMESG: " and "SUMMARY: " lines, between "DMTEST BEGIN" and
 * "DMTEST END".  Then it powers the guest off, or for the storm kexecs
 * into /boot/Image while directmap holds regions.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/bpf.h>
#include <linux/kexec.h>

#include "guest.h"

/* klogctl() commands and levels, as include/linux/syslog.h and kern_levels.h */
#define SYSLOG_READ_ALL		3
#define SYSLOG_CONSOLE_LEVEL	8
#define LOGLEVEL_WARNING	4

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
		"KASAN", "possible circular", "possible recursive",
		"inconsistent lock", "INFO: task",
	};
	static char log[4 << 20];	/* the storm's log_buf_len */
	int len = klogctl(SYSLOG_READ_ALL, log, sizeof(log) - 1), found = 0;
	char *line, *save;
	unsigned int i;

	if (len < 0)
		len = 0;
	log[len] = 0;
	/* the first line gone: a splat may have gone with it */
	printf("METRIC run.dmesg_wrapped %d\n", !strstr(log, "Booting Linux"));
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

/* "key value" lines of a debugfs file as METRIC PREFIX.key value */
static void metrics(const char *prefix, const char *path)
{
	char line[256], key[64];
	long val;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[a-z_0-9] %ld", key, &val) == 2)
			printf("METRIC %s.%s %ld\n", prefix, key, val);
	fclose(f);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

/* memfd_secret pages, faulted in; they stay held until the caller exits */
static int hold_secrets(size_t pages)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	size_t i, size = pages * 4096;
	char *p;
	int fd;

	/* memfd_secret counts against RLIMIT_MEMLOCK */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	fd = syscall(SYS_memfd_secret, 0);
	if (fd < 0 || ftruncate(fd, size))
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < size; i += 4096)
		p[i] = 1;
	return 0;
}

/*
 * A child that runs fn until SECS have passed, then reports the sum of
 * what fn returned as METRIC code.NAME; its pid
 */
static pid_t for_seconds(const char *name, int (*fn)(void), int secs)
{
	pid_t pid = fork();
	time_t end = time(NULL) + secs;
	long sum = 0;

	if (pid)
		return pid;
	while (time(NULL) < end)
		sum += fn();
	printf("METRIC code.%s %ld\n", name, sum);
	_exit(0);
}

/* memfd_secret pages taken and given back, as stress-ng --secretmem */
static int churn_secrets(void)
{
	int status;
	pid_t pid = fork();

	if (!pid)
		_exit(hold_secrets(2048) ? 1 : 0);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status);
}

/* Memory pressure, so that reclaim runs directmap's shrinker */
static int press_memory(void)
{
	size_t size = 640UL << 20, i;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	for (i = 0; i < size; i += 4096)
		p[i] = 1;
	munmap(p, size);
	write_file("/proc/sys/vm/drop_caches", "3");
	return 1;
}

/* CPU 1 offline and online again: a CPU hotplug writer */
static int toggle_cpu(void)
{
	static const char online[] = "/sys/devices/system/cpu/cpu1/online";

	if (write_file(online, "0"))
		return 0;
	return !write_file(online, "1");
}

/*
 * A module loaded and unloaded: its text and data change permissions,
 * and with them their linear aliases
 */
static int load_module(void)
{
	int fd = open("/lib/test_module.ko", O_RDONLY), loaded;

	if (fd < 0)
		return 0;
	loaded = !syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return loaded && !syscall(SYS_delete_module, "test_module", O_NONBLOCK);
}

/*
 * 64 BPF programs loaded and JITed into read-only executable packs (a
 * new pack's linear alias changes), then closed; sleepable programs are
 * freed after an RCU tasks trace grace period, so packs are rarely freed
 * here.  The number loaded, if the JIT ran.
 */
static int load_bpf(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr = {
		.prog_type = BPF_PROG_TYPE_SYSCALL,
		.prog_flags = BPF_F_SLEEPABLE,
		.insns = (unsigned long)insns,
		.insn_cnt = ARRAY_SIZE(insns),
		.license = (unsigned long)"GPL",
	};
	struct bpf_prog_info info = {};
	union bpf_attr get = {};
	int fds[64], n, jited = 0;

	for (n = 0; n < 64; n++) {
		fds[n] = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
		if (fds[n] < 0)
			break;
	}
	if (n) {
		get.info.bpf_fd = fds[0];
		get.info.info_len = sizeof(info);
		get.info.info = (unsigned long)&info;
		jited = !syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &get,
				 sizeof(get)) && info.jited_prog_len;
	}
	while (n)
		close(fds[--n]);
	return jited ? 64 : 0;
}

static void count_regions(const char *metric)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/sys/kernel/debug/directmap/regions", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	printf("METRIC %s %d\n", metric, n);
}

/*
 * The storm on arm64: directmap's torture threads (splits, collapses,
 * drains as from reclaim) next to memfd_secret churn and memory pressure
 * with the page cache dropped, a CPU going offline and online, modules
 * and BPF programs loaded and freed, under lockdep; then fault injection;
 * then kexec into the same kernel with regions out.
 */
static void run_storm(int secs)
{
	const char *dm = "/sys/kernel/debug/directmap";
	static const struct {
		const char *name;
		int (*fn)(void);
	} meanwhile[] = {
		{ "secret_churns", churn_secrets },
		{ "reclaims", press_memory },
		{ "cpu_toggles", toggle_cpu },
		{ "module_loads", load_module },
		{ "bpf_progs", load_bpf },
	};
	pid_t kids[ARRAY_SIZE(meanwhile)];
	char path[128], cmd[64];
	unsigned int i;

	printf("METRIC storm.lockdep %d\n", !access("/proc/lockdep_stats", R_OK));
	snprintf(path, sizeof(path), "%s/verify", dm);
	metrics("verify.boot", path);
	if (!secs)
		return;
	for (i = 0; i < ARRAY_SIZE(meanwhile); i++)
		kids[i] = for_seconds(meanwhile[i].name, meanwhile[i].fn, secs);
	snprintf(cmd, sizeof(cmd), "storm %d", secs);
	snprintf(path, sizeof(path), "%s/torture", dm);
	printf("EXIT storm %d\n", write_file(path, cmd) ? 1 : 0);
	for (i = 0; i < ARRAY_SIZE(kids); i++)
		waitpid(kids[i], NULL, 0);
	metrics("storm", path);
	snprintf(path, sizeof(path), "%s/verify", dm);
	metrics("verify.storm", path);

	snprintf(path, sizeof(path), "%s/torture", dm);
	printf("EXIT faults %d\n", write_file(path, "faults 1000 25") ? 1 : 0);
	metrics("faults", path);
	snprintf(path, sizeof(path), "%s/drain", dm);
	write_file(path, "1");
	snprintf(path, sizeof(path), "%s/verify", dm);
	metrics("verify.end", path);
}

/*
 * make bench: the x86 guest's bench_full() less stress-ng, which Debian
 * ships for the host's architecture only.  Each step's status is "EXIT
 * dmbench_<name> <status>".
 */
static void run_bench(void)
{
	/* the step's name, then its argv */
	static char *const steps[][9] = {
		{ "walk", "/bin/dmbench", "walk", "131072", "2000000",
		  "walk.intact" },
		{ "churn_plain", "/bin/dmbench", "churn", "20", "64", "2048",
		  "1", "memfd" },
		{ "churn", "/bin/dmbench", "churn", "20", "64", "2048", "1" },
		{ "walk_after", "/bin/dmbench", "walk", "131072", "2000000",
		  "walk.after_churn" },
		{ "micro", "/bin/dmbench", "micro", "1024", "20" },
		{ "micro_batch", "/bin/dmbench", "micro", "16384", "3",
		  "micro_batch" },
		{ "walk_split", "/bin/dmbench", "walk", "131072", "2000000",
		  "walk.split", "split" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		printf("EXIT dmbench_%s %d\n", steps[i][0], run(steps[i] + 1));
		sleep(1);
	}
}

static void on_alarm(int sig)
{
}

/* kexec into /boot/Image while a child holds secrets: it must boot */
static void kexec_held(void)
{
	static const char args[] =
		"console=ttyAMA0 panic=-1 kunit.enable=0 dmtest=kexecd";
	int fd = open("/boot/Image", O_RDONLY), pipefd[2];
	pid_t pid;
	char c;

	if (fd < 0 || pipe(pipefd))
		return;
	/* no SA_RESTART: the read below must give up */
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	pid = fork();
	if (!pid) {
		c = hold_secrets(16384) ? 'n' : 'y';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	/* a child stuck for 60 s: go on without it */
	alarm(60);
	if (read(pipefd[0], &c, 1) != 1 || c != 'y')
		printf("EXIT kexec_hold 1\n");
	alarm(0);
	count_regions("kexec.regions_out");
	printf("EXIT kexec_load %d\n",
	       syscall(SYS_kexec_file_load, fd, -1, sizeof(args), args,
		       KEXEC_FILE_NO_INITRAMFS) ? 1 : 0);
	printf("DMTEST END\nKEXEC GO\n");
	fflush(stdout);
	sync();
	reboot(RB_KEXEC);
	printf("EXIT kexec_exec 1\n");
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

	/*
	 * The storm's CPU hotplug logs at KERN_INFO and test_module at
	 * KERN_WARNING; an nbcon console prints those from its kthread,
	 * later, in the middle of a report line.  So only errors reach the
	 * console; splats() relays warnings from the log, which is large
	 * enough (log_buf_len) to keep them all.  Not restored: the guest
	 * powers off or kexecs.
	 */
	if (!strcmp(suite, "storm"))
		klogctl(SYSLOG_CONSOLE_LEVEL, NULL, LOGLEVEL_WARNING);
	printf("DMTEST BEGIN %s\n", suite);
	printf("METRIC run.cmdline_directmap_off %d\n",
	       strstr(cmdline, "directmap=off") != NULL);
	if (!strcmp(suite, "storm")) {
		run_storm(atoi(param("dmsecs=", "10", pages, sizeof(pages))));
	} else if (!strcmp(suite, "bench")) {
		run_bench();
	} else {
		char *argv[] = { "/bin/dmtest", pages,
				 strcmp(suite, "demo") ? NULL : "50", NULL };

		rc = run(argv);
		printf("EXIT dmtest %d\n", rc);
	}
	relay("/sys/kernel/debug/directmap/summary", "SUMMARY");
	relay("/proc/meminfo", "MEMINFO");
	splats();
	if (!strcmp(suite, "storm"))
		kexec_held();
	printf("DMTEST END\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
