// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The workloads the integration and Docker tests run as container main processes: one static
 * multi-call binary, so the same behaviours run on the host and inside the busybox test image.
 *
 *   workload exit CODE                 exit(CODE)
 *   workload sleep MS [CODE]           sleep, then exit(CODE)
 *   workload segv | abort              die of SIGSEGV / SIGABRT (core as RLIMIT_CORE says)
 *   workload group-exit CODE           a second thread calls exit_group(CODE)
 *   workload leader-exit MS CODE       the leader calls pthread_exit(); a thread exits later
 *   workload children N CODE [exec]    N children exit CODE (forked, or fork+exec'ed), then 0
 *   workload listen DELAY_MS HOLD_MS   listen() on 127.0.0.1 after DELAY, exit 0 after HOLD
 *   workload stderr CODE TEXT...       write TEXT lines to fd 2 (\n between), exit(CODE)
 *   workload hostile CODE              write quotes, newlines, ANSI, NUL, bad UTF-8 to fd 2
 *   workload oom [PROCS]               allocate and touch memory until killed (first join the
 *                                      cgroup of PROCS, a cgroup.procs path, as the OOM
 *                                      killer's first choice)
 *   workload oom-child PROCS           a forked child does `oom PROCS` ("-": no move); exit 0
 *                                      once it is SIGKILLed, 1 otherwise
 *   workload oom-init PROCS            as an init wrapper (tini, dumb-init): a forked child
 *                                      does `oom PROCS`; exit 128+signal, or its code
 *   workload oom-main PROCS            join the cgroup of PROCS as the OOM killer's first
 *                                      choice, then a forked child (which would not be) allocates
 *                                      until the killer ends this main in the child's context
 *   workload thread-children N T CODE  N children of T threads each, all leaving at once:
 *                                      even ones by exit_group(CODE) from every thread, odd
 *                                      ones by every thread calling exit (code 0); exit 0 when
 *                                      every child ended so, 1 otherwise
 *   workload term CODE                 wait for SIGTERM, then exit(CODE)
 *   workload trap SIG MS CODE          catch signal SIG (a number), MS ms after it exit(CODE)
 *   workload sigwait CODE [fd]         as tini, dumb-init: block SIGTERM, say "ready" on fd 2,
 *                                      take it with sigwait() (signalfd(): systemd), exit(CODE)
 *   workload reexec ARGS...            execv() itself with ARGS (an entrypoint's exec "$@")
 *   workload pause                     wait for a signal
 *   workload rename NAME CODE          set comm to NAME (its bytes, as given), exit(CODE)
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts))
		;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int group_exit_code;
static long leader_ms;

static void *group_exit_thread(void *arg)
{
	(void)arg;
	sleep_ms(100);
	syscall(SYS_exit_group, group_exit_code);
	return NULL;
}

static void *late_thread(void *arg)
{
	(void)arg;
	sleep_ms(leader_ms);
	exit(group_exit_code); /* exit_group() from the last thread */
	return NULL;
}

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static int children(int n, int code, int use_exec, const char *self)
{
	char codebuf[16];

	snprintf(codebuf, sizeof(codebuf), "%d", code);
	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0) {
			if (use_exec) {
				execl(self, self, "exit", codebuf, (char *)NULL);
				_exit(126);
			}
			_exit(code);
		}
		/* Reap as we go: the storm is exits, not a fork bomb. */
		while (waitpid(p, NULL, 0) < 0)
			;
	}
	return 0;
}

/* Never returns: the OOM killer ends it. */
static void oom(const char *procs)
{
	if (procs && strcmp(procs, "-")) {
		FILE *f = fopen(procs, "w");

		if (!f || fputs("0", f) < 0 || fclose(f)) {
			perror(procs);
			exit(1);
		}
	}
	if (procs) {
		FILE *f = fopen("/proc/self/oom_score_adj", "w");

		if (f) {
			fputs("1000", f);
			fclose(f);
		}
	}
	for (;;) {
		char *p = malloc(16 << 20);

		if (p)
			memset(p, 0x5a, 16 << 20);
	}
}

static int oom_child(const char *procs)
{
	pid_t p = fork();
	int st;

	if (p < 0)
		return 1;
	if (p == 0)
		oom(procs);
	while (waitpid(p, &st, 0) < 0)
		;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 1;
}

/* tini and dumb-init report a child killed by signal n as exit(128 + n). */
static int oom_init(const char *procs)
{
	pid_t p = fork();
	int st;

	if (p < 0)
		return 1;
	if (p == 0)
		oom(procs);
	while (waitpid(p, &st, 0) < 0)
		;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/*
 * The OOM killer's SIGKILL for this main is sent in the context of the task that ran the cgroup
 * out of memory: the child, another process. The child is forked before the main raises its own
 * oom_score_adj (a child inherits it), and starts only once the main holds memory of its own, so
 * the killer's choice is the main. The child goes with it (PR_SET_PDEATHSIG).
 */
static int oom_main(const char *procs)
{
	static const size_t held = 4 << 20;
	int gate[2];
	char *mem;
	FILE *f;
	pid_t p;

	if (pipe(gate))
		return 1;
	if (strcmp(procs, "-")) {
		f = fopen(procs, "w");
		if (!f || fputs("0", f) < 0 || fclose(f)) {
			perror(procs);
			return 1;
		}
	}
	p = fork();
	if (p < 0)
		return 1;
	if (p == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(gate[1]);
		if (read(gate[0], &c, 1) != 1)
			_exit(1);
		oom(NULL);
	}
	close(gate[0]);
	f = fopen("/proc/self/oom_score_adj", "w");
	if (!f || fputs("1000", f) < 0 || fclose(f))
		return 1;
	mem = malloc(held);
	if (!mem)
		return 1;
	memset(mem, 0x5a, held);
	if (write(gate[1], "g", 1) != 1)
		return 1;
	for (;;)
		pause();
}

/* SIGTERM blocked, never handled: a queued signal the program takes when it wants to. */
static int sigwait_mode(int code, int use_fd)
{
	struct signalfd_siginfo si;
	sigset_t set;
	int sig, fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return 125;
	fd = use_fd ? signalfd(-1, &set, SFD_CLOEXEC) : -1;
	if (use_fd && fd < 0)
		return 125;
	write_all(2, "ready\n", 6);
	if (use_fd) {
		if (read(fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGTERM)
			return 125;
	} else if (sigwait(&set, &sig) || sig != SIGTERM) {
		return 125;
	}
	return code;
}

static int leave_threads, leave_arrived;
static int leave_code; /* < 0: every thread calls exit; else exit_group(leave_code) */

static void leave(void)
{
	/* A spinning barrier: the threads are on their CPUs, not waking up one by one. */
	__atomic_add_fetch(&leave_arrived, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&leave_arrived, __ATOMIC_SEQ_CST) < leave_threads)
		;
	if (leave_code >= 0)
		syscall(SYS_exit_group, leave_code);
	syscall(SYS_exit, 0); /* this thread only: the last one out ends the process with 0 */
}

static void *leaver(void *arg)
{
	(void)arg;
	leave();
	return NULL;
}

/* Every thread of each child leaves at the same moment, so its last two threads race. */
static int thread_children(int n, int threads, int code)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		int want = i % 2 ? 0 : code, st;
		pid_t p = fork();

		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0) {
			pthread_attr_t a;
			pthread_t t;

			leave_code = i % 2 ? -1 : code;
			leave_threads = threads;
			pthread_attr_init(&a);
			pthread_attr_setstacksize(&a, 64 << 10);
			for (int k = 1; k < threads; k++)
				if (pthread_create(&t, &a, leaver, NULL))
					_exit(125);
			leave();
		}
		while (waitpid(p, &st, 0) < 0)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
			bad++;
	}
	return bad ? 1 : 0;
}

static int listen_mode(long delay, long hold)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s;

	sleep_ms(delay);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1)) {
		perror("listen");
		return 1;
	}
	sleep_ms(hold);
	return 0;
}

static int hostile(int code)
{
	static const char bytes[] =
		"Traceback \"quoted\" \\back\\slash\n"
		"\x1b[31mred\x1b[0m \x1b]0;title\x07\r\n"
		"nul:\0:after\n"
		"bad utf8: \xff\xfe \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82\n"
		"\"}\n{\"event\":\"forged\",\"severity\":\"CRITICAL\"}\n"
		"line\u2028sep\n"
		"ModuleNotFoundError: No module named 'app.services.monitoring'\n";

	write_all(2, bytes, sizeof(bytes) - 1);
	return code;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	pthread_t t;

	if (!strcmp(m, "exit") && argc > 2)
		return atoi(argv[2]);
	if (!strcmp(m, "sleep") && argc > 2) {
		sleep_ms(atol(argv[2]));
		return argc > 3 ? atoi(argv[3]) : 0;
	}
	if (!strcmp(m, "segv")) {
		volatile int *p = NULL;

		*p = 1;
		return 0;
	}
	if (!strcmp(m, "abort"))
		abort();
	if (!strcmp(m, "group-exit") && argc > 2) {
		group_exit_code = atoi(argv[2]);
		pthread_create(&t, NULL, group_exit_thread, NULL);
		for (;;)
			pause();
	}
	if (!strcmp(m, "leader-exit") && argc > 3) {
		leader_ms = atol(argv[2]);
		group_exit_code = atoi(argv[3]);
		pthread_create(&t, NULL, late_thread, NULL);
		pthread_exit(NULL);
	}
	if (!strcmp(m, "children") && argc > 3)
		return children(atoi(argv[2]), atoi(argv[3]), argc > 4 && !strcmp(argv[4], "exec"),
				"/proc/self/exe");
	if (!strcmp(m, "listen") && argc > 3)
		return listen_mode(atol(argv[2]), atol(argv[3]));
	if (!strcmp(m, "stderr") && argc > 3) {
		for (int i = 3; i < argc; i++) {
			write_all(2, argv[i], strlen(argv[i]));
			write_all(2, "\n", 1);
		}
		return atoi(argv[2]);
	}
	if (!strcmp(m, "hostile") && argc > 2)
		return hostile(atoi(argv[2]));
	if (!strcmp(m, "oom"))
		oom(argc > 2 ? argv[2] : NULL);
	if (!strcmp(m, "oom-child") && argc > 2)
		return oom_child(argv[2]);
	if (!strcmp(m, "oom-init") && argc > 2)
		return oom_init(argv[2]);
	if (!strcmp(m, "oom-main") && argc > 2)
		return oom_main(argv[2]);
	if (!strcmp(m, "thread-children") && argc > 4)
		return thread_children(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(m, "term") && argc > 2) {
		signal(SIGTERM, on_term);
		while (!got_term)
			pause();
		return atoi(argv[2]);
	}
	if (!strcmp(m, "trap") && argc > 4) {
		signal(atoi(argv[2]), on_term);
		while (!got_term)
			pause();
		sleep_ms(atol(argv[3]));
		return atoi(argv[4]);
	}
	if (!strcmp(m, "sigwait") && argc > 2)
		return sigwait_mode(atoi(argv[2]), argc > 3 && !strcmp(argv[3], "fd"));
	if (!strcmp(m, "reexec") && argc > 2) {
		argv[1] = argv[0];
		execv("/proc/self/exe", argv + 1);
		return 127;
	}
	if (!strcmp(m, "pause")) {
		for (;;)
			pause();
	}
	if (!strcmp(m, "rename") && argc > 3) {
		/* The kernel keeps the first 15 bytes: whatever they are, exitwatch must print it. */
		if (prctl(PR_SET_NAME, argv[2], 0, 0, 0)) {
			perror("prctl");
			return 125;
		}
		return atoi(argv[3]);
	}
	fprintf(stderr,
		"usage: workload exit|sleep|segv|abort|group-exit|leader-exit|children|"
		"listen|stderr|hostile|oom|oom-child|oom-init|oom-main|thread-children|term|trap|"
		"reexec|pause|rename "
		"...\n");
	return 2;
}
