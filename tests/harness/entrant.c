// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/entrant.h"

/* One entrant: see ew_h_entrant_loop(). The child is the one that joins and execs; its parent
 * (this process, or its child inside the pid namespace) stays outside the cgroup, as runc's. */
static void one_entrant(const char *procs, int pidns_fd)
{
	pid_t e = fork();

	if (e == 0) {
		pid_t c;

		if (pidns_fd >= 0 && setns(pidns_fd, CLONE_NEWPID))
			_exit(100);
		c = fork();
		if (c == 0) {
			int fd = open(procs, O_WRONLY), nul = open("/dev/null", O_RDWR);

			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(101);
			close(fd);
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		_exit(0);
	}
	if (e > 0)
		waitpid(e, NULL, 0);
}

pid_t ew_h_spawn_pidns(const char *procs, char *const argv[])
{
	int gate[2];
	pid_t pid;
	char c;

	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(procs, O_WRONLY), nul = open("/dev/null", O_RDWR);

		close(gate[0]);
		if (getpid() != 1 || fd < 0 || write(fd, "0", 1) != 1)
			_exit(120);
		close(fd);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(gate[1]);
	(void)!read(gate[0], &c, 1); /* EOF once the child has exec'd (or died) */
	close(gate[0]);
	return pid;
}

pid_t ew_h_entrant_loop(pid_t main_pid, const char *procs, bool via_pidns)
{
	char ns[64];
	int fd = -1;
	pid_t pid;

	if (via_pidns) {
		snprintf(ns, sizeof(ns), "/proc/%d/ns/pid", main_pid);
		fd = open(ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail_msg("%s: %s", ns, strerror(errno));
	}
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		for (;;)
			one_entrant(procs, fd);
	}
	if (fd >= 0)
		close(fd);
	return pid;
}

void ew_h_entrant_loop_stop(pid_t *loop)
{
	if (*loop <= 0)
		return;
	kill(*loop, SIGKILL);
	waitpid(*loop, NULL, 0);
	*loop = 0;
}

int ew_h_entrant_runs(struct ew_h_agent *a, int runs, const char *sfx, pid_t main_pid)
{
	static const char *const args[] = {"--agent-interval", "1h", "--verbose", NULL};
	static char err[1 << 16];
	int corrected = 0;

	for (int run = 0; run < runs; run++) {
		size_t starts, exits, readies, findings;
		json_object *s;

		if (ew_h_agent_start(a, args))
			fail_msg("run %d: exitwatch did not start", run);
		ew_h_agent_pump(a,
				150); /* what was in the ring buffer at the scan is read by now */
		if (ew_h_agent_stop(a) != 0)
			fail_msg("run %d: exitwatch did not stop cleanly", run);
		starts = ew_h_count_rec(a, "container_start", sfx);
		exits = ew_h_count_rec(a, "container_exit", sfx);
		readies = ew_h_count_rec(a, "container_ready", sfx);
		findings = ew_h_count_rec(a, "finding", sfx);
		if (starts != 1 || exits || readies || findings) {
			for (size_t i = 0; i < a->nlines; i++)
				if (strstr(a->raw[i], sfx))
					print_message("%s\n", a->raw[i]);
			fail_msg("run %d: %zu starts, %zu exits, %zu readies, %zu findings of %s "
				 "(want "
				 "1, 0, 0, 0)",
				 run, starts, exits, readies, findings, sfx);
		}
		s = ew_h_expect(a, "container_start", sfx, 0);
		if (!ew_h_bool(s, "already_running", false) ||
		    ew_h_int(s, "process.pid", 0) != main_pid)
			fail_msg("run %d: the start names pid %lld (already running: %d), want %d",
				 run, (long long)ew_h_int(s, "process.pid", 0),
				 ew_h_bool(s, "already_running", false), main_pid);
		ew_h_agent_stderr(a, err, sizeof(err));
		if (ew_h_count_lines(err,
				     (const char *const[]){"an exec entrant", "corrected", NULL}))
			corrected++;
		ew_h_agent_free(a);
	}
	return corrected;
}

void ew_h_entrant_no_scan(struct ew_h_agent *a, const char *sfx, int ms)
{
	static const char *const args[] = {"--agent-interval", "1h", "--no-scan", NULL};
	size_t starts, exits;

	if (ew_h_agent_start(a, args))
		fail_msg("exitwatch --no-scan did not start");
	ew_h_agent_pump(a, ms);
	if (ew_h_agent_stop(a) != 0)
		fail_msg("exitwatch --no-scan did not stop cleanly");
	starts = ew_h_count_rec(a, "container_start", sfx);
	exits = ew_h_count_rec(a, "container_exit", sfx);
	if (starts || exits) {
		for (size_t i = 0; i < a->nlines && i < 6; i++)
			if (strstr(a->raw[i], sfx))
				print_message("%s\n", a->raw[i]);
		fail_msg("--no-scan: %zu starts and %zu exits of %s: entrants in its pid namespace "
			 "were taken for its main process",
			 starts, exits, sfx);
	}
	ew_h_agent_free(a);
}
