/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Decoded container events: what ingest/decode.c makes of a ring buffer record, what the start-up
 * scan makes of /proc, and what record/replay stores. Times are UTC nanoseconds on the agent's
 * clock (util/clock.h): the kernel's CLOCK_BOOTTIME stamps plus the wall clock's offset read once
 * at start, so everything downstream (detector, sinks, replay) runs on one clock that a step of
 * the wall clock does not move; records show them as the wall clock said them.
 */
#ifndef EXITWATCH_EVENT_H
#define EXITWATCH_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/abi.h"
#include "exitwatch/core/names.h"

enum ew_event_type {
	EW_EVENT_START = 1, /* a main process exec'd (or was found running at start-up) */
	EW_EVENT_EXIT,	    /* its thread group is gone */
	EW_EVENT_READY,	    /* the container's first listen() */
	/*
	 * A container that never ran: its runtime's init exited before exec'ing the command. A
	 * start and its exit at once: the START members (cgroup, cg_level, ppid; comm the init's)
	 * and the EXIT ones its exit has (exit_word, status, uptime_ns from the init's fork).
	 */
	EW_EVENT_START_FAILED,
};

/* Exit classes of design.md ("crash versus configuration"). */
enum ew_exit_class {
	EW_CLASS_CLEAN = 0,
	EW_CLASS_CONFIG_ERROR,	 /* a configured config-error code (3 by default) */
	EW_CLASS_APP_ERROR,	 /* any other non-zero code */
	EW_CLASS_NOT_EXECUTABLE, /* 126 */
	EW_CLASS_NOT_FOUND,	 /* 127 */
	EW_CLASS_CRASH,	       /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT (and SIGSYS, SIGTRAP) */
	EW_CLASS_OOM_KILLED,   /* the OOM killer chose it */
	EW_CLASS_KILLED,       /* SIGKILL (or 137) not from the OOM killer */
	EW_CLASS_TERMINATED,   /* SIGTERM/SIGINT/SIGHUP/SIGQUIT (or 130/143), e.g. a stop */
	EW_CLASS_START_FAILED, /* EW_EVENT_START_FAILED: the command never ran */
	EW_CLASS__COUNT
};

/* Where an exit's stderr tail came from. */
enum ew_tail_source {
	EW_TAIL_NONE = 0,
	EW_TAIL_KERNEL,	      /* the opt-in kernel capture (--stderr-kernel) */
	EW_TAIL_DOCKER_JSON,  /* Docker's json-file log */
	EW_TAIL_DOCKER_LOCAL, /* Docker's local log driver */
	EW_TAIL_CRI,	      /* the kubelet's /var/log/pods file (containerd, CRI-O) */
	/* A failed start's: not stderr but the runtime's own error, from its files (Docker's
	 * config.v2.json, containerd's CRI status); only EW_EVENT_START_FAILED carries it. */
	EW_TAIL_START_ERROR,
};

struct ew_exit_status {
	int code;	  /* exit code (status >> 8); 0 when killed by a signal */
	int signal;	  /* terminating signal, 0 if it called exit */
	bool core_dumped; /* the kernel wrote (or tried to write) a core */
};

struct ew_killer_info {
	uint32_t pid;
	int signal;
	uint64_t cgroup_id; /* sender's cgroup; the root cgroup means "host" */
	uint64_t time_ns;
	bool caught; /* the target had a handler for it when it was sent */
	char comm[EW_COMM_LEN];
	char container[128]; /* "host", the sender's container identity, or "cgroup-id:<n>" */
};

struct ew_event {
	enum ew_event_type type;
	uint64_t time_ns;		 /* the hook's, on the agent's clock */
	uint64_t cgroup_id;		 /* cgroup v2 id */
	char cgroup[EW_CGROUP_PATH_MAX]; /* START(_FAILED): joined from the captured names */
	uint32_t cg_level;		 /* START(_FAILED): depth below the root */

	/* The main process. */
	uint32_t pid;
	uint32_t ppid;		    /* START */
	uint64_t start_boot_ns;	    /* task start, boot-time clock: (pid, start) names it */
	char comm[EW_COMM_LEN];	    /* after exec at START, at exit at EXIT */
	char filename[EW_PATH_LEN]; /* START */
	char argv0[EW_PATH_LEN];    /* START */
	bool reexec;		    /* START: the main process exec'd again */
	bool seeded;		    /* found running at start-up, not seen exec'ing */

	/* EXIT */
	uint32_t exit_word; /* raw wait status, kept for replay and the record */
	struct ew_exit_status status;
	uint64_t uptime_ns;
	bool oom;
	bool ready;	     /* the container listen()ed before it died */
	uint64_t startup_ns; /* EXIT with ready, READY: exec to first listen() */
	bool has_killer;
	struct ew_killer_info killer;
	struct ew_children children;
	uint64_t stderr_total; /* bytes the container wrote to fd 2 (kernel capture only) */
	enum ew_tail_source tail_source; /* of tail; EW_TAIL_NONE when there is none */

	/* READY */
	uint32_t listener_pid;
	char listener_comm[EW_COMM_LEN];

	/* EXIT; last, so clearing an event can stop short of it. */
	uint32_t tail_len;	  /* bytes in tail: the last ones the container wrote to fd 2 */
	char tail[EW_STDERR_CAP]; /* raw bytes, not NUL-terminated */
};

/*
 * Empties ev for a decoder to fill: every member zero and every string empty, but only the first
 * byte of each long string (cgroup, filename, argv0) is cleared, the bytes past it left as they
 * were, and the tail's bytes not at all (tail_len is 0): about 600 bytes of stores rather than
 * 1.4 KiB (the three strings are most of an event). Nothing reads a string past its NUL.
 */
void ew_event_clear(struct ew_event *ev);

/* Splits a wait status into code, signal and core flag. */
struct ew_exit_status ew_exit_decode(uint32_t word);

/* "SIGSEGV", ... or NULL for 0 / unknown numbers. */
const char *ew_signal_name(int sig);

/* "kernel", "docker-json-file", "docker-local", "cri", "start-error"; NULL for EW_TAIL_NONE and
 * unknowns. */
const char *ew_tail_source_name(enum ew_tail_source s);
/* The inverse; EW_TAIL_NONE for a name it does not know. */
enum ew_tail_source ew_tail_source_parse(const char *name);

/*
 * A container's main process that ended without an exit record (lost to a full ring buffer, or
 * it moved where the kernel could not follow it), as the sweep of the kernel's map finds it:
 * by the cgroup id its records carry, its pid and its start in clock ticks since boot.
 */
struct ew_lost_main {
	uint64_t cgroup_id;
	uint32_t pid;
	uint64_t start_ticks;
};

#endif
