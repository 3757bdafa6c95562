/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every test binary shares, once: the skip rule, scratch directories, loopback addresses,
 * the output tests' generated lines (the stream receiver is in receiver.h, same archive).
 * Built as a static archive (libewtest.a, one object per part) that the unit, integration and
 * BPF tests link, so that each pulls only the parts it calls: a unit test that uses the skip rule
 * links no socket code. Needs nothing but libc and cmocka. Include after <cmocka.h>.
 */
#ifndef EW_TESTS_UNIT_H
#define EW_TESTS_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- the skip rule (unit_skip.c) ---- */

/*
 * A test that cannot run here (not root, no comma-decimal locale, no IPv6 loopback, a tool
 * missing) says why and is skipped. Under CI=true, which installs everything the tests need, a
 * reason to skip is a failure instead.
 */
bool ew_t_ci(void);
/*
 * Goes on when ok. Else, under CI=true, fails the test ("CI=true but <why>: this test must run
 * in CI"); otherwise prints "skipped: <why>" and skips it. cmocka lists the skip, and
 * tests/run-unit.sh copies that list into the run's summary.
 */
void ew_t_need(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The same, in a binary that tests/run-integration.sh runs, which reads no cmocka output: the
 * skip is also appended to $EW_SKIP_LOG as "<kind> <binary>: <why>" (kind "integration" or
 * "bpf"; tests/skips.sh sums them up).
 */
void ew_t_need_logged(const char *kind, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Tests this kind of machine cannot have, which `make vmtest`'s guests run instead, where they
 * must (the memory controller on cgroup v2, on a hybrid development VM): not a skip, under CI
 * either, but said here and appended to $EW_SKIP_LOG as "vmtest <binary>: <what>", which the
 * summary counts apart from the skips.
 */
void ew_t_run_elsewhere(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- scratch directories (unit_scratch.c) ---- */

/* A directory of one test's own under /tmp, removed with everything in it. */
struct ew_t_scratch {
	char dir[64];
};

/* Makes /tmp/ew-<tag>-XXXXXX in s->dir. 0 or -errno. */
int ew_t_scratch_make(struct ew_t_scratch *s, const char *tag);
/* Removes s->dir and everything under it. 0 or -errno. */
int ew_t_scratch_remove(const struct ew_t_scratch *s);
/*
 * cmocka setup and teardown of a test whose state is a scratch directory (struct ew_t_scratch,
 * tagged with the binary's name): cmocka_unit_test_setup_teardown(fn, ew_t_scratch_setup,
 * ew_t_scratch_teardown). The teardown fails the test if the directory cannot be removed.
 */
int ew_t_scratch_setup(void **state);
int ew_t_scratch_teardown(void **state);
/* <dir>/<rel> in buf, which is returned; fails the test if it does not fit. */
const char *ew_t_scratch_path(const struct ew_t_scratch *s, const char *rel, char *buf, size_t len);
/* Writes text to <dir>/<rel>, making the directories on the way; fails the test if it cannot. */
void ew_t_scratch_put(const struct ew_t_scratch *s, const char *rel, const char *text);

/* rm -rf path, without a shell: symbolic links are removed, never followed. 0 (also when path is
 * not there) or -errno. */
int ew_t_remove_tree(const char *path);
/* mkdir -p path, mode 0755. 0 or -errno. */
int ew_t_mkdirs(const char *path);

/* ---- loopback addresses (unit_net.c): for the integration tests, unit tests open no sockets */

/* 127.0.0.1 (AF_INET) or ::1 (AF_INET6) at port in ret; returns the address's length. */
socklen_t ew_t_loopback(int family, uint16_t port, struct sockaddr_storage *ret);
/* The port of an AF_INET or AF_INET6 address, host order. */
uint16_t ew_t_port_of(const struct sockaddr_storage *ss);
/* Whether ::1 can be bound here (a container without IPv6 has no such address). */
bool ew_t_have_ipv6_loopback(void);

/* ---- generated lines (unit_lines.c): what the output tests write and check ---- */

#define EW_T_MAX_LINE_LEN 16384

/* {"seq":N,"pad":"xxxx"}\n in buf (at least total bytes), exactly total bytes long (total >= 40);
 * returns total. */
size_t ew_t_line(char *buf, uint32_t seq, size_t total);
/* The seq of a generated line, from its start ({"seq":N,...), or -1. */
long ew_t_line_seq(const char *data, size_t len);
/* The length of line seq in a test's sequence. */
typedef size_t (*ew_t_len_fn)(uint32_t seq);

#endif
