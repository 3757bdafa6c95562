// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/metrics/http.c, the /metrics and /healthz server, spoken to with a plain-socket HTTP/1.0
 * client over loopback (IPv4 and IPv6), and the exposition linted by promtool (Debian's
 * prometheus package). Under CI=true a missing promtool or IPv6 loopback is a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/unit.h"
#include "metrics_fixture.h"

#define PROMTOOL       "/usr/bin/promtool"
#define HTTP_TIMEOUT_S 5
/* The server's per-address connection limit (EW_HTTP_PER_IP_LIMIT in http.c). */
#define PER_IP_LIMIT 4
/* Idle clients a test holds: the server's whole connection limit before the per-address one. */
#define IDLE_CLIENTS 16
/*
 * A scrape past idle clients answers within this: generous, since a loaded CI machine is slow,
 * and still far from the 10 s (or the client's timeout) a starved server takes.
 */
#define PROMPT_MS 2000

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every sample's series (name and labels) once: Prometheus keeps one of identical ones. */
static void check_unique_series(const char *text)
{
	char *copy = strdup(text), **v = NULL, *save = NULL;
	size_t n = 0;

	assert_non_null(copy);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' ');

		if (l[0] == '#' || !sp)
			continue;
		*sp = '\0';
		v = realloc(v, (n + 1) * sizeof(*v));
		assert_non_null(v);
		v[n++] = l;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1], v[i]))
			fail_msg("series twice in the exposition: %s", v[i]);
	free(v);
	free(copy);
}

static void test_promtool(void **state)
{
	char in[] = "/tmp/ew_metrics_XXXXXX", out[] = "/tmp/ew_promtool_XXXXXX";
	char cmd[256], log[4096] = "";
	struct ew_metrics *m;
	struct ew_buf b;
	const char *t;
	int fd, ofd, status;
	ssize_t n;

	ew_t_need_logged("integration", access(PROMTOOL, X_OK) == 0,
			 "%s is missing (Debian package prometheus)", PROMTOOL);
	m = rich_metrics();
	t = render(m, &b);
	check_unique_series(t);
	fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, t, b.len), (ssize_t)b.len);
	close(fd);
	ofd = mkstemp(out);
	assert_true(ofd >= 0);
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s > %s 2>&1", PROMTOOL, in, out);
	status = system(cmd);
	n = read(ofd, log, sizeof(log) - 1);
	log[n > 0 ? n : 0] = '\0';
	close(ofd);
	unlink(in);
	unlink(out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics failed (status %d):\n%s\n--- input ---\n%s",
			 status, log, t);
	/* Lint problems are printed even on exit 0: there must be none. */
	assert_string_equal(log, "");
	ew_buf_free(&b);
	ew_metrics_free(m);
}

/* ---- HTTP ---- */

struct http_reply {
	int status;
	char content_type[128];
	char allow[64];
	char *body;
	size_t body_len;
};

static void header_value(const char *head, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
			const char *v = p + 3 + n, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			ew_strlcpy_n(out, len, v, e ? (size_t)(e - v) : strlen(v));
			return;
		}
	}
}

/*
 * A connected socket to the server's loopback port; src: the IPv4 loopback address to connect
 * from (127.0.0.2, ...: every 127/8 address is local), NULL for the kernel's choice. -errno.
 */
static int connect_from(int family, const char *src, uint16_t port)
{
	struct timeval tv = {.tv_sec = HTTP_TIMEOUT_S};
	struct sockaddr_storage ss = {0};
	socklen_t slen = ew_t_loopback(family, port, &ss);
	int fd, err;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src) {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		assert_int_equal(family, AF_INET);
		assert_int_equal(inet_pton(AF_INET, src, &sin.sin_addr), 1);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* One HTTP/1.0 request over a plain socket from src (NULL: any); the server closes after the
 * reply. */
static int http_request_from(int family, const char *src, uint16_t port, const char *method,
			     const char *path, struct http_reply *ret)
{
	struct ew_buf resp = EW_BUF_INIT;
	char req[256], chunk[4096], *sep;
	int fd, err = 0;
	ssize_t n;

	memset(ret, 0, sizeof(*ret));
	fd = connect_from(family, src, port);
	if (fd < 0)
		return fd;
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: test\r\n%s\r\n", method, path,
		     strcmp(method, "POST") ? "" : "Content-Length: 3\r\n");
	if (!strcmp(method, "POST"))
		n += snprintf(req + n, sizeof(req) - (size_t)n, "a=b");
	if (write(fd, req, (size_t)n) != n) {
		err = -EIO;
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ew_buf_append(&resp, chunk, (size_t)n);
	if (n < 0 || !resp.data) {
		err = n < 0 ? -errno : -EPROTO;
		goto out;
	}
	sep = strstr(resp.data, "\r\n\r\n");
	if (!sep || sscanf(resp.data, "HTTP/1.%*d %d", &ret->status) != 1) {
		err = -EPROTO;
		goto out;
	}
	sep[2] = '\0'; /* headers end with their own CRLF */
	header_value(resp.data, "Content-Type", ret->content_type, sizeof(ret->content_type));
	header_value(resp.data, "Allow", ret->allow, sizeof(ret->allow));
	ret->body_len = resp.len - (size_t)(sep + 4 - resp.data);
	ret->body = malloc(ret->body_len + 1);
	assert_non_null(ret->body);
	memcpy(ret->body, sep + 4, ret->body_len);
	ret->body[ret->body_len] = '\0';
out:
	ew_buf_free(&resp);
	close(fd);
	return err;
}

static int http_request(int family, uint16_t port, const char *method, const char *path,
			struct http_reply *ret)
{
	return http_request_from(family, NULL, port, method, path, ret);
}

/* A port the kernel just handed out; another process may take it first, hence the retries. */
static uint16_t free_port(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = ew_t_loopback(family, 0, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	close(fd);
	return ew_t_port_of(&ss);
}

/* fmt has one %u for the port. */
static struct ew_metrics_server *start_server(int family, const char *fmt, uint16_t *port)
{
	struct ew_metrics_server *s = NULL;
	char addr[64], err[256];
	int r = -EADDRINUSE;

	for (int i = 0; i < 5 && r == -EADDRINUSE; i++) {
		*port = free_port(family);
		snprintf(addr, sizeof(addr), fmt, *port);
		err[0] = '\0';
		r = ew_metrics_server_start(addr, &s, err, sizeof(err));
	}
	if (r)
		fail_msg("ew_metrics_server_start(%s) = %d: %s", addr, r, err);
	assert_non_null(s);
	return s;
}

static void check_get(int family, uint16_t port, const char *method, const char *path, int status,
		      const char *content_type, const char *body)
{
	struct http_reply rep;
	int r = http_request(family, port, method, path, &rep);

	if (r)
		fail_msg("%s %s: %s", method, path, strerror(-r));
	if (rep.status != status)
		fail_msg("%s %s: status %d, expected %d", method, path, rep.status, status);
	assert_string_equal(rep.content_type, content_type);
	assert_string_equal(rep.body, body);
	free(rep.body);
}

static void test_http(void **state)
{
	struct ew_metrics *m = rich_metrics();
	struct ew_metrics_server *s;
	struct http_reply rep;
	struct ew_buf b;
	const char *t;
	uint16_t port;

	s = start_server(AF_INET, "127.0.0.1:%u", &port);
	/* Nothing published yet. */
	check_get(AF_INET, port, "GET", "/metrics", 503, "text/plain; charset=utf-8",
		  "not ready\n");
	check_get(AF_INET, port, "GET", "/healthz", 503, "text/plain; charset=utf-8",
		  "not ready\n");

	t = render(m, &b);
	ew_metrics_server_publish(s, t, b.len, true, NULL);
	check_get(AF_INET, port, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
		  t);
	check_get(AF_INET, port, "HEAD", "/metrics", 200,
		  "text/plain; version=0.0.4; charset=utf-8", "");
	check_get(AF_INET, port, "GET", "/healthz", 200, "text/plain; charset=utf-8", "ok\n");
	check_get(AF_INET, port, "GET", "/nope", 404, "text/plain; charset=utf-8", "not found\n");
	check_get(AF_INET, port, "GET", "/metrics/", 404, "text/plain; charset=utf-8",
		  "not found\n");
	check_get(AF_INET, port, "POST", "/metrics", 405, "text/plain; charset=utf-8",
		  "method not allowed\n");
	assert_int_equal(http_request(AF_INET, port, "DELETE", "/healthz", &rep), 0);
	assert_int_equal(rep.status, 405);
	assert_string_equal(rep.allow, "GET, HEAD");
	free(rep.body);

	/* A new snapshot replaces the old one; health follows the latest publish. */
	ew_metrics_server_publish(s, "exitwatch_x 1\n", 14, false, "ring buffer stalled");
	check_get(AF_INET, port, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
		  "exitwatch_x 1\n");
	check_get(AF_INET, port, "GET", "/healthz", 503, "text/plain; charset=utf-8",
		  "ring buffer stalled\n");
	ew_metrics_server_publish(s, "exitwatch_x 2\n", 14, true, "");
	check_get(AF_INET, port, "GET", "/healthz", 200, "text/plain; charset=utf-8", "ok\n");

	ew_metrics_server_stop(s);
	/* Stopped: the port is closed. */
	assert_int_equal(http_request(AF_INET, port, "GET", "/metrics", &rep), -ECONNREFUSED);
	ew_metrics_server_stop(NULL);
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static void test_http_families(void **state)
{
	struct ew_metrics_server *s;
	struct http_reply rep;
	uint16_t port;

	/* ":PORT" is every address: IPv4 loopback reaches it. */
	s = start_server(AF_INET, ":%u", &port);
	ew_metrics_server_publish(s, "a 1\n", 4, true, NULL);
	check_get(AF_INET, port, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
		  "a 1\n");
	if (ew_t_have_ipv6_loopback())
		check_get(AF_INET6, port, "GET", "/healthz", 200, "text/plain; charset=utf-8",
			  "ok\n");
	ew_metrics_server_stop(s);

	ew_t_need_logged("integration", ew_t_have_ipv6_loopback(),
			 "no IPv6 loopback ([::1]:PORT not tested)");
	/* "[::1]:PORT" binds IPv6 only: nothing listens on 127.0.0.1 at that port. */
	s = start_server(AF_INET6, "[::1]:%u", &port);
	ew_metrics_server_publish(s, "b 2\n", 4, true, NULL);
	check_get(AF_INET6, port, "GET", "/metrics", 200,
		  "text/plain; version=0.0.4; charset=utf-8", "b 2\n");
	assert_int_equal(http_request(AF_INET, port, "GET", "/metrics", &rep), -ECONNREFUSED);
	ew_metrics_server_stop(s);
}

static void test_http_bad_address(void **state)
{
	static const char *const bad[] = {
		"nonsense",
		"",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:80a",
		"127.0.0.1:123456",
		"localhost:9090",
		"::1:9090",
		"[::1]9090",
		"[::1",
		"[127.0.0.1]:9090",
		"[]:9090",
		"1.2.3:9090",
		"[::1]:",
		"999.0.0.1:9090",
		" 127.0.0.1:9090",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ew_metrics_server *s = (void *)1;
		char err[256] = "";
		int r = ew_metrics_server_start(bad[i], &s, err, sizeof(err));

		if (r != -EINVAL)
			fail_msg("\"%s\": %d, expected -EINVAL", bad[i], r);
		assert_null(s);
		assert_non_null(strstr(err, "is not HOST:PORT"));
		assert_non_null(strstr(err, bad[i]));
	}
}

static void test_http_port_in_use(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = ew_t_loopback(AF_INET, 0, &ss);
	struct ew_metrics_server *s, *s2 = (void *)1;
	char addr[64], err[256] = "", want[128];
	uint16_t port;
	int fd, r;

	/* Someone else listening. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ew_t_port_of(&ss));
	r = ew_metrics_server_start(addr, &s2, err, sizeof(err));
	assert_int_equal(r, -EADDRINUSE);
	assert_null(s2);
	snprintf(want, sizeof(want), "cannot listen on %s for metrics: %s", addr,
		 strerror(EADDRINUSE));
	assert_string_equal(err, want);
	close(fd);

	/* Ourselves, twice. */
	s = start_server(AF_INET, "127.0.0.1:%u", &port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	s2 = (void *)1;
	assert_int_equal(ew_metrics_server_start(addr, &s2, err, sizeof(err)), -EADDRINUSE);
	assert_null(s2);
	ew_metrics_server_stop(s);

	/* An address this host does not have. */
	r = ew_metrics_server_start("192.0.2.1:9", &s2, err, sizeof(err));
	assert_int_equal(r, -EADDRNOTAVAIL);
	assert_non_null(strstr(err, "192.0.2.1:9"));
}

static uint64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000 +
	       (uint64_t)((t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* A GET from src that must answer 200 with body within PROMPT_MS. */
static void check_prompt(const char *src, uint16_t port, const char *path, const char *body)
{
	struct http_reply rep;
	struct timespec t0;
	uint64_t ms;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = http_request_from(AF_INET, src, port, "GET", path, &rep);
	ms = elapsed_ms(&t0);
	if (r)
		fail_msg("GET %s from %s: %s after %" PRIu64 " ms", path, src, strerror(-r), ms);
	if (ms > PROMPT_MS)
		fail_msg("GET %s from %s took %" PRIu64 " ms (at most %d)", path, src, ms,
			 PROMPT_MS);
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.body, body);
	free(rep.body);
}

/* Whether the server closed fd within PROMPT_MS without answering: EOF or a reset. */
static bool refused(int fd)
{
	struct timeval tv = {.tv_sec = PROMPT_MS / 1000, .tv_usec = PROMPT_MS % 1000 * 1000};
	char c;
	ssize_t n;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	n = read(fd, &c, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Still open: nothing to read and no EOF. */
static bool still_open(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * Clients that connect and send nothing, or half a request, must not starve /metrics and
 * /healthz of connections: kubelet's probes (timeoutSeconds 3) would restart the agent. One
 * address holds at most PER_IP_LIMIT connections; a scrape from another still answers at once.
 */
static void test_http_idle_clients(void **state)
{
	static const char half[] = "GET /metrics HTTP/1.0\r\nHost: te";
	int idle[IDLE_CLIENTS], extra;
	struct ew_metrics_server *s;
	uint16_t port;

	s = start_server(AF_INET, "127.0.0.1:%u", &port);
	ew_metrics_server_publish(s, "a 1\n", 4, true, NULL);
	/* Idle clients from 127.0.0.1, half of them slow ones mid-header. */
	for (int i = 0; i < IDLE_CLIENTS; i++) {
		idle[i] = connect_from(AF_INET, "127.0.0.1", port);
		if (idle[i] < 0)
			fail_msg("idle client %d: %s", i, strerror(-idle[i]));
		if (i % 2)
			assert_int_equal(write(idle[i], half, sizeof(half) - 1),
					 (ssize_t)sizeof(half) - 1);
	}
	/* Another address is answered at once, repeatedly: the probe and the scrape. */
	check_prompt("127.0.0.2", port, "/healthz", "ok\n");
	check_prompt("127.0.0.2", port, "/metrics", "a 1\n");
	check_prompt("127.0.0.3", port, "/metrics", "a 1\n");
	for (int i = 0; i < IDLE_CLIENTS; i++)
		close(idle[i]);

	/* The per-address limit: 4 held from 127.0.0.4, the 5th is closed unanswered. */
	for (int i = 0; i < PER_IP_LIMIT; i++) {
		idle[i] = connect_from(AF_INET, "127.0.0.4", port);
		assert_true(idle[i] >= 0);
	}
	extra = connect_from(AF_INET, "127.0.0.4", port);
	assert_true(extra >= 0); /* the kernel accepts; the server closes it */
	if (!refused(extra))
		fail_msg("a connection past %d from one address was not closed", PER_IP_LIMIT);
	close(extra);
	for (int i = 0; i < PER_IP_LIMIT; i++)
		if (!still_open(idle[i]))
			fail_msg("connection %d of %d from one address was closed", i,
				 PER_IP_LIMIT);
	check_prompt("127.0.0.5", port, "/metrics", "a 1\n");
	for (int i = 0; i < PER_IP_LIMIT; i++)
		close(idle[i]);
	ew_metrics_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_promtool),	 cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_families),	 cmocka_unit_test(test_http_bad_address),
		cmocka_unit_test(test_http_port_in_use), cmocka_unit_test(test_http_idle_clients),
	};

	return cmocka_run_group_tests_name("metrics_http", tests, NULL, NULL);
}
