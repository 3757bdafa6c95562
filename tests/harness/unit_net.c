// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loopback addresses for the tests that open sockets (tests/harness/unit.h): the integration
 * tests, never the unit tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/unit.h"

socklen_t ew_t_loopback(int family, uint16_t port, struct sockaddr_storage *ret)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ret;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ret;

	memset(ret, 0, sizeof(*ret));
	if (family == AF_INET6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		a6->sin6_addr = in6addr_loopback;
		return sizeof(*a6);
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*a4);
}

uint16_t ew_t_port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

bool ew_t_have_ipv6_loopback(void)
{
	struct sockaddr_storage ss;
	socklen_t len = ew_t_loopback(AF_INET6, 0, &ss);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}
