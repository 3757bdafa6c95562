// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A container main process that writes its last words to stderr in one of the ways real
 * programs do, then exits 3. tests/bpf/test_stderr.c knows the exact bytes each case writes.
 *   stderrwriter cold        one write() from a page never touched before (a string in a
 *                            cold page: not resident at the syscall's entry)
 *   stderrwriter writev      writev(), as glibc prints "free(): double free detected"
 *   stderrwriter devstderr   write()s to a reopened /dev/stderr and /proc/self/fd/2
 *   stderrwriter big         10 KiB in 1000-byte writes: only the end is kept
 *   stderrwriter interleave  stdout and stderr lines in turn: stdout is not stderr
 *   stderrwriter child       a forked child writes to the inherited stderr, then the main
 * Static, so it also runs in the kernel matrix's initramfs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define COLD_TEXT                                                                            \
	"Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n" \
	"ModuleNotFoundError: No module named 'app.services.monitoring'\n"

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		exit(100);
}

/* The text sits in a file mapping this process has never touched: its page table has no
 * entry for it until the kernel's own copy in write() faults it in. */
static void cold(void)
{
	char path[] = "/tmp/ew-cold-XXXXXX";
	size_t len = strlen(COLD_TEXT);
	int fd = mkstemp(path);
	char *p;

	if (fd < 0 || write(fd, COLD_TEXT, len) != (ssize_t)len)
		exit(101);
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	unlink(path);
	if (p == MAP_FAILED)
		exit(102);
	if (write(2, p, len) != (ssize_t)len)
		exit(103);
}

static void do_writev(void)
{
	struct iovec iov[] = {
		{"free(): ", 8},
		{"double free detected in tcache 2", 32},
		{"\n", 1},
	};

	if (writev(2, iov, 3) != 41)
		exit(104);
}

static void devstderr(void)
{
	int a = open("/dev/stderr", O_WRONLY | O_APPEND),
	    b = open("/proc/self/fd/2", O_WRONLY | O_APPEND);

	if (a < 0 || b < 0 || a == 2 || b == 2)
		exit(105);
	put(a, "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n");
	put(b, "nginx: [emerg] still could not bind()\n");
}

static void big(void)
{
	char chunk[1000];

	for (int i = 0; i < 10240 / 1000 + 1; i++) {
		size_t n = i == 10240 / 1000 ? 10240 % 1000 : sizeof(chunk);

		for (size_t j = 0; j < n; j++)
			chunk[j] = (j % 100 == 99) ? '\n' : (char)('a' + (i * 1000 + j) % 26);
		if (write(2, chunk, n) != (ssize_t)n)
			exit(106);
	}
}

static void interleave(void)
{
	char line[32];

	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "out %d\n", i);
		put(1, line);
		snprintf(line, sizeof(line), "err %d\n", i);
		put(2, line);
	}
}

static void child(void)
{
	int st;
	pid_t pid;

	put(2, "main: starting worker\n");
	pid = fork();
	if (pid == 0) {
		put(2, "worker: connect() to db:5432 failed: Connection refused\n");
		_exit(1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		exit(107);
	put(2, "main: worker died, giving up\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {{"cold", cold}, {"writev", do_writev},	 {"devstderr", devstderr},
		     {"big", big},   {"interleave", interleave}, {"child", child}};

	for (size_t i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strcmp(argv[1], cases[i].name)) {
			cases[i].fn();
			return 3;
		}
	}
	fprintf(stderr, "usage: stderrwriter cold|writev|devstderr|big|interleave|child\n");
	return 2;
}
