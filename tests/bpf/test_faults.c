// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Faults of exitwatch's own resources, against the real binary and the real BPF programs:
 * SIGTERM with a sink that is down (and one that is up), a ring buffer too small for a burst,
 * more running containers than the kernel's map holds (--max-containers), a full disk under
 * the state file and the file sink. The faults of the world it watches are
 * in test_faults_env.c. Needs root; under CI=true a skip is a failure.
 */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"

struct fixture {
	struct ew_h_agent agent;
	struct ew_h_scratch s; /* its cgroup subtree and scratch directory */
	char mnt[128];	       /* a tmpfs mounted by the test, unmounted in teardown */
	struct ew_h_collector *coll;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, "faults");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ew_h_agent_kill(&f->agent);
	ew_h_collector_free(f->coll);
	if (f->mnt[0])
		ew_h_sh("umount -l '%s' 2>/dev/null", f->mnt);
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

#define START(f, ...) ew_h_agent_start(&(f)->agent, (const char *const[]){__VA_ARGS__, NULL})
#define WL	      EW_H_WL

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_object *wait_rec(struct fixture *f, const char *event, const char *sfx, int ms)
{
	return ew_h_expect(&f->agent, event, sfx, ms);
}

static size_t count_rec(struct fixture *f, const char *event, const char *sfx)
{
	return ew_h_count_rec(&f->agent, event, sfx);
}

/* Makes <base><layout> and runs argv as its main process; returns the pid. */
static pid_t run_in(struct fixture *f, const char *layout, char *const argv[])
{
	return ew_h_run_in(f->s.base, layout, argv, -1, false, NULL);
}

/* A service unique to this run: a unit's identity is its name, shared across test runs. */
static const char *unit(const char *name)
{
	static char buf[4][96];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "/system.slice/ewfaults-%s-%d.service", name, getpid());
	return b;
}

/* n exits with code 3 of one service, each seen on stdout before the next start. */
static void crash_loop(struct fixture *f, const char *layout, int n)
{
	size_t from = 0;

	for (int i = 0; i < n; i++) {
		pid_t pid = run_in(f, layout, WL("exit", "3"));

		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
		if (!ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_exit", layout},
			       &from, 5000))
			fail_msg("exit %d of %s not reported", i + 1, layout);
	}
}

static const char *insert_id(json_object *o)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "logging.googleapis.com/insertId", &v))
		return NULL;
	return json_object_get_string(v);
}

/* The insertId of each NDJSON line of text, in order; every line must be a JSON object. */
static size_t text_ids(const char *text, char ***ret)
{
	size_t n = 0, cap = 64;
	char **ids = malloc(cap * sizeof(*ids));

	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n');
		char *line = strndup(l, e ? (size_t)(e - l) : strlen(l));
		json_object *o = json_tokener_parse(line);

		if (!o || !insert_id(o))
			fail_msg("not a record: %.200s", line);
		if (n == cap)
			ids = realloc(ids, (cap *= 2) * sizeof(*ids));
		ids[n++] = strdup(insert_id(o));
		json_object_put(o);
		free(line);
		if (!e)
			break;
		l = e + 1;
	}
	*ret = ids;
	return n;
}

static void free_ids(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* ids[0..n) must be the insertIds of the agent's stdout lines [from, from + n). */
static void assert_ids_are_stdout(struct fixture *f, char **ids, size_t n, size_t from)
{
	assert_true(from + n <= f->agent.nlines);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], insert_id(f->agent.lines[from + i])))
			fail_msg("line %zu: got %s, stdout has %s", i, ids[i],
				 insert_id(f->agent.lines[from + i]));
}

/* The spool files in dir, concatenated ("" when there are none or they are empty). */
static void read_spool(const char *dir, char *buf, size_t len)
{
	char pat[256];
	size_t used = 0;
	glob_t g;

	buf[0] = '\0';
	snprintf(pat, sizeof(pat), "%s/*.spool", dir);
	if (glob(pat, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		ssize_t n = ew_h_read_file(g.gl_pathv[i], buf + used, len - used);

		used += n > 0 ? (size_t)n : 0;
	}
	globfree(&g);
}

/* Sends SIGTERM; the agent must exit 0 within ms. */
static void stop_within(struct fixture *f, int ms)
{
	int64_t t0 = mono_ms(), took;
	int st = ew_h_agent_stop(&f->agent);

	took = mono_ms() - t0;
	print_message("exited %lld ms after SIGTERM\n", (long long)took);
	assert_true(st >= 0 && WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(took < ms);
}

/* ---- 1. SIGTERM drains every sink, spools what it cannot deliver ---- */

static void test_drain_spools_undelivered(void **state)
{
	struct fixture *f = *state;
	static char err[1 << 16], spooled[1 << 20];
	char tcp[64], spool[128], setspool[160], want[96];
	size_t n1, nspool, ntcp, len;
	char **ids;
	const char *got;
	uint16_t port;

	ew_h_require_bpf();
	port = ew_h_free_port();
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%u", port);
	snprintf(spool, sizeof(spool), "%s/spool", f->s.dir);
	snprintf(setspool, sizeof(setspool), "agent.spool_dir=%s", spool);
#define ARGS                                                                             \
	"-o", "stdout", "-o", tcp, "--set", "agent.drain_timeout=2s", "--set", setspool, \
		"--agent-interval", "1h"
	START(f, ARGS);
	crash_loop(f, unit("drain"), 5);
	stop_within(f, 2000 + 3000);
	n1 = f->agent.nlines;
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	print_message("stderr: %s", err);
	snprintf(want, sizeof(want), "%zu lines could not be delivered", n1);
	assert_int_equal(ew_h_count_lines(err, (const char *[]){want, NULL}), 1);

	/* Every line is in the spool, in order. */
	read_spool(spool, spooled, sizeof(spooled));
	nspool = text_ids(spooled, &ids);
	assert_int_equal(nspool, n1);
	assert_ids_are_stdout(f, ids, nspool, 0);
	free_ids(ids, nspool);

	/* The next run, its peer up, delivers them first, then its own. */
	{
		char **first = malloc(n1 * sizeof(*first));

		for (size_t i = 0; i < n1; i++)
			first[i] = strdup(insert_id(f->agent.lines[i]));
		ew_h_agent_free(&f->agent);
		f->coll = ew_h_collector_start(port);
		assert_non_null(f->coll);
		START(f, ARGS);
		crash_loop(f, unit("drain"), 1);
		stop_within(f, 2000 + 3000);
		got = ew_h_collector_finish(f->coll, 3000, &len);
		ntcp = text_ids(got, &ids);
		assert_int_equal(ntcp, n1 + f->agent.nlines);
		for (size_t i = 0; i < n1; i++)
			assert_string_equal(ids[i], first[i]);
		assert_ids_are_stdout(f, ids + n1, f->agent.nlines, 0);
		free_ids(ids, ntcp);
		free_ids(first, n1);
	}
#undef ARGS
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	assert_null(strstr(err, "could not be delivered"));
	read_spool(spool, spooled, sizeof(spooled));
	assert_string_equal(spooled, "");
}

static void test_drain_delivers_everything(void **state)
{
	struct fixture *f = *state;
	static char err[1 << 16], spooled[1 << 16];
	char tcp[64], spool[128], setspool[160];
	const char *got;
	size_t n, len;
	char **ids;

	ew_h_require_bpf();
	f->coll = ew_h_collector_start(0);
	assert_non_null(f->coll);
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%u", ew_h_collector_port(f->coll));
	snprintf(spool, sizeof(spool), "%s/spool", f->s.dir);
	snprintf(setspool, sizeof(setspool), "agent.spool_dir=%s", spool);
	START(f, "-o", "stdout", "-o", tcp, "--set", "agent.drain_timeout=2s", "--set", setspool,
	      "--agent-interval", "1h");
	crash_loop(f, unit("deliver"), 5);
	stop_within(f, 2000 + 3000);
	got = ew_h_collector_finish(f->coll, 3000, &len);
	n = text_ids(got, &ids);
	print_message("%zu lines on stdout, %zu received\n", f->agent.nlines, n);
	assert_int_equal(n, f->agent.nlines);
	assert_ids_are_stdout(f, ids, n, 0);
	free_ids(ids, n);
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	assert_null(strstr(err, "could not be delivered"));
	read_spool(spool, spooled, sizeof(spooled));
	assert_string_equal(spooled, "");
}

/* ---- 2. ring buffer exhaustion ---- */

enum {
	RB_WAVE = 100,
	RB_WAVES_MIN = 5,
	RB_WAVES_MAX = 10,
	RB_WORKERS = 8,
	RB_REL = 160
};

/*
 * Starts mains rel[0..n) exiting 3 from RB_WORKERS forked parents at once (each outside the
 * cgroups, as runc is); every one must exec and exit 3.
 */
static void burst(char (*rel)[RB_REL], int n)
{
	pid_t workers[RB_WORKERS];

	for (int w = 0; w < RB_WORKERS; w++) {
		workers[w] = fork();
		assert_true(workers[w] >= 0);
		if (workers[w] == 0) {
			pid_t pids[RB_WAVE];
			int k = 0, bad = 0, st;

			for (int i = w; i < n; i += RB_WORKERS)
				pids[k++] = ew_h_spawn_in(rel[i], WL("exit", "3"), -1, false, NULL);
			for (int i = 0; i < k; i++)
				bad += pids[i] <= 0 || waitpid(pids[i], &st, 0) != pids[i] ||
				       !WIFEXITED(st) || WEXITSTATUS(st) != 3;
			_exit(bad ? 1 : 0);
		}
	}
	for (int w = 0; w < RB_WORKERS; w++)
		assert_int_equal(ew_h_wait_pid(workers[w], 20000), 0);
}

static bool in_ids(const uint64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if ((int64_t)ids[i] == id)
			return true;
	return false;
}

struct rb_ids {
	const uint64_t *v;
	size_t n;
};

static bool degraded_ours(json_object *o, const void *arg)
{
	const struct rb_ids *ids = arg;
	const char *ev = ew_h_str(o, "event");

	return ev && !strcmp(ev, "finding") && ew_h_bool(o, "degraded", false) &&
	       in_ids(ids->v, ids->n, ew_h_int(o, "container.cgroup_id", 0));
}

static bool periodic_with_drops(json_object *o, const void *arg)
{
	const char *ph = ew_h_str(o, "agent.phase");

	return ph && !strcmp(ph, "periodic") && ew_h_int(o, "agent.drops", 0) > 0;
}

static int64_t metrics_drops(uint16_t port)
{
	/* All of it (ew_h_http_get() reads at most 1 MiB): series per workload come first. */
	static char body[1 << 20];
	const char *name = "exitwatch_ringbuf_drops_total{";
	int64_t sum = 0;

	if (ew_h_http_get(port, "/metrics", body, sizeof(body)) != 200)
		return -1;
	for (const char *l = body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *sp = strchr(l, ' ');

		if (!strncmp(l, name, strlen(name)) && sp)
			sum += strtoll(sp + 1, NULL, 10);
	}
	return sum;
}

/* Lines of the agent's stderr so far that hold needle. */
static int stderr_lines_with(struct fixture *f, const char *needle)
{
	static char err[1 << 16];
	int n = 0;

	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	for (const char *p = err; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_ringbuf_exhaustion(void **state)
{
	struct fixture *f = *state;
	static char rel[RB_WAVE][RB_REL];
	static uint64_t ids[RB_WAVE * RB_WAVES_MAX + 1];
	size_t nids = 0, starts = 0, exits = 0, by_id = 0;
	struct rb_ids want = {ids, 0};
	json_object *per, *stop;
	char maddr[64], later[RB_REL];
	int64_t drops, mdrops = -1, end;
	uint16_t mport = ew_h_free_port();
	int waves = 0;
	pid_t pid;

	ew_h_require_bpf();
	snprintf(maddr, sizeof(maddr), "127.0.0.1:%u", mport);
	START(f, "--ringbuf-size", "8192", "--agent-interval", "1s", "--rule",
	      "exit_code_burst.count=0", "--metrics-addr", maddr);
	/* Waves until a finding made after the agent saw drops says so (at least RB_WAVES_MIN). */
	while (waves < RB_WAVES_MAX) {
		for (int i = 0; i < RB_WAVE; i++) {
			snprintf(rel[i], sizeof(rel[i]), "%s/rb/w%d-%d", f->s.base, waves, i);
			assert_int_equal(ew_h_cgroup_make(rel[i]), 0);
			ids[nids++] = ew_h_cgroup_id(rel[i]);
		}
		burst(rel, RB_WAVE);
		waves++;
		ew_h_agent_pump(&f->agent, 300);
		want.n = nids;
		if (waves >= RB_WAVES_MIN && ew_h_count(&f->agent, degraded_ours, &want))
			break;
	}
	/* The next container after the burst is reported as usual. */
	snprintf(later, sizeof(later), "%s/rb/later", f->s.base);
	pid = run_in(f, "/rb/later", WL("sleep", "100", "0"));
	ids[nids++] = ew_h_cgroup_id(later);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 0);
	assert_int_equal(
		ew_h_int(wait_rec(f, "container_start", "/rb/later", 5000), "process.pid", 0), pid);
	assert_int_equal(
		ew_h_int(wait_rec(f, "container_exit", "/rb/later", 5000), "exit.code", -1), 0);

	per = ew_h_wait(&f->agent, periodic_with_drops, NULL, NULL, 3000);
	assert_non_null(per);
	assert_int_equal(ew_h_int(per, "agent.kernel_events.dropped_execs", 0) +
				 ew_h_int(per, "agent.kernel_events.dropped_exits", 0) +
				 ew_h_int(per, "agent.kernel_events.dropped_ready", 0),
			 ew_h_int(per, "agent.drops", -1));
	for (end = mono_ms() + 3000; mdrops <= 0 && mono_ms() < end;
	     ew_h_agent_pump(&f->agent, 200))
		mdrops = metrics_drops(mport);
	assert_true(mdrops > 0);
	want.n = nids;
	assert_true(ew_h_count(&f->agent, degraded_ours, &want) > 0);
	/* Said on stderr too, with the option to raise: once, not per wave. */
	assert_int_equal(stderr_lines_with(f, "raise --ringbuf-size"), 1);

	stop_within(f, 10000);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(stop, "agent.phase"), "stop");
	drops = ew_h_int(stop, "agent.drops", -1);
	assert_int_equal(ew_h_int(stop, "agent.kernel_events.dropped_execs", 0) +
				 ew_h_int(stop, "agent.kernel_events.dropped_exits", 0) +
				 ew_h_int(stop, "agent.kernel_events.dropped_ready", 0),
			 drops);
	for (size_t i = 0; i < f->agent.nlines; i++) {
		json_object *o = f->agent.lines[i];
		const char *ev = ew_h_str(o, "event");

		if (!ev || !in_ids(ids, nids, ew_h_int(o, "container.cgroup_id", 0)))
			continue;
		starts += !strcmp(ev, "container_start");
		exits += !strcmp(ev, "container_exit");
		/* An exit whose exec record was lost is named by its cgroup id alone. */
		by_id += !strcmp(ev, "container_exit") &&
			 !strncmp(ew_h_str(o, "container.identity") ?: "", "cgroup-id:", 10);
	}
	print_message("%zu mains in %d waves: %zu starts, %zu exits (%zu named by cgroup id) "
		      "reported; drops %lld (execs %lld, exits %lld); /metrics %lld\n",
		      nids, waves, starts, exits, by_id, (long long)drops,
		      (long long)ew_h_int(stop, "agent.kernel_events.dropped_execs", 0),
		      (long long)ew_h_int(stop, "agent.kernel_events.dropped_exits", 0),
		      (long long)mdrops);
	assert_true(drops > 0);
	assert_int_equal(2 * nids - starts - exits, drops);
	assert_int_equal(nids - starts, ew_h_int(stop, "agent.kernel_events.dropped_execs", -1));
	assert_int_equal(nids - exits, ew_h_int(stop, "agent.kernel_events.dropped_exits", -1));
}

/* ---- 2b. the kernel's container map full (--max-containers) ---- */

enum {
	MF_MAX = 16,
	MF_HOLDERS = MF_MAX + 4,
	MF_LOST = 3
};

static bool periodic_with_map_full(json_object *o, const void *arg)
{
	const char *ph = ew_h_str(o, "agent.phase");

	(void)arg;
	return ph && !strcmp(ph, "periodic") && ew_h_int(o, "agent.kernel_events.map_full", 0) > 0;
}

/*
 * More running containers than --max-containers: the kernel's map is full and a new main is
 * not tracked, its start and exit never reported. Before, only kernel_events.map_full and
 * exitwatch_map_full_total said so: no line on stderr, the agent record an INFO saying "0
 * records lost in the kernel", and a finding made over the loss was not degraded. Now one
 * warning names the option to raise, the agent record is a WARNING that says how many were not
 * tracked, a finding over the loss says "degraded", and once containers exit the next is
 * tracked again.
 */
static void test_map_full(void **state)
{
	struct fixture *f = *state;
	pid_t holders[MF_HOLDERS], pid;
	char layout[64];
	json_object *per, *fi, *stop;
	int64_t tracked = 0;

	ew_h_require_bpf();
	START(f, "--max-containers", "16", "--agent-interval", "1s", "--rule",
	      "exit_code_burst.count=0");
	for (int i = 0; i < MF_HOLDERS; i++) {
		snprintf(layout, sizeof(layout), "/mf/hold%d", i);
		holders[i] = run_in(f, layout, WL("sleep", "30000", "0"));
		assert_true(holders[i] > 0);
	}
	ew_h_agent_pump(&f->agent, 300);
	for (int i = 0; i < MF_LOST; i++) {
		snprintf(layout, sizeof(layout), "/mf/lost%d", i);
		pid = run_in(f, layout, WL("exit", "3"));
		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	}
	per = ew_h_wait(&f->agent, periodic_with_map_full, NULL, NULL, 5000);
	assert_non_null(per);
	assert_string_equal(ew_h_str(per, "severity"), "WARNING");
	if (!strstr(ew_h_str(per, "message"), "not tracked (the kernel's container map is full"))
		fail_msg("agent record message: %s", ew_h_str(per, "message"));
	/* More lost a second later: still one warning. */
	for (int i = 0; i < MF_LOST; i++) {
		snprintf(layout, sizeof(layout), "/mf/lost-again%d", i);
		pid = run_in(f, layout, WL("exit", "3"));
		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	}
	ew_h_agent_pump(&f->agent, 1500);
	assert_int_equal(stderr_lines_with(f, "raise --max-containers"), 1);
	/* (Another container of the host exiting meanwhile frees an entry for one of them.) */
	for (int i = 0; i < MF_LOST; i++) {
		snprintf(layout, sizeof(layout), "/mf/lost%d", i);
		tracked += count_rec(f, "container_start", layout);
		snprintf(layout, sizeof(layout), "/mf/lost-again%d", i);
		tracked += count_rec(f, "container_start", layout);
	}
	assert_true(tracked < 2 * MF_LOST);

	/* The pressure gone: the next container is tracked, and its finding says data was lost. */
	for (int i = 0; i < MF_HOLDERS; i++) {
		kill(holders[i], SIGKILL);
		ew_h_wait_pid(holders[i], 5000);
	}
	ew_h_agent_pump(&f->agent, 500);
	pid = run_in(f, "/mf/after", WL("exit", "3"));
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	assert_non_null(wait_rec(f, "container_exit", "/mf/after", 5000));
	fi = wait_rec(f, "finding", "/mf/after", 5000);
	assert_non_null(fi);
	assert_true(ew_h_bool(fi, "degraded", false));

	stop_within(f, 10000);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(stop, "agent.phase"), "stop");
	assert_true(ew_h_int(stop, "agent.kernel_events.map_full", 0) >= 2 * MF_LOST - tracked);
}

/*
 * The detector at max_identities while the identities it forgets were active within their
 * rules' windows: a restart of one would not be counted and a loop's count starts over.
 * Before, only exitwatch_identities_forgotten_total said so (with no metrics address, nothing
 * did): the agent record an INFO, no line on stderr. Now the agent record is a WARNING that
 * counts them and says what to raise, and stderr says it once a minute while it goes on.
 */
static bool periodic_forgot(json_object *o, const void *arg)
{
	const char *ph = ew_h_str(o, "agent.phase");

	(void)arg;
	return ph && !strcmp(ph, "periodic") &&
	       ew_h_int(o, "agent.identities_forgotten.in_window", 0) > 0;
}

#define IL_RUNS 6

static void test_identity_limit(void **state)
{
	struct fixture *f = *state;
	char conf[160], layout[64];
	json_object *per;
	pid_t pid;

	ew_h_require_bpf();
	ew_h_scratch_file(&f->s, "limit.conf", "[agent]\nmax_identities = 2\n", conf, sizeof(conf));
	START(f, "--config", conf, "--agent-interval", "1s");
	for (int i = 0; i < 2 * IL_RUNS; i++) {
		snprintf(layout, sizeof(layout), "/il/run%d", i);
		pid = run_in(f, layout, WL("exit", "0"));
		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 0);
		assert_non_null(wait_rec(f, "container_exit", layout, 5000));
		if (i == IL_RUNS - 1) {
			per = ew_h_wait(&f->agent, periodic_forgot, NULL, NULL, 5000);
			assert_non_null(per);
			assert_string_equal(ew_h_str(per, "severity"), "WARNING");
			if (!strstr(ew_h_str(per, "message"),
				    "identities forgotten within their rules' windows"))
				fail_msg("agent record message: %s", ew_h_str(per, "message"));
			assert_true(ew_h_int(per, "agent.identities_forgotten.limit", 0) >=
				    ew_h_int(per, "agent.identities_forgotten.in_window", 0));
		}
	}
	/* Six more forgotten a second later: still one warning. */
	ew_h_agent_pump(&f->agent, 1500);
	assert_int_equal(stderr_lines_with(f, "raise agent.max_identities or agent.memory_budget"),
			 1);
	stop_within(f, 10000);
	per = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(per, "agent.phase"), "stop");
	assert_true(ew_h_int(per, "agent.identities_forgotten.in_window", 0) >= 2 * IL_RUNS - 2);
}

/* ---- 3. disk full under the state file and the file sink ---- */

static json_object *sink_status(json_object *agent_rec, const char *name)
{
	json_object *sinks = ew_h_get(agent_rec, "agent.sinks");

	for (size_t i = 0; sinks && i < json_object_array_length(sinks); i++) {
		json_object *s = json_object_array_get_idx(sinks, i);

		if (!strcmp(ew_h_str(s, "name") ?: "", name))
			return s;
	}
	return NULL;
}

static bool periodic_file_dropped(json_object *o, const void *arg)
{
	const char *ph = ew_h_str(o, "agent.phase");
	json_object *s = ph && !strcmp(ph, "periodic") ? sink_status(o, arg) : NULL;

	return s && ew_h_int(s, "dropped", 0) > 0 && ew_h_bool(s, "connected", false);
}

static void test_disk_full(void **state)
{
	struct fixture *f = *state;
	static char err[1 << 16], out[1 << 18];
	char statef[192], outf[192], spec[200], filler[192], nospc[64];
	struct stat st0, st1;
	struct statvfs vfs;
	json_object *stop, *fs;
	const char *last_id, *after;
	int64_t end;
	size_t nfile, state_warnings;
	char **ids;

	ew_h_require_bpf();
	snprintf(f->mnt, sizeof(f->mnt), "%s/full", f->s.dir);
	assert_int_equal(
		ew_h_sh("mkdir '%s' && mount -t tmpfs -o size=256k ewfaults '%s'", f->mnt, f->mnt),
		0);
	snprintf(statef, sizeof(statef), "%s/state.json", f->mnt);
	snprintf(outf, sizeof(outf), "%s/out.ndjson", f->mnt);
	snprintf(spec, sizeof(spec), "file:%s", outf);
	snprintf(filler, sizeof(filler), "%s/filler", f->mnt);
	snprintf(nospc, sizeof(nospc), "%s", strerror(ENOSPC));
	START(f, "-o", "stdout", "-o", spec, "--state-file", statef, "--set",
	      "agent.checkpoint_interval=1s", "--agent-interval", "1s");
	for (end = mono_ms() + 5000; access(statef, F_OK) && mono_ms() < end;)
		ew_h_agent_pump(&f->agent, 100);
	assert_int_equal(access(statef, F_OK), 0);

	ew_h_sh("dd if=/dev/zero of='%s' bs=4k 2>/dev/null", filler);
	assert_int_equal(statvfs(f->mnt, &vfs), 0);
	assert_int_equal(vfs.f_bavail, 0);
	assert_int_equal(stat(statef, &st0), 0);
	/* Full for several loop turns, checkpoints and agent records: records keep flowing. */
	crash_loop(f, unit("full"), 6);
	ew_h_agent_pump(&f->agent, 2500);
	assert_int_equal(count_rec(f, "container_exit", unit("full")), 6);
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	print_message("stderr while full:\n%s", err);
	/* One warning per streak, naming the file and the error. */
	assert_int_equal(ew_h_count_lines(err, (const char *[]){outf, nospc, NULL}), 1);
	state_warnings = ew_h_count_lines(err, (const char *[]){statef, nospc, NULL});
	assert_true(state_warnings >= 1);
	assert_int_equal(stat(statef, &st1), 0);
	assert_int_equal(st1.st_mtim.tv_sec, st0.st_mtim.tv_sec);
	assert_int_equal(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);

	/* Space again: both recover; the state file then knows the new service. */
	assert_int_equal(unlink(filler), 0);
	after = unit("after");
	crash_loop(f, after, 2);
	last_id = insert_id(wait_rec(f, "container_exit", after, 5000));
	for (end = mono_ms() + 5000;
	     (!ew_h_file_has(outf, last_id) || !ew_h_file_has(statef, strrchr(after, '/') + 1)) &&
	     mono_ms() < end;)
		ew_h_agent_pump(&f->agent, 100);
	assert_true(ew_h_file_has(outf, last_id));
	assert_true(ew_h_file_has(statef, strrchr(after, '/') + 1));
	assert_int_equal(stat(statef, &st1), 0);
	assert_true(st1.st_mtim.tv_sec > st0.st_mtim.tv_sec ||
		    (st1.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
		     st1.st_mtim.tv_nsec > st0.st_mtim.tv_nsec));
	assert_non_null(ew_h_wait(&f->agent, periodic_file_dropped, spec, NULL, 3000));

	stop_within(f, 10000);
	stop = f->agent.lines[f->agent.nlines - 1];
	fs = sink_status(stop, spec);
	assert_non_null(fs);
	assert_non_null(sink_status(stop, "stdout"));
	assert_int_equal(ew_h_int(sink_status(stop, "stdout"), "dropped", -1), 0);
	/* Whole lines only (a cut line was truncated away), each one a line stdout has too. */
	assert_true(ew_h_read_file(outf, out, sizeof(out)) > 0);
	nfile = text_ids(out, &ids);
	print_message("stdout %zu lines, file %zu, file sink dropped %lld\n", f->agent.nlines,
		      nfile, (long long)ew_h_int(fs, "dropped", -1));
	assert_int_equal(nfile, f->agent.nlines - (size_t)ew_h_int(fs, "dropped", -1));
	for (size_t i = 0, j = 0; i < nfile; i++, j++) {
		while (j < f->agent.nlines && strcmp(ids[i], insert_id(f->agent.lines[j])))
			j++;
		if (j == f->agent.nlines)
			fail_msg("file line %zu (%s) is not on stdout, in order", i, ids[i]);
	}
	free_ids(ids, nfile);
	/* Checked last, so that a failure here does not hide the recovery's. */
	if (state_warnings != 1)
		fail_msg("%zu warnings about the state file in one streak of failed checkpoints "
			 "(checkpoint every 1 s): want 1",
			 state_warnings);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drain_spools_undelivered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_delivers_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ringbuf_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_faults", tests, NULL, NULL);
}
