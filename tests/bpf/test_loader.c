// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The loader and the kernel side's contract with the reader, against the real BPF programs
 * (src/ingest/loader.c, linked into this test alone): a record wakes a reader that has caught
 * up, whatever its kind, so the agent can sleep until one comes instead of polling. Needs root;
 * under CI=true a skip is a failure.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/abi.h"
#include "exitwatch/ingest/loader.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"
#include "harness/harness.h"

struct seen {
	uint64_t cgroup_id; /* the test's container */
	uint32_t execs, exits;
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
	else if (h.kind == EW_EV_EXIT)
		s->exits++;
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
	ew_loader_free(l);
	ew_h_scratch_clean(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_wake_the_reader),
	};

	return cmocka_run_group_tests_name("bpf_loader", tests, NULL, NULL);
}
