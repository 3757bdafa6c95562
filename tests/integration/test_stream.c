// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/output/stream.c, the tcp:// and unix: outputs, with real loopback sockets: the
 * receiver of tests/harness/receiver.h listens on 127.0.0.1 (ephemeral port), [::1] or a Unix
 * socket in this process, and is polled between ticks, so nothing sleeps for a fixed time.
 * Stream delivery is at least once: after a reconnect the sink sends its resend window again, so
 * a connection may start with lines received before; the check removes those duplicates (as
 * receivers do on insertId) and counts them, and what remains must be every expected line,
 * once, in order. Under CI=true a missing IPv6 loopback is a failure, and so is not being root
 * (the disk-full test mounts a tmpfs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "output/stream_int.h"
#include "output_fixture.h"
#include "harness/receiver.h"

static void tick_outputs(void *o)
{
	ew_outputs_tick(o, ew_clock_mono_ns());
}

/* Ticks the outputs and reads until want complete lines arrived; fails after EW_T_WAIT_NS. */
static void pump_until(struct ew_outputs *o, struct ew_t_rx *rx, size_t want)
{
	ew_t_rx_pump_until(rx, want, tick_outputs, o);
}

/* Waits for the sink's connection and accepts it, reading nothing. */
static struct ew_t_conn *rx_accept(struct ew_outputs *o, struct ew_t_rx *rx)
{
	return ew_t_rx_accept(rx, tick_outputs, o);
}

/* Ticks until the sink has handed every line to its kernel (the receiver may read nothing). */
static void wait_queue_empty(struct ew_outputs *o)
{
	uint64_t deadline = ew_clock_mono_ns() + EW_T_WAIT_NS;

	while (status_of(o, 0).queued) {
		if (ew_clock_mono_ns() > deadline)
			fail_msg("%" PRIu64 " lines still queued", status_of(o, 0).queued);
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 1);
	}
}

/* How many of the lines from..to-1, the newest first, fit in the resend window. */
static uint32_t window_lines(uint32_t from, uint32_t to, ew_t_len_fn len_of)
{
	uint64_t bytes = 0;
	uint32_t n = 0;

	while (to > from && bytes + len_of(to - 1) <= EW_STREAM_RESEND_BYTES) {
		bytes += len_of(--to);
		n++;
	}
	return n;
}

/* ---- stream sinks ---------------------------------------------------------------------- */

static void test_tcp_reconnect_mid_burst(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_outputs *o;
	struct ew_sink_status st;
	uint32_t seq = 0, total, win;
	size_t replayed;
	char spec[64];
	uint16_t port;

	opts.queue_max_lines = 200;
	ew_t_rx_listen_tcp(&rx, AF_INET, 0);
	port = rx.port;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	o = outputs_with(&opts, spec);
	assert_false(status_of(o, 0).connected);

	/* 1: the receiver keeps up. */
	for (; seq < 50; seq++) {
		write_seq(o, seq, len_big);
		pump_until(o, &rx, seq + 1);
	}
	assert_true(status_of(o, 0).connected);

	/* 2: it stops reading until the socket buffers are full and lines wait in memory. */
	while (status_of(o, 0).queued < 5) {
		assert_true(seq < 20000);
		write_seq(o, seq++, len_big);
		ew_outputs_tick(o, ew_clock_mono_ns());
	}

	/* 3: it goes away mid-burst: stops listening, says goodbye, reads what was sent. */
	ew_t_rx_unlisten(&rx);
	assert_int_equal(rx.nconns, 1);
	assert_int_equal(shutdown(rx.conns[0].fd, SHUT_WR), 0);
	for (uint64_t end = ew_clock_mono_ns() + EW_T_WAIT_NS; rx.conns[0].fd >= 0;) {
		assert_true(ew_clock_mono_ns() < end);
		ew_outputs_tick(o, ew_clock_mono_ns());
		ew_t_rx_pump(&rx);
	}
	assert_false(status_of(o, 0).connected);
	/*
	 * It read everything the sink's kernel took: the complete lines are the ones the sink
	 * handed over whole, and the newest of them, up to the bound, are due to be sent again.
	 */
	win = window_lines(0, (uint32_t)ew_t_conn_lines(&rx.conns[0]), len_big);
	assert_true(win > 0);

	/* 4: lines keep coming while it is away: queue, then spool; the window waits in memory. */
	for (total = seq + 400; seq < total; seq++) {
		write_seq(o, seq, len_big);
		ew_outputs_tick(o, ew_clock_mono_ns());
	}
	st = status_of(o, 0);
	assert_int_equal(st.queued, opts.queue_max_lines + win);
	assert_true(st.spooled_bytes > 0);

	/* 5: back on the same port: the window again, then the rest, once and in order. */
	ew_t_rx_listen(&rx);
	pump_until(o, &rx, total + win);
	/* The line cut by the disconnect: a fragment on the old connection, whole on the new. */
	assert_int_equal(ew_t_rx_check_range(&rx, 0, total, len_big, &replayed), 1);
	assert_int_equal(replayed, win);
	assert_true(rx.nconns >= 2);
	st = status_of(o, 0);
	assert_true(st.connected);
	assert_int_equal(st.delivered, total);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.spooled_bytes, 0);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

/* The single spool file in dir, checked for its name and mode; its size in *size. */
static void find_spool(const char *dir, const char *prefix, char *path, size_t size, off_t *fsize)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	int found = 0;

	assert_non_null(d);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		assert_int_equal(strlen(de->d_name), strlen(prefix) + 1 + 16 + 6);
		assert_memory_equal(de->d_name, prefix, strlen(prefix));
		assert_string_equal(de->d_name + strlen(prefix) + 17, ".spool");
		snprintf(path, size, "%s/%s", dir, de->d_name);
		found++;
	}
	closedir(d);
	assert_int_equal(found, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	*fsize = st.st_size;
}

static void test_tcp_spool_then_deliver(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], spool[256];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);
	off_t size;

	opts.queue_max_lines = 100;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	o = outputs_with(&opts, spec);
	for (uint32_t seq = 0; seq < 500; seq++) {
		write_seq(o, seq, len_varying);
		ew_outputs_tick(o, ew_clock_mono_ns());
	}
	st = status_of(o, 0);
	assert_string_equal(st.name, spec);
	assert_false(st.connected);
	assert_int_equal(st.queued, 100);
	assert_int_equal(st.spooled_bytes, bytes_of_range(100, 500, len_varying));
	assert_int_equal(st.delivered, 0);
	assert_int_equal(st.dropped, 0);
	find_spool(f->spool, "tcp", spool, sizeof(spool), &size);
	assert_int_equal(size, bytes_of_range(100, 500, len_varying));

	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 500);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 500, len_varying, NULL), 0);
	st = status_of(o, 0);
	assert_true(st.connected);
	assert_int_equal(st.delivered, 500);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.spooled_bytes, 0);
	find_spool(f->spool, "tcp", spool, sizeof(spool), &size);
	assert_int_equal(size, 0);
	ew_outputs_free(o);
	/* Nothing left to keep: the spool file is removed. */
	assert_int_equal(access(spool, F_OK), -1);
	ew_t_rx_free(&rx);
}

static void test_tcp_spool_full_drops(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct capture cap;
	struct ew_outputs *o;
	uint32_t seqs[25];
	char spec[64];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);

	/* 10 lines in memory, exactly 10 lines of 100 bytes on disk, the other 30 dropped. */
	opts.queue_max_lines = 10;
	opts.spool_max_bytes = 1000;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	o = outputs_with(&opts, spec);
	capture_begin(&cap, f);
	write_range(o, 0, 50, len_fixed100);
	/* Some retries of the connect, each refused, warned about once. */
	for (int i = 0; i < 10; i++) {
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 2);
	}
	/* The configured bound, named as such: the disk is not full (test_tcp_spool_disk_full). */
	assert_int_equal(capture_end(&cap, "queue full and the spool reached agent.spool_max_bytes "
					   "(1000 bytes); dropping lines"),
			 1);
	capture_begin(&cap, f);
	for (int i = 0; i < 10; i++) {
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 2);
	}
	assert_int_equal(capture_end(&cap, "cannot connect"), 0);
	st = status_of(o, 0);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.spooled_bytes, 1000);
	assert_int_equal(st.dropped, 30);

	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 20);
	write_range(o, 50, 55, len_fixed100);
	pump_until(o, &rx, 25);
	for (uint32_t i = 0; i < 25; i++)
		seqs[i] = i < 20 ? i : 30 + i;
	assert_int_equal(ew_t_rx_check(&rx, seqs, 25, len_fixed100, NULL), 0);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, 25);
	assert_int_equal(st.dropped, 30);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

static void test_tcp_no_spool_drops(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], bad[256];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);

	opts.queue_max_lines = 10;
	opts.spool_max_bytes = 0;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 25, len_varying);
	ew_outputs_tick(o, ew_clock_mono_ns());
	st = status_of(o, 0);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.spooled_bytes, 0);
	assert_int_equal(st.dropped, 15);
	assert_int_equal(access(f->spool, F_OK), -1);
	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 10);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 10, len_varying, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 10);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);

	/* A spool that cannot be created (a file in the way) behaves as no spool. */
	snprintf(bad, sizeof(bad), "%s/not-a-dir", f->dir);
	fclose(fopen(bad, "w"));
	strcat(bad, "/spool");
	opts.spool_dir = bad;
	opts.spool_max_bytes = 1 << 20;
	opts.queue_max_lines = 5;
	o = outputs_with(&opts, spec);
	write_range(o, 0, 8, len_varying);
	assert_int_equal(status_of(o, 0).queued, 5);
	assert_int_equal(status_of(o, 0).dropped, 3);
	assert_int_equal(status_of(o, 0).spooled_bytes, 0);
	ew_outputs_free(o);
}

static void test_unix_delivery(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[256], sock[200];

	snprintf(sock, sizeof(sock), "%s/vector.sock", f->dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock);
	opts.queue_max_lines = 20;
	/* Down first (no socket file): queued and spooled, then delivered in order. */
	o = outputs_with(&opts, spec);
	write_range(o, 0, 50, len_varying);
	ew_outputs_tick(o, ew_clock_mono_ns());
	assert_false(status_of(o, 0).connected);
	assert_int_equal(status_of(o, 0).queued, 20);
	ew_t_rx_listen_unix(&rx, sock);
	pump_until(o, &rx, 50);
	write_range(o, 50, 100, len_varying);
	pump_until(o, &rx, 100);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 100, len_varying, NULL), 0);
	assert_true(status_of(o, 0).connected);
	assert_int_equal(status_of(o, 0).delivered, 100);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

static void test_tcp_ipv6(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[64];

	ew_t_need_logged("integration", ew_t_have_ipv6_loopback(),
			 "no IPv6 loopback: tcp://[::1] must be tested");
	ew_t_rx_listen_tcp(&rx, AF_INET6, 0);
	snprintf(spec, sizeof(spec), "tcp://[::1]:%u", rx.port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 30, len_varying);
	pump_until(o, &rx, 30);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 30, len_varying, NULL), 0);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

/* A name is resolved at add time and again for every connect round after a failure. */
static void test_tcp_name(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[64];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);

	snprintf(spec, sizeof(spec), "tcp://localhost:%u", port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 10, len_varying);
	for (int i = 0; i < 5; i++) {
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 2);
	}
	assert_false(status_of(o, 0).connected);
	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 10);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 10, len_varying, NULL), 0);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

static void test_spool_from_previous_run(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], spool[256];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);
	size_t len;
	char *data;
	off_t size;

	opts.queue_max_lines = 5;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 20, len_varying);
	ew_outputs_tick(o, ew_clock_mono_ns());
	assert_int_equal(status_of(o, 0).queued, 5);
	/* Freed without a drain while the peer is down: the queue goes ahead of the spool. */
	ew_outputs_free(o);
	find_spool(f->spool, "tcp", spool, sizeof(spool), &size);
	data = slurp(spool, &len);
	check_lines(spool, data, len, 0, 20, len_varying);
	free(data);

	/* The next run: the old lines come first, then the new ones. */
	o = outputs_with(&opts, spec);
	st = status_of(o, 0);
	assert_int_equal(st.spooled_bytes, bytes_of_range(0, 20, len_varying));
	assert_int_equal(st.queued, 0);
	write_range(o, 20, 30, len_varying);
	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 30);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 30, len_varying, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 30);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

/*
 * The receiver goes away with lines it never read (they are lost with its socket although the
 * sink's send() took them), or after reading everything: on the next connection the sink sends
 * its resend window again, then what came meanwhile. Every line arrives at least once; after
 * removing duplicates, exactly once and in order.
 */
static const struct resend_case {
	const char *what;
	int family;	/* AF_INET or AF_UNIX */
	uint32_t lines; /* handed to the kernel before the receiver goes */
	ew_t_len_fn len_of;
	size_t read_bytes; /* read before closing with the rest unread; SIZE_MAX: all, kept up */
} resend_cases[] = {
	{"tcp, reads nothing", AF_INET, 120, len_varying, 0},
	{"tcp, reads part", AF_INET, 120, len_varying, 5003},
	{"unix, reads nothing", AF_UNIX, 120, len_varying, 0},
	{"unix, reads part", AF_UNIX, 120, len_varying, 5003},
	/* 6 MB over the connection: the window holds the newest 4 MiB of it. */
	{"tcp, reads all", AF_INET, 600, len_big, SIZE_MAX},
};

static void test_stream_resend_window(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);

	for (size_t i = 0; i < ARRAY_SIZE(resend_cases); i++) {
		const struct resend_case *tc = &resend_cases[i];
		const uint32_t more = 50, total = tc->lines + more;
		uint32_t win = window_lines(0, tc->lines, tc->len_of), got;
		struct ew_t_rx rx = {.lfd = -1};
		char spec[256], sock[200];
		struct ew_sink_status st;
		struct ew_outputs *o;
		size_t replayed;
		struct ew_t_conn *c;

		if (tc->family == AF_UNIX) {
			snprintf(sock, sizeof(sock), "%s/rx.sock", f->dir);
			ew_t_rx_listen_unix(&rx, sock);
			snprintf(spec, sizeof(spec), "unix:%s", sock);
		} else {
			ew_t_rx_listen_tcp(&rx, AF_INET, 0);
			snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", rx.port);
		}
		o = outputs_with(&opts, spec);

		/* 1: the lines go whole into the kernel: counted delivered, kept in the window. */
		if (tc->read_bytes == SIZE_MAX) {
			for (uint32_t seq = 0; seq < tc->lines; seq++) {
				write_seq(o, seq, tc->len_of);
				pump_until(o, &rx, seq + 1);
			}
			c = &rx.conns[0];
			assert_true(win < tc->lines);
		} else {
			write_range(o, 0, tc->lines, tc->len_of);
			wait_queue_empty(o);
			c = rx_accept(o, &rx);
			ew_t_conn_read(c, tc->read_bytes);
			assert_int_equal(win, tc->lines);
		}
		st = status_of(o, 0);
		assert_int_equal(st.delivered, tc->lines);
		assert_int_equal(st.queued, 0);

		/* 2: the receiver closes; what it did not read is gone. */
		assert_int_equal(close(c->fd), 0);
		c->fd = -1;
		got = (uint32_t)ew_t_conn_lines(c);

		/* 3: the sink reconnects: the window again, then the lines written meanwhile. */
		write_range(o, tc->lines, total, tc->len_of);
		pump_until(o, &rx, got + win + more);
		if (ew_t_rx_check_range(&rx, 0, total, tc->len_of, &replayed) !=
		    (c->len && c->data[c->len - 1] != '\n'))
			fail_msg("%s: a fragment where none was cut, or none where one was",
				 tc->what);
		/* Sent twice: the lines of the window the receiver had read. */
		if (replayed != (got + win > tc->lines ? got + win - tc->lines : 0))
			fail_msg("%s: %zu lines sent twice, want %u", tc->what, replayed,
				 got + win - tc->lines);
		assert_int_equal(rx.nconns, 2);
		st = status_of(o, 0);
		assert_true(st.connected);
		assert_int_equal(st.delivered, total);
		assert_int_equal(st.dropped, 0);
		assert_int_equal(st.queued, 0);
		assert_int_equal(st.spooled_bytes, 0);
		ew_outputs_free(o);
		ew_t_rx_free(&rx);
	}
}

/* Stopped while the lost connection is not back: the window is saved ahead of the queue. */
static void test_stream_window_saved_at_free(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	uint64_t deadline = ew_clock_mono_ns() + EW_T_WAIT_NS;
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], spool[256];
	struct ew_t_conn *c;
	size_t len;
	char *data;
	off_t size;

	ew_t_rx_listen_tcp(&rx, AF_INET, 0);
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", rx.port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 100, len_varying);
	wait_queue_empty(o);
	c = rx_accept(o, &rx);
	/* Closed unread (a reset), and nothing listens any more. */
	assert_int_equal(close(c->fd), 0);
	c->fd = -1;
	ew_t_rx_unlisten(&rx);
	while (status_of(o, 0).connected) {
		assert_true(ew_clock_mono_ns() < deadline);
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 1);
	}
	write_range(o, 100, 110, len_varying);
	st = status_of(o, 0);
	assert_int_equal(st.queued, 110);
	assert_int_equal(st.delivered, 100);
	assert_int_equal(st.spooled_bytes, 0);
	assert_int_equal(ew_outputs_drain(o, 0), 110);
	ew_outputs_free(o);
	find_spool(f->spool, "tcp", spool, sizeof(spool), &size);
	data = slurp(spool, &len);
	check_lines(spool, data, len, 0, 110, len_varying);
	free(data);

	/* The next run delivers them first. */
	o = outputs_with(&opts, spec);
	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 110);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 110, len_varying, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 110);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

static void test_drain(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[64], fspec[256];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);
	uint64_t t0, spent;

	opts.queue_max_lines = 5;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	snprintf(fspec, sizeof(fspec), "file:%s/drain.log", f->dir);
	o = outputs_with(&opts, spec);
	assert_int_equal(ew_outputs_add(o, fspec, NULL, 0), 0);
	write_range(o, 0, 20, len_varying);
	/* Peer down: the timeout is honoured, and the count is queued + spooled lines. */
	t0 = ew_clock_mono_ns();
	assert_int_equal(ew_outputs_drain(o, 30 * EW_NSEC_PER_MSEC), 20);
	spent = ew_clock_mono_ns() - t0;
	assert_true(spent >= 30 * EW_NSEC_PER_MSEC && spent < 2 * EW_NSEC_PER_SEC);
	assert_int_equal(ew_outputs_drain(o, 0), 20);
	/* Peer up: everything goes before the timeout (the kernel accepts for the listener). */
	ew_t_rx_listen(&rx);
	assert_int_equal(ew_outputs_drain(o, EW_T_WAIT_NS), 0);
	assert_int_equal(status_of(o, 0).delivered, 20);
	assert_int_equal(status_of(o, 1).delivered, 20);
	pump_until(o, &rx, 20);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 20, len_varying, NULL), 0);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

/*
 * What a caller that sleeps between ticks waits for (ew_outputs_poll(), the agent's loop): a
 * sink that is down, its next connect; one with lines and a connection, its socket; an idle
 * connection and a file sink, nothing.
 */
static void test_poll(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	const uint64_t hour = 3600 * EW_NSEC_PER_SEC;
	struct pollfd pfds[EW_MAX_SINKS];
	struct ew_outputs *o;
	char spec[64], fspec[256];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);
	uint64_t wait = hour, deadline = ew_clock_mono_ns() + EW_T_WAIT_NS;
	uint32_t n;
	bool saw_socket = false;

	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	snprintf(fspec, sizeof(fspec), "file:%s/poll.log", f->dir);
	o = outputs_with(&opts, spec);
	assert_int_equal(ew_outputs_add(o, fspec, NULL, 0), 0);
	write_range(o, 0, 5, len_varying);
	/* Nobody listens: once the connect has failed, no fd, and the retry bounds the sleep. */
	for (;;) {
		uint64_t now = ew_clock_mono_ns();

		ew_outputs_tick(o, now);
		wait = hour;
		n = ew_outputs_poll(o, pfds, EW_MAX_SINKS, now, &wait);
		if (!n)
			break;
		assert_int_equal(pfds[0].events, POLLOUT); /* the connect under way */
		assert_true(ew_clock_mono_ns() < deadline);
		poll(pfds, n, 1);
	}
	assert_true(wait <= opts.reconnect_max_ns);
	/* Listening: the connection with lines to send is polled until they are out. */
	ew_t_rx_listen(&rx);
	while (status_of(o, 0).delivered < 5) {
		uint64_t now = ew_clock_mono_ns();

		assert_true(now < deadline);
		ew_outputs_tick(o, now);
		wait = hour;
		n = ew_outputs_poll(o, pfds, EW_MAX_SINKS, now, &wait);
		assert_true(n <= 1);
		if (n) {
			assert_true(pfds[0].fd >= 0);
			saw_socket = true;
		}
		/* Not the whole wait: the last lines' delivery is counted at the next tick. */
		poll(pfds, n, 5);
	}
	assert_true(saw_socket);
	pump_until(o, &rx, 5);
	/* Everything out, the connection idle: nothing to wait for. */
	ew_outputs_tick(o, ew_clock_mono_ns());
	wait = hour;
	assert_int_equal(ew_outputs_poll(o, pfds, EW_MAX_SINKS, ew_clock_mono_ns(), &wait), 0);
	assert_int_equal(wait, hour);
	assert_int_equal(status_of(o, 1).delivered, 5);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

/*
 * The disk under the spool fills up long before agent.spool_max_bytes: a 64 KiB tmpfs, lines of
 * 1000 bytes. The warning says the spool cannot be written and why, naming the file, not that
 * the spool is full; the spool holds whole lines only, and what it holds is delivered once the
 * receiver listens. Needs root to mount; skipped otherwise, except under CI=true.
 */
static void test_tcp_spool_disk_full(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	char spec[64], spool_dir[256], spool[512], msg[700];
	uint16_t port = ew_t_rx_bind_tcp(&rx, AF_INET, 0);
	const uint32_t total = 200;
	struct ew_sink_status st;
	struct ew_outputs *o;
	struct capture cap;
	uint32_t spooled;
	off_t size;

	mount_tmpfs(f, "small", "size=64k,mode=0700");
	snprintf(spool_dir, sizeof(spool_dir), "%s/spool", f->mnt);
	opts.spool_dir = spool_dir;
	opts.spool_max_bytes = 64 << 20;
	opts.queue_max_lines = 10;
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", port);
	o = outputs_with(&opts, spec);
	capture_begin(&cap, f);
	write_range(o, 0, total, len_fixed1000);
	find_spool(spool_dir, "tcp", spool, sizeof(spool), &size);
	snprintf(msg, sizeof(msg), "queue full and cannot write the spool %s: %s; dropping lines",
		 spool, strerror(ENOSPC));
	assert_int_equal(capture_end(&cap, msg), 1);
	st = status_of(o, 0);
	assert_true(size > 0 && size % 1000 == 0);
	assert_int_equal(st.spooled_bytes, size);
	spooled = (uint32_t)(size / 1000);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.dropped, total - 10 - spooled);

	ew_t_rx_listen(&rx);
	pump_until(o, &rx, 10 + spooled);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, 10 + spooled, len_fixed1000, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 10 + spooled);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
	assert_int_equal(umount2(f->mnt, 0), 0);
	f->mnt[0] = '\0';
}

/* ---- blocking (a replay) --------------------------------------------------------------- */

/*
 * A receiver in a child process, so that it reads while the sender blocks: accepts one
 * connection on lfd, reads nothing for pause_ms (the socket buffers fill, then the sink's
 * queue), then copies everything up to the sender's close into the file out. Exit status 0, or
 * 1 on any error.
 */
static void slow_reader(int lfd, const char *out, int pause_ms)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	char buf[65536];
	int c, fd;

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || poll(&pfd, 1, (int)(EW_T_WAIT_NS / EW_NSEC_PER_MSEC)) != 1)
		_exit(1);
	c = accept4(lfd, NULL, NULL, 0);
	if (c < 0)
		_exit(1);
	poll(NULL, 0, pause_ms);
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));

		if (n == 0)
			_exit(0);
		if ((n < 0 && errno != EINTR) || (n > 0 && write(fd, buf, (size_t)n) != n))
			_exit(1);
	}
}

/*
 * Blocking: a queue of 10 lines, no spool, 3 MB of lines to a Unix socket whose reader starts
 * late: every line waits for room instead of being dropped, and arrives once, in order.
 */
static void test_blocking_slow_receiver(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_t_rx rx = {.lfd = -1};
	const uint32_t total = 300;
	char spec[256], sock[200], out[200];
	struct ew_sink_status st;
	struct ew_outputs *o;
	int status;
	size_t len;
	char *data;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/rx.sock", f->dir);
	snprintf(out, sizeof(out), "%s/received", f->dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock);
	ew_t_rx_listen_unix(&rx, sock);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		slow_reader(rx.lfd, out, 300);
	opts.queue_max_lines = 10;
	opts.spool_max_bytes = 0;
	o = outputs_with(&opts, spec);
	ew_outputs_set_blocking(o, EW_T_WAIT_NS, NULL);
	for (uint32_t seq = 0; seq < total; seq++) {
		write_seq(o, seq, len_big);
		assert_true(status_of(o, 0).queued <= opts.queue_max_lines);
	}
	assert_int_equal(ew_outputs_drain(o, EW_T_WAIT_NS), 0);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, total);
	assert_int_equal(st.dropped, 0);
	ew_outputs_free(o);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	data = slurp(out, &len);
	assert_non_null(data);
	check_lines(out, data, len, 0, total, len_big);
	free(data);
	ew_t_rx_free(&rx);
}

/*
 * Blocking with a receiver that reads nothing: the line that finds the queue full waits the
 * stall time once, then it and the lines after it are dropped at once, with one warning; once
 * the receiver has read, the sink is waited for again. *stop ends a wait at once.
 */
static void test_blocking_stall(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	const uint64_t stall = 200 * EW_NSEC_PER_MSEC;
	struct ew_t_rx rx = {.lfd = -1};
	volatile sig_atomic_t stop = 0;
	struct ew_outputs *o;
	struct capture cap;
	uint32_t seq = 0, first_drop;
	uint64_t t0, spent;
	char spec[64];

	opts.queue_max_lines = 10;
	opts.spool_max_bytes = 0;
	ew_t_rx_listen_tcp(&rx, AF_INET, 0);
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", rx.port);
	o = outputs_with(&opts, spec);
	ew_outputs_set_blocking(o, stall, &stop);
	capture_begin(&cap, f);

	/* Until the socket buffers and the queue are full, no line waits long. */
	for (;;) {
		assert_true(seq < 5000);
		t0 = ew_clock_mono_ns();
		write_seq(o, seq++, len_big);
		spent = ew_clock_mono_ns() - t0;
		if (status_of(o, 0).dropped)
			break;
		assert_true(spent < stall);
	}
	first_drop = seq - 1;
	assert_true(spent >= stall && spent < stall + EW_T_WAIT_NS / 2);
	assert_true(status_of(o, 0).connected);
	assert_int_equal(status_of(o, 0).queued, opts.queue_max_lines);
	/* Stalled: the next lines are not waited for. */
	t0 = ew_clock_mono_ns();
	write_range(o, seq, seq + 20, len_big);
	seq += 20;
	assert_true(ew_clock_mono_ns() - t0 < stall);
	assert_int_equal(status_of(o, 0).dropped, 21);
	assert_int_equal(capture_end(&cap, "took no line for 200 ms"), 1);

	/* The receiver reads: lines flow, and the next full queue is waited for again. */
	pump_until(o, &rx, first_drop);
	assert_int_equal(ew_t_rx_check_range(&rx, 0, first_drop, len_big, NULL), 0);
	assert_int_equal(status_of(o, 0).queued, 0);
	t0 = ew_clock_mono_ns();
	while (status_of(o, 0).dropped == 21) {
		assert_true(seq < first_drop + 5000);
		write_seq(o, seq++, len_big);
	}
	assert_true(ew_clock_mono_ns() - t0 >= stall);
	assert_int_equal(status_of(o, 0).dropped, 22);

	/* Asked to stop: the receiver read again, but the full queue is not waited for. */
	spent = status_of(o, 0).delivered;
	ew_t_rx_pump(&rx);
	tick(o);
	assert_true(status_of(o, 0).delivered > spent);
	stop = 1;
	t0 = ew_clock_mono_ns();
	while (status_of(o, 0).dropped == 22) {
		assert_true(seq < first_drop + 10000);
		write_seq(o, seq++, len_big);
	}
	assert_true(ew_clock_mono_ns() - t0 < stall);
	ew_outputs_free(o);
	ew_t_rx_free(&rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_reconnect_mid_burst, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_spool_then_deliver, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_spool_full_drops, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_no_spool_drops, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_spool_disk_full, fixture_setup,
						mount_teardown),
		cmocka_unit_test_setup_teardown(test_unix_delivery, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_ipv6, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_name, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_spool_from_previous_run, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_resend_window, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_window_saved_at_free, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_drain, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_poll, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_slow_receiver, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_stall, fixture_setup,
						fixture_teardown),
	};

	/* As the agent does: a closed reader is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Expected warnings would bury a failure; tests that check them turn them on. */
	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
