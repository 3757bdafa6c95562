// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/util/util.h"

static const char *const class_names[EW_CLASS__COUNT] = {
	[EW_CLASS_CLEAN] = "clean",	      [EW_CLASS_CONFIG_ERROR] = "config_error",
	[EW_CLASS_APP_ERROR] = "app_error",   [EW_CLASS_NOT_EXECUTABLE] = "not_executable",
	[EW_CLASS_NOT_FOUND] = "not_found",   [EW_CLASS_CRASH] = "crash",
	[EW_CLASS_OOM_KILLED] = "oom_killed", [EW_CLASS_KILLED] = "killed",
	[EW_CLASS_TERMINATED] = "terminated", [EW_CLASS_START_FAILED] = "start_failed",
};

/* design.md's known codes; 128+n is how shells and runtimes report death by signal n. */
static const struct {
	int code;
	const char *meaning;
} default_meanings[] = {
	{1, "general error, e.g. an uncaught exception"},
	{2, "misuse of a shell builtin or invalid arguments"},
	{3, "configuration or dependency error at start-up (gunicorn: worker failed to boot)"},
	{4, "application could not be loaded (gunicorn: app load error)"},
	{126, "command found but not executable"},
	{127, "command not found"},
	{130, "interrupted: SIGINT as a shell reports it (128+2)"},
	{134, "aborted: SIGABRT as a shell reports it (128+6)"},
	{137, "killed: SIGKILL as a shell or runtime reports it (128+9)"},
	{139, "segmentation fault: SIGSEGV as a shell reports it (128+11)"},
	{143, "terminated: SIGTERM as a shell or runtime reports it (128+15)"},
};

void ew_class_config_default(struct ew_class_config *c)
{
	memset(c, 0, sizeof(*c));
	ew_class_set_config_error(c, 3, true);
	/* Kubernetes' default terminationGracePeriodSeconds (Docker's stop timeout is 10 s): an
	 * app that caught SIGTERM and is still running after it is SIGKILLed by its runtime,
	 * which then explains the exit by itself. */
	c->killer_grace_ns = 30ULL * 1000000000ULL;
	for (size_t i = 0; i < ARRAY_SIZE(default_meanings); i++)
		ew_strlcpy(c->meanings[default_meanings[i].code], default_meanings[i].meaning,
			   EW_MEANING_LEN);
}

void ew_class_set_config_error(struct ew_class_config *c, int code, bool on)
{
	if (code < 0 || code > 255)
		return;
	if (on)
		c->config_error_codes[code / 8] |= (uint8_t)(1u << (code % 8));
	else
		c->config_error_codes[code / 8] &= (uint8_t) ~(1u << (code % 8));
}

static bool is_crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGABRT || sig == SIGSYS || sig == SIGTRAP;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

/* What runtimes send to stop a container (docker stop, the kubelet, Ctrl-C, systemd). */
static bool is_graceful_stop(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

bool ew_killer_attributable(const struct ew_event *ev, const struct ew_class_config *c)
{
	const struct ew_killer_info *k = &ev->killer;

	if (!ev->has_killer || k->signal <= 0)
		return false;
	if (ev->status.signal && ev->status.signal == k->signal)
		return true;
	if (!k->caught || !is_graceful_stop(k->signal) || !c->killer_grace_ns)
		return false;
	return ev->time_ns >= k->time_ns && ev->time_ns - k->time_ns <= c->killer_grace_ns;
}

/*
 * An init wrapper as the main process (`docker run --init`'s tini, dumb-init) is never the OOM
 * killer's choice itself: its child, the app, is, and the wrapper reports that as exit 128+9,
 * or dies of SIGKILL with it when the whole cgroup goes (memory.oom.group). So an OOM kill among
 * the children of this run, then 137 or a SIGKILL that no other process sent the main, is the
 * container OOM-killed. A 137 after a child's OOM kill that the wrapper did not cause is
 * indistinguishable from it: accepted, an OOM kill in the run is the likelier cause.
 */
static bool oom_through_child(const struct ew_event *ev)
{
	const struct ew_exit_status *st = &ev->status;

	if (!ev->children.oom_killed)
		return false;
	if (!st->signal)
		return st->code == 128 + SIGKILL;
	return st->signal == SIGKILL && !(ev->has_killer && ev->killer.signal == SIGKILL);
}

enum ew_exit_class ew_exit_classify(const struct ew_event *ev, const struct ew_class_config *c)
{
	const struct ew_exit_status *st = &ev->status;

	/* The runtime's code, not the application's: it never ran. */
	if (ev->type == EW_EVENT_START_FAILED)
		return EW_CLASS_START_FAILED;
	if (ev->oom || oom_through_child(ev))
		return EW_CLASS_OOM_KILLED;
	if (st->signal) {
		if (is_crash_signal(st->signal) || (st->signal == SIGQUIT && st->core_dumped))
			return EW_CLASS_CRASH;
		if (is_stop_signal(st->signal) || st->signal == SIGQUIT)
			return EW_CLASS_TERMINATED;
		return EW_CLASS_KILLED;
	}
	if (st->code == 0)
		return EW_CLASS_CLEAN;
	if (ew_class_is_config_error(c, st->code))
		return EW_CLASS_CONFIG_ERROR;
	/* An app that handles SIGTERM and exits non-zero was still stopped by someone. */
	if (ev->has_killer && is_graceful_stop(ev->killer.signal))
		return EW_CLASS_TERMINATED;
	switch (st->code) {
	case 126:
		return EW_CLASS_NOT_EXECUTABLE;
	case 127:
		return EW_CLASS_NOT_FOUND;
	case 128 + SIGKILL:
		return EW_CLASS_KILLED;
	case 128 + SIGTERM:
	case 128 + SIGINT:
	case 128 + SIGHUP:
		return EW_CLASS_TERMINATED;
	default:
		if (st->code > 128 && is_crash_signal(st->code - 128))
			return EW_CLASS_CRASH;
		return EW_CLASS_APP_ERROR;
	}
}

const char *ew_exit_class_name(enum ew_exit_class cls)
{
	if ((unsigned)cls >= EW_CLASS__COUNT)
		return "unknown";
	return class_names[cls];
}

int ew_exit_class_parse(const char *name)
{
	for (int i = 0; i < EW_CLASS__COUNT; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -EINVAL;
}

const char *ew_exit_meaning(const struct ew_event *ev, const struct ew_class_config *c)
{
	static const char *const by_signal[] = {
		[SIGHUP] = "hung up (SIGHUP)",
		[SIGINT] = "interrupted (SIGINT)",
		[SIGQUIT] = "quit (SIGQUIT)",
		[SIGILL] = "illegal instruction (SIGILL)",
		[SIGTRAP] = "trace/breakpoint trap (SIGTRAP)",
		[SIGABRT] = "aborted, e.g. a failed assertion (SIGABRT)",
		[SIGBUS] = "bus error (SIGBUS)",
		[SIGFPE] = "arithmetic exception (SIGFPE)",
		[SIGKILL] = "killed (SIGKILL)",
		[SIGSEGV] = "segmentation fault (SIGSEGV)",
		[SIGPIPE] = "wrote to a closed pipe (SIGPIPE)",
		[SIGTERM] = "terminated (SIGTERM)",
		[SIGSYS] = "bad system call, e.g. a seccomp filter (SIGSYS)",
	};
	int sig = ev->status.signal;

	if (ev->type == EW_EVENT_START_FAILED)
		return "its command never ran: the runtime could not start it (not found or not "
		       "executable, a missing working directory or user, a failed mount)";
	if (ev->oom)
		return "killed by the kernel's OOM killer (out of memory)";
	if (oom_through_child(ev))
		return "killed by the kernel's OOM killer (out of memory): a child it ran, "
		       "reported "
		       "as SIGKILL by an init wrapper such as tini or dumb-init";
	if (sig > 0 && (size_t)sig < ARRAY_SIZE(by_signal))
		return by_signal[sig];
	if (sig)
		return NULL;
	if (ev->status.code > 0 && ev->status.code < 256 && c->meanings[ev->status.code][0])
		return c->meanings[ev->status.code];
	return NULL;
}
