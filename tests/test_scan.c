// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The start-up scan over a made-up host: a cgroup tree with cgroup.procs files and a /proc
 * with stat, cmdline and exe for each process, built in a temporary directory (the live
 * /proc and /sys are never read).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/ingest/scan.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333333333333333333333333333"

struct host {
	char root[64];
	char cg[96];
	char proc[96];
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkcg(struct host *h, const char *rel, const char *procs)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", h->cg, rel);
	assert_int_equal(ew_t_mkdirs(path), 0);
	strcat(path, "/cgroup.procs");
	put(path, procs);
}

/* /proc/<pid>/stat with the fields the scan reads: comm, ppid (4th), starttime (22nd). */
static void mkproc(struct host *h, int pid, const char *comm, int ppid, unsigned long long start,
		   const char *argv0)
{
	char dir[256], path[320], stat[512];

	snprintf(dir, sizeof(dir), "%s/%d", h->proc, pid);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(stat, sizeof(stat),
		 "%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %llu 1000 100 "
		 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		 pid, comm, ppid, pid, pid, start);
	snprintf(path, sizeof(path), "%s/stat", dir);
	put(path, stat);
	snprintf(path, sizeof(path), "%s/cmdline", dir);
	put(path, argv0); /* the NUL after argv[0] is implied by the end of the file */
	snprintf(path, sizeof(path), "%s/exe", dir);
	assert_int_equal(symlink("/usr/bin/fake", path), 0);
}

static int setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));

	strcpy(h->root, "/tmp/ew-test-scan-XXXXXX");
	if (!mkdtemp(h->root))
		return -1;
	snprintf(h->cg, sizeof(h->cg), "%s/cgroup", h->root);
	snprintf(h->proc, sizeof(h->proc), "%s/proc", h->root);
	mkdir(h->cg, 0755);
	mkdir(h->proc, 0755);
	/* The root cgroup: init, containerd-shim (50, 60), a runtime (70). */
	mkcg(h, "", "1\n50\n60\n70\n");
	mkproc(h, 1, "init", 0, 1, "/sbin/init");
	mkproc(h, 50, "containerd-shim", 1, 100, "containerd-shim");
	mkproc(h, 60, "containerd-shim", 1, 100, "containerd-shim");
	mkproc(h, 70, "runc", 1, 100, "runc");
	/* A container: its main (parent outside) and a child. */
	mkcg(h, "/docker/" ID1, "100\n101\n");
	mkproc(h, 100, "python3", 50, 500, "python3");
	mkproc(h, 101, "worker", 100, 510, "worker");
	/* docker exec: a second entrant whose parent also lives outside, started later. */
	mkcg(h, "/docker/" ID2, "301\n300\n");
	mkproc(h, 300, "nginx", 60, 600, "nginx");
	mkproc(h, 301, "sh", 60, 700, "sh");
	/* runc still creating a container: not its main process. */
	mkcg(h, "/docker/" ID3, "400\n");
	mkproc(h, 400, "runc:[2:INIT]", 70, 800, "runc");
	/* A service whose name has spaces and parentheses in its comm. */
	mkcg(h, "/system.slice/odd.service", "200\n");
	mkproc(h, 200, "a (b) c", 1, 900, "odd");
	/* A cgroup whose process exited between the walk and the read. */
	mkcg(h, "/system.slice/gone.service", "999\n");
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;
	int r = ew_t_remove_tree(h->root);

	free(h);
	return r < 0 ? -1 : 0;
}

struct found {
	int n;
	struct {
		uint32_t pid;
		uint64_t ticks;
		char cgroup[256];
		char comm[16];
		char argv0[64];
		uint32_t level;
		bool seeded;
	} m[8];
};

static int collect(void *ctx, const struct ew_event *ev, uint64_t ticks)
{
	struct found *f = ctx;

	if (f->n == 8)
		return -ENOSPC;
	f->m[f->n].pid = ev->pid;
	f->m[f->n].ticks = ticks;
	f->m[f->n].level = ev->cg_level;
	f->m[f->n].seeded = ev->seeded;
	ew_strlcpy(f->m[f->n].cgroup, ev->cgroup, sizeof(f->m[0].cgroup));
	ew_strlcpy(f->m[f->n].comm, ev->comm, sizeof(f->m[0].comm));
	ew_strlcpy(f->m[f->n].argv0, ev->argv0, sizeof(f->m[0].argv0));
	f->n++;
	return 0;
}

static int find(const struct found *f, uint32_t pid)
{
	for (int i = 0; i < f->n; i++)
		if (f->m[i].pid == pid)
			return i;
	return -1;
}

static void test_scan_finds_mains(void **state)
{
	struct host *h = *state;
	struct ew_scan_opts o = {.proc_root = h->proc, .cgroup_root = h->cg, .now_wall_ns = 1};
	struct ew_scan_stats st;
	struct found f = {0};
	int i;

	assert_int_equal(ew_scan_mains(&o, collect, &f, &st), 0);
	assert_int_equal(st.mains, 3);
	assert_int_equal(f.n, 3);
	assert_int_equal(st.processes, 11);
	assert_int_equal(st.cgroups, 8); /* /, docker, 3 containers, system.slice, 2 services */

	i = find(&f, 100);
	assert_true(i >= 0);
	assert_string_equal(f.m[i].cgroup, "/docker/" ID1);
	assert_int_equal(f.m[i].level, 2);
	assert_int_equal(f.m[i].ticks, 500);
	assert_string_equal(f.m[i].comm, "python3");
	assert_string_equal(f.m[i].argv0, "python3");
	assert_true(f.m[i].seeded);

	/* Of two entrants from outside, the older is the main one. */
	assert_true(find(&f, 300) >= 0);
	assert_int_equal(find(&f, 301), -1);
	/* Children and runc's bootstrap are not mains. */
	assert_int_equal(find(&f, 101), -1);
	assert_int_equal(find(&f, 400), -1);
	/* comm is read up to the last ')'. */
	i = find(&f, 200);
	assert_true(i >= 0);
	assert_string_equal(f.m[i].comm, "a (b) c");
	assert_string_equal(f.m[i].cgroup, "/system.slice/odd.service");
}

/* Processes listed, none readable: the wrong /proc, said as such. */
static void test_scan_wrong_proc(void **state)
{
	struct host *h = *state;
	char empty[128];
	struct ew_scan_opts o = {.proc_root = empty, .cgroup_root = h->cg};
	struct ew_scan_stats st;
	struct found f = {0};

	snprintf(empty, sizeof(empty), "%s/empty-proc", h->root);
	mkdir(empty, 0755);
	assert_int_equal(ew_scan_mains(&o, collect, &f, &st), -ESRCH);
	assert_int_equal(f.n, 0);
	o.cgroup_root = "/nonexistent/cgroup";
	assert_int_equal(ew_scan_mains(&o, collect, &f, &st), -ENOENT);
}

/*
 * The scan's fences: a record of a seeded cgroup stamped before its seed is an exec entrant's
 * and dropped; one stamped at or after it, or of another cgroup, goes through.
 */
static void test_scan_fences(void **state)
{
	struct ew_scan_fences f = {0};

	(void)state;
	assert_false(ew_scan_fences_drop(&f, 7, 1)); /* no fences: nothing dropped */
	/* Unsorted, and more than one allocation. */
	for (uint64_t cg = 1000; cg > 0; cg -= 10)
		assert_int_equal(ew_scan_fences_add(&f, cg, 5000 + cg), 0);
	assert_int_equal(f.n, 100);
	assert_true(ew_scan_fences_drop(&f, 500, 5499));
	assert_false(ew_scan_fences_drop(&f, 500, 5500));
	assert_false(ew_scan_fences_drop(&f, 500, 9000));
	assert_true(ew_scan_fences_drop(&f, 10, 0));
	assert_true(ew_scan_fences_drop(&f, 1000, 5999));
	assert_false(ew_scan_fences_drop(&f, 505, 1)); /* not seeded by the scan */
	assert_false(ew_scan_fences_drop(&f, 0, 1));
	/* Added after a lookup sorted them: still found. */
	assert_int_equal(ew_scan_fences_add(&f, 3, 100), 0);
	assert_true(ew_scan_fences_drop(&f, 3, 99));
	assert_true(ew_scan_fences_drop(&f, 20, 5019));
	ew_scan_fences_free(&f);
	assert_null(f.v);
	assert_false(ew_scan_fences_drop(&f, 3, 99));
}

static void test_find_cgroup2(void **state)
{
	static const struct {
		const char *mountinfo;
		int ret;
		const char *want;
	} cases[] = {
		{"25 30 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n", 0,
		 "/sys/fs/cgroup"},
		{"30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"
		 "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
		 "32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
		 0, "/sys/fs/cgroup/unified"},
		/* A bind of a subtree (a cgroup namespace's view): not the host's root. */
		{"40 30 0:27 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", -ENOENT, NULL},
		{"32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", -ENOENT,
		 NULL},
		{"garbage\n", -ENOENT, NULL},
	};
	struct host *h = *state;
	char path[128], out[256];

	snprintf(path, sizeof(path), "%s/mountinfo", h->root);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		put(path, cases[i].mountinfo);
		assert_int_equal(ew_scan_find_cgroup2(path, out, sizeof(out)), cases[i].ret);
		if (!cases[i].ret)
			assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(ew_scan_find_cgroup2("/nonexistent/mountinfo", out, sizeof(out)), -ENOENT);
	/* An explicit root wins without a look at anything. */
	assert_int_equal(ew_scan_cgroup_root("/x/y", "", "/nonexistent", out, sizeof(out)), 0);
	assert_string_equal(out, "/x/y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_finds_mains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_wrong_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_cgroup2, setup, teardown),
		cmocka_unit_test(test_scan_fences),
	};

	return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
