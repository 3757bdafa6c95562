// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Stream sinks: NDJSON over TCP or a Unix stream socket, never blocking the event loop.
 * Order is kept by two rules: while the spool holds lines, new lines go to the spool too, and
 * the memory queue is refilled from the spool's head; after a reconnect, the resend window
 * (include/exitwatch/stream.h) goes out again before the queue. A line leaves the queue for the
 * window's tail once handed whole to the kernel; the window's head is freed past
 * EW_STREAM_RESEND_BYTES. Memory is bounded by queue_max lines plus the window.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "exitwatch/util/log.h"
#include "output/spool_int.h"
#include "output/stream_int.h"
#include "exitwatch/util/util.h"

#define STREAM_CONNECT_TIMEOUT_NS (10 * EW_NSEC_PER_SEC) /* a SYN into a black hole */
#define STREAM_RECV_ROUNDS	  16 /* reads per check of a peer that talks back (ignored) */

enum conn_state {
	CONN_DOWN,
	CONN_CONNECTING,
	CONN_UP,
};

struct line {
	struct line *next;
	size_t len;
	char data[];
};

struct ew_stream {
	char *spec;
	char *host; /* tcp: without brackets; NULL for unix */
	char *port;
	char *path; /* unix */
	uint32_t queue_max;
	uint64_t reconnect_min_ns, reconnect_max_ns;
	int fd; /* -1 when down */
	enum conn_state state;
	struct addrinfo *ai;	  /* tcp: this round's addresses ... */
	struct addrinfo *ai_next; /* ... and the next to try; NULL: resolve again */
	uint64_t connect_start_ns;
	uint64_t retry_ns; /* down: next connect attempt */
	uint64_t backoff_ns;
	bool down_warned;	  /* one warning per outage */
	bool drop_warned;	  /* one warning per streak of dropped lines */
	bool spool_err_warned;	  /* one warning per streak of spool read errors */
	struct line *head, *tail; /* the queue: not sent yet */
	uint32_t nqueued;
	struct line *sent_head, *sent_tail; /* the resend window: sent last, oldest first */
	uint32_t nsent;
	uint64_t sent_bytes;
	struct line *replay;	/* the window line to send again next; NULL: none due */
	uint32_t nreplay;	/* window lines still to send again, replay onwards */
	size_t off;		/* bytes of the line being sent (replay, else head) sent already */
	struct ew_spool *spool; /* NULL: none */
	uint64_t delivered, dropped;
	uint64_t progress; /* lines handed whole to the kernel, resent ones included */
};

/* ---- queue ----------------------------------------------------------------------------- */

static int queue_push(struct ew_stream *s, const char *data, size_t len)
{
	struct line *l = malloc(sizeof(*l) + len);

	if (!l)
		return -ENOMEM;
	l->next = NULL;
	l->len = len;
	memcpy(l->data, data, len);
	if (s->tail)
		s->tail->next = l;
	else
		s->head = l;
	s->tail = l;
	s->nqueued++;
	return 0;
}

/* Unlinks the queue's head and hands it over. */
static struct line *queue_take(struct ew_stream *s)
{
	struct line *l = s->head;

	s->head = l->next;
	if (!s->head)
		s->tail = NULL;
	s->nqueued--;
	l->next = NULL;
	return l;
}

/* Appends a line just sent to the window; frees its oldest lines past the bound. */
static void window_push(struct ew_stream *s, struct line *l)
{
	if (s->sent_tail)
		s->sent_tail->next = l;
	else
		s->sent_head = l;
	s->sent_tail = l;
	s->nsent++;
	s->sent_bytes += l->len;
	while (s->sent_head && s->sent_bytes > EW_STREAM_RESEND_BYTES) {
		struct line *old = s->sent_head;

		s->sent_head = old->next;
		if (!s->sent_head)
			s->sent_tail = NULL;
		s->nsent--;
		s->sent_bytes -= old->len;
		free(old);
	}
}

static void free_lines(struct line *l)
{
	while (l) {
		struct line *next = l->next;

		free(l);
		l = next;
	}
}

/* Moves lines from the spool's head to the queue's tail while the queue has room. */
static void stream_refill(struct ew_stream *s)
{
	const char *line;
	size_t len;
	int r;

	while (s->spool && s->nqueued < s->queue_max) {
		r = ew_spool_peek(s->spool, &line, &len);
		if (r < 0 && !s->spool_err_warned)
			ew_warn("output '%s': cannot read the spool: %s", s->spec, strerror(-r));
		s->spool_err_warned = r < 0;
		if (r <= 0 || queue_push(s, line, len) < 0)
			return;
		ew_spool_pop(s->spool);
	}
}

/* ---- connection ------------------------------------------------------------------------ */

/* musl's freeaddrinfo() does not take NULL. */
static void stream_free_addrs(struct ew_stream *s)
{
	if (s->ai)
		freeaddrinfo(s->ai);
	s->ai = s->ai_next = NULL;
}

/* getaddrinfo() may block on DNS for a name; numeric hosts never do. */
static int stream_resolve(struct ew_stream *s)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	int r;

	stream_free_addrs(s);
	r = getaddrinfo(s->host, s->port, &hints, &s->ai);
	if (r) {
		s->ai = NULL;
		return r;
	}
	s->ai_next = s->ai;
	return 0;
}

static void stream_close(struct ew_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = CONN_DOWN;
}

static void stream_backoff(struct ew_stream *s, uint64_t now_ns)
{
	s->retry_ns = now_ns + s->backoff_ns;
	s->backoff_ns =
		s->backoff_ns > s->reconnect_max_ns / 2 ? s->reconnect_max_ns : s->backoff_ns * 2;
}

static void stream_connect_failed(struct ew_stream *s, uint64_t now_ns, const char *why)
{
	stream_close(s);
	/* The next address of this round is tried at once; back-off starts when all failed. */
	if (s->ai_next) {
		s->retry_ns = now_ns;
		return;
	}
	stream_backoff(s, now_ns);
	if (!s->down_warned)
		ew_warn("output '%s': cannot connect: %s; queueing lines and retrying", s->spec,
			why);
	s->down_warned = true;
}

/*
 * The next connection starts with the whole resend window, then the line cut by this drop, sent
 * again whole. Its fragment stays on the old connection: TCP and Unix stream connections are
 * separate byte streams, and the receivers this is for (Fluent Bit in_tcp/in_unix, Vector
 * socket, syslog-ng network() and unix-stream(), fluentd in_tcp) frame each connection on its
 * own, so at the old connection's end the fragment is discarded or becomes one invalid record;
 * it is never glued to the new connection's bytes. No '\n' is sent ahead of the replay: on the
 * new connection it would only make an empty record. A drop during a replay starts it over.
 */
static void stream_disconnect(struct ew_stream *s, uint64_t now_ns, int err)
{
	stream_close(s);
	s->off = 0;
	s->replay = s->sent_head;
	s->nreplay = s->nsent;
	stream_backoff(s, now_ns);
	if (!s->down_warned)
		ew_warn("output '%s': connection lost: %s; queueing lines and reconnecting",
			s->spec, err == -EPIPE ? "closed by the peer" : strerror(-err));
	s->down_warned = true;
}

static void stream_up(struct ew_stream *s)
{
	s->state = CONN_UP;
	s->backoff_ns = s->reconnect_min_ns;
	if (s->down_warned)
		ew_info("output '%s': connected", s->spec);
	s->down_warned = false;
	/* The next outage resolves the name again (a Service IP or DNS record may change). */
	stream_free_addrs(s);
}

/*
 * A connect to a local port nobody listens on can connect the socket to itself when the kernel
 * picks that very port as the source (TCP simultaneous open): lines would go nowhere.
 */
static void stream_connected(struct ew_stream *s, uint64_t now_ns)
{
	struct sockaddr_storage me, peer;
	socklen_t melen = sizeof(me), peerlen = sizeof(peer);

	if (s->host && getsockname(s->fd, (struct sockaddr *)&me, &melen) == 0 &&
	    getpeername(s->fd, (struct sockaddr *)&peer, &peerlen) == 0 && melen == peerlen &&
	    !memcmp(&me, &peer, melen))
		stream_connect_failed(s, now_ns, "connected to itself (nothing listens there)");
	else
		stream_up(s);
}

static void stream_connect(struct ew_stream *s, uint64_t now_ns)
{
	for (;;) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		const struct sockaddr *sa = (const struct sockaddr *)&sun;
		socklen_t salen = sizeof(sun);
		int r;

		if (!s->host) {
			ew_strlcpy(sun.sun_path, s->path, sizeof(sun.sun_path));
		} else {
			if (!s->ai_next) {
				r = stream_resolve(s);
				if (r) {
					stream_connect_failed(s, now_ns,
							      r == EAI_SYSTEM ? strerror(errno)
									      : gai_strerror(r));
					return;
				}
			}
			sa = s->ai_next->ai_addr;
			salen = s->ai_next->ai_addrlen;
			s->ai_next = s->ai_next->ai_next;
		}
		s->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd >= 0 && connect(s->fd, sa, salen) == 0) {
			stream_connected(s, now_ns);
			return;
		}
		if (s->fd >= 0 && errno == EINPROGRESS) {
			s->state = CONN_CONNECTING;
			s->connect_start_ns = now_ns;
			return;
		}
		/* With addresses left this sets retry_ns = now: the next one is tried at once. */
		stream_connect_failed(s, now_ns, strerror(errno));
		if (!s->ai_next)
			return;
	}
}

/* Completion of a non-blocking connect: writable, then SO_ERROR says how it went. */
static void stream_check_connect(struct ew_stream *s, uint64_t now_ns)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int soerr = 0, r;

	r = poll(&pfd, 1, 0);
	if (r < 0)
		return;
	if (r == 0) {
		if (now_ns - s->connect_start_ns >= STREAM_CONNECT_TIMEOUT_NS)
			stream_connect_failed(s, now_ns, strerror(ETIMEDOUT));
		return;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (!soerr && (pfd.revents & POLLOUT))
		stream_connected(s, now_ns);
	else
		stream_connect_failed(s, now_ns, strerror(soerr ? soerr : ECONNREFUSED));
}

/*
 * Receivers send nothing back, so readable means closed (recv() returns 0) or reset. Checked
 * before sending, so that lines are not written into a connection already half gone.
 */
static int stream_check_peer(const struct ew_stream *s)
{
	char scratch[512];

	for (int i = 0; i < STREAM_RECV_ROUNDS; i++) {
		ssize_t n = recv(s->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n == 0)
			return -EPIPE;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* The line to send next on this connection: the window's replay first, then the queue. */
static struct line *stream_next(struct ew_stream *s)
{
	if (s->replay)
		return s->replay;
	if (!s->head)
		stream_refill(s);
	return s->head;
}

/* The line being sent is now wholly in the kernel. */
static void stream_sent(struct ew_stream *s)
{
	s->off = 0;
	s->progress++;
	if (s->replay) {
		s->replay = s->replay->next;
		s->nreplay--;
		return;
	}
	window_push(s, queue_take(s));
	s->delivered++;
}

/* Sends as much as the socket takes (MSG_NOSIGNAL: EPIPE, not SIGPIPE), then refills. */
static void stream_flush(struct ew_stream *s, uint64_t now_ns)
{
	struct line *l;
	int r;

	if (s->state != CONN_UP)
		return;
	r = stream_check_peer(s);
	if (r < 0) {
		stream_disconnect(s, now_ns, r);
		return;
	}
	while ((l = stream_next(s))) {
		ssize_t n =
			send(s->fd, l->data + s->off, l->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			stream_disconnect(s, now_ns, -errno);
			return;
		}
		s->off += (size_t)n;
		if (s->off == l->len)
			stream_sent(s);
	}
	stream_refill(s);
}

/* ---- public ---------------------------------------------------------------------------- */

static void stream_open_spool(struct ew_stream *s, const struct ew_output_opts *opts)
{
	char name[64];
	int r;

	if (!opts->spool_max_bytes || !opts->spool_dir)
		return;
	/* A stable file name per spec, so that the next run finds this run's spool. */
	snprintf(name, sizeof(name), "%s-%016" PRIx64 ".spool", s->host ? "tcp" : "unix",
		 ew_fnv1a(EW_FNV1A_INIT, s->spec, strlen(s->spec)));
	r = ew_spool_open(opts->spool_dir, name, opts->spool_max_bytes, &s->spool);
	if (r < 0) {
		s->spool = NULL;
		/* EBUSY: its flock (spool.c), held by an agent sending to the same place. */
		ew_warn("output '%s': cannot use the spool %s/%s: %s; lines beyond the memory "
			"queue will be dropped",
			s->spec, opts->spool_dir, name,
			r == -EBUSY ? "another exitwatch agent with this output uses it (give "
				      "each its own agent.spool_dir)"
				    : strerror(-r));
		return;
	}
	if (ew_spool_lines(s->spool))
		ew_info("output '%s': delivering %" PRIu64 " lines spooled by a previous run first",
			s->spec, ew_spool_lines(s->spool));
}

int ew_stream_new(const char *spec, const char *host, const char *port, const char *path,
		  const struct ew_output_opts *opts, struct ew_stream **ret, char *err,
		  size_t errlen)
{
	struct ew_stream *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	/* A zero queue could never take lines back from the spool; zero back-off would spin. */
	s->queue_max = opts->queue_max_lines ? opts->queue_max_lines : 1;
	s->reconnect_min_ns = opts->reconnect_min_ns > EW_NSEC_PER_MSEC ? opts->reconnect_min_ns
									: EW_NSEC_PER_MSEC;
	s->reconnect_max_ns = opts->reconnect_max_ns > s->reconnect_min_ns ? opts->reconnect_max_ns
									   : s->reconnect_min_ns;
	s->backoff_ns = s->reconnect_min_ns;
	s->spec = strdup(spec);
	s->host = host ? strdup(host) : NULL;
	s->port = port ? strdup(port) : NULL;
	s->path = path ? strdup(path) : NULL;
	if (!s->spec || (host && !s->host) || (port && !s->port) || (path && !s->path)) {
		ew_stream_free(s);
		return -ENOMEM;
	}
	if (host) {
		/* Resolved now to catch a typo at start-up; a DNS outage is only retried. */
		r = stream_resolve(s);
		if (r == EAI_AGAIN) {
			ew_warn("output '%s': cannot resolve %s yet: %s; retrying", spec, host,
				gai_strerror(r));
		} else if (r) {
			if (err && errlen)
				snprintf(err, errlen, "output '%s': cannot resolve %s: %s", spec,
					 host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
			ew_stream_free(s);
			return -EINVAL;
		}
	}
	stream_open_spool(s, opts);
	*ret = s;
	return 0;
}

void ew_stream_free(struct ew_stream *s)
{
	uint32_t waiting = s ? s->nreplay + s->nqueued : 0;
	struct iovec *iov = NULL;
	size_t n = 0;
	int r;

	if (!s)
		return;
	stream_close(s);
	/*
	 * What waits in memory goes in front of the spool, for the next run to deliver first:
	 * the window lines not yet sent again since a connection was lost, then the queue.
	 */
	if (s->spool && waiting)
		iov = calloc(waiting, sizeof(*iov));
	for (struct line *l = s->replay; iov && l; l = l->next)
		iov[n++] = (struct iovec){.iov_base = l->data, .iov_len = l->len};
	for (struct line *l = s->head; iov && l; l = l->next)
		iov[n++] = (struct iovec){.iov_base = l->data, .iov_len = l->len};
	r = ew_spool_close(s->spool, iov, n);
	if (waiting && !s->spool)
		ew_warn("output '%s': %u queued lines lost (no spool)", s->spec, waiting);
	else if (waiting && (r < 0 || !iov))
		ew_warn("output '%s': %u queued lines lost: cannot save them to the spool: %s",
			s->spec, waiting, strerror(r < 0 ? -r : ENOMEM));
	free(iov);
	free_lines(s->head);
	free_lines(s->sent_head);
	stream_free_addrs(s);
	free(s->spec);
	free(s->host);
	free(s->port);
	free(s->path);
	free(s);
}

static void stream_drop(struct ew_stream *s, const char *why)
{
	s->dropped++;
	if (!s->drop_warned)
		ew_warn("output '%s': queue full and %s; dropping lines", s->spec, why);
	s->drop_warned = true;
}

void ew_stream_write(struct ew_stream *s, const char *line, size_t len, uint64_t now_ns)
{
	bool spooling = s->spool && ew_spool_lines(s->spool);
	char why[PATH_MAX + 128];
	int r;

	if (spooling || s->nqueued >= s->queue_max || queue_push(s, line, len) < 0) {
		if (!s->spool) {
			stream_drop(s, "no spool");
			return;
		}
		r = ew_spool_append(s->spool, line, len);
		if (r == -ENOBUFS) {
			snprintf(why, sizeof(why),
				 "the spool reached agent.spool_max_bytes (%" PRIu64 " bytes)",
				 ew_spool_max_bytes(s->spool));
			stream_drop(s, why);
			return;
		}
		if (r < 0) {
			snprintf(why, sizeof(why), "cannot write the spool %s: %s",
				 ew_spool_path(s->spool), strerror(-r));
			stream_drop(s, why);
			return;
		}
	}
	s->drop_warned = false;
	stream_flush(s, now_ns);
}

void ew_stream_tick(struct ew_stream *s, uint64_t now_ns)
{
	if (s->state == CONN_CONNECTING)
		stream_check_connect(s, now_ns);
	if (s->state == CONN_DOWN && now_ns >= s->retry_ns)
		stream_connect(s, now_ns);
	stream_flush(s, now_ns);
}

uint64_t ew_stream_pending(const struct ew_stream *s)
{
	return s->nreplay + s->nqueued + (s->spool ? ew_spool_lines(s->spool) : 0);
}

bool ew_stream_has_room(const struct ew_stream *s)
{
	return s->nqueued < s->queue_max && !(s->spool && ew_spool_lines(s->spool));
}

uint64_t ew_stream_progress(const struct ew_stream *s)
{
	return s->progress;
}

int ew_stream_poll_fd(const struct ew_stream *s, uint64_t now_ns, uint64_t *wait_ns)
{
	/* An idle connection is always writable: polling it would spin. */
	if (s->state == CONN_CONNECTING || (s->state == CONN_UP && (s->replay || s->head)))
		return s->fd;
	if (s->state == CONN_DOWN && s->retry_ns > now_ns && s->retry_ns - now_ns < *wait_ns)
		*wait_ns = s->retry_ns - now_ns;
	return -1;
}

void ew_stream_status(const struct ew_stream *s, struct ew_sink_status *st)
{
	*st = (struct ew_sink_status){
		.name = s->spec,
		.connected = s->state == CONN_UP,
		.queued = s->nreplay + s->nqueued,
		.spooled_bytes = s->spool ? ew_spool_bytes(s->spool) : 0,
		.delivered = s->delivered,
		.dropped = s->dropped,
	};
}
