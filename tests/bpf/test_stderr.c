// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's stderr capture (--stderr-kernel, opt-in: the default reads the runtime's log,
 * tests/bpf/test_docker.c and test_cri_log.c) holds exactly the bytes a container wrote to its stderr, however
 * it wrote them (tests/helpers/stderrwriter.c): from a page not resident at the syscall's
 * entry, with writev(), through a reopened /dev/stderr, from a child, 10 KiB of it (the last
 * 2 KiB kept), and never its stdout. Each case's main process has stdout on /dev/null and
 * stderr on a file of its own, as a container runtime gives them separate pipes.
 * Needs root; under CI=true a skip is a failure. Runs in the kernel matrix too, where 5.10
 * takes the programs without BPF_FETCH.
 */
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"
#include "harness/stderr_cases.h"

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "stderr");
}

static int teardown(void **state)
{
	return ew_h_fixture_teardown(state);
}

static void test_exact_tails(void **state)
{
	struct ew_h_fixture *f = *state;
	size_t ncases;
	const struct ew_h_stderr_case *cases = ew_h_stderr_cases(&ncases);
	const char *args[] = {"--agent-interval", "1h", "--stderr-kernel", NULL};

	ew_h_require_bpf();
	ew_h_agent_start(&f->agent, args);
	for (size_t i = 0; i < ncases; i++) {
		char layout[64], path[128];
		json_object *e;
		const char *tail;
		int fd;
		pid_t pid;

		snprintf(path, sizeof(path), "%s/%s.stderr", f->s.dir, cases[i].mode);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		snprintf(layout, sizeof(layout), "/%s", cases[i].mode);
		pid = ew_h_run_in(
			f->s.base, layout,
			(char *const[]){(char *)ew_h_stderrwriter(), (char *)cases[i].mode, NULL},
			fd, false, NULL);
		close(fd);
		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 10000)), 3);
		e = ew_h_expect(&f->agent, "container_exit", layout, 5000);
		tail = ew_h_str(e, "stderr_tail");
		print_message("%s: stderr_bytes %lld\n", cases[i].mode,
			      (long long)ew_h_int(e, "stderr_bytes", -1));
		if (!tail || strcmp(tail, cases[i].want))
			fail_msg("%s: stderr_tail is\n[%s]\nnot\n[%s]", cases[i].mode,
				 tail ? tail : "(none)", cases[i].want);
		assert_string_equal(ew_h_str(e, "stderr_source"), "kernel");
		if (!strcmp(cases[i].mode, "big"))
			assert_int_equal(ew_h_int(e, "stderr_bytes", -1), 10240);
		else
			assert_int_equal(ew_h_int(e, "stderr_bytes", -1), strlen(cases[i].want));
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_tails, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_stderr", tests, NULL, NULL);
}
