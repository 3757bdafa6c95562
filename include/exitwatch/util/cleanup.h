/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Scope-bound cleanup for local scratch (systemd's _cleanup_). Never for objects that outlive
 * the function: those are handed over with TAKE_PTR/TAKE_FD.
 */
#ifndef EXITWATCH_CLEANUP_H
#define EXITWATCH_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void ew_freep(void *p)
{
	free(*(void **)p);
}

static inline void ew_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void ew_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void ew_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_	   __attribute__((cleanup(ew_freep)))
#define _cleanup_fclose_   __attribute__((cleanup(ew_fclosep)))
#define _cleanup_close_	   __attribute__((cleanup(ew_closep)))
#define _cleanup_closedir_ __attribute__((cleanup(ew_closedirp)))

#define TAKE_PTR(p)                       \
	({                                \
		__typeof__(p) _tp_ = (p); \
		(p) = NULL;               \
		_tp_;                     \
	})
#define TAKE_FD(fd)              \
	({                       \
		int _tf_ = (fd); \
		(fd) = -1;       \
		_tf_;            \
	})

#endif
