/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Integration-test harness: runs the real build/exitwatch as root, reads its NDJSON stdout
 * with json-c, makes cgroup v2 directories shaped like each runtime's layout and starts
 * container main processes in them the way runc does (the parent stays outside the cgroup).
 */
#ifndef EW_TEST_HARNESS_H
#define EW_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define EW_H_MAX_LINES 65536

struct ew_h_agent {
	pid_t pid;
	int out_fd;	    /* its stdout */
	char err_path[256]; /* its stderr, kept in a file for the failure message */
	char buf[1 << 16];  /* partial line */
	size_t buflen;
	json_object *lines[EW_H_MAX_LINES];
	char *raw[EW_H_MAX_LINES]; /* the exact bytes of each line */
	size_t nlines;
	bool eof;
};

/*
 * Skips the test unless it can run (root, BTF, the binary built). Under CI=true a reason to
 * skip is a failure instead: CI runs as root on a kernel that has everything.
 */
void ew_h_require_bpf(void);
void ew_h_require_docker(void);
/* Goes on when ok; else skips the test (why said, and listed in $EW_SKIP_LOG for the run's
 * summary), or under CI=true fails it: ew_t_need_logged("bpf", ...) of tests/harness/unit.h. */
void ew_h_need(bool ok, const char *why);

/* Path of build/exitwatch and of the workload helper. */
const char *ew_h_exitwatch(void);
const char *ew_h_workload(void);

/* Starts exitwatch with extra args (NULL-terminated) and waits for its "agent" start record. */
int ew_h_agent_start(struct ew_h_agent *a, const char *const *args);
/* For teardown: SIGKILL if still running, reap, free (the test failed half-way). */
void ew_h_agent_kill(struct ew_h_agent *a);
/* Sends SIGTERM, reads the rest of stdout, returns its exit status (or -1). */
int ew_h_agent_stop(struct ew_h_agent *a);
void ew_h_agent_free(struct ew_h_agent *a);

/* Reads whatever is available for up to ms milliseconds. Returns lines read. */
size_t ew_h_agent_pump(struct ew_h_agent *a, int ms);

typedef bool (*ew_h_match_fn)(json_object *o, const void *arg);

/* Waits up to ms for a line matching fn, scanning from line index *from (updated to the line
 * after the match). Returns the object, or NULL on timeout. */
json_object *ew_h_wait(struct ew_h_agent *a, ew_h_match_fn fn, const void *arg, size_t *from,
		       int ms);
/* Counts lines matching fn among those read so far. */
size_t ew_h_count(struct ew_h_agent *a, ew_h_match_fn fn, const void *arg);

/* Matchers: arg is a struct ew_h_want. */
struct ew_h_want {
	const char *event;  /* "container_exit", ... */
	const char *cgroup; /* container.cgroup suffix, or NULL */
};
bool ew_h_match(json_object *o, const void *arg);
/* Waits for an event record of a cgroup (suffix); fails the test after ms. */
json_object *ew_h_expect(struct ew_h_agent *a, const char *event, const char *cgroup_sfx, int ms);
/* Records of an event for a cgroup (suffix) read so far. */
size_t ew_h_count_rec(struct ew_h_agent *a, const char *event, const char *cgroup_sfx);

/* "a.b.c" path getters; NULL / default when absent. */
json_object *ew_h_get(json_object *o, const char *path);
const char *ew_h_str(json_object *o, const char *path);
int64_t ew_h_int(json_object *o, const char *path, int64_t dflt);
double ew_h_double(json_object *o, const char *path, double dflt);
bool ew_h_bool(json_object *o, const char *path, bool dflt);
/* A member of "logging.googleapis.com/labels" (its name holds dots). */
const char *ew_h_label(json_object *o, const char *key);

/* cgroup v2 helpers, paths relative to the v2 root ("/ewtest-1234/docker/<id>"). */
const char *ew_h_cgroup_root(void);
int ew_h_cgroup_make(const char *rel);
void ew_h_cgroup_remove_tree(const char *rel); /* rmdir leaf-first; processes must be gone */

/*
 * What one live test owns: a cgroup subtree base ("/ew<tag>-<pid>-<n>", unique per test so
 * tests of different binaries never meet) and a scratch directory dir ("/tmp/ew-<tag>-XXXXXX").
 * ew_h_scratch_make fails the test if either cannot be had; ew_h_scratch_clean kills what a
 * failed test left running in the subtree, then removes both.
 */
struct ew_h_scratch {
	char base[128];
	char dir[64];
};
void ew_h_scratch_make(struct ew_h_scratch *s, const char *tag);
void ew_h_scratch_clean(const struct ew_h_scratch *s);
/* Writes text to <dir>/<name> and leaves that path in out; fails the test if it cannot. */
void ew_h_scratch_file(const struct ew_h_scratch *s, const char *name, const char *text, char *out,
		       size_t len);

/*
 * The fixture of a test that needs nothing more than an agent and its scratch: setup with
 * ew_h_fixture_setup(state, tag) in the test's cmocka setup; the teardown kills the agent and
 * cleans the scratch.
 */
struct ew_h_fixture {
	struct ew_h_agent agent;
	struct ew_h_scratch s;
};
int ew_h_fixture_setup(void **state, const char *tag);
int ew_h_fixture_teardown(void **state);

/*
 * Starts argv as a container main process in cgroup rel: the child moves itself into the
 * cgroup and execs, while its parent (the caller) stays outside. Returns the pid or -errno.
 * stderr_fd: where the child's fd 2 goes (-1: /dev/null); core: RLIMIT_CORE for it.
 */
pid_t ew_h_spawn_in(const char *rel, char *const argv[], int stderr_fd, bool core, const char *cwd);
/* Makes <base><layout> and starts argv there as ew_h_spawn_in() does; fails the test if not. */
pid_t ew_h_run_in(const char *base, const char *layout, char *const argv[], int stderr_fd,
		  bool core, const char *cwd);
/*
 * "ewtest-<name>-<pid>.service": a service's identity is its unit name, so two test runs on one
 * machine must not share names or each would count the other's exits. Eight rotating buffers.
 */
const char *ew_h_unit(const char *name);
/* One start and exit of argv as the main process of <base>/system.slice/<unit>, a
 * service-shaped cgroup (its identity the unit name, the same across restarts, as systemd
 * restarts a service); waits for it to exit. */
void ew_h_run_unit(const char *base, const char *unit, char *const argv[]);
/* argv for the workload helper: EW_H_WL("exit", "3"). */
#define EW_H_WL(...) ((char *const[]){(char *)ew_h_workload(), __VA_ARGS__, NULL})
/* waitpid with a timeout in ms; returns the status or -1. */
int ew_h_wait_pid(pid_t pid, int ms);

/* A random 64-hex id and a pod uid, for runtime-shaped cgroup names. */
void ew_h_rand_id(char out[65]);
void ew_h_rand_uid(char out[37]);

/* The agent's stderr so far in buf (NUL-terminated, cut at len - 1); returns its length. */
size_t ew_h_agent_stderr(const struct ew_h_agent *a, char *buf, size_t len);
/* Reads a file into buf (NUL-terminated, cut at len - 1); returns its length or -errno. */
ssize_t ew_h_read_file(const char *path, char *buf, size_t len);
/* Whether the file holds needle (no single quote in it), however large (a state file holds every
 * identity of the machine: megabytes on a busy one). */
bool ew_h_file_has(const char *path, const char *needle);
/* Lines of text holding every one of needles (NULL-terminated). */
size_t ew_h_count_lines(const char *text, const char *const *needles);
/* The cgroup id of rel (the kernfs inode bpf_get_current_cgroup_id() reports), or 0. */
uint64_t ew_h_cgroup_id(const char *rel);

/* A 127.0.0.1 TCP port nothing listens on at the time of the call. */
uint16_t ew_h_free_port(void);
/* GET path from 127.0.0.1:port over HTTP/1.0; the response body goes to buf (NUL-terminated).
 * Returns the HTTP status, or -errno. */
int ew_h_http_get(uint16_t port, const char *path, char *buf, size_t len);

/*
 * A TCP receiver for stream sinks: listens on 127.0.0.1:port (0: any) and keeps, in a thread of
 * its own, every byte of every connection, in arrival order.
 */
struct ew_h_collector;
struct ew_h_collector *ew_h_collector_start(uint16_t port);
uint16_t ew_h_collector_port(const struct ew_h_collector *c);
/* Waits up to ms for the peers to close their connections (at least one was made), then stops
 * the thread. Returns the bytes received (NUL-terminated, owned by c) and their length. */
const char *ew_h_collector_finish(struct ew_h_collector *c, int ms, size_t *len);
void ew_h_collector_free(struct ew_h_collector *c);

/* Runs a shell command, returns its exit status. */
int ew_h_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command and keeps its stdout (trailing newline removed); returns its status. */
int ew_h_capture(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
