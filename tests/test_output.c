// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/sink/output.c, stream.c and spool.c, with real files in a mkdtemp() directory
 * and real loopback sockets: a receiver in this process listens on 127.0.0.1 (ephemeral port),
 * [::1] or a Unix socket, and is polled between ticks, so nothing sleeps for a fixed time.
 * The receiver keeps each connection's bytes apart, as real NDJSON receivers do, and the check
 * walks the complete lines of all connections in accept order. Stream delivery is at least once:
 * after a reconnect the sink sends its resend window again, so a connection may start with lines
 * received before; the check removes those duplicates (as receivers do on insertId) and counts
 * them, and what remains must be every expected line, once, in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/output/output.h"
#include "output/spool_int.h"
#include "output/stream_int.h"
#include "exitwatch/util/util.h"

#define WAIT_NS	     (10 * EW_NSEC_PER_SEC) /* only reached when a test fails */
#define MAX_CONNS    64
#define MAX_LINE_LEN 16384

struct fixture {
	char dir[64];
	char spool[128];
	char path[192];	  /* scratch */
	char mnt[192];	  /* a tmpfs mounted by the test, unmounted at teardown */
	int saved_stdout; /* the real stdout while a test redirects it, else -1 */
	int saved_stderr; /* the real stderr while a test captures it, else -1 */
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/ew-test-output-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	f->saved_stdout = -1;
	f->saved_stderr = -1;
	*state = f;
	return 0;
}

/* Points stdout at fd (the sink writes there) until stdout_restore() or the teardown. */
static void stdout_to(struct fixture *f, int fd)
{
	fflush(stdout);
	if (f->saved_stdout < 0)
		f->saved_stdout = dup(STDOUT_FILENO);
	assert_true(f->saved_stdout >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
}

static void stdout_restore(struct fixture *f)
{
	if (f->saved_stdout < 0)
		return;
	dup2(f->saved_stdout, STDOUT_FILENO);
	close(f->saved_stdout);
	f->saved_stdout = -1;
}

static void capture_stop(struct fixture *f);

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	stdout_restore(f);
	if (f->saved_stderr >= 0) {
		char path[256], buf[4096];
		ssize_t n;
		int fd;

		capture_stop(f);
		snprintf(path, sizeof(path), "%s/stderr.txt", f->dir);
		fd = open(path, O_RDONLY);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stderr);
		if (fd >= 0)
			close(fd);
	}
	if (f->mnt[0])
		umount2(f->mnt, MNT_DETACH);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct ew_output_opts test_opts(const struct fixture *f)
{
	struct ew_output_opts o;

	ew_output_opts_default(&o);
	o.spool_dir = f->spool;
	o.reconnect_min_ns = EW_NSEC_PER_MSEC;
	o.reconnect_max_ns = 20 * EW_NSEC_PER_MSEC;
	return o;
}

static struct ew_outputs *outputs_with(const struct ew_output_opts *opts, const char *spec)
{
	struct ew_outputs *o = ew_outputs_new(opts);
	char err[256] = "";

	assert_non_null(o);
	if (ew_outputs_add(o, spec, err, sizeof(err)) != 0)
		fail_msg("add %s: %s", spec, err);
	return o;
}

/*
 * Hands the sinks a line rendered already: json (and text, or NULL) as a record's renderings.
 * The transport tests need lines of chosen bytes, not records. Returns ew_outputs_emit()'s.
 */
static int put_lines(struct ew_outputs *o, const char *json, size_t json_len, const char *text,
		     size_t text_len, uint64_t now_ns)
{
	struct ew_rendered rr;
	int r;

	ew_rendered_init(&rr, NULL, false);
	ew_rendered_set(&rr, NULL);
	ew_rendered_set_line(&rr, EW_FORMAT_JSON, json, json_len);
	if (text)
		ew_rendered_set_line(&rr, EW_FORMAT_TEXT, text, text_len);
	r = ew_outputs_emit(o, &rr, now_ns);
	ew_rendered_free(&rr);
	return r;
}

static void put_line(struct ew_outputs *o, const char *line, size_t len, uint64_t now_ns)
{
	assert_int_equal(put_lines(o, line, len, NULL, 0, now_ns), 0);
}

static struct ew_sink_status status_of(const struct ew_outputs *o, uint32_t i)
{
	struct ew_sink_status st[EW_MAX_SINKS];

	assert_true(ew_outputs_status(o, st, EW_MAX_SINKS) > i);
	return st[i];
}

static char *slurp(const char *path, size_t *len);

/*
 * stderr into a file, warnings on, to count them: one per streak, not one per line. A test that
 * fails meanwhile has its message in the file: the teardown ends the capture and shows it.
 */
struct capture {
	struct fixture *f;
	char path[256];
};

static void capture_begin(struct capture *c, struct fixture *f)
{
	int fd;

	c->f = f;
	snprintf(c->path, sizeof(c->path), "%s/stderr.txt", f->dir);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(fd >= 0 && f->saved_stderr >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	ew_log_init(EW_LOG_WARN);
}

static void capture_stop(struct fixture *f)
{
	ew_log_init(EW_LOG_ERROR);
	fflush(stderr);
	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	f->saved_stderr = -1;
}

/* Ends the capture; returns how often needle was logged. */
static size_t capture_end(struct capture *c, const char *needle)
{
	size_t len, n = 0;
	char *data;

	capture_stop(c->f);
	data = slurp(c->path, &len);
	assert_non_null(data);
	data = realloc(data, len + 1);
	data[len] = '\0';
	for (const char *p = data; (p = strstr(p, needle)); p++)
		n++;
	free(data);
	unlink(c->path);
	return n;
}

/* ---- lines ----------------------------------------------------------------------------- */

/* {"seq":N,"pad":"xxxx"}\n, exactly total bytes long (total >= 40). */
static size_t gen_line(char *buf, uint32_t seq, size_t total)
{
	int n = snprintf(buf, MAX_LINE_LEN, "{\"seq\":%u,\"pad\":\"", seq);
	size_t pad = total - (size_t)n - 3;

	memset(buf + n, 'a' + (int)(seq % 26), pad);
	memcpy(buf + (size_t)n + pad, "\"}\n", 3);
	return total;
}

typedef size_t (*len_fn)(uint32_t seq);

static size_t len_varying(uint32_t seq)
{
	return 40 + (seq * 7919u) % 260;
}

static size_t len_fixed100(uint32_t seq)
{
	(void)seq;
	return 100;
}

/* Prime-ish and varying, so that a full socket buffer rarely ends on a line boundary. */
static size_t len_big(uint32_t seq)
{
	return 10007 + (seq % 13) * 101;
}

static void write_seq(struct ew_outputs *o, uint32_t seq, len_fn len_of)
{
	char buf[MAX_LINE_LEN];
	size_t len = gen_line(buf, seq, len_of(seq));

	put_line(o, buf, len, ew_clock_mono_ns());
}

static void write_range(struct ew_outputs *o, uint32_t from, uint32_t to, len_fn len_of)
{
	for (uint32_t seq = from; seq < to; seq++)
		write_seq(o, seq, len_of);
}

static uint64_t bytes_of_range(uint32_t from, uint32_t to, len_fn len_of)
{
	uint64_t n = 0;

	for (uint32_t seq = from; seq < to; seq++)
		n += len_of(seq);
	return n;
}

/* ---- receiver -------------------------------------------------------------------------- */

struct conn {
	int fd; /* -1 after EOF */
	char *data;
	size_t len, cap;
};

struct rx {
	int lfd;
	int family;
	uint16_t port;
	char path[192];
	struct conn conns[MAX_CONNS];
	size_t nconns;
};

/*
 * Binds without listening: connects are refused, and the port stays ours. A port merely found
 * free could be taken meanwhile, even by the sink's own connect as its source port (TCP then
 * connects the socket to itself).
 */
static uint16_t rx_bind_tcp(struct rx *rx, int family, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1;

	rx->family = family;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	rx->lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(rx->lfd >= 0);
	assert_int_equal(setsockopt(rx->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(rx->lfd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(rx->lfd, (struct sockaddr *)&ss, &len), 0);
	rx->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					   : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return rx->port;
}

static void rx_listen(struct rx *rx)
{
	assert_int_equal(listen(rx->lfd, 16), 0);
}

static void rx_listen_tcp(struct rx *rx, int family, uint16_t port)
{
	rx_bind_tcp(rx, family, port);
	rx_listen(rx);
}

static void rx_listen_unix(struct rx *rx, const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	rx->family = AF_UNIX;
	ew_strlcpy(rx->path, path, sizeof(rx->path));
	ew_strlcpy(a.sun_path, path, sizeof(a.sun_path));
	unlink(path);
	rx->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(rx->lfd >= 0);
	assert_int_equal(bind(rx->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(rx->lfd, 16), 0);
}

static void rx_close_listener(struct rx *rx)
{
	if (rx->lfd >= 0)
		close(rx->lfd);
	rx->lfd = -1;
	if (rx->family == AF_UNIX)
		unlink(rx->path);
}

/* The receiver stops listening (connects are refused from now on) but keeps its port. */
static void rx_unlisten(struct rx *rx)
{
	rx_close_listener(rx);
	rx_bind_tcp(rx, rx->family, rx->port);
}

static void rx_free(struct rx *rx)
{
	rx_close_listener(rx);
	for (size_t i = 0; i < rx->nconns; i++) {
		if (rx->conns[i].fd >= 0)
			close(rx->conns[i].fd);
		free(rx->conns[i].data);
	}
	rx->nconns = 0;
}

/* Accepts what is pending and reads every connection until it would block. */
static void rx_pump(struct rx *rx)
{
	int fd;

	while (rx->lfd >= 0 && (fd = accept4(rx->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		assert_true(rx->nconns < MAX_CONNS);
		rx->conns[rx->nconns++] = (struct conn){.fd = fd};
	}
	for (size_t i = 0; i < rx->nconns; i++) {
		struct conn *c = &rx->conns[i];

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

static size_t rx_lines(const struct rx *rx)
{
	size_t n = 0;

	for (size_t i = 0; i < rx->nconns; i++) {
		for (size_t j = 0; j < rx->conns[i].len; j++)
			n += rx->conns[i].data[j] == '\n';
	}
	return n;
}

/* Ticks the outputs and reads until want complete lines arrived; fails after WAIT_NS. */
static void pump_until(struct ew_outputs *o, struct rx *rx, size_t want)
{
	uint64_t deadline = ew_clock_mono_ns() + WAIT_NS;

	for (;;) {
		struct pollfd pfds[MAX_CONNS + 1];
		nfds_t n = 0;

		ew_outputs_tick(o, ew_clock_mono_ns());
		rx_pump(rx);
		if (rx_lines(rx) >= want)
			return;
		if (ew_clock_mono_ns() > deadline)
			fail_msg("received %zu lines, want %zu", rx_lines(rx), want);
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

/* Waits for the sink's connection and accepts it, reading nothing. */
static struct conn *rx_accept(struct ew_outputs *o, struct rx *rx)
{
	uint64_t deadline = ew_clock_mono_ns() + WAIT_NS;
	int fd;

	while ((fd = accept4(rx->lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		assert_true(errno == EAGAIN || errno == EINTR);
		if (ew_clock_mono_ns() > deadline)
			fail_msg("no connection");
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 1);
	}
	assert_true(rx->nconns < MAX_CONNS);
	rx->conns[rx->nconns] = (struct conn){.fd = fd};
	return &rx->conns[rx->nconns++];
}

/* Reads exactly n bytes of c, which the sender has handed to its kernel already. */
static void conn_read(struct conn *c, size_t n)
{
	uint64_t deadline = ew_clock_mono_ns() + WAIT_NS;

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
		if (ew_clock_mono_ns() > deadline)
			fail_msg("%zu bytes missing", n);
		poll(&pfd, 1, 2);
	}
}

/* Ticks until the sink has handed every line to its kernel (the receiver may read nothing). */
static void wait_queue_empty(struct ew_outputs *o)
{
	uint64_t deadline = ew_clock_mono_ns() + WAIT_NS;

	while (status_of(o, 0).queued) {
		if (ew_clock_mono_ns() > deadline)
			fail_msg("%" PRIu64 " lines still queued", status_of(o, 0).queued);
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 1);
	}
}

/* The seq of a generated line, from its start ({"seq":N,...), or -1. */
static long line_seq(const char *data, size_t len)
{
	char buf[32];
	size_t m = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	unsigned int seq;
	int n = 0;

	memcpy(buf, data, m);
	buf[m] = '\0';
	if (sscanf(buf, "{\"seq\":%u,%n", &seq, &n) != 1 || n == 0)
		return -1;
	return (long)seq;
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

/*
 * At-least-once delivery, as the receiver sees it, over the connections in accept order:
 * - every complete line is one of the expected lines, byte for byte;
 * - within a connection, lines follow the expected order without a gap;
 * - a connection may start before the first line not received yet (the resend window): those
 *   lines are duplicates, counted in *replayed; after removing them, every expected line arrived
 *   exactly once and in order;
 * - bytes after a connection's last '\n' are a fragment of a line cut by a disconnect: the
 *   connection must be over, and the bytes a prefix of the line due next on it (the line is sent
 *   again whole on the next connection).
 * Returns the number of fragments. replayed NULL: no duplicate is allowed.
 */
static size_t rx_check(const struct rx *rx, const uint32_t *seqs, size_t nseqs, len_fn len_of,
		       size_t *replayed)
{
	char exp[MAX_LINE_LEN];
	size_t k = 0, fragments = 0, dups = 0;

	for (size_t i = 0; i < rx->nconns; i++) {
		const struct conn *c = &rx->conns[i];
		long prev = -1; /* index of the previous complete line on this connection */
		size_t off = 0;

		while (off < c->len) {
			const char *nl = memchr(c->data + off, '\n', c->len - off);
			size_t len = nl ? (size_t)(nl - (c->data + off)) + 1 : c->len - off;
			long p = prev >= 0 ? prev + 1
					   : seq_pos(seqs, nseqs, line_seq(c->data + off, len));

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
				gen_line(exp, seqs[p], len_of(seqs[p]));
				if (len >= len_of(seqs[p]) || memcmp(c->data + off, exp, len) != 0)
					fail_msg("connection %zu: fragment is not a prefix of seq "
						 "%u",
						 i, seqs[p]);
				break;
			}
			if (p < 0 || (size_t)p >= nseqs)
				fail_msg("connection %zu: unexpected line: %.60s", i,
					 c->data + off);
			gen_line(exp, seqs[p], len_of(seqs[p]));
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

static size_t rx_check_range(const struct rx *rx, uint32_t from, uint32_t to, len_fn len_of,
			     size_t *replayed)
{
	uint32_t *seqs = calloc(to - from, sizeof(*seqs));
	size_t r;

	assert_non_null(seqs);
	for (uint32_t i = from; i < to; i++)
		seqs[i - from] = i;
	r = rx_check(rx, seqs, to - from, len_of, replayed);
	free(seqs);
	return r;
}

/* Complete lines in one connection's bytes. */
static size_t conn_lines(const struct conn *c)
{
	size_t n = 0;

	for (size_t j = 0; j < c->len; j++)
		n += c->data[j] == '\n';
	return n;
}

/* How many of the lines from..to-1, the newest first, fit in the resend window. */
static uint32_t window_lines(uint32_t from, uint32_t to, len_fn len_of)
{
	uint64_t bytes = 0;
	uint32_t n = 0;

	while (to > from && bytes + len_of(to - 1) <= EW_STREAM_RESEND_BYTES) {
		bytes += len_of(--to);
		n++;
	}
	return n;
}

/* ---- specs and options ----------------------------------------------------------------- */

static const struct spec_case {
	const char *spec; /* '@' is replaced by the test directory */
	int ret;
	const char *err; /* exact, '@' replaced likewise */
} spec_cases[] = {
	{"stdout", 0, ""},
	{"-", 0, ""},
	{"file:@/out.log", 0, ""},
	{"tcp://127.0.0.1:5170", 0, ""},
	{"tcp://[::1]:24224", 0, ""},
	{"tcp://localhost:9000", 0, ""},
	{"unix:@/fluent.sock", 0, ""},
	{"", -EINVAL, "unknown output '': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH"},
	{"foo", -EINVAL,
	 "unknown output 'foo': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH"},
	{"udp://127.0.0.1:514", -EINVAL,
	 "unknown output 'udp://127.0.0.1:514': use stdout, file:PATH, tcp://HOST:PORT or "
	 "unix:PATH"},
	{"tcp:127.0.0.1:5170", -EINVAL,
	 "unknown output 'tcp:127.0.0.1:5170': use stdout, file:PATH, tcp://HOST:PORT or "
	 "unix:PATH"},
	{"Stdout", -EINVAL,
	 "unknown output 'Stdout': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH"},
	{"tcp://", -EINVAL, "output 'tcp://': missing port: use tcp://HOST:PORT"},
	{"tcp://collector", -EINVAL, "output 'tcp://collector': missing port: use tcp://HOST:PORT"},
	{"tcp://127.0.0.1:", -EINVAL,
	 "output 'tcp://127.0.0.1:': missing port: use tcp://HOST:PORT"},
	{"tcp://:5170", -EINVAL, "output 'tcp://:5170': missing host: use tcp://HOST:PORT"},
	{"tcp://[]:5170", -EINVAL, "output 'tcp://[]:5170': missing host: use tcp://HOST:PORT"},
	{"tcp://127.0.0.1:0", -EINVAL,
	 "output 'tcp://127.0.0.1:0': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:65536", -EINVAL,
	 "output 'tcp://127.0.0.1:65536': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:51x", -EINVAL,
	 "output 'tcp://127.0.0.1:51x': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:+80", -EINVAL,
	 "output 'tcp://127.0.0.1:+80': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:syslog", -EINVAL,
	 "output 'tcp://127.0.0.1:syslog': port must be a number from 1 to 65535"},
	{"tcp://::1:5170", -EINVAL,
	 "output 'tcp://::1:5170': put an IPv6 address in brackets: tcp://[ADDR]:PORT"},
	{"tcp://[::1:5170", -EINVAL,
	 "output 'tcp://[::1:5170': missing ']' after the IPv6 address"},
	{"tcp://[::1]", -EINVAL, "output 'tcp://[::1]': missing port: use tcp://HOST:PORT"},
	{"file:", -EINVAL, "output 'file:': missing PATH"},
	{"unix:", -EINVAL, "output 'unix:': missing PATH"},
	{"unix:/run/"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaa.sock",
	 -EINVAL,
	 "output "
	 "'unix:/run/"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaa.sock': socket path longer than 107 bytes"},
	{"file:@/missing/out.log", -ENOENT,
	 "output 'file:@/missing/out.log': cannot open @/missing/out.log: No such file or "
	 "directory"},
};

static void subst(char *dst, size_t size, const char *tmpl, const char *dir)
{
	size_t n = 0;

	for (const char *p = tmpl; *p && n + 1 < size; p++) {
		if (*p == '@')
			n += ew_strlcpy(dst + n, dir, size - n);
		else
			dst[n++] = *p;
	}
	dst[n < size ? n : size - 1] = '\0';
}

static void test_spec_table(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);

	for (size_t i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		struct ew_outputs *o = ew_outputs_new(&opts);
		char spec[512], exp[512], err[512] = "";
		int r;

		assert_non_null(o);
		subst(spec, sizeof(spec), spec_cases[i].spec, f->dir);
		subst(exp, sizeof(exp), spec_cases[i].err, f->dir);
		r = ew_outputs_add(o, spec, err, sizeof(err));
		if (r != spec_cases[i].ret || strcmp(err, exp) != 0)
			fail_msg("%s: expected %d [%s], got %d [%s]", spec, spec_cases[i].ret, exp,
				 r, err);
		assert_int_equal(ew_outputs_status(o, NULL, 0), 0);
		if (r == 0) {
			struct ew_sink_status st = status_of(o, 0);

			assert_string_equal(st.name, spec);
			assert_int_equal(st.delivered, 0);
			assert_int_equal(st.dropped, 0);
		}
		ew_outputs_free(o);
	}
}

static void test_add_limits(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_outputs *o = ew_outputs_new(&opts);
	struct ew_sink_status st[EW_MAX_SINKS];
	char spec[256], err[256] = "";

	assert_int_equal(ew_outputs_add(o, "stdout", err, sizeof(err)), 0);
	assert_int_equal(ew_outputs_add(o, "-", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "output '-': given twice");
	snprintf(spec, sizeof(spec), "file:%s/a.log", f->dir);
	assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), 0);
	assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), -EINVAL);
	for (int i = 2; i < EW_MAX_SINKS; i++) {
		snprintf(spec, sizeof(spec), "file:%s/%d.log", f->dir, i);
		assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), 0);
	}
	snprintf(spec, sizeof(spec), "file:%s/one-too-many.log", f->dir);
	assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many outputs (at most 8)"));
	/* A NULL err is allowed. */
	assert_int_equal(ew_outputs_add(o, "bogus", NULL, 0), -EINVAL);
	assert_int_equal(ew_outputs_status(o, st, EW_MAX_SINKS), EW_MAX_SINKS);
	assert_int_equal(ew_outputs_status(o, st, 3), 3);
	assert_string_equal(st[0].name, "stdout");
	ew_outputs_free(o);
	ew_outputs_free(NULL);
}

static void test_opts_default(void **state)
{
	struct ew_output_opts o;

	(void)state;
	memset(&o, 0xff, sizeof(o));
	ew_output_opts_default(&o);
	assert_int_equal(o.file_max_bytes, 100 * 1024 * 1024);
	assert_int_equal(o.file_keep, 5);
	assert_int_equal(o.queue_max_lines, 10000);
	assert_int_equal(o.spool_max_bytes, 64 * 1024 * 1024);
	assert_string_equal(o.spool_dir, "/var/lib/exitwatch/spool");
	assert_int_equal(o.reconnect_min_ns, 100 * EW_NSEC_PER_MSEC);
	assert_int_equal(o.reconnect_max_ns, 30 * EW_NSEC_PER_SEC);
	assert_false(o.stdout_text);
}

/* ---- files ----------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0;

	*len = 0;
	if (!fp)
		return NULL;
	for (;;) {
		if (cap - *len < 65536) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		size_t n = fread(data + *len, 1, cap - *len, fp);

		*len += n;
		if (n == 0)
			break;
	}
	fclose(fp);
	return data;
}

/* Checks that data holds exactly the lines from..to-1; returns to. */
static uint32_t check_lines(const char *what, const char *data, size_t len, uint32_t from,
			    uint32_t to, len_fn len_of)
{
	char exp[MAX_LINE_LEN];
	size_t off = 0;

	for (uint32_t seq = from; seq < to; seq++) {
		size_t n = gen_line(exp, seq, len_of(seq));

		if (off + n > len || memcmp(data + off, exp, n) != 0)
			fail_msg("%s: byte %zu is not line %u", what, off, seq);
		off += n;
	}
	if (off != len)
		fail_msg("%s: %zu bytes after line %u", what, len - off, to - 1);
	return to;
}

/* Counts the '\n's in data, and fails if data does not end with one. */
static uint32_t count_whole_lines(const char *what, const char *data, size_t len)
{
	uint32_t n = 0;

	if (len && data[len - 1] != '\n')
		fail_msg("%s: ends in the middle of a line", what);
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

/* Checks that path holds exactly the lines of ranges [from, to), one range after the other. */
static void expect_file(const char *path, const uint32_t (*ranges)[2], size_t nranges,
			len_fn len_of)
{
	char exp[MAX_LINE_LEN];
	size_t len, off = 0;
	char *data = slurp(path, &len);

	if (!data)
		fail_msg("%s: missing", path);
	for (size_t r = 0; r < nranges; r++) {
		for (uint32_t seq = ranges[r][0]; seq < ranges[r][1]; seq++) {
			size_t n = gen_line(exp, seq, len_of(seq));

			if (off + n > len || memcmp(data + off, exp, n) != 0)
				fail_msg("%s: byte %zu is not line %u", path, off, seq);
			off += n;
		}
	}
	if (off != len)
		fail_msg("%s: %zu bytes after the expected lines", path, len - off);
	free(data);
}

static void expect_lines(const char *path, uint32_t from, uint32_t to, len_fn len_of)
{
	const uint32_t range[1][2] = {{from, to}};

	expect_file(path, range, 1, len_of);
}

/* The size of path, -1 when it does not exist. */
static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void tick(struct ew_outputs *o)
{
	ew_outputs_tick(o, ew_clock_mono_ns());
}

/* One turn of the agent's loop: the turn's records, then the tick. */
static void write_turn(struct ew_outputs *o, uint32_t from, uint32_t to, len_fn len_of)
{
	write_range(o, from, to, len_of);
	tick(o);
}

static size_t len_fixed1000(uint32_t seq)
{
	(void)seq;
	return 1000;
}

static void test_file_rotation_under_load(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	const uint32_t total = 20000, keep = 200;
	char spec[256], name[256];
	struct ew_sink_status sst;
	struct ew_outputs *o;
	struct stat st;
	uint32_t seq = 0, nfiles = 0, full_batches = 0;

	opts.file_max_bytes = 64 * 1024;
	opts.file_keep = keep;
	snprintf(spec, sizeof(spec), "file:%s/load.log", f->dir);
	o = outputs_with(&opts, spec);
	/*
	 * As in the agent: a burst of records per loop turn, then the tick. Bursts of 1 to 500
	 * lines: batches written at the tick, batches full before it, and rotations inside both.
	 */
	for (uint32_t turn = 0; seq < total; turn++) {
		uint32_t n = 1 + (turn * 7919u) % 500;

		if (n > total - seq)
			n = total - seq;
		write_range(o, seq, seq + n, len_varying);
		sst = status_of(o, 0);
		assert_int_equal(sst.delivered + sst.queued, seq + n);
		full_batches += bytes_of_range(seq, seq + n, len_varying) >= EW_SINK_BATCH_BYTES;
		tick(o);
		seq += n;
		sst = status_of(o, 0);
		assert_int_equal(sst.queued, 0);
		assert_int_equal(sst.delivered, seq);
	}
	assert_true(full_batches > 10);
	assert_int_equal(status_of(o, 0).delivered, total);
	assert_int_equal(status_of(o, 0).dropped, 0);
	assert_true(status_of(o, 0).connected);
	ew_outputs_free(o);

	/* The oldest rotated file has the highest number. */
	for (uint32_t i = keep; i >= 1; i--) {
		snprintf(name, sizeof(name), "%s/load.log.%u", f->dir, i);
		if (stat(name, &st) == 0 && !nfiles)
			nfiles = i;
	}
	assert_true(nfiles > 40 && nfiles < keep);
	seq = 0;
	for (uint32_t i = nfiles; i <= nfiles; i--) {
		size_t len;
		char *data;
		uint32_t n;

		if (i)
			snprintf(name, sizeof(name), "%s/load.log.%u", f->dir, i);
		else
			snprintf(name, sizeof(name), "%s/load.log", f->dir);
		assert_int_equal(stat(name, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0640);
		data = slurp(name, &len);
		assert_non_null(data);
		assert_true(len <= opts.file_max_bytes);
		/* Full, unless the next line would not have fitted. */
		if (i)
			assert_true(len + len_varying(seq + count_whole_lines(name, data, len)) >
				    opts.file_max_bytes);
		n = count_whole_lines(name, data, len);
		seq = check_lines(name, data, len, seq, seq + n, len_varying);
		free(data);
	}
	assert_int_equal(seq, total);
}

static void test_file_rotation_keep(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char spec[256], name[256], big[MAX_LINE_LEN];
	struct ew_outputs *o;
	size_t len;
	char *data;

	/* 10 lines of 100 bytes per file; 2 kept: lines 0..29 leave .2 = 10..19, .1 = 20..29. */
	opts.file_max_bytes = 1000;
	opts.file_keep = 2;
	snprintf(spec, sizeof(spec), "file:%s/k.log", f->dir);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 40, len_fixed100);
	snprintf(name, sizeof(name), "%s/k.log.3", f->dir);
	assert_int_equal(access(name, F_OK), -1);
	/* A rotation writes the batch to the file it moves away first: .2 and .1 are whole already,
	 * the lines of the new file wait for the tick. */
	for (uint32_t i = 2; i >= 1; i--) {
		snprintf(name, sizeof(name), "%s/k.log.%u", f->dir, i);
		expect_lines(name, 30 - 10 * i, 40 - 10 * i, len_fixed100);
	}
	snprintf(name, sizeof(name), "%s/k.log", f->dir);
	assert_int_equal(size_of(name), 0);
	assert_int_equal(status_of(o, 0).queued, 10);
	assert_int_equal(status_of(o, 0).delivered, 30);
	tick(o);
	expect_lines(name, 30, 40, len_fixed100);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_int_equal(status_of(o, 0).delivered, 40);
	/* A line longer than the limit gets a file of its own, whole. */
	len = gen_line(big, 40, 3000);
	put_line(o, big, len, 0);
	write_seq(o, 41, len_fixed100);
	tick(o);
	snprintf(name, sizeof(name), "%s/k.log.1", f->dir);
	data = slurp(name, &len);
	assert_int_equal(len, 3000);
	assert_memory_equal(data, big, 3000);
	free(data);
	snprintf(name, sizeof(name), "%s/k.log.2", f->dir);
	expect_lines(name, 30, 40, len_fixed100);
	snprintf(name, sizeof(name), "%s/k.log", f->dir);
	expect_lines(name, 41, 42, len_fixed100);
	assert_int_equal(status_of(o, 0).delivered, 42);
	/* The name PATH is rotated through is gone again. */
	snprintf(name, sizeof(name), "%s/k.log.rotating", f->dir);
	assert_int_equal(access(name, F_OK), -1);
	ew_outputs_free(o);

	/* keep = 0: the file starts over. Freeing writes the last batch out. */
	opts.file_keep = 0;
	snprintf(spec, sizeof(spec), "file:%s/z.log", f->dir);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 25, len_fixed100);
	ew_outputs_free(o);
	snprintf(name, sizeof(name), "%s/z.log", f->dir);
	expect_lines(name, 20, 25, len_fixed100);
	snprintf(name, sizeof(name), "%s/z.log.1", f->dir);
	assert_int_equal(access(name, F_OK), -1);
}

static void test_file_reopen(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char spec[512], path[256], moved[256];
	struct ew_outputs *o;
	size_t len;
	char *data;

	snprintf(path, sizeof(path), "%s/app.log", f->dir);
	snprintf(moved, sizeof(moved), "%s/app.log-20260101", f->dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	/* Appends to what is there. */
	data = "{\"seq\":0,\"old\":true}\n";
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(data, fp);
	fclose(fp);
	o = outputs_with(&opts, spec);
	write_turn(o, 1, 10, len_varying);
	/*
	 * logrotate's default: rename, then SIGHUP; lines in between go to the moved file, those of
	 * the turn the SIGHUP arrives in too: the reopen writes the batch to the old file first.
	 */
	assert_int_equal(rename(path, moved), 0);
	write_turn(o, 10, 13, len_varying);
	write_range(o, 13, 15, len_varying);
	assert_int_equal(status_of(o, 0).queued, 2);
	ew_outputs_reopen(o);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_int_equal(status_of(o, 0).delivered, 14);
	assert_int_equal(size_of(path), 0);
	write_turn(o, 15, 20, len_varying);
	assert_int_equal(status_of(o, 0).delivered, 19);
	assert_int_equal(status_of(o, 0).dropped, 0);

	data = slurp(moved, &len);
	assert_non_null(data);
	assert_memory_equal(data, "{\"seq\":0,\"old\":true}\n", 21);
	check_lines(moved, data + 21, len - 21, 1, 15, len_varying);
	free(data);
	expect_lines(path, 15, 20, len_varying);
	ew_outputs_free(o);
	expect_lines(path, 15, 20, len_varying);
}

/*
 * logrotate moved (or deleted) PATH and the SIGHUP has not come yet when the sink reaches its
 * size limit: PATH is no longer the sink's file, so the sink must not rotate (that renumbered
 * PATH.1..N and then failed to move PATH, on every line, until the oldest files were
 * overwritten) but open PATH anew. 10 lines of 100 bytes per file.
 */
enum move_how {
	MOVE_RENAME,
	MOVE_RENAME_CREATE, /* logrotate's "create": a new empty PATH */
	MOVE_DELETE,
};

static const struct moved_case {
	const char *what;
	enum move_how how;
	uint32_t keep;
} moved_cases[] = {
	{"renamed", MOVE_RENAME, 3},
	{"renamed, then created again", MOVE_RENAME_CREATE, 3},
	{"deleted", MOVE_DELETE, 3},
	{"renamed, nothing kept", MOVE_RENAME, 0},
};

static void test_file_moved_before_hup(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);

	opts.file_max_bytes = 1000;
	for (size_t i = 0; i < ARRAY_SIZE(moved_cases); i++) {
		const struct moved_case *tc = &moved_cases[i];
		char dir[128], path[192], moved[192], name[256], spec[256];
		struct ew_sink_status st;
		struct ew_outputs *o;
		struct capture cap;
		int fd;

		snprintf(dir, sizeof(dir), "%s/moved%zu", f->dir, i);
		snprintf(path, sizeof(path), "%s/m.log", dir);
		snprintf(moved, sizeof(moved), "%s/m.log-moved", dir);
		snprintf(spec, sizeof(spec), "file:%s", path);
		assert_int_equal(mkdir(dir, 0700), 0);
		opts.file_keep = tc->keep;
		o = outputs_with(&opts, spec);
		capture_begin(&cap, f);
		/* keep 3: .2 = 0..9, .1 = 10..19, PATH = 20..24. */
		for (uint32_t seq = 0; seq < 25; seq += 5)
			write_turn(o, seq, seq + 5, len_fixed100);
		if (tc->how == MOVE_DELETE)
			assert_int_equal(unlink(path), 0);
		else
			assert_int_equal(rename(path, moved), 0);
		if (tc->how == MOVE_RENAME_CREATE) {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
			assert_true(fd >= 0);
			close(fd);
		}
		/* No SIGHUP: 25..29 go to the moved file; 30 reaches the limit and opens PATH. */
		for (uint32_t seq = 25; seq < 40; seq += 5)
			write_turn(o, seq, seq + 5, len_fixed100);
		if (tc->how != MOVE_DELETE)
			expect_lines(moved, 20, 30, len_fixed100);
		expect_lines(path, 30, 40, len_fixed100);
		for (uint32_t n = 1; n <= 3; n++) {
			snprintf(name, sizeof(name), "%s.%u", path, n);
			if (n > tc->keep || n == 3)
				assert_int_equal(size_of(name), -1);
			else
				expect_lines(name, 20 - 10 * n, 30 - 10 * n, len_fixed100);
		}
		/* PATH is the sink's file again: the next limit rotates it as usual. */
		write_turn(o, 40, 45, len_fixed100);
		expect_lines(path, 40, 45, len_fixed100);
		if (tc->keep) {
			snprintf(name, sizeof(name), "%s.1", path);
			expect_lines(name, 30, 40, len_fixed100);
			snprintf(name, sizeof(name), "%s.2", path);
			expect_lines(name, 10, 20, len_fixed100);
			snprintf(name, sizeof(name), "%s.3", path);
			expect_lines(name, 0, 10, len_fixed100);
		} else {
			snprintf(name, sizeof(name), "%s.1", path);
			assert_int_equal(size_of(name), -1);
		}
		if (tc->how != MOVE_DELETE)
			expect_lines(moved, 20, 30, len_fixed100);
		st = status_of(o, 0);
		if (st.delivered != 45 || st.dropped != 0 || st.queued != 0 || !st.connected)
			fail_msg("%s: delivered %" PRIu64 ", dropped %" PRIu64 ", queued %" PRIu64,
				 tc->what, st.delivered, st.dropped, st.queued);
		if (capture_end(&cap, "output '") != 0)
			fail_msg("%s: a warning", tc->what);
		ew_outputs_free(o);
	}
}

/* A rotation that fails leaves the file at PATH and keeps appending to it; the next one works. */
static void test_file_rotate_fails(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char path[192], name[256], inner[300], spec[256];
	struct ew_outputs *o;
	struct capture cap;
	int fd;

	opts.file_max_bytes = 1000;
	opts.file_keep = 2;
	snprintf(path, sizeof(path), "%s/r.log", f->dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	/* PATH.2 is a directory with a file in it: PATH.1 cannot be renamed onto it. */
	snprintf(name, sizeof(name), "%s.2", path);
	snprintf(inner, sizeof(inner), "%s/x", name);
	assert_int_equal(mkdir(name, 0700), 0);
	fd = open(inner, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	o = outputs_with(&opts, spec);
	capture_begin(&cap, f);
	for (uint32_t seq = 0; seq < 30; seq += 5)
		write_turn(o, seq, seq + 5, len_fixed100);
	assert_int_equal(capture_end(&cap, "cannot rotate: Is a directory; appending beyond"), 1);
	expect_lines(path, 10, 30, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_lines(name, 0, 10, len_fixed100);
	snprintf(name, sizeof(name), "%s.rotating", path);
	assert_int_equal(access(name, F_OK), -1);
	assert_int_equal(status_of(o, 0).delivered, 30);
	assert_int_equal(status_of(o, 0).dropped, 0);

	assert_int_equal(unlink(inner), 0);
	snprintf(name, sizeof(name), "%s.2", path);
	assert_int_equal(rmdir(name), 0);
	write_turn(o, 30, 35, len_fixed100);
	expect_lines(path, 30, 35, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_lines(name, 10, 30, len_fixed100);
	snprintf(name, sizeof(name), "%s.2", path);
	expect_lines(name, 0, 10, len_fixed100);
	assert_int_equal(status_of(o, 0).delivered, 35);
	ew_outputs_free(o);
}

/* PATH cannot be opened again (its directory was moved too): the moved file takes the lines. */
static void test_file_moved_no_reopen(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char dir[128], old[128], path[192], name[256], spec[256];
	struct ew_sink_status st;
	struct ew_outputs *o;
	struct capture cap;

	opts.file_max_bytes = 1000;
	opts.file_keep = 3;
	snprintf(dir, sizeof(dir), "%s/logs", f->dir);
	snprintf(old, sizeof(old), "%s/logs.old", f->dir);
	snprintf(path, sizeof(path), "%s/m.log", dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(mkdir(dir, 0700), 0);
	o = outputs_with(&opts, spec);
	for (uint32_t seq = 0; seq < 25; seq += 5)
		write_turn(o, seq, seq + 5, len_fixed100);
	assert_int_equal(rename(dir, old), 0);
	/* Appended beyond the limit rather than dropped, warned about once. */
	capture_begin(&cap, f);
	for (uint32_t seq = 25; seq < 40; seq += 5)
		write_turn(o, seq, seq + 5, len_fixed100);
	assert_int_equal(capture_end(&cap, "was moved away and cannot be opened again"), 1);
	snprintf(name, sizeof(name), "%s/m.log", old);
	expect_lines(name, 20, 40, len_fixed100);
	snprintf(name, sizeof(name), "%s/m.log.1", old);
	expect_lines(name, 10, 20, len_fixed100);
	snprintf(name, sizeof(name), "%s/m.log.2", old);
	expect_lines(name, 0, 10, len_fixed100);
	snprintf(name, sizeof(name), "%s/m.log.3", old);
	assert_int_equal(size_of(name), -1);
	/* Back: the next line over the limit opens PATH anew. */
	assert_int_equal(mkdir(dir, 0700), 0);
	write_turn(o, 40, 45, len_fixed100);
	expect_lines(path, 40, 45, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	assert_int_equal(size_of(name), -1);
	snprintf(name, sizeof(name), "%s/m.log", old);
	expect_lines(name, 20, 40, len_fixed100);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, 45);
	assert_int_equal(st.dropped, 0);
	assert_true(st.connected);
	ew_outputs_free(o);
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char spec[512], sub[200], subold[200], path[256];
	struct capture cap;
	struct ew_outputs *o;

	/*
	 * A write error with nothing written (ENOSPC) drops the whole batch and counts it, with one
	 * warning for the streak; the device is never rotated away.
	 */
	opts.file_max_bytes = 10;
	o = outputs_with(&opts, "file:/dev/full");
	capture_begin(&cap, f);
	write_range(o, 0, 3, len_varying);
	assert_int_equal(status_of(o, 0).queued, 3);
	assert_int_equal(status_of(o, 0).dropped, 0);
	assert_true(status_of(o, 0).connected);
	tick(o);
	assert_int_equal(status_of(o, 0).dropped, 3);
	write_turn(o, 3, 5, len_varying);
	assert_int_equal(capture_end(&cap, "No space left on device; dropping lines"), 1);
	assert_int_equal(status_of(o, 0).dropped, 5);
	assert_int_equal(status_of(o, 0).delivered, 0);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_false(status_of(o, 0).connected);
	ew_outputs_free(o);
	assert_int_equal(access("/dev/full.1", F_OK), -1);

	/* Directory gone at reopen: lines are dropped, then written once it is back. */
	opts.file_max_bytes = 0;
	snprintf(sub, sizeof(sub), "%s/logs", f->dir);
	snprintf(subold, sizeof(subold), "%s/logs.old", f->dir);
	snprintf(path, sizeof(path), "%s/x.log", sub);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(mkdir(sub, 0700), 0);
	o = outputs_with(&opts, spec);
	write_turn(o, 0, 2, len_varying);
	assert_int_equal(rename(sub, subold), 0);
	ew_outputs_reopen(o);
	assert_false(status_of(o, 0).connected);
	/* No file to batch for: each line is dropped at once. */
	write_range(o, 2, 4, len_varying);
	assert_int_equal(status_of(o, 0).dropped, 2);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	/* Open again, batched; writing again once the tick has written them. */
	write_range(o, 4, 6, len_varying);
	assert_int_equal(status_of(o, 0).queued, 2);
	assert_false(status_of(o, 0).connected);
	tick(o);
	assert_true(status_of(o, 0).connected);
	assert_int_equal(status_of(o, 0).delivered, 4);
	assert_int_equal(status_of(o, 0).dropped, 2);
	ew_outputs_free(o);
	expect_lines(path, 4, 6, len_varying);
	snprintf(path, sizeof(path), "%s/x.log", subold);
	expect_lines(path, 0, 2, len_varying);
}

/*
 * A write error in the middle of a batch: a file on a 64 KiB tmpfs, half of it taken by another
 * file. Lines written whole are delivered, the rest dropped; the part of a line that fitted is
 * cut off the file; the sink's idea of its file's size stays right (the next rotation comes at
 * the limit, not after it). Needs root to mount; skipped otherwise, except under CI=true.
 */
static void test_file_write_error_mid_batch(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char filler[256], path[256], name[300], spec[300], *buf;
	const char *ci = getenv("CI");
	struct ew_sink_status st;
	struct ew_outputs *o;
	struct capture cap;
	struct statvfs vfs;
	uint32_t k, rot;
	size_t space;
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/small", f->dir);
	assert_int_equal(mkdir(f->path, 0700), 0);
	if (mount("tmpfs", f->path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700") < 0) {
		if (ci && !strcmp(ci, "true"))
			fail_msg("CI=true: cannot mount a tmpfs (this test needs root): %s",
				 strerror(errno));
		skip();
	}
	ew_strlcpy(f->mnt, f->path, sizeof(f->mnt));
	snprintf(filler, sizeof(filler), "%s/filler", f->mnt);
	snprintf(path, sizeof(path), "%s/out.log", f->mnt);
	snprintf(spec, sizeof(spec), "file:%s", path);
	buf = malloc(32768);
	assert_non_null(buf);
	memset(buf, 'x', 32768);
	fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 32768), 32768);
	close(fd);
	free(buf);
	assert_int_equal(statvfs(f->mnt, &vfs), 0);
	space = (size_t)vfs.f_bavail * vfs.f_frsize;
	/* Room for k whole lines of 1000 bytes and part of the next one. */
	k = (uint32_t)(space / 1000);
	assert_true(k > 0 && k < 50 && space % 1000 != 0);

	opts.file_max_bytes = 52000;
	opts.file_keep = 1;
	o = outputs_with(&opts, spec);
	capture_begin(&cap, f);
	write_range(o, 0, 50, len_fixed1000);
	assert_int_equal(size_of(path), 0);
	assert_int_equal(status_of(o, 0).queued, 50);
	tick(o);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, k);
	assert_int_equal(st.dropped, 50 - k);
	assert_int_equal(st.queued, 0);
	assert_false(st.connected);
	expect_lines(path, 0, k, len_fixed1000);
	/* Still full: the next batch is cut and dropped whole, warned about once. */
	write_turn(o, 50, 55, len_fixed1000);
	assert_int_equal(status_of(o, 0).dropped, 50 - k + 5);
	assert_int_equal(status_of(o, 0).delivered, k);
	expect_lines(path, 0, k, len_fixed1000);
	assert_int_equal(capture_end(&cap, "No space left on device; dropping lines"), 1);

	/* Room again: the next line starts a line of its own. */
	assert_int_equal(unlink(filler), 0);
	write_turn(o, 55, 60, len_fixed1000);
	st = status_of(o, 0);
	assert_true(st.connected);
	assert_int_equal(st.delivered, k + 5);
	{
		const uint32_t ranges[2][2] = {{0, k}, {55, 60}};

		expect_file(path, ranges, 2, len_fixed1000);
	}
	/* 52 lines fit under the limit: the line after them is the first of a new file. */
	rot = 60 + (52 - (k + 5));
	write_turn(o, 60, rot + 5, len_fixed1000);
	snprintf(name, sizeof(name), "%s.1", path);
	{
		const uint32_t ranges[3][2] = {{0, k}, {55, 60}, {60, rot}};

		expect_file(name, ranges, 3, len_fixed1000);
	}
	assert_int_equal(size_of(name), 52000);
	expect_lines(path, rot, rot + 5, len_fixed1000);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, k + 5 + (rot + 5 - 60));
	assert_int_equal(st.dropped, 50 - k + 5);
	ew_outputs_free(o);
	assert_int_equal(umount2(f->mnt, 0), 0);
	f->mnt[0] = '\0';
}

/* ---- batching -------------------------------------------------------------------------- */

/*
 * stdout is a SOCK_SEQPACKET socket here: each write() is one message, so the messages show
 * how the sink wrote (a file sink in the same outputs shows the same on disk). Lines of a turn
 * wait for the tick, except when a batch reaches EW_SINK_BATCH_BYTES: the line that fills it
 * writes it, at once.
 */
static const struct batch_case {
	const char *what;
	uint32_t lines;	    /* written in one loop turn */
	size_t len;	    /* bytes per line */
	uint32_t per_batch; /* lines that fill a batch; 0: these never do */
} batch_cases[] = {
	{"a few lines wait for the tick", 10, 100, 0},
	{"just under a batch waits too", 655, 100, 0},
	{"the line that fills a batch writes it", 656, 100, 656},
	{"full batches at once, the rest at the tick", 1500, 100, 656},
	{"a line longer than a batch goes alone", 3, 70000, 1},
};

#define BIG_LINE_LEN 70000

/* The next message on fd is lines from..to-1 (len bytes each), whole. */
static void expect_message(int fd, uint32_t from, uint32_t to, size_t len, const char *what)
{
	size_t want = (to - from) * len, cap = 2 * EW_SINK_BATCH_BYTES;
	char *msg = malloc(cap), *exp = malloc(BIG_LINE_LEN);
	ssize_t n;

	assert_true(msg && exp && want < cap);
	n = recv(fd, msg, cap, MSG_DONTWAIT | MSG_TRUNC);
	if (n != (ssize_t)want)
		fail_msg("%s: a write() of %zd bytes, want lines %u..%u (%zu bytes)", what, n, from,
			 to - 1, want);
	for (uint32_t seq = from; seq < to; seq++) {
		gen_line(exp, seq, len);
		if (memcmp(msg + (seq - from) * len, exp, len) != 0)
			fail_msg("%s: line %u differs", what, seq);
	}
	free(msg);
	free(exp);
}

static void expect_no_message(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_TRUNC);

	if (n >= 0 || errno != EAGAIN)
		fail_msg("%s: an unexpected write() of %zd bytes", what, n);
}

static void test_batching(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char *line = malloc(BIG_LINE_LEN);

	assert_non_null(line);
	assert_int_equal(EW_SINK_BATCH_BYTES, 64 * 1024);
	opts.file_max_bytes = 0;
	for (size_t i = 0; i < ARRAY_SIZE(batch_cases); i++) {
		const struct batch_case *tc = &batch_cases[i];
		char spec[256];
		struct ew_outputs *o;
		uint32_t written = 0;
		int sp[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
		snprintf(f->path, sizeof(f->path), "%s/batch%zu.log", f->dir, i);
		snprintf(spec, sizeof(spec), "file:%s", f->path);
		o = outputs_with(&opts, "stdout");
		assert_int_equal(ew_outputs_add(o, spec, NULL, 0), 0);
		stdout_to(f, sp[0]);
		for (uint32_t seq = 0; seq < tc->lines; seq++) {
			gen_line(line, seq, tc->len);
			put_line(o, line, tc->len, ew_clock_mono_ns());
			if (tc->per_batch && (seq + 1) % tc->per_batch == 0) {
				expect_message(sp[1], written, seq + 1, tc->len, tc->what);
				written = seq + 1;
			}
			expect_no_message(sp[1], tc->what);
			assert_int_equal(size_of(f->path), (off_t)(written * tc->len));
			for (uint32_t s = 0; s < 2; s++) {
				struct ew_sink_status st = status_of(o, s);

				if (st.queued != seq + 1 - written || st.delivered != written)
					fail_msg("%s: line %u: sink %u: queued %" PRIu64
						 ", delivered %" PRIu64,
						 tc->what, seq, s, st.queued, st.delivered);
			}
		}
		/* The tick: what is left, in one write(). */
		tick(o);
		if (written < tc->lines)
			expect_message(sp[1], written, tc->lines, tc->len, tc->what);
		expect_no_message(sp[1], tc->what);
		assert_int_equal(size_of(f->path), (off_t)(tc->lines * tc->len));
		for (uint32_t s = 0; s < 2; s++) {
			struct ew_sink_status st = status_of(o, s);

			assert_int_equal(st.queued, 0);
			assert_int_equal(st.delivered, tc->lines);
			assert_int_equal(st.dropped, 0);
			assert_true(st.connected);
		}
		/* A turn without lines writes nothing (an empty write() would be a message). */
		tick(o);
		expect_no_message(sp[1], tc->what);
		ew_outputs_free(o);
		expect_no_message(sp[1], tc->what);
		stdout_restore(f);
		{
			char *data;
			size_t len;

			data = slurp(f->path, &len);
			assert_int_equal(len, tc->lines * tc->len);
			for (uint32_t seq = 0; seq < tc->lines; seq++) {
				gen_line(line, seq, tc->len);
				assert_memory_equal(data + seq * tc->len, line, tc->len);
			}
			free(data);
		}
		close(sp[0]);
		close(sp[1]);
	}
	free(line);
}

/* ---- stdout ---------------------------------------------------------------------------- */

static void test_stdout(void **state)
{
	static const char json[] = "{\"event\":\"container_exit\"}\n";
	static const char text[] = "container_exit web code=3\n";
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_outputs *o, *t;
	int fd, pfd[2];
	char path[256];
	size_t len;
	char *data;

	snprintf(path, sizeof(path), "%s/stdout.txt", f->dir);
	o = outputs_with(&opts, "stdout");
	opts.stdout_text = true;
	t = outputs_with(&opts, "-");

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	stdout_to(f, fd);
	assert_int_equal(put_lines(o, json, strlen(json), text, strlen(text), 0), 0);
	assert_int_equal(put_lines(t, json, strlen(json), text, strlen(text), 0), 0);
	/* A text sink asks for text: a record without it is not written, and that is said. */
	assert_int_equal(put_lines(t, json, strlen(json), NULL, 0, 0), -ENODATA);
	assert_int_equal(size_of(path), 0);
	assert_int_equal(status_of(o, 0).queued, 1);
	assert_int_equal(status_of(t, 0).queued, 1);
	tick(o);
	tick(t);

	/* A reader gone away: EPIPE (SIGPIPE is ignored, as the agent does), counted. */
	assert_int_equal(pipe(pfd), 0);
	close(pfd[0]);
	stdout_to(f, pfd[1]);
	close(pfd[1]);
	put_line(o, json, strlen(json), 0);
	tick(o);
	stdout_restore(f);
	close(fd);

	data = slurp(path, &len);
	assert_int_equal(len, strlen(json) + strlen(text));
	assert_memory_equal(data, json, strlen(json));
	assert_memory_equal(data + strlen(json), text, strlen(text));
	free(data);
	assert_int_equal(status_of(o, 0).delivered, 1);
	assert_int_equal(status_of(o, 0).dropped, 1);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_false(status_of(o, 0).connected);
	assert_int_equal(status_of(t, 0).delivered, 1);
	assert_int_equal(status_of(t, 0).queued, 0);
	assert_true(status_of(t, 0).connected);
	ew_outputs_free(o);
	ew_outputs_free(t);
}

/* ---- records: the seam with the renderers ---------------------------------------------- */

/*
 * A container's exit and the two findings it raised, as the pipeline hands them over. The
 * expected lines come from the renderers themselves, called directly: the outputs must write
 * exactly those bytes, and ask for each format once per record.
 */
struct recs {
	struct ew_class_config classes;
	struct ew_render_ctx ctx;
	struct ew_identity id;
	struct ew_event ev;
	struct ew_startup su;
	struct ew_finding f[2];
	struct ew_record exit, finding[2];
};

static void recs_init(struct recs *x)
{
	memset(x, 0, sizeof(*x));
	ew_class_config_default(&x->classes);
	x->ctx = (struct ew_render_ctx){.node = "node-1", .classes = &x->classes};
	ew_strlcpy(x->id.cgroup, "/ew-test/web", sizeof(x->id.cgroup));
	x->id.cgroup_id = 4242;
	assert_int_equal(ew_cgroup_parse(x->id.cgroup, &x->id.cg), 0);
	x->id.meta.restart_count = -1;
	ew_identity_finish(&x->id);
	x->ev = (struct ew_event){.type = EW_EVENT_EXIT,
				  .time_ns = 1795954528853738259ULL,
				  .cgroup_id = 4242,
				  .pid = 77,
				  .exit_word = 3 << 8,
				  .uptime_ns = 2 * EW_NSEC_PER_SEC};
	x->ev.status.code = 3;
	strcpy(x->ev.comm, "web");
	strcpy(x->ev.argv0, "/srv/web");
	x->exit = (struct ew_record){.type = EW_REC_EXIT,
				     .time_ns = x->ev.time_ns,
				     .ev = &x->ev,
				     .id = &x->id,
				     .cls = ew_exit_classify(&x->ev, &x->classes),
				     .startup = &x->su};
	for (int i = 0; i < 2; i++) {
		struct ew_finding *f = &x->f[i];

		*f = (struct ew_finding){.rule = i ? EW_RULE_RESTART_RATE : EW_RULE_EXIT_CODE_BURST,
					 .severity = i ? EW_SEV_WARNING : EW_SEV_CRITICAL,
					 .scope = EW_SCOPE_IDENTITY,
					 .time_ns = x->ev.time_ns,
					 .count = 4,
					 .threshold = 3,
					 .window_ns = 300 * EW_NSEC_PER_SEC};
		snprintf(f->finding_id, sizeof(f->finding_id), "f-%016d", i + 1);
		x->finding[i] = (struct ew_record){
			.type = EW_REC_FINDING, .time_ns = f->time_ns, .finding = f, .id = &x->id};
	}
}

/* What the renderer makes of r in format f: the bytes a sink must write. */
static char *expected(const struct recs *x, const struct ew_record *r, enum ew_format f,
		      size_t *len)
{
	struct ew_buf b = EW_BUF_INIT;

	if (f == EW_FORMAT_TEXT)
		assert_int_equal(ew_render_text(r, &x->ctx, false, &b), 0);
	else
		assert_int_equal(ew_render_json(r, &x->ctx, &b), 0);
	*len = b.len;
	return b.data;
}

/* Whether data[0..len) is exactly the renderings of recs[0..n) in format f, in that order. */
static void expect_records(const struct recs *x, const char *data, size_t len,
			   const struct ew_record *const *recs, size_t n, enum ew_format f)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		size_t elen;
		char *e = expected(x, recs[i], f, &elen);

		assert_true(off + elen <= len);
		assert_memory_equal(data + off, e, elen);
		off += elen;
		free(e);
	}
	assert_int_equal(off, len);
}

/* stdout (text), file:a.log and file:b.log (JSON): two JSON outputs and a text one. */
static struct ew_outputs *three_outputs(struct fixture *f, bool stdout_text)
{
	struct ew_output_opts opts = test_opts(f);
	const char *names[] = {"a.log", "b.log"};
	struct ew_outputs *o;
	char spec[256], err[256] = "";

	opts.stdout_text = stdout_text;
	o = outputs_with(&opts, "stdout");
	for (int i = 0; i < 2; i++) {
		snprintf(spec, sizeof(spec), "file:%s/%s", f->dir, names[i]);
		if (ew_outputs_add(o, spec, err, sizeof(err)))
			fail_msg("add %s: %s", spec, err);
	}
	return o;
}

static char *file_of(struct fixture *f, const char *name, size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return slurp(path, len);
}

/* Points stdout at DIR/stdout.txt for the test's outputs. */
static int stdout_to_file(struct fixture *f)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/stdout.txt", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	stdout_to(f, fd);
	return fd;
}

static void test_render_once_per_format(void **state)
{
	struct fixture *f = *state;
	const struct ew_record *recs[1];
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	recs[0] = &x->exit;
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	ew_rendered_init(&rr, &x->ctx, false);
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	/* Two JSON outputs and a text one: one rendering each. */
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 1);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);

	data = file_of(f, "a.log", &len);
	expect_records(x, data, len, recs, 1, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "b.log", &len);
	expect_records(x, data, len, recs, 1, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "stdout.txt", &len);
	expect_records(x, data, len, recs, 1, EW_FORMAT_TEXT);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

static void test_no_text_without_text_output(void **state)
{
	struct fixture *f = *state;
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	int fd;

	assert_non_null(x);
	recs_init(x);
	fd = stdout_to_file(f);
	o = three_outputs(f, false); /* stdout is JSON too */
	ew_rendered_init(&rr, &x->ctx, false);
	for (int i = 0; i < 3; i++) {
		ew_rendered_set(&rr, &x->exit);
		assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	}
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 3);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 0);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);
	ew_rendered_free(&rr);
	free(x);
}

/*
 * The findings an exit raised are handed over during the exit, before its own record: they are
 * held, rendered while they are valid (the detector's finding is gone by the time they are
 * written), and come out after the exit, in order, byte for byte, in both formats.
 */
static void test_deferred_after_cause(void **state)
{
	struct fixture *f = *state;
	const struct ew_record *recs[3];
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	const char *names[] = {"a.log", "b.log"};
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	recs[0] = &x->exit;
	recs[1] = &x->finding[0];
	recs[2] = &x->finding[1];
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	ew_rendered_init(&rr, &x->ctx, false);
	for (int i = 0; i < 2; i++) {
		struct ew_finding copy = x->f[i];

		ew_rendered_set(&rr, &x->finding[i]);
		assert_int_equal(ew_outputs_defer(o, &rr), 0);
		/* The detector reuses its finding: what was held must not change with it. */
		memset(&x->f[i], 0x5a, sizeof(x->f[i]));
		x->f[i] = copy;
		x->f[i].count = 99;
	}
	tick(o);
	assert_int_equal(status_of(o, 1).delivered, 0); /* held, not written */
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	ew_outputs_release(o, 0);
	ew_outputs_release(o, 0); /* nothing twice */
	/* Each record rendered once per format, held ones included. */
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 3);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 3);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);

	for (int i = 0; i < 2; i++)
		x->f[i].count = 4; /* as they were when held */
	for (int i = 0; i < 2; i++) {
		data = file_of(f, names[i], &len);
		expect_records(x, data, len, recs, 3, EW_FORMAT_JSON);
		free(data);
	}
	data = file_of(f, "stdout.txt", &len);
	expect_records(x, data, len, recs, 3, EW_FORMAT_TEXT);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

static bool only_findings(void *arg, const struct ew_record *r)
{
	(*(int *)arg)++;
	return r->type == EW_REC_FINDING || r->type == EW_REC_RESOLVED;
}

static bool nothing(void *arg, const struct ew_record *r)
{
	(void)r;
	(*(int *)arg)++;
	return false;
}

/*
 * Per-output filters: a sink takes what its filter takes, held records included, and a format
 * no sink takes a record in is not rendered for it.
 */
static void test_filters(void **state)
{
	struct fixture *f = *state;
	const struct ew_record *recs[3];
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	int calls_a = 0, calls_stdout = 0;
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	assert_int_equal(ew_outputs_set_filter(o, 3, nothing, NULL), -EINVAL);
	assert_int_equal(ew_outputs_set_filter(o, 0, nothing, &calls_stdout), 0);
	assert_int_equal(ew_outputs_set_filter(o, 1, only_findings, &calls_a), 0);
	ew_rendered_init(&rr, &x->ctx, false);

	ew_rendered_set(&rr, &x->finding[0]);
	assert_int_equal(ew_outputs_defer(o, &rr), 0);
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	ew_outputs_release(o, 0);
	/* Text is asked for by stdout alone, which takes nothing. */
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 0);
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 2);
	/* Once per record and sink: the held finding's filters ran when it was held. */
	assert_int_equal(calls_a, 2);
	assert_int_equal(calls_stdout, 2);

	/* No sink takes it: not rendered at all. */
	assert_int_equal(ew_outputs_set_filter(o, 2, nothing, &calls_stdout), 0);
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 2);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);

	recs[0] = &x->exit;
	recs[1] = &x->finding[0];
	data = file_of(f, "a.log", &len);
	expect_records(x, data, len, recs + 1, 1, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "b.log", &len);
	expect_records(x, data, len, recs, 2, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "stdout.txt", &len);
	assert_int_equal(len, 0);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

/* A record that cannot be rendered reaches no sink, held or not, and says why. */
static void test_render_error(void **state)
{
	struct fixture *f = *state;
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	struct ew_record bad;
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	bad = x->finding[0];
	bad.finding = NULL;
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	ew_rendered_init(&rr, &x->ctx, false);
	ew_rendered_set(&rr, &bad);
	assert_int_equal(ew_outputs_defer(o, &rr), -EINVAL);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), -EINVAL);
	/* Each format tried once for the record, not once per sink. */
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 1);
	ew_outputs_release(o, 0);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);
	data = file_of(f, "a.log", &len);
	assert_int_equal(len, 0);
	free(data);
	data = file_of(f, "stdout.txt", &len);
	assert_int_equal(len, 0);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

/* ---- stream sinks ---------------------------------------------------------------------- */

static void test_tcp_reconnect_mid_burst(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_outputs *o;
	struct ew_sink_status st;
	uint32_t seq = 0, total, win;
	size_t replayed;
	char spec[64];
	uint16_t port;

	opts.queue_max_lines = 200;
	rx_listen_tcp(&rx, AF_INET, 0);
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
	rx_unlisten(&rx);
	assert_int_equal(rx.nconns, 1);
	assert_int_equal(shutdown(rx.conns[0].fd, SHUT_WR), 0);
	for (uint64_t end = ew_clock_mono_ns() + WAIT_NS; rx.conns[0].fd >= 0;) {
		assert_true(ew_clock_mono_ns() < end);
		ew_outputs_tick(o, ew_clock_mono_ns());
		rx_pump(&rx);
	}
	assert_false(status_of(o, 0).connected);
	/*
	 * It read everything the sink's kernel took: the complete lines are the ones the sink
	 * handed over whole, and the newest of them, up to the bound, are due to be sent again.
	 */
	win = window_lines(0, (uint32_t)conn_lines(&rx.conns[0]), len_big);
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
	rx_listen(&rx);
	pump_until(o, &rx, total + win);
	/* The line cut by the disconnect: a fragment on the old connection, whole on the new. */
	assert_int_equal(rx_check_range(&rx, 0, total, len_big, &replayed), 1);
	assert_int_equal(replayed, win);
	assert_true(rx.nconns >= 2);
	st = status_of(o, 0);
	assert_true(st.connected);
	assert_int_equal(st.delivered, total);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.spooled_bytes, 0);
	ew_outputs_free(o);
	rx_free(&rx);
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
	struct rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], spool[256];
	uint16_t port = rx_bind_tcp(&rx, AF_INET, 0);
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

	rx_listen(&rx);
	pump_until(o, &rx, 500);
	assert_int_equal(rx_check_range(&rx, 0, 500, len_varying, NULL), 0);
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
	rx_free(&rx);
}

static void test_tcp_spool_full_drops(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct capture cap;
	struct ew_outputs *o;
	uint32_t seqs[25];
	char spec[64];
	uint16_t port = rx_bind_tcp(&rx, AF_INET, 0);

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
	assert_int_equal(capture_end(&cap, "dropping lines"), 1);
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

	rx_listen(&rx);
	pump_until(o, &rx, 20);
	write_range(o, 50, 55, len_fixed100);
	pump_until(o, &rx, 25);
	for (uint32_t i = 0; i < 25; i++)
		seqs[i] = i < 20 ? i : 30 + i;
	assert_int_equal(rx_check(&rx, seqs, 25, len_fixed100, NULL), 0);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, 25);
	assert_int_equal(st.dropped, 30);
	ew_outputs_free(o);
	rx_free(&rx);
}

static void test_tcp_no_spool_drops(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], bad[256];
	uint16_t port = rx_bind_tcp(&rx, AF_INET, 0);

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
	rx_listen(&rx);
	pump_until(o, &rx, 10);
	assert_int_equal(rx_check_range(&rx, 0, 10, len_varying, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 10);
	ew_outputs_free(o);
	rx_free(&rx);

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
	struct rx rx = {.lfd = -1};
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
	rx_listen_unix(&rx, sock);
	pump_until(o, &rx, 50);
	write_range(o, 50, 100, len_varying);
	pump_until(o, &rx, 100);
	assert_int_equal(rx_check_range(&rx, 0, 100, len_varying, NULL), 0);
	assert_true(status_of(o, 0).connected);
	assert_int_equal(status_of(o, 0).delivered, 100);
	ew_outputs_free(o);
	rx_free(&rx);
}

static void test_tcp_ipv6(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[64];
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	if (probe < 0 || bind(probe, (struct sockaddr *)&a, sizeof(a)) < 0) {
		const char *ci = getenv("CI");

		if (probe >= 0)
			close(probe);
		if (ci && !strcmp(ci, "true"))
			fail_msg("CI=true but no IPv6 loopback: tcp://[::1] must be tested");
		skip();
	}
	close(probe);
	rx_listen_tcp(&rx, AF_INET6, 0);
	snprintf(spec, sizeof(spec), "tcp://[::1]:%u", rx.port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 30, len_varying);
	pump_until(o, &rx, 30);
	assert_int_equal(rx_check_range(&rx, 0, 30, len_varying, NULL), 0);
	ew_outputs_free(o);
	rx_free(&rx);
}

/* A name is resolved at add time and again for every connect round after a failure. */
static void test_tcp_name(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[64];
	uint16_t port = rx_bind_tcp(&rx, AF_INET, 0);

	snprintf(spec, sizeof(spec), "tcp://localhost:%u", port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 10, len_varying);
	for (int i = 0; i < 5; i++) {
		ew_outputs_tick(o, ew_clock_mono_ns());
		poll(NULL, 0, 2);
	}
	assert_false(status_of(o, 0).connected);
	rx_listen(&rx);
	pump_until(o, &rx, 10);
	assert_int_equal(rx_check_range(&rx, 0, 10, len_varying, NULL), 0);
	ew_outputs_free(o);
	rx_free(&rx);
}

static void test_spool_from_previous_run(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], spool[256];
	uint16_t port = rx_bind_tcp(&rx, AF_INET, 0);
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
	rx_listen(&rx);
	pump_until(o, &rx, 30);
	assert_int_equal(rx_check_range(&rx, 0, 30, len_varying, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 30);
	ew_outputs_free(o);
	rx_free(&rx);
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
	len_fn len_of;
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
		struct rx rx = {.lfd = -1};
		char spec[256], sock[200];
		struct ew_sink_status st;
		struct ew_outputs *o;
		size_t replayed;
		struct conn *c;

		if (tc->family == AF_UNIX) {
			snprintf(sock, sizeof(sock), "%s/rx.sock", f->dir);
			rx_listen_unix(&rx, sock);
			snprintf(spec, sizeof(spec), "unix:%s", sock);
		} else {
			rx_listen_tcp(&rx, AF_INET, 0);
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
			conn_read(c, tc->read_bytes);
			assert_int_equal(win, tc->lines);
		}
		st = status_of(o, 0);
		assert_int_equal(st.delivered, tc->lines);
		assert_int_equal(st.queued, 0);

		/* 2: the receiver closes; what it did not read is gone. */
		assert_int_equal(close(c->fd), 0);
		c->fd = -1;
		got = (uint32_t)conn_lines(c);

		/* 3: the sink reconnects: the window again, then the lines written meanwhile. */
		write_range(o, tc->lines, total, tc->len_of);
		pump_until(o, &rx, got + win + more);
		if (rx_check_range(&rx, 0, total, tc->len_of, &replayed) !=
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
		rx_free(&rx);
	}
}

/* Stopped while the lost connection is not back: the window is saved ahead of the queue. */
static void test_stream_window_saved_at_free(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	uint64_t deadline = ew_clock_mono_ns() + WAIT_NS;
	struct ew_sink_status st;
	struct ew_outputs *o;
	char spec[64], spool[256];
	struct conn *c;
	size_t len;
	char *data;
	off_t size;

	rx_listen_tcp(&rx, AF_INET, 0);
	snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", rx.port);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 100, len_varying);
	wait_queue_empty(o);
	c = rx_accept(o, &rx);
	/* Closed unread (a reset), and nothing listens any more. */
	assert_int_equal(close(c->fd), 0);
	c->fd = -1;
	rx_unlisten(&rx);
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
	rx_listen(&rx);
	pump_until(o, &rx, 110);
	assert_int_equal(rx_check_range(&rx, 0, 110, len_varying, NULL), 0);
	assert_int_equal(status_of(o, 0).delivered, 110);
	ew_outputs_free(o);
	rx_free(&rx);
}

static void test_drain(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct rx rx = {.lfd = -1};
	struct ew_outputs *o;
	char spec[64], fspec[256];
	uint16_t port = rx_bind_tcp(&rx, AF_INET, 0);
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
	rx_listen(&rx);
	assert_int_equal(ew_outputs_drain(o, WAIT_NS), 0);
	assert_int_equal(status_of(o, 0).delivered, 20);
	assert_int_equal(status_of(o, 1).delivered, 20);
	pump_until(o, &rx, 20);
	assert_int_equal(rx_check_range(&rx, 0, 20, len_varying, NULL), 0);
	ew_outputs_free(o);
	rx_free(&rx);
}

/* ---- the spool itself ------------------------------------------------------------------ */

static void test_spool_file(void **state)
{
	struct fixture *f = *state;
	struct ew_spool *s, *s2;
	char path[256], buf[MAX_LINE_LEN], *big;
	const char *line;
	struct stat st;
	size_t len;
	FILE *fp;

	/* A torn last line (crash mid-append) is cut off; whole lines survive. */
	assert_int_equal(mkdir(f->spool, 0700), 0);
	snprintf(path, sizeof(path), "%s/t.spool", f->spool);
	fp = fopen(path, "w");
	fputs("{\"a\":1}\n{\"b\":2}\n{\"c\":", fp);
	fclose(fp);
	assert_int_equal(ew_spool_open(f->spool, "t.spool", 1 << 20, &s), 0);
	assert_int_equal(ew_spool_lines(s), 2);
	assert_int_equal(ew_spool_bytes(s), 16);
	assert_int_equal(ew_spool_open(f->spool, "t.spool", 1 << 20, &s2), -EBUSY);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	assert_int_equal(len, 8);
	assert_memory_equal(line, "{\"a\":1}\n", 8);
	ew_spool_pop(s);
	/* Closing with a consumed head keeps only the unread lines, front lines first. */
	struct iovec front[] = {{.iov_base = "{\"q\":0}\n", .iov_len = 8}};
	assert_int_equal(ew_spool_close(s, front, 1), 0);
	assert_int_equal(ew_spool_open(f->spool, "t.spool", 8 << 20, &s), 0);
	assert_int_equal(ew_spool_lines(s), 2);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	assert_memory_equal(line, "{\"q\":0}\n", 8);
	ew_spool_pop(s);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	assert_memory_equal(line, "{\"b\":2}\n", 8);
	ew_spool_pop(s);
	assert_int_equal(ew_spool_peek(s, &line, &len), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* Bound on unread bytes; the consumed head is compacted away; long lines are fine. */
	for (uint32_t i = 0; i < 3000; i++) {
		len = gen_line(buf, i, i == 1234 ? MAX_LINE_LEN : 1000);
		assert_int_equal(ew_spool_append(s, buf, len), 0);
	}
	big = malloc(6 << 20);
	assert_non_null(big);
	memset(big, 'x', 6 << 20);
	big[(6 << 20) - 1] = '\n';
	assert_int_equal(ew_spool_append(s, big, 6 << 20), -ENOSPC);
	free(big);
	/* Framing: one '\n', at the end. */
	assert_int_equal(ew_spool_append(s, "{}", 2), -EINVAL);
	assert_int_equal(ew_spool_append(s, "{}\n{}\n", 6), -EINVAL);
	assert_int_equal(ew_spool_append(s, "", 0), -EINVAL);
	for (uint32_t i = 0; i < 2000; i++) {
		char exp[MAX_LINE_LEN];
		size_t n = gen_line(exp, i, i == 1234 ? MAX_LINE_LEN : 1000);

		assert_int_equal(ew_spool_peek(s, &line, &len), 1);
		assert_int_equal(len, n);
		assert_memory_equal(line, exp, n);
		ew_spool_pop(s);
	}
	assert_int_equal(ew_spool_lines(s), 1000);
	assert_int_equal(ew_spool_bytes(s), 1000 * 1000);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size < 2 * 1000 * 1000);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	gen_line(buf, 2000, 1000);
	assert_memory_equal(line, buf, 1000);
	assert_int_equal(ew_spool_close(s, NULL, 0), 0);
	assert_int_equal(ew_spool_close(NULL, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spec_table, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_add_limits, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_opts_default),
		cmocka_unit_test_setup_teardown(test_file_rotation_under_load, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_rotation_keep, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_reopen, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_moved_before_hup, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_moved_no_reopen, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_rotate_fails, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_write_error_mid_batch, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_batching, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stdout, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_render_once_per_format, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_no_text_without_text_output, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_deferred_after_cause, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_filters, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_render_error, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_reconnect_mid_burst, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_spool_then_deliver, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_spool_full_drops, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_no_spool_drops, fixture_setup,
						fixture_teardown),
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
		cmocka_unit_test_setup_teardown(test_spool_file, fixture_setup, fixture_teardown),
	};

	/* As the agent does: a closed reader is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Expected warnings would bury a failure; tests that check them turn them on. */
	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
