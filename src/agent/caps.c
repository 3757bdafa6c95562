// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "exitwatch/agent/caps.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool effective(cap_t c, cap_value_t v)
{
	cap_flag_value_t f = CAP_CLEAR;

	return c && !cap_get_flag(c, v, CAP_EFFECTIVE, &f) && f == CAP_SET;
}

int ew_caps_drop_after_attach(const char **kept)
{
	cap_t now = cap_get_proc(), next;
	cap_value_t keep[1];
	int n = 0, r = 0;

	if (!now)
		return -errno;
	if (effective(now, CAP_BPF))
		keep[n++] = CAP_BPF;
	else if (effective(now, CAP_SYS_ADMIN))
		keep[n++] = CAP_SYS_ADMIN;
	*kept = !n ? "none" : keep[0] == CAP_BPF ? "CAP_BPF" : "CAP_SYS_ADMIN";

	/* The bounding set first, while CAP_SETPCAP (if we have it at all) is still ours. */
	if (effective(now, CAP_SETPCAP))
		for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
			if (!n || v != keep[0])
				prctl(PR_CAPBSET_DROP, v, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	cap_free(now);

	next = cap_init(); /* all clear */
	if (!next)
		return -errno;
	if (n && (cap_set_flag(next, CAP_EFFECTIVE, n, keep, CAP_SET) ||
		  cap_set_flag(next, CAP_PERMITTED, n, keep, CAP_SET)))
		r = -errno;
	if (!r && cap_set_proc(next))
		r = -errno;
	cap_free(next);
	/* No exec'd program (none is planned) could regain anything. */
	if (!r)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return r;
}
