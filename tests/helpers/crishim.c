// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A stand-in for containerd's shim writing the kubelet's CRI log, for tests/bpf/test_cri_log.c:
 *
 *   crishim LOG PROCS -- CMD [ARG...]
 *
 * runs CMD as a container main process with its stdout and stderr on two pipes: the child joins
 * the cgroup whose cgroup.procs file is PROCS, then execs (as runc's init does; the shim stays
 * outside the cgroup), while the shim appends what the pipes carry to LOG in the CRI format
 * (include/exitwatch/runtime_log.h):
 *
 *   <RFC3339Nano, UTC> <stdout|stderr> <F|P> <message>
 *
 * Each chunk read from a pipe is cut at its newlines, each piece an "F" entry without its "\n";
 * a piece left without a "\n" at the chunk's end is a "P" entry, continued by the next one of
 * the same stream. The time is CLOCK_REALTIME when the chunk was read, in Go's RFC3339Nano
 * layout (trailing zeros of the fraction dropped, no fraction when it is 0), as containerd
 * prints it. Once both pipes are at EOF (every process holding them is gone), the shim reaps
 * CMD and exits with its exit code (128 + the signal when it was killed). Its own failures:
 * 125 (usage, LOG, pipes), 126 (a write to LOG); the child's: 120 (joining the cgroup), 127 (exec).
 * Static, like the other helpers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define CHUNK_BYTES (16 * 1024) /* containerd's default max-container-log-line-size */

struct stream {
	const char *name; /* "stdout", "stderr" */
	int fd;		  /* read end, -1 at EOF */
};

/* Go's time.RFC3339Nano in UTC: 2026-01-02T15:04:05.1234Z, the fraction without its zeros. */
static void rfc3339nano(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char frac[16] = "";
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (ts.tv_nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		for (n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, len - n, "%sZ", frac);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(126);
		p += w;
		n -= (size_t)w;
	}
}

/* One entry in one write(): LOG is O_APPEND, so entries never interleave. */
static void entry(int log, const char *ts, const char *stream, char tag, const char *p, size_t n)
{
	static char line[CHUNK_BYTES + 128];
	int h = snprintf(line, sizeof(line), "%s %s %c ", ts, stream, tag);

	memcpy(line + h, p, n);
	line[h + n] = '\n';
	write_all(log, line, (size_t)h + n + 1);
}

/* Reads one chunk of s and logs it; at EOF (or an error) closes s. */
static void pump(int log, struct stream *s)
{
	static char buf[CHUNK_BYTES];
	char ts[64];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	const char *p = buf, *end, *nl;

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	rfc3339nano(ts, sizeof(ts));
	for (end = buf + n; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			entry(log, ts, s->name, 'P', p, (size_t)(end - p));
			break;
		}
		entry(log, ts, s->name, 'F', p, (size_t)(nl - p));
	}
}

int main(int argc, char **argv)
{
	struct stream st[2] = {{"stdout", -1}, {"stderr", -1}};
	int out[2], err[2], log, status;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: crishim LOG CGROUP_PROCS -- CMD [ARG...]\n");
		return 125;
	}
	log = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log < 0 || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		perror("crishim");
		return 125;
	}
	pid = fork();
	if (pid < 0) {
		perror("crishim: fork");
		return 125;
	}
	if (pid == 0) {
		int fd = open(argv[2], O_WRONLY | O_CLOEXEC), nul = open("/dev/null", O_RDONLY);

		/* As runc's init: join the cgroup, then exec; the parent stays outside. */
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(120);
		close(fd);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(120);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	st[0].fd = out[0];
	st[1].fd = err[0];
	while (st[0].fd >= 0 || st[1].fd >= 0) {
		struct pollfd p[2] = {{.fd = st[0].fd, .events = POLLIN},
				      {.fd = st[1].fd, .events = POLLIN}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("crishim: poll");
			return 125;
		}
		for (int i = 0; i < 2; i++)
			if (st[i].fd >= 0 && p[i].revents)
				pump(log, &st[i]);
	}
	close(log);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 125;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
