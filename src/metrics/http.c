// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /metrics and /healthz over libmicrohttpd, in its own polling thread. The loop publishes a
 * snapshot (text and health) under the mutex; each request copies what it needs under the same
 * mutex, so a scrape never sees half a snapshot and never blocks the loop for longer than a
 * memcpy.
 *
 * We create, bind and listen on the socket ourselves and hand it over with
 * MHD_OPTION_LISTEN_SOCKET: it binds exactly the address given and nothing else (no implicit
 * IPv4 socket next to an IPv6 one), and a failure comes back as the bind's own errno
 * (EADDRINUSE, EADDRNOTAVAIL, EACCES) instead of a log line inside the library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "exitwatch/util/log.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/util/util.h"

/*
 * Connections held by clients that send nothing, or a request a byte at a time, must not starve
 * the scrape and kubelet's probes (timeoutSeconds 3, deploy/k8s/base/daemonset.yaml): a probe
 * that cannot connect restarts the agent. So one address holds at most EW_HTTP_PER_IP_LIMIT
 * (a scraper and a prober need one or two each; libmicrohttpd closes the one past it at once),
 * there is room for many addresses, and a connection idle for EW_HTTP_TIMEOUT_S is closed: a
 * scrape or a probe sends its request at once, and libmicrohttpd restarts the timer at every
 * byte, so a slow client is held at most that long per byte it sends. Each connection costs a
 * few kilobytes of buffer and a slot in the polling thread's set.
 */
#define EW_HTTP_CONNECTION_LIMIT 64u
#define EW_HTTP_PER_IP_LIMIT	 4u
#define EW_HTTP_TIMEOUT_S	 3u
#define EW_HTTP_BACKLOG		 16
#define EW_HTTP_REASON_LEN	 256

#define EW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define EW_TEXT_CONTENT_TYPE	"text/plain; charset=utf-8"

struct ew_metrics_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock; /* guards everything below */
	bool published;
	char *text;
	size_t len;
	bool healthy;
	char reason[EW_HTTP_REASON_LEN];
	uint64_t published_mono; /* when the loop last published: it publishes every second */
};

/* The loop publishes every second; a snapshot this old means it stopped turning. */
#define EW_HEALTH_STALE_NS (10 * EW_NSEC_PER_SEC)

struct listen_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
	bool any; /* ":PORT": every address, IPv6 and IPv4 */
};

static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT"; HOST numeric, so nothing is resolved behind our back. */
static int parse_addr(const char *addr, struct listen_addr *ret)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *h = addr;
	size_t hlen;
	uint16_t port;

	memset(ret, 0, sizeof(*ret));
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL; /* none, or an IPv6 address without brackets */
		hlen = (size_t)(colon - addr);
	}
	if (parse_port(colon + 1, &port) < 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	if (!hlen && addr[0] != '[') {
		ret->any = true;
		ret->u.in6.sin6_family = AF_INET6;
		ret->u.in6.sin6_addr = in6addr_any;
		ret->u.in6.sin6_port = htons(port);
		ret->len = sizeof(ret->u.in6);
	} else if (addr[0] == '[') {
		if (inet_pton(AF_INET6, host, &ret->u.in6.sin6_addr) != 1)
			return -EINVAL;
		ret->u.in6.sin6_family = AF_INET6;
		ret->u.in6.sin6_port = htons(port);
		ret->len = sizeof(ret->u.in6);
	} else {
		if (inet_pton(AF_INET, host, &ret->u.in.sin_addr) != 1)
			return -EINVAL;
		ret->u.in.sin_family = AF_INET;
		ret->u.in.sin_port = htons(port);
		ret->len = sizeof(ret->u.in);
	}
	return 0;
}

static int open_listener(struct listen_addr *a)
{
	int fd, one = 1, v6only, err;

	fd = socket(a->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && a->any && errno == EAFNOSUPPORT) {
		/* A kernel without IPv6: "every address" is every IPv4 address. */
		uint16_t port = a->u.in6.sin6_port;

		memset(&a->u, 0, sizeof(a->u));
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_addr.s_addr = htonl(INADDR_ANY);
		a->u.in.sin_port = port;
		a->len = sizeof(a->u.in);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	/* A restarted agent must get its port back while old connections sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (a->u.sa.sa_family == AF_INET6) {
		/* [::1]:P binds IPv6 only; ":P" takes IPv4 too (mapped), whatever the sysctl. */
		v6only = a->any ? 0 : 1;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
			goto fail;
	}
	if (bind(fd, &a->u.sa, a->len) < 0 || listen(fd, EW_HTTP_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	ew_debug("metrics server: %s", msg);
}

/* MUST_COPY: the body is copied before this returns, so a snapshot can be freed right after. */
static struct MHD_Response *make_response(unsigned int status, const char *type, const char *body,
					  size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return NULL;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned int status,
			     struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *body)
{
	return queue(c, status, make_response(status, EW_TEXT_CONTENT_TYPE, body, strlen(body)));
}

static enum MHD_Result serve_metrics(struct ew_metrics_server *s, struct MHD_Connection *c)
{
	struct MHD_Response *resp = NULL;
	bool published;

	/* The lock covers the copy of the snapshot only, never the network. */
	pthread_mutex_lock(&s->lock);
	published = s->published;
	if (published)
		resp = make_response(MHD_HTTP_OK, EW_METRICS_CONTENT_TYPE, s->text, s->len);
	pthread_mutex_unlock(&s->lock);
	if (!published)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
	return queue(c, MHD_HTTP_OK, resp);
}

static enum MHD_Result serve_health(struct ew_metrics_server *s, struct MHD_Connection *c)
{
	char body[EW_HTTP_REASON_LEN + 1];
	unsigned int status = MHD_HTTP_OK;

	pthread_mutex_lock(&s->lock);
	if (!s->published) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		ew_strlcpy(body, "not ready\n", sizeof(body));
	} else if (!s->healthy) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		snprintf(body, sizeof(body), "%s\n", s->reason[0] ? s->reason : "unhealthy");
	} else if (ew_clock_mono_ns() - s->published_mono > EW_HEALTH_STALE_NS) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		ew_strlcpy(body, "event loop stalled: no update for more than 10 s\n",
			   sizeof(body));
	} else {
		ew_strlcpy(body, "ok\n", sizeof(body));
	}
	pthread_mutex_unlock(&s->lock);
	return reply_text(c, status, body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct ew_metrics_server *s = cls;

	/* HEAD is answered like GET: libmicrohttpd leaves the body out. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(s, c);
	if (!strcmp(url, "/healthz"))
		return serve_health(s, c);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

bool ew_metrics_addr_valid(const char *addr)
{
	struct listen_addr la;

	return addr && parse_addr(addr, &la) == 0;
}

int ew_metrics_server_start(const char *addr, struct ew_metrics_server **ret, char *err,
			    size_t errlen)
{
	struct ew_metrics_server *s;
	struct listen_addr la;
	sigset_t all, old;
	unsigned int flags;
	int fd, r;

	*ret = NULL;
	if (!addr || parse_addr(addr, &la) < 0) {
		snprintf(err, errlen,
			 "metrics address \"%s\" is not HOST:PORT, [IPV6]:PORT or :PORT with a "
			 "numeric host and a port from 1 to 65535",
			 addr ? addr : "");
		return -EINVAL;
	}
	fd = open_listener(&la);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s for metrics: %s", addr, strerror(-fd));
		return fd;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		snprintf(err, errlen, "cannot start the metrics server on %s: %s", addr,
			 strerror(ENOMEM));
		return -ENOMEM;
	}
	r = pthread_mutex_init(&s->lock, NULL);
	if (r) {
		close(fd);
		free(s);
		snprintf(err, errlen, "cannot start the metrics server on %s: %s", addr,
			 strerror(r));
		return -r;
	}

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (la.u.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * The server thread inherits this thread's signal mask: with every signal blocked there,
	 * SIGTERM and SIGINT always reach the main loop and interrupt its poll.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	errno = 0;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				     /* first, so that nothing reaches stderr unasked */
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
				     EW_HTTP_CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				     EW_HTTP_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
				     EW_HTTP_TIMEOUT_S, MHD_OPTION_END);
	r = errno ? errno : EIO;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->daemon) {
		/* libmicrohttpd leaves a socket it was given open when it fails to start. */
		close(fd);
		pthread_mutex_destroy(&s->lock);
		free(s);
		snprintf(err, errlen, "cannot start the metrics server on %s: %s", addr,
			 strerror(r));
		return -r;
	}
	*ret = s;
	return 0;
}

void ew_metrics_server_publish(struct ew_metrics_server *s, const char *text, size_t len,
			       bool healthy, const char *reason)
{
	char *copy = malloc(len + 1), *old = NULL;

	if (copy) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	} else {
		ew_warn("metrics: out of memory, /metrics keeps serving the previous snapshot");
	}
	pthread_mutex_lock(&s->lock);
	if (copy) {
		old = s->text;
		s->text = copy;
		s->len = len;
		s->published = true;
	}
	s->healthy = healthy;
	s->published_mono = ew_clock_mono_ns();
	ew_strlcpy(s->reason, reason ? reason : "", sizeof(s->reason));
	pthread_mutex_unlock(&s->lock);
	free(old);
}

void ew_metrics_server_stop(struct ew_metrics_server *s)
{
	if (!s)
		return;
	/* Joins the server thread and closes the listening socket. */
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->lock);
	free(s->text);
	free(s);
}
