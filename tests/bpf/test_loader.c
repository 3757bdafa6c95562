// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The loader and the kernel side's contract with the reader, against the real BPF programs
 * (src/ingest/loader.c, linked into this test alone): a record wakes a reader that has caught
 * up, whatever its kind, so the agent can sleep until one comes instead of polling; the scan's
 * seeds and their races; containers_tracked, counted by the programs and the loader, is what the
 * map holds. Needs root; under CI=true a skip is a failure.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "exitwatch/abi.h"
#include "exitwatch/ingest/loader.h"
#include "exitwatch/ingest/procstat.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"
#include "harness/bpf_map.h"
#include "harness/harness.h"
#include "ingest/loader_int.h" /* the counters, for the test that plays a BPF program's delete */

struct seen {
	uint64_t cgroup_id; /* the test's container */
	uint32_t execs, exits;
	uint32_t exit_pid; /* of the last exit record */
};

static int on_record(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;
	struct ew_hdr h;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	if (h.cgroup_id != s->cgroup_id)
		return 0; /* another container on this host */
	if (h.kind == EW_EV_EXEC)
		s->execs++;
	else if (h.kind == EW_EV_EXIT) {
		s->exits++;
		s->exit_pid = h.pid;
	}
	return 0;
}

static int64_t now_ms(void)
{
	return (int64_t)(ew_clock_mono_ns() / EW_NSEC_PER_MSEC);
}

/*
 * Sleeps in poll() on the loader's fd until *count reaches want or ms pass, consuming what each
 * wakeup brings; returns the ms it took, or -1 on timeout. A poll() that returns 0 is a timeout:
 * a record that did not wake the reader is taken only at the end, and that is the failure.
 */
static int64_t wait_records(struct ew_loader *l, const uint32_t *count, uint32_t want, int ms)
{
	int64_t t0 = now_ms();

	while (*count < want) {
		int64_t left = ms - (now_ms() - t0);
		struct pollfd p = {.fd = ew_loader_fd(l), .events = POLLIN};
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			return -1;
		assert_true(ew_loader_consume(l) >= 0);
	}
	return now_ms() - t0;
}

/*
 * containers_tracked (ew_loader_tracked(): the puts less the deletes, counted by the programs
 * and the loader) is what the map holds, read while nothing changes it: another container of
 * the host starting or exiting between the reads makes it try again.
 */
static void assert_tracked(struct ew_loader *l, int want_at_least)
{
	int fd = ew_h_bpf_map(getpid(), "cgroups"), counted = -1, walked = -1;

	for (int tries = 0; tries < 50; tries++) {
		counted = ew_loader_tracked(l);
		walked = ew_h_bpf_map_entries(fd);
		if (counted == walked && ew_loader_tracked(l) == counted)
			break;
		usleep(20 * 1000);
	}
	close(fd);
	if (counted != walked)
		fail_msg("containers_tracked is %d, the map holds %d entries", counted, walked);
	assert_true(counted >= want_at_least);
}

/* What the exit hook does to a main's entry, played by the test: delete it and count the delete,
 * as the programs count theirs (containers_tracked). */
static void play_exit_delete(struct ew_loader *l, int cgroups_fd, const uint64_t *cgroup_id)
{
	assert_int_equal(bpf_map_delete_elem(cgroups_fd, cgroup_id), 0);
	__atomic_fetch_add(&l->skel->bss->cgroups_out, 1, __ATOMIC_RELAXED);
}

static void test_records_wake_the_reader(void **state)
{
	struct ew_loader_opts o = {.ringbuf_bytes = 1 << 22,
				   .max_containers = 1024,
				   .root_cgroup_id = ew_h_cgroup_id("")};
	struct ew_h_scratch s;
	struct ew_loader *l = NULL;
	struct seen seen = {0};
	char err[512] = "", rel[192];
	int64_t took;
	pid_t pid;

	ew_h_require_bpf();
	ew_h_scratch_make(&s, "loader");
	if (ew_loader_open(&o, on_record, &seen, &l, err, sizeof(err)))
		fail_msg("the loader did not load: %s", err);
	/* Whatever other containers left in the ring: the reader has caught up after this. */
	assert_true(ew_loader_consume(l) >= 0);

	snprintf(rel, sizeof(rel), "%s/wake", s.base);
	pid = ew_h_run_in(s.base, "/wake", EW_H_WL("sleep", "1500", "0"), -1, false, NULL);
	seen.cgroup_id = ew_h_cgroup_id(rel);
	assert_true(seen.cgroup_id != 0);

	/* The start wakes it. */
	took = wait_records(l, &seen.execs, 1, 10000);
	assert_true(took >= 0);
	assert_int_equal(seen.exits, 0);
	assert_tracked(l, 1);
	/*
	 * The exit, 1.5 s later, wakes it too: with a record that does not wake a reader that
	 * has caught up, this poll() would sleep its whole 10 s.
	 */
	took = wait_records(l, &seen.exits, 1, 10000);
	print_message("exit record after %lld ms of sleep (the workload lives 1500 ms)\n",
		      (long long)took);
	assert_true(took >= 0);
	assert_true(took < 8000);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 0);
	assert_int_equal(seen.execs, 1);
	assert_int_equal(seen.exits, 1);
	assert_tracked(l, 0);
	ew_loader_free(l);
	ew_h_scratch_clean(&s);
}

enum scan_race {
	RACE_NONE,   /* the main still runs when it is seeded */
	RACE_ZOMBIE, /* it exited between the scan's read and the seed, not reaped yet */
	RACE_REAPED, /* it exited and was reaped in that window */
};

/*
 * A container whose main (pause) runs from before attach, found as the start-up scan finds it
 * (pid and start from /proc), in <scratch>/race, and the loader opened and caught up after it.
 */
struct scanned {
	struct ew_h_scratch s;
	char rel[192];
	pid_t main_pid;
	uint64_t ticks;
	struct ew_loader *l;
};

static void scanned_main(struct scanned *x, const char *scratch, struct seen *seen)
{
	struct ew_loader_opts o = {.ringbuf_bytes = 1 << 22,
				   .max_containers = 1024,
				   .root_cgroup_id = ew_h_cgroup_id("")};
	char err[512] = "";

	ew_h_require_bpf();
	ew_h_scratch_make(&x->s, scratch);
	snprintf(x->rel, sizeof(x->rel), "%s/race", x->s.base);
	x->main_pid = ew_h_run_in(x->s.base, "/race", EW_H_WL("pause"), -1, false, NULL);
	seen->cgroup_id = ew_h_cgroup_id(x->rel);
	assert_true(seen->cgroup_id != 0);
	assert_int_equal(ew_procstat_start_ticks("/proc", (uint32_t)x->main_pid, &x->ticks), 0);
	x->l = NULL;
	if (ew_loader_open(&o, on_record, seen, &x->l, err, sizeof(err)))
		fail_msg("the loader did not load: %s", err);
	assert_true(ew_loader_consume(x->l) >= 0);
}

/*
 * A container's main running from before attach, found by the start-up scan (pid and start as
 * read from /proc), which exits before ew_loader_seed_scanned() puts it in the kernel's map:
 * the race made deterministic by exiting, then seeding. The seed must not keep an entry for the
 * dead pid, or the cgroup's next main would be taken for a second entrant and never reported.
 */
static void check_scan_race(enum scan_race race)
{
	struct scanned x;
	struct seen seen = {0};
	struct ew_loader *l;
	uint64_t ticks;
	uint32_t replaced = 99;
	siginfo_t si;
	pid_t pid, next;
	char *rel;
	int r;

	scanned_main(&x, "scanrace", &seen);
	l = x.l;
	pid = x.main_pid;
	ticks = x.ticks;
	rel = x.rel;

	if (race != RACE_NONE) {
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	}
	if (race == RACE_REAPED)
		assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	r = ew_loader_seed_scanned(l, (uint32_t)pid, ticks, seen.cgroup_id, ew_procstat_phase,
				   (void *)"/proc", &replaced);
	assert_int_equal(replaced, 0);
	assert_tracked(l, race == RACE_NONE); /* a dead main's seed was forgotten */
	if (race == RACE_NONE) {
		/* Tracked: its exit is reported. */
		assert_int_equal(r, 0);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
		assert_true(wait_records(l, &seen.exits, 1, 5000) >= 0);
		assert_int_equal(seen.execs, 0);
	} else if (race == RACE_ZOMBIE) {
		assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	}

	/* The cgroup's next main is a main: its start and exit are reported. */
	next = ew_h_spawn_in(rel, EW_H_WL("exit", "4"), -1, false, NULL);
	assert_true(next > 0);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(next, 5000)), 4);
	if (wait_records(l, &seen.exits, race == RACE_NONE ? 2 : 1, 5000) < 0)
		fail_msg(
			"the next main of the cgroup (pid %d) was not reported: %u execs, %u exits",
			(int)next, seen.execs, seen.exits);
	assert_int_equal(seen.execs, 1);
	if (race != RACE_NONE) {
		if (r != -ESRCH)
			fail_msg("seeding the dead main %d returned %d, want -ESRCH", (int)pid, r);
		assert_int_equal(seen.exits, 1); /* the next main's: none of the dead one */
	}
	assert_tracked(l, 0);
	ew_loader_free(l);
	ew_h_scratch_clean(&x.s);
}

static void test_scan_seed_live_main(void **state)
{
	(void)state;
	check_scan_race(RACE_NONE);
}

static void test_scan_seed_zombie_main(void **state)
{
	(void)state;
	check_scan_race(RACE_ZOMBIE);
}

static void test_scan_seed_reaped_main(void **state)
{
	(void)state;
	check_scan_race(RACE_REAPED);
}

/*
 * The entry of a seeded main and an exec entrant's exit hook: the map has no compare-and-delete,
 * so an entrant in do_exit() whose hook read its own entry (it was the cgroup's main) before the
 * seed replaced it deletes the seeded main's after. The kernel gives no way to hold a BPF
 * program between its lookup and its delete, so the phase callback, which the loader asks once
 * it has replaced the entrant, plays that interleaving with the real map: the entrant exits for
 * real (its hook sees the seeded entry by then: a child's exit), and the delete a racing hook
 * would have done follows. Then, with next_entrant, another entrant execs into the cgroup and
 * the kernel takes it for the main, as it would before the loader looks again.
 */
struct race {
	struct ew_loader *l;
	int cgroups_fd; /* the loader's "cgroups" map */
	uint64_t cgroup_id;
	const char *rel;
	pid_t entrant, next;
	bool next_entrant;
	int deleted;
};

static enum ew_proc_phase racing_phase(void *ctx, uint32_t pid, uint64_t start_ticks)
{
	struct race *rc = ctx;
	siginfo_t si;

	if (pid == (uint32_t)rc->entrant && !rc->deleted) {
		assert_int_equal(kill(rc->entrant, SIGKILL), 0);
		assert_int_equal(waitid(P_PID, (id_t)rc->entrant, &si, WEXITED | WNOWAIT), 0);
		play_exit_delete(rc->l, rc->cgroups_fd, &rc->cgroup_id);
		rc->deleted++;
		if (rc->next_entrant) {
			struct ew_cgroup_val v;

			rc->next = ew_h_spawn_in(rc->rel, EW_H_WL("pause"), -1, false, NULL);
			assert_true(rc->next > 0);
			assert_int_equal(bpf_map_lookup_elem(rc->cgroups_fd, &rc->cgroup_id, &v),
					 0);
			assert_int_equal(v.main_pid, rc->next);
		}
	}
	return ew_procstat_phase((void *)"/proc", pid, start_ticks);
}

static void check_entrant_exit_race(bool next_entrant)
{
	struct race rc = {.next_entrant = next_entrant};
	struct scanned x;
	struct ew_loader *l;
	struct ew_cgroup_val v;
	struct seen seen = {0};
	uint32_t replaced = 0;
	uint64_t ticks;
	pid_t main_pid;
	char *rel;
	int r;

	/* The container's main, running before attach: the scan's find. */
	scanned_main(&x, "entrantrace", &seen);
	l = x.l;
	main_pid = x.main_pid;
	ticks = x.ticks;
	rel = x.rel;

	/* An entrant execs there after attach, before the scan: the kernel takes it for the main. */
	rc.entrant = ew_h_spawn_in(rel, EW_H_WL("pause"), -1, false, NULL);
	assert_true(rc.entrant > 0);
	assert_true(wait_records(l, &seen.execs, 1, 5000) >= 0);
	rc.l = l;
	rc.cgroups_fd = ew_h_bpf_map(getpid(), "cgroups");
	rc.cgroup_id = seen.cgroup_id;
	rc.rel = rel;

	r = ew_loader_seed_scanned(l, (uint32_t)main_pid, ticks, seen.cgroup_id, racing_phase, &rc,
				   &replaced);
	assert_int_equal(r, 0);
	assert_int_equal(replaced, rc.entrant);
	assert_int_equal(rc.deleted, 1);
	if (bpf_map_lookup_elem(rc.cgroups_fd, &seen.cgroup_id, &v))
		fail_msg("after the entrant's exit hook deleted the entry, the seeded main %d is "
			 "not tracked: the cgroup has no entry",
			 (int)main_pid);
	if (v.main_pid != (uint32_t)main_pid)
		fail_msg("the cgroup's entry names pid %u, want the seeded main %d", v.main_pid,
			 (int)main_pid);
	assert_true(WIFSIGNALED(ew_h_wait_pid(rc.entrant, 5000)));
	if (next_entrant) {
		/* The second entrant is an entrant: its exit is a child's, not the container's. */
		assert_int_equal(kill(rc.next, SIGKILL), 0);
		assert_true(WIFSIGNALED(ew_h_wait_pid(rc.next, 5000)));
	}
	assert_int_equal(kill(main_pid, SIGKILL), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(main_pid, 5000)));
	if (wait_records(l, &seen.exits, 1, 5000) < 0)
		fail_msg("the seeded main's exit was not reported");
	assert_int_equal(seen.exit_pid, main_pid);
	assert_true(wait_records(l, &seen.exits, 2, 300) < 0); /* and nothing else's */
	assert_tracked(l, 0);
	close(rc.cgroups_fd);
	ew_loader_free(l);
	ew_h_scratch_clean(&x.s);
}

static void test_scan_seed_entrant_exit_race(void **state)
{
	(void)state;
	check_entrant_exit_race(false);
}

static void test_scan_seed_entrant_exit_race_next_entrant(void **state)
{
	(void)state;
	check_entrant_exit_race(true);
}

/*
 * The entrant's entry goes (its exit hook deletes it) between the seed's lookup and its replace:
 * the replace is then a put, and counted, or containers_tracked would be one short for good.
 * The window is microseconds; the link wraps bpf_map_update_elem() (-Wl,--wrap, this test only)
 * to play the hook's delete, its count included, just before the seed's replace.
 */
int __real_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);

struct vanish {
	bool armed;
	int fd;
	uint64_t cgroup_id;
	uint32_t entrant;
	struct ew_loader *l;
	int fired;
};

static struct vanish vanish;

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	if (vanish.armed && fd == vanish.fd && flags != BPF_NOEXIST &&
	    !memcmp(key, &vanish.cgroup_id, sizeof(vanish.cgroup_id))) {
		int mfd = bpf_map__fd(vanish.l->skel->maps.mains);

		vanish.armed = false;
		play_exit_delete(vanish.l, fd, key);
		bpf_map_delete_elem(mfd, &vanish.entrant);
		vanish.fired++;
	}
	return __real_bpf_map_update_elem(fd, key, value, flags);
}

static void test_scan_seed_entrant_gone_before_replace(void **state)
{
	struct ew_cgroup_val v;
	struct scanned x;
	struct seen seen = {0};
	uint32_t replaced = 0;
	pid_t entrant;
	int r;

	(void)state;
	scanned_main(&x, "vanish", &seen);
	entrant = ew_h_spawn_in(x.rel, EW_H_WL("pause"), -1, false, NULL);
	assert_true(entrant > 0);
	assert_true(wait_records(x.l, &seen.execs, 1, 5000) >= 0); /* taken for the main */
	assert_tracked(x.l, 1);

	vanish = (struct vanish){.armed = true,
				 .fd = bpf_map__fd(x.l->skel->maps.cgroups),
				 .cgroup_id = seen.cgroup_id,
				 .entrant = (uint32_t)entrant,
				 .l = x.l};
	r = ew_loader_seed_scanned(x.l, (uint32_t)x.main_pid, x.ticks, seen.cgroup_id,
				   ew_procstat_phase, (void *)"/proc", &replaced);
	assert_int_equal(r, 0);
	assert_int_equal(vanish.fired, 1);
	assert_int_equal(replaced, entrant);
	assert_int_equal(bpf_map_lookup_elem(vanish.fd, &seen.cgroup_id, &v), 0);
	assert_int_equal(v.main_pid, x.main_pid);
	assert_tracked(x.l, 1);

	/* The seeded main's exit is the container's, and leaves nothing counted. */
	assert_int_equal(kill(entrant, SIGKILL), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(entrant, 5000)));
	assert_int_equal(kill(x.main_pid, SIGKILL), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(x.main_pid, 5000)));
	if (wait_records(x.l, &seen.exits, 1, 5000) < 0)
		fail_msg("the seeded main's exit was not reported");
	assert_int_equal(seen.exit_pid, x.main_pid);
	assert_tracked(x.l, 0);
	ew_loader_free(x.l);
	ew_h_scratch_clean(&x.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_wake_the_reader),
		cmocka_unit_test(test_scan_seed_live_main),
		cmocka_unit_test(test_scan_seed_zombie_main),
		cmocka_unit_test(test_scan_seed_reaped_main),
		cmocka_unit_test(test_scan_seed_entrant_exit_race),
		cmocka_unit_test(test_scan_seed_entrant_exit_race_next_entrant),
		cmocka_unit_test(test_scan_seed_entrant_gone_before_replace),
	};

	return cmocka_run_group_tests_name("bpf_loader", tests, NULL, NULL);
}
