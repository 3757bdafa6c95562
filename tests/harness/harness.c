// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/ingest/scan.h"
#include "harness/harness.h"
#include "harness/unit.h"

/* The skip rule is the test library's (tests/harness/unit.h); a BPF test's skip is logged as
 * "bpf <binary>: <why>" for the run's summary. */
void ew_h_need(bool ok, const char *why)
{
	ew_t_need_logged("bpf", ok, "%s", why);
}

const char *ew_h_exitwatch(void)
{
	const char *p = getenv("EXITWATCH");

	return p ? p : "build/exitwatch";
}

const char *ew_h_workload(void)
{
	static char path[4096];
	const char *p = getenv("EW_WORKLOAD");

	if (p)
		return p;
	if (!realpath("build/tests/helpers/workload", path))
		return "build/tests/helpers/workload";
	return path;
}

void ew_h_require_bpf(void)
{
	ew_h_need(geteuid() == 0, "not root");
	ew_h_need(access("/sys/kernel/btf/vmlinux", R_OK) == 0, "no BTF");
	ew_h_need(access(ew_h_exitwatch(), X_OK) == 0, "build/exitwatch is not built");
	ew_h_need(access(ew_h_workload(), X_OK) == 0, "the workload helper is not built");
}

void ew_h_require_docker(void)
{
	ew_h_require_bpf();
	ew_h_need(ew_h_sh("docker info >/dev/null 2>&1") == 0, "no Docker daemon");
	ew_h_need(ew_h_sh("docker image inspect exitwatch-test:latest >/dev/null 2>&1") == 0,
		  "no test image (tests/docker/build-image.sh)");
}

int ew_h_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ew_h_capture(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096];
	size_t n = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every line any test sees is kept for tests/e2e/validate-schema.sh, which checks them all
 * against docs/exitwatch.schema.json at the end of the run. */
static void keep_for_schema(const char *line, size_t len)
{
	const char *path = getenv("EW_RECORD_LOG");
	FILE *f = fopen(path ? path : "build/test-records.ndjson", "a");

	if (!f)
		return;
	fwrite(line, 1, len, f);
	fputc('\n', f);
	fclose(f);
}

static void add_line(struct ew_h_agent *a, const char *line, size_t len)
{
	json_object *o;
	json_tokener *tok;

	if (a->nlines == EW_H_MAX_LINES)
		fail_msg("exitwatch printed more than %d lines", EW_H_MAX_LINES);
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		fail_msg("exitwatch printed a line that is not one JSON object: %.*s", (int)len,
			 line);
	json_tokener_free(tok);
	keep_for_schema(line, len);
	a->raw[a->nlines] = strndup(line, len);
	a->lines[a->nlines++] = o;
}

size_t ew_h_agent_pump(struct ew_h_agent *a, int ms)
{
	int64_t end = now_ms() + ms;
	size_t before = a->nlines;

	while (!a->eof) {
		int64_t left = end - now_ms();
		struct pollfd p = {.fd = a->out_fd, .events = POLLIN};
		ssize_t n;
		char *nl;

		if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0)
			break;
		n = read(a->out_fd, a->buf + a->buflen, sizeof(a->buf) - a->buflen);
		if (n <= 0) {
			a->eof = true;
			break;
		}
		a->buflen += (size_t)n;
		while ((nl = memchr(a->buf, '\n', a->buflen))) {
			size_t len = (size_t)(nl - a->buf);

			add_line(a, a->buf, len);
			memmove(a->buf, nl + 1, a->buflen - len - 1);
			a->buflen -= len + 1;
		}
		if (a->buflen == sizeof(a->buf))
			fail_msg("exitwatch printed a line longer than %zu bytes", sizeof(a->buf));
		if (a->nlines > before && left <= 0)
			break;
	}
	return a->nlines - before;
}

json_object *ew_h_get(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;
	json_object *cur = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(cur, tok, &cur))
			return NULL;
	return cur;
}

const char *ew_h_str(json_object *o, const char *path)
{
	json_object *v = ew_h_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t ew_h_int(json_object *o, const char *path, int64_t dflt)
{
	json_object *v = ew_h_get(o, path);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

double ew_h_double(json_object *o, const char *path, double dflt)
{
	json_object *v = ew_h_get(o, path);

	return v && (json_object_is_type(v, json_type_double) ||
		     json_object_is_type(v, json_type_int))
		       ? json_object_get_double(v)
		       : dflt;
}

bool ew_h_bool(json_object *o, const char *path, bool dflt)
{
	json_object *v = ew_h_get(o, path);

	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

const char *ew_h_label(json_object *o, const char *key)
{
	json_object *labels;

	if (!json_object_object_get_ex(o, "logging.googleapis.com/labels", &labels))
		return NULL;
	return ew_h_str(labels, key);
}

bool ew_h_match(json_object *o, const void *arg)
{
	const struct ew_h_want *w = arg;
	const char *ev = ew_h_str(o, "event"), *cg;

	if (w->event && (!ev || strcmp(ev, w->event)))
		return false;
	if (w->cgroup) {
		size_t l, wl = strlen(w->cgroup);

		cg = ew_h_str(o, "container.cgroup");
		if (!cg || (l = strlen(cg)) < wl || strcmp(cg + l - wl, w->cgroup))
			return false;
	}
	return true;
}

json_object *ew_h_wait(struct ew_h_agent *a, ew_h_match_fn fn, const void *arg, size_t *from,
		       int ms)
{
	int64_t end = now_ms() + ms;
	size_t i = from ? *from : 0;

	for (;;) {
		for (; i < a->nlines; i++)
			if (fn(a->lines[i], arg)) {
				if (from)
					*from = i + 1;
				return a->lines[i];
			}
		if (a->eof || now_ms() >= end)
			return NULL;
		ew_h_agent_pump(a, 50);
	}
}

size_t ew_h_count(struct ew_h_agent *a, ew_h_match_fn fn, const void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nlines; i++)
		n += fn(a->lines[i], arg);
	return n;
}

static bool is_agent_start(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event"), *ph = ew_h_str(o, "agent.phase");

	(void)arg;
	return ev && ph && !strcmp(ev, "agent") && !strcmp(ph, "start");
}

static void dump_stderr(const struct ew_h_agent *a)
{
	char buf[4096];
	int fd = open(a->err_path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		print_error("exitwatch stderr:\n%s\n", buf);
	}
}

int ew_h_agent_start(struct ew_h_agent *a, const char *const *args)
{
	const char *argv[64];
	int pfd[2], n = 0, ef;
	static int seq;

	memset(a, 0, sizeof(*a));
	argv[n++] = ew_h_exitwatch();
	argv[n++] = "--config";
	argv[n++] = "/dev/null";
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(a->err_path, sizeof(a->err_path), "/tmp/ew-test-agent-%d-%d.err", getpid(), seq++);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	a->pid = fork();
	if (a->pid == 0) {
		ef = open(a->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(pfd[1], 1);
		if (ef >= 0)
			dup2(ef, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	a->out_fd = pfd[0];
	if (!ew_h_wait(a, is_agent_start, NULL, NULL, 20000)) {
		dump_stderr(a);
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
		a->pid = 0; /* reaped: the teardown must not signal a pid that may be reused */
		fail_msg("exitwatch did not print its agent start record within 20 s");
	}
	return 0;
}

void ew_h_agent_kill(struct ew_h_agent *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
		a->pid = 0;
	}
	ew_h_agent_free(a);
}

json_object *ew_h_expect(struct ew_h_agent *a, const char *event, const char *cgroup_sfx, int ms)
{
	struct ew_h_want w = {.event = event, .cgroup = cgroup_sfx};
	json_object *o = ew_h_wait(a, ew_h_match, &w, NULL, ms);

	if (!o)
		fail_msg("no %s record for cgroup ...%s within %d ms", event, cgroup_sfx, ms);
	return o;
}

size_t ew_h_count_rec(struct ew_h_agent *a, const char *event, const char *cgroup_sfx)
{
	struct ew_h_want w = {.event = event, .cgroup = cgroup_sfx};

	return ew_h_count(a, ew_h_match, &w);
}

pid_t ew_h_run_in(const char *base, const char *layout, char *const argv[], int stderr_fd,
		  bool core, const char *cwd)
{
	char rel[1024];
	pid_t pid;

	snprintf(rel, sizeof(rel), "%s%s", base, layout);
	assert_int_equal(ew_h_cgroup_make(rel), 0);
	pid = ew_h_spawn_in(rel, argv, stderr_fd, core, cwd);
	assert_true(pid > 0);
	return pid;
}

const char *ew_h_unit(const char *name)
{
	static char buf[8][96];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "ewtest-%s-%d.service", name, getpid());
	return b;
}

void ew_h_run_unit(const char *base, const char *unit, char *const argv[])
{
	char layout[128];

	snprintf(layout, sizeof(layout), "/system.slice/%s", unit);
	assert_true(ew_h_wait_pid(ew_h_run_in(base, layout, argv, -1, false, NULL), 10000) >= 0);
}

int ew_h_agent_stop(struct ew_h_agent *a)
{
	int st;

	kill(a->pid, SIGTERM);
	while (!a->eof)
		ew_h_agent_pump(a, 200);
	st = ew_h_wait_pid(a->pid, 15000);
	if (st < 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
	}
	a->pid = 0;
	return st;
}

void ew_h_agent_free(struct ew_h_agent *a)
{
	for (size_t i = 0; i < a->nlines; i++) {
		json_object_put(a->lines[i]);
		free(a->raw[i]);
	}
	a->nlines = 0;
	if (a->out_fd > 0)
		close(a->out_fd);
	a->out_fd = -1;
	unlink(a->err_path);
}

const char *ew_h_cgroup_root(void)
{
	static char root[4096];

	if (!root[0] && ew_scan_find_cgroup2("/proc/self/mountinfo", root, sizeof(root)))
		fail_msg("no cgroup v2 mount");
	return root;
}

int ew_h_cgroup_make(const char *rel)
{
	char path[4096], *p;

	snprintf(path, sizeof(path), "%s%s", ew_h_cgroup_root(), rel);
	for (p = path + strlen(ew_h_cgroup_root()) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

void ew_h_cgroup_remove_tree(const char *rel)
{
	ew_h_sh("find '%s%s' -depth -type d -exec rmdir {} + 2>/dev/null", ew_h_cgroup_root(), rel);
}

void ew_h_scratch_make(struct ew_h_scratch *s, const char *tag)
{
	static int n; /* one test binary runs its tests one after another */

	snprintf(s->base, sizeof(s->base), "/ew%s-%d-%d", tag, getpid(), n++);
	snprintf(s->dir, sizeof(s->dir), "/tmp/ew-%s-XXXXXX", tag);
	if (!mkdtemp(s->dir))
		fail_msg("mkdtemp %s: %s", s->dir, strerror(errno));
}

/*
 * SIGKILLs every process left in the subtree rel (a test that failed half-way leaves its
 * workloads there, a paused one forever), reaping those that are this process's children,
 * until the subtree is empty. Never the whole hierarchy: rel must name a subtree.
 */
static void kill_subtree(const char *rel)
{
	static char pids[1 << 16];

	if (!rel[0] || !strcmp(rel, "/") || strchr(rel, '\''))
		return;
	for (int round = 0; round < 100; round++) {
		char *p = pids, *end;

		ew_h_capture(pids, sizeof(pids),
			     "find '%s%s' -name cgroup.procs -exec cat {} + 2>/dev/null",
			     ew_h_cgroup_root(), rel);
		if (!pids[0])
			return;
		for (;;) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			p = end;
			if (pid <= 1)
				continue;
			kill((pid_t)pid, SIGKILL);
			waitpid((pid_t)pid, NULL, 0); /* ECHILD at once if not ours */
		}
		usleep(10000);
	}
}

void ew_h_scratch_clean(const struct ew_h_scratch *s)
{
	kill_subtree(s->base);
	ew_h_cgroup_remove_tree(s->base);
	if (s->dir[0] && !strchr(s->dir, '\''))
		ew_h_sh("rm -rf '%s'", s->dir);
}

void ew_h_scratch_file(const struct ew_h_scratch *s, const char *name, const char *text, char *out,
		       size_t len)
{
	FILE *f;

	snprintf(out, len, "%s/%s", s->dir, name);
	f = fopen(out, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		fail_msg("writing %s: %s", out, strerror(errno));
}

int ew_h_fixture_setup(void **state, const char *tag)
{
	struct ew_h_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, tag);
	*state = f;
	return 0;
}

int ew_h_fixture_teardown(void **state)
{
	struct ew_h_fixture *f = *state;

	ew_h_agent_kill(&f->agent);
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

pid_t ew_h_spawn_in(const char *rel, char *const argv[], int stderr_fd, bool core, const char *cwd)
{
	char procs[4096];
	int gate[2];
	pid_t pid;
	char c;

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct rlimit rl = {core ? RLIM_INFINITY : 0, core ? RLIM_INFINITY : 0};
		int fd = open(procs, O_WRONLY), nul = open("/dev/null", O_RDWR);

		close(gate[0]);
		/* Like runc's init: join the cgroup, then exec; the parent stays outside. */
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(120);
		close(fd);
		setrlimit(RLIMIT_CORE, &rl);
		if (cwd && chdir(cwd))
			_exit(121);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(stderr_fd >= 0 ? stderr_fd : nul, 2);
		execv(argv[0], argv); /* closes gate[1]: the parent's read returns */
		_exit(127);
	}
	close(gate[1]);
	(void)!read(gate[0], &c, 1); /* EOF once the child has exec'd (or died) */
	close(gate[0]);
	return pid;
}

int ew_h_wait_pid(pid_t pid, int ms)
{
	int64_t end = now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		if (now_ms() >= end)
			return -1;
		usleep(10000);
	}
}

void ew_h_rand_id(char out[65])
{
	static const char hex[] = "0123456789abcdef";
	static unsigned seed;

	if (!seed)
		seed = (unsigned)getpid() ^ (unsigned)now_ms();
	for (int i = 0; i < 64; i++)
		out[i] = hex[rand_r(&seed) & 15];
	out[64] = '\0';
}

void ew_h_rand_uid(char out[37])
{
	char id[65];

	ew_h_rand_id(id);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16, id + 20);
}

bool ew_h_file_has(const char *path, const char *needle)
{
	return ew_h_sh("grep -qF '%s' '%s' 2>/dev/null", needle, path) == 0;
}

ssize_t ew_h_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

size_t ew_h_agent_stderr(const struct ew_h_agent *a, char *buf, size_t len)
{
	ssize_t n = ew_h_read_file(a->err_path, buf, len);

	return n > 0 ? (size_t)n : 0;
}

size_t ew_h_count_lines(const char *text, const char *const *needles)
{
	size_t n = 0;

	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		bool all = true;

		for (const char *const *w = needles; *w && all; w++)
			all = memmem(l, len, *w, strlen(*w)) != NULL;
		n += all;
		l += len + (e != NULL);
	}
	return n;
}

uint64_t ew_h_cgroup_id(const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", ew_h_cgroup_root(), rel);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

static int tcp_socket(uint16_t port, bool do_listen, uint16_t *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || (do_listen && listen(fd, 16)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (bound)
		*bound = ntohs(sa.sin_port);
	return fd;
}

uint16_t ew_h_free_port(void)
{
	uint16_t port = 0;
	int fd = tcp_socket(0, false, &port);

	if (fd < 0)
		fail_msg("no free TCP port: %s", strerror(-fd));
	close(fd); /* bound, never listened: nothing accepts there */
	return port;
}

int ew_h_http_get(uint16_t port, const char *path, char *buf, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char req[512], *resp, *body;
	int fd, code = -EPROTO;
	size_t n = 0;
	ssize_t r;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		code = -errno;
		close(fd);
		return code;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -EIO;
	}
	resp = malloc(1 << 20);
	if (!resp) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (1 << 20) - 1 && (r = read(fd, resp + n, (1 << 20) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	resp[n] = '\0';
	body = strstr(resp, "\r\n\r\n");
	if (body && sscanf(resp, "HTTP/1.%*d %d", &code) == 1)
		snprintf(buf, len, "%s", body + 4);
	free(resp);
	return code;
}

#define EW_H_COLLECT_CONNS 8

struct ew_h_collector {
	int lfd;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;	  /* under lock */
	int open, closed; /* connections, under lock */
	char *data;	  /* under lock */
	size_t len, cap;
};

static void collect(struct ew_h_collector *c, const char *p, size_t n)
{
	pthread_mutex_lock(&c->lock);
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *d = realloc(c->data, cap);

		if (!d)
			abort(); /* a test helper out of memory: nothing sensible left to do */
		c->data = d;
		c->cap = cap;
	}
	memcpy(c->data + c->len, p, n);
	c->len += n;
	c->data[c->len] = '\0';
	pthread_mutex_unlock(&c->lock);
}

static void *collector_main(void *arg)
{
	struct ew_h_collector *c = arg;
	int conns[EW_H_COLLECT_CONNS], nconns = 0;
	char buf[16384];

	for (;;) {
		struct pollfd p[EW_H_COLLECT_CONNS + 1] = {{.fd = c->lfd, .events = POLLIN}};
		bool stop;

		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		for (int i = 0; i < nconns; i++)
			p[i + 1] = (struct pollfd){.fd = conns[i], .events = POLLIN};
		if (poll(p, (nfds_t)nconns + 1, 50) <= 0)
			continue;
		for (int i = nconns - 1; i >= 0; i--) {
			ssize_t n;

			if (!p[i + 1].revents)
				continue;
			n = read(conns[i], buf, sizeof(buf));
			if (n > 0) {
				collect(c, buf, (size_t)n);
				continue;
			}
			close(conns[i]);
			conns[i] = conns[--nconns];
			pthread_mutex_lock(&c->lock);
			c->open--;
			c->closed++;
			pthread_mutex_unlock(&c->lock);
		}
		if ((p[0].revents & POLLIN) && nconns < EW_H_COLLECT_CONNS) {
			int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				conns[nconns++] = fd;
				pthread_mutex_lock(&c->lock);
				c->open++;
				pthread_mutex_unlock(&c->lock);
			}
		}
	}
	for (int i = 0; i < nconns; i++)
		close(conns[i]);
	return NULL;
}

struct ew_h_collector *ew_h_collector_start(uint16_t port)
{
	struct ew_h_collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->lfd = tcp_socket(port, true, &c->port);
	if (c->lfd < 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	if (pthread_create(&c->thread, NULL, collector_main, c)) {
		close(c->lfd);
		free(c);
		return NULL;
	}
	return c;
}

uint16_t ew_h_collector_port(const struct ew_h_collector *c)
{
	return c->port;
}

const char *ew_h_collector_finish(struct ew_h_collector *c, int ms, size_t *len)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		bool done;

		pthread_mutex_lock(&c->lock);
		done = c->stop || (c->closed > 0 && c->open == 0);
		pthread_mutex_unlock(&c->lock);
		if (done || now_ms() >= end)
			break;
		usleep(20000);
	}
	pthread_mutex_lock(&c->lock);
	if (!c->stop) {
		c->stop = true;
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	} else {
		pthread_mutex_unlock(&c->lock);
	}
	*len = c->len;
	return c->data ? c->data : "";
}

void ew_h_collector_free(struct ew_h_collector *c)
{
	size_t len;

	if (!c)
		return;
	ew_h_collector_finish(c, 0, &len);
	close(c->lfd);
	pthread_mutex_destroy(&c->lock);
	free(c->data);
	free(c);
}
