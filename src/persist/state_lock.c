// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * PATH.lock of a state file: flock(LOCK_EX | LOCK_NB), then the holder's pid written in it, so
 * that the agent refused can name the one that holds it. The pid is only information: the lock
 * is the kernel's, and goes with the holder's death, a SIGKILL's included.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "exitwatch/persist/state_lock.h"

struct ew_state_lock {
	int fd;
	bool held;
};

static uint32_t read_holder(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	unsigned long v;
	char *end;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtoul(buf, &end, 10);
	return end != buf && (*end == '\n' || !*end) && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static int take(struct ew_state_lock *l, uint32_t *holder)
{
	char buf[16];
	int n;

	if (l->held)
		return 0;
	if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		if (holder)
			*holder = read_holder(l->fd);
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	l->held = true;
	/* Information only: a failed write leaves the lock held, and the next agent says pid 0. */
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(l->fd, 0) == 0 && pwrite(l->fd, buf, (size_t)n, 0) != n)
		(void)ftruncate(l->fd, 0);
	return 0;
}

int ew_state_lock_open(const char *path, struct ew_state_lock **ret, uint32_t *holder)
{
	char lp[PATH_MAX];
	struct ew_state_lock *l;
	int r;

	*ret = NULL;
	if (holder)
		*holder = 0;
	if (snprintf(lp, sizeof(lp), "%s.lock", path) >= (int)sizeof(lp))
		return -ENAMETOOLONG;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0) {
		r = -errno;
		free(l);
		return r;
	}
	r = take(l, holder);
	if (r && r != -EBUSY) {
		ew_state_lock_close(l);
		return r;
	}
	*ret = l;
	return r;
}

int ew_state_lock_retry(struct ew_state_lock *l, uint32_t *holder)
{
	int r = take(l, holder);

	return r == -EBUSY || !r ? r : -EBUSY;
}

void ew_state_lock_close(struct ew_state_lock *l)
{
	if (!l)
		return;
	/* The file stays: unlinking it would let a third agent lock a new inode meanwhile. */
	close(l->fd);
	free(l);
}
