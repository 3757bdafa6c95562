// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The stream outputs' receiver (tests/harness/receiver.h): integration tests only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness/unit.h"
#include "harness/receiver.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint16_t ew_t_rx_bind_tcp(struct ew_t_rx *rx, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = ew_t_loopback(family, port, &ss);
	int one = 1;

	rx->family = family;
	rx->lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(rx->lfd >= 0);
	assert_int_equal(setsockopt(rx->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(rx->lfd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(rx->lfd, (struct sockaddr *)&ss, &len), 0);
	rx->port = ew_t_port_of(&ss);
	return rx->port;
}

void ew_t_rx_listen(struct ew_t_rx *rx)
{
	assert_int_equal(listen(rx->lfd, 16), 0);
}

void ew_t_rx_listen_tcp(struct ew_t_rx *rx, int family, uint16_t port)
{
	ew_t_rx_bind_tcp(rx, family, port);
	ew_t_rx_listen(rx);
}

void ew_t_rx_listen_unix(struct ew_t_rx *rx, const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	rx->family = AF_UNIX;
	assert_true(strlen(path) < sizeof(rx->path) && strlen(path) < sizeof(a.sun_path));
	strcpy(rx->path, path);
	strcpy(a.sun_path, path);
	unlink(path);
	rx->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(rx->lfd >= 0);
	assert_int_equal(bind(rx->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(rx->lfd, 16), 0);
}

static void rx_close_listener(struct ew_t_rx *rx)
{
	if (rx->lfd >= 0)
		close(rx->lfd);
	rx->lfd = -1;
	if (rx->family == AF_UNIX)
		unlink(rx->path);
}

void ew_t_rx_unlisten(struct ew_t_rx *rx)
{
	rx_close_listener(rx);
	ew_t_rx_bind_tcp(rx, rx->family, rx->port);
}

void ew_t_rx_free(struct ew_t_rx *rx)
{
	rx_close_listener(rx);
	for (size_t i = 0; i < rx->nconns; i++) {
		if (rx->conns[i].fd >= 0)
			close(rx->conns[i].fd);
		free(rx->conns[i].data);
	}
	rx->nconns = 0;
}

void ew_t_rx_pump(struct ew_t_rx *rx)
{
	int fd;

	while (rx->lfd >= 0 && (fd = accept4(rx->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		assert_true(rx->nconns < EW_T_MAX_CONNS);
		rx->conns[rx->nconns++] = (struct ew_t_conn){.fd = fd};
	}
	for (size_t i = 0; i < rx->nconns; i++) {
		struct ew_t_conn *c = &rx->conns[i];

		while (c->fd >= 0) {
			ssize_t n;

			if (c->cap - c->len < 65536) {
				c->cap = c->cap ? c->cap * 2 : 1 << 20;
				c->data = realloc(c->data, c->cap);
				assert_non_null(c->data);
			}
			n = read(c->fd, c->data + c->len, c->cap - c->len);
			if (n > 0) {
				c->len += (size_t)n;
			} else if (n == 0) {
				close(c->fd);
				c->fd = -1;
			} else {
				assert_true(errno == EAGAIN || errno == EINTR);
				break;
			}
		}
	}
}

size_t ew_t_rx_lines(const struct ew_t_rx *rx)
{
	size_t n = 0;

	for (size_t i = 0; i < rx->nconns; i++)
		n += ew_t_conn_lines(&rx->conns[i]);
	return n;
}

void ew_t_rx_pump_until(struct ew_t_rx *rx, size_t want, ew_t_tick_fn tick, void *arg)
{
	uint64_t deadline = mono_ns() + EW_T_WAIT_NS;

	for (;;) {
		struct pollfd pfds[EW_T_MAX_CONNS + 1];
		nfds_t n = 0;

		tick(arg);
		ew_t_rx_pump(rx);
		if (ew_t_rx_lines(rx) >= want)
			return;
		if (mono_ns() > deadline)
			fail_msg("received %zu lines, want %zu", ew_t_rx_lines(rx), want);
		if (rx->lfd >= 0)
			pfds[n++] = (struct pollfd){.fd = rx->lfd, .events = POLLIN};
		for (size_t i = 0; i < rx->nconns; i++) {
			if (rx->conns[i].fd >= 0)
				pfds[n++] =
					(struct pollfd){.fd = rx->conns[i].fd, .events = POLLIN};
		}
		/* Short: the sender's back-off timers run while we wait. */
		poll(pfds, n, 2);
	}
}

struct ew_t_conn *ew_t_rx_accept(struct ew_t_rx *rx, ew_t_tick_fn tick, void *arg)
{
	uint64_t deadline = mono_ns() + EW_T_WAIT_NS;
	int fd;

	while ((fd = accept4(rx->lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		assert_true(errno == EAGAIN || errno == EINTR);
		if (mono_ns() > deadline)
			fail_msg("no connection");
		tick(arg);
		poll(NULL, 0, 1);
	}
	assert_true(rx->nconns < EW_T_MAX_CONNS);
	rx->conns[rx->nconns] = (struct ew_t_conn){.fd = fd};
	return &rx->conns[rx->nconns++];
}

void ew_t_conn_read(struct ew_t_conn *c, size_t n)
{
	uint64_t deadline = mono_ns() + EW_T_WAIT_NS;

	c->cap = c->len + n + 1;
	c->data = realloc(c->data, c->cap);
	assert_non_null(c->data);
	while (n) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		ssize_t r = read(c->fd, c->data + c->len, n);

		if (r > 0) {
			c->len += (size_t)r;
			n -= (size_t)r;
			continue;
		}
		assert_true(r < 0 && (errno == EAGAIN || errno == EINTR));
		if (mono_ns() > deadline)
			fail_msg("%zu bytes missing", n);
		poll(&pfd, 1, 2);
	}
}

size_t ew_t_conn_lines(const struct ew_t_conn *c)
{
	size_t n = 0;

	for (size_t j = 0; j < c->len; j++)
		n += c->data[j] == '\n';
	return n;
}

/* The index of seq in seqs (increasing), or -1. */
static long seq_pos(const uint32_t *seqs, size_t nseqs, long seq)
{
	size_t lo = 0, hi = nseqs;

	while (seq >= 0 && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (seqs[mid] == (uint32_t)seq)
			return (long)mid;
		if (seqs[mid] < (uint32_t)seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

size_t ew_t_rx_check(const struct ew_t_rx *rx, const uint32_t *seqs, size_t nseqs,
		     ew_t_len_fn len_of, size_t *replayed)
{
	char exp[EW_T_MAX_LINE_LEN];
	size_t k = 0, fragments = 0, dups = 0;

	for (size_t i = 0; i < rx->nconns; i++) {
		const struct ew_t_conn *c = &rx->conns[i];
		long prev = -1; /* index of the previous complete line on this connection */
		size_t off = 0;

		while (off < c->len) {
			const char *nl = memchr(c->data + off, '\n', c->len - off);
			size_t len = nl ? (size_t)(nl - (c->data + off)) + 1 : c->len - off;
			long p = prev >= 0
					 ? prev + 1
					 : seq_pos(seqs, nseqs, ew_t_line_seq(c->data + off, len));

			if (!nl) {
				assert_int_equal(c->fd, -1);
				fragments++;
				if (p < 0) {
					/* Too short to carry its seq: {"seq": and digits. */
					assert_memory_equal(c->data + off,
							    "{\"seq\":", len < 7 ? len : 7);
					for (size_t j = 7; j < len; j++)
						assert_true(c->data[off + j] >= '0' &&
							    c->data[off + j] <= '9');
					break;
				}
				if ((size_t)p >= nseqs)
					fail_msg("connection %zu: a fragment after the last line",
						 i);
				ew_t_line(exp, seqs[p], len_of(seqs[p]));
				if (len >= len_of(seqs[p]) || memcmp(c->data + off, exp, len) != 0)
					fail_msg("connection %zu: fragment is not a prefix of seq "
						 "%u",
						 i, seqs[p]);
				break;
			}
			if (p < 0 || (size_t)p >= nseqs)
				fail_msg("connection %zu: unexpected line: %.60s", i,
					 c->data + off);
			ew_t_line(exp, seqs[p], len_of(seqs[p]));
			if (len != len_of(seqs[p]) || memcmp(c->data + off, exp, len) != 0)
				fail_msg("connection %zu: line is not seq %u: %.60s", i, seqs[p],
					 c->data + off);
			if ((size_t)p > k)
				fail_msg("connection %zu: starts at seq %u, seq %u never arrived",
					 i, seqs[p], seqs[k]);
			if ((size_t)p < k)
				dups++;
			else
				k++;
			prev = p;
			off += len;
		}
	}
	assert_int_equal(k, nseqs);
	if (replayed)
		*replayed = dups;
	else
		assert_int_equal(dups, 0);
	return fragments;
}

size_t ew_t_rx_check_range(const struct ew_t_rx *rx, uint32_t from, uint32_t to, ew_t_len_fn len_of,
			   size_t *replayed)
{
	uint32_t *seqs = calloc(to - from, sizeof(*seqs));
	size_t r;

	assert_non_null(seqs);
	for (uint32_t i = from; i < to; i++)
		seqs[i - from] = i;
	r = ew_t_rx_check(rx, seqs, to - from, len_of, replayed);
	free(seqs);
	return r;
}
