/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A receiver for the integration tests of the stream outputs (unit_receiver.c, in libewtest.a):
 * it listens on 127.0.0.1 (ephemeral port), [::1] or a Unix socket in this process and is
 * polled between the sender's ticks, so nothing sleeps for a fixed time. It keeps each
 * connection's bytes apart, as real NDJSON receivers do, and its check walks the complete lines
 * of all connections in accept order against the lines ew_t_line() generates (unit.h). Needs
 * libc and cmocka; the sender is ticked through a callback. Include after <cmocka.h> and unit.h.
 */
#ifndef EW_TESTS_RECEIVER_H
#define EW_TESTS_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EW_T_WAIT_NS   (10 * 1000000000ULL) /* only reached when a test fails */
#define EW_T_MAX_CONNS 64

struct ew_t_conn {
	int fd; /* -1 after EOF */
	char *data;
	size_t len, cap;
};

/* Zero it with .lfd = -1 before use. */
struct ew_t_rx {
	int lfd;
	int family;
	uint16_t port;
	char path[192];
	struct ew_t_conn conns[EW_T_MAX_CONNS];
	size_t nconns;
};

/* One turn of the sender (its outputs' tick), run while the receiver waits. */
typedef void (*ew_t_tick_fn)(void *arg);

/*
 * Binds to the loopback address of family (AF_INET or AF_INET6) at port (0: ephemeral) without
 * listening: connects are refused, and the port stays ours. A port merely found free could be
 * taken meanwhile, even by the sink's own connect as its source port (TCP then connects the
 * socket to itself). Returns the port.
 */
uint16_t ew_t_rx_bind_tcp(struct ew_t_rx *rx, int family, uint16_t port);
/* Starts listening on what ew_t_rx_bind_tcp() bound. */
void ew_t_rx_listen(struct ew_t_rx *rx);
void ew_t_rx_listen_tcp(struct ew_t_rx *rx, int family, uint16_t port);
void ew_t_rx_listen_unix(struct ew_t_rx *rx, const char *path);
/* The receiver stops listening (connects are refused from now on) but keeps its port. */
void ew_t_rx_unlisten(struct ew_t_rx *rx);
void ew_t_rx_free(struct ew_t_rx *rx);
/* Accepts what is pending and reads every connection until it would block. */
void ew_t_rx_pump(struct ew_t_rx *rx);
/* Complete lines received, over all connections. */
size_t ew_t_rx_lines(const struct ew_t_rx *rx);
/* Ticks the sender and reads until want complete lines arrived; fails after EW_T_WAIT_NS. */
void ew_t_rx_pump_until(struct ew_t_rx *rx, size_t want, ew_t_tick_fn tick, void *arg);
/* Waits for the sender's connection (ticking it) and accepts it, reading nothing. */
struct ew_t_conn *ew_t_rx_accept(struct ew_t_rx *rx, ew_t_tick_fn tick, void *arg);
/* Reads exactly n bytes of c, which the sender has handed to its kernel already. */
void ew_t_conn_read(struct ew_t_conn *c, size_t n);
/* Complete lines in one connection's bytes. */
size_t ew_t_conn_lines(const struct ew_t_conn *c);

/*
 * At-least-once delivery, as the receiver sees it, over the connections in accept order:
 * - every complete line is one of the expected lines (ew_t_line(seqs[i], len_of(seqs[i]))),
 *   byte for byte;
 * - within a connection, lines follow the expected order without a gap;
 * - a connection may start before the first line not received yet (the resend window): those
 *   lines are duplicates, counted in *replayed; after removing them, every expected line arrived
 *   exactly once and in order;
 * - bytes after a connection's last '\n' are a fragment of a line cut by a disconnect: the
 *   connection must be over, and the bytes a prefix of the line due next on it (the line is sent
 *   again whole on the next connection).
 * Returns the number of fragments. replayed NULL: no duplicate is allowed.
 */
size_t ew_t_rx_check(const struct ew_t_rx *rx, const uint32_t *seqs, size_t nseqs,
		     ew_t_len_fn len_of, size_t *replayed);
/* The same for the lines from..to-1. */
size_t ew_t_rx_check_range(const struct ew_t_rx *rx, uint32_t from, uint32_t to, ew_t_len_fn len_of,
			   size_t *replayed);

#endif
