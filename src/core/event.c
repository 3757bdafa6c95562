// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The vocabulary of events (include/exitwatch/core/event.h): wait statuses, signal names,
 * where a stderr tail came from. */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "exitwatch/core/event.h"
#include "exitwatch/util/util.h"

/* Zeroes [from, to) of ev. */
#define CLEAR_SPAN(ev, from, to)                                  \
	memset((char *)(ev) + offsetof(struct ew_event, from), 0, \
	       offsetof(struct ew_event, to) - offsetof(struct ew_event, from))

void ew_event_clear(struct ew_event *ev)
{
	/* In member order: what comes before each long string, then its first byte. */
	CLEAR_SPAN(ev, type, cgroup);
	ev->cgroup[0] = '\0';
	CLEAR_SPAN(ev, cg_level, filename);
	ev->filename[0] = '\0';
	ev->argv0[0] = '\0';
	CLEAR_SPAN(ev, reexec, tail);
}

struct ew_exit_status ew_exit_decode(uint32_t word)
{
	struct ew_exit_status st = {0};

	/* The layout of <sys/wait.h>: WTERMSIG in the low 7 bits, WCOREDUMP in bit 7, WEXITSTATUS
	 * in bits 8-15 when the low 7 bits are zero. */
	st.signal = word & 0x7f;
	st.core_dumped = st.signal && (word & 0x80);
	st.code = st.signal ? 0 : (int)((word >> 8) & 0xff);
	return st;
}

const char *ew_signal_name(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "SIGHUP",	   [SIGINT] = "SIGINT",	      [SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL",	   [SIGTRAP] = "SIGTRAP",     [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS",	   [SIGFPE] = "SIGFPE",	      [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1",	   [SIGSEGV] = "SIGSEGV",     [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE",	   [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",
		[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT",
		[SIGSTOP] = "SIGSTOP",	   [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN",
		[SIGTTOU] = "SIGTTOU",	   [SIGURG] = "SIGURG",	      [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ",	   [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
		[SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",	      [SIGPWR] = "SIGPWR",
		[SIGSYS] = "SIGSYS",
	};

	if (sig <= 0 || (size_t)sig >= ARRAY_SIZE(names))
		return NULL;
	return names[sig];
}

static const char *const tail_sources[] = {
	[EW_TAIL_KERNEL] = "kernel",
	[EW_TAIL_DOCKER_JSON] = "docker-json-file",
	[EW_TAIL_DOCKER_LOCAL] = "docker-local",
	[EW_TAIL_CRI] = "cri",
	[EW_TAIL_START_ERROR] = "start-error",
};

const char *ew_tail_source_name(enum ew_tail_source s)
{
	return (unsigned)s < sizeof(tail_sources) / sizeof(tail_sources[0]) ? tail_sources[s]
									    : NULL;
}

enum ew_tail_source ew_tail_source_parse(const char *name)
{
	for (size_t i = 1; name && i < sizeof(tail_sources) / sizeof(tail_sources[0]); i++)
		if (!strcmp(name, tail_sources[i]))
			return (enum ew_tail_source)i;
	return EW_TAIL_NONE;
}
