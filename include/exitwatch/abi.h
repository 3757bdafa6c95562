/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The wire format between bpf/exitwatch.bpf.c and the loader, and the layout of the BPF maps
 * that userspace reads or seeds. This is the only header both compilers see: keep it free of
 * anything but fixed-width types. Every struct is naturally aligned with explicit padding (no
 * packed attribute), so clang -target bpf and the host compiler agree on every offset; the
 * _Static_asserts at the bottom make both of them check it.
 */
#ifndef EXITWATCH_ABI_H
#define EXITWATCH_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define EW_ABI_VERSION 3

#define EW_COMM_LEN    16   /* TASK_COMM_LEN */
#define EW_PATH_LEN    128  /* exec filename and argv[0], NUL-terminated, truncated */
#define EW_CG_LEVELS   6    /* leaf + 5 ancestors: deep enough for kubepods QoS/pod/container */
#define EW_CG_NAME_LEN 128  /* a cgroup directory name ("cri-containerd-<64 hex>.scope" is 85) */
#define EW_STDERR_CAP  4096 /* bytes of fd 2 kept per container; a power of two */

/*
 * /proc/<pid>/stat reports a task's start time in USER_HZ ticks of its boot-time clock. The
 * kernel keys main processes on that same value, so the start-up scan can seed the map from
 * /proc. USER_HZ is 100 on every architecture Linux targets today.
 */
#define EW_USER_HZ     100
#define EW_NS_PER_TICK (1000000000ULL / EW_USER_HZ)

enum ew_event_kind {
	EW_EV_EXEC = 1,		/* a container main process exec'd: struct ew_exec_event */
	EW_EV_EXIT = 2,		/* a main process's thread group is gone: struct ew_exit_event */
	EW_EV_READY = 3,	/* first listen() in a tracked cgroup: struct ew_ready_event */
	EW_EV_START_FAILED = 4, /* a runtime's init exited before its exec: ew_start_failed_event */
};

/* ew_hdr.flags of EW_EV_EXEC */
#define EW_EXEC_REEXEC 0x01 /* the main process exec'd again, e.g. an entrypoint's exec "$@" */

/* ew_hdr.flags of EW_EV_EXIT */
#define EW_EXIT_OOM    0x01 /* the OOM killer chose this process (oom/mark_victim) */
#define EW_EXIT_READY  0x02 /* the container listen()ed before the main process exited */
#define EW_EXIT_KILLER 0x04 /* killer holds the last fatal signal another process sent */
#define EW_EXIT_SEEDED 0x08 /* main found by the start-up scan: uptime counts from fork */
#define EW_EXIT_TAIL   0x10 /* record is struct ew_exit_tail_event: stderr ring follows */

/* ew_killer.flags */
#define EW_KILLER_CAUGHT 0x01 /* the target had a handler for sig, or had it blocked */

/* Common header of every ring buffer record. */
struct ew_hdr {
	__u8 kind;	 /* enum ew_event_kind */
	__u8 flags;	 /* EW_EXEC_* or EW_EXIT_* */
	__u16 size;	 /* bytes of the whole record: the decoder checks it against kind */
	__u32 pid;	 /* tgid of the main process */
	__u64 ts_ns;	 /* bpf_ktime_get_boot_ns() at the hook (CLOCK_BOOTTIME: it counts a
			  * suspend, as the wall clock does, where CLOCK_MONOTONIC stops) */
	__u64 cgroup_id; /* cgroup v2 id (kernfs inode of the cgroup directory) */
};

struct ew_exec_event {
	struct ew_hdr hdr;
	__u32 ppid;		    /* tgid of the real parent, which lives outside the cgroup */
	__u32 cg_level;		    /* depth below the v2 root; > EW_CG_LEVELS means truncated */
	__u64 start_ns;		    /* task->start_boottime: (pid, start) names a process */
	char comm[EW_COMM_LEN];	    /* comm after exec */
	char filename[EW_PATH_LEN]; /* path given to execve() (bprm->filename) */
	char argv0[EW_PATH_LEN];    /* argv[0] from the new image's stack */
	char cg_names[EW_CG_LEVELS][EW_CG_NAME_LEN]; /* [0] the cgroup, [1] its parent, ... */
};

/* Exits of the cgroup's other processes, counted in the kernel and never streamed. */
struct ew_children {
	__u64 clean;	  /* exit code 0 */
	__u64 failed;	  /* non-zero exit code */
	__u64 signaled;	  /* killed by a signal (OOM kills included) */
	__u64 oom_killed; /* of those, chosen by the OOM killer: a subset of signaled */
};

/* The last fatal signal another process sent to a main process (signal/signal_generate). */
struct ew_killer {
	__u32 pid;		/* sender's tgid */
	__u16 sig;		/* signal number */
	__u16 flags;		/* EW_KILLER_* */
	__u64 cgroup_id;	/* sender's cgroup v2 id: tells "host" from a container */
	__u64 ts_ns;		/* when it was sent */
	char comm[EW_COMM_LEN]; /* sender's comm */
};

struct ew_exit_event {
	struct ew_hdr hdr;
	__u32 exit_word;	     /* wait status: code << 8 | core dumped << 7 | signal */
	__u32 tid;		     /* the thread whose exit ended the thread group */
	__u64 start_ns;		     /* task->start_boottime of the group leader */
	__u64 uptime_ns;	     /* since the main exec (since fork when EW_EXIT_SEEDED) */
	__u64 ready_ns;		     /* boot ns of the cgroup's first listen(); 0 if none */
	struct ew_children children; /* the cgroup's other exits since the main exec */
	struct ew_killer killer;     /* valid with EW_EXIT_KILLER */
	char comm[EW_COMM_LEN];	     /* comm at exit (after any re-exec) */
	__u64 stderr_total;	     /* bytes the cgroup wrote to fd 2 since the main exec */
};

/*
 * Sent instead of ew_exit_event when the cgroup wrote to fd 2. The ring holds the last
 * min(stderr_total, EW_STDERR_CAP) bytes; byte i of the stream sits at i % EW_STDERR_CAP.
 */
struct ew_exit_tail_event {
	struct ew_exit_event ex;
	char stderr_ring[EW_STDERR_CAP];
};

/*
 * A container that never ran: in a cgroup with no main process, the runtime's init (runc's
 * "runc:[2:INIT]", crun's, the process that would have exec'd the container's command) exited
 * with a non-zero code, or crun's was SIGKILLed by its parent crun, which does so when it fails.
 * The exec event's layout, for the cgroup's names: comm is the init's, filename and argv0 are
 * empty, ppid is the init's real parent (the runtime).
 */
struct ew_start_failed_event {
	struct ew_exec_event ex; /* ex.hdr.kind is EW_EV_START_FAILED */
	__u32 exit_word;	 /* the init's wait status: code << 8, or SIGKILL (crun's) */
	__u32 pad;
	__u64 uptime_ns; /* since the init's fork */
};

struct ew_ready_event {
	struct ew_hdr hdr;
	__u64 exec_ns;	    /* boot ns of the main exec; 0 when seeded at start-up */
	__u32 listener_pid; /* tgid of the process that called listen() */
	__u32 pad;
	char comm[EW_COMM_LEN]; /* its comm */
};

/*
 * Map "cgroups": one entry per cgroup with a live main process, keyed by cgroup id. The main
 * process is named by (pid, start ticks), so a reused pid never passes for it; start ticks are
 * start_boottime / EW_NS_PER_TICK, what /proc/<pid>/stat shows, so the start-up scan can seed
 * entries. One map, one lookup on every path: a host process's exit costs a compare.
 */
struct ew_cgroup_val {
	__u32 main_pid;		     /* tgid of the main process */
	__u32 pad;		     /* explicit padding; seeded entries have exec_ns 0 */
	__u64 main_start_ticks;	     /* its start, in /proc ticks */
	__u64 exec_ns;		     /* boot ns of the main exec; 0: seeded by the start-up scan */
	__u64 ready_ns;		     /* boot ns of the first listen(); 0 until then */
	__u64 stderr_inode;	     /* the inode of the main's fd 2 at exec (compared only) */
	struct ew_children children; /* exits of every other process in the cgroup */
	struct ew_killer killer;     /* last fatal signal from another process; sig 0 if none */
	/*
	 * The cgroup the main process exec'd in, when it has moved since (docker:dind, kind and
	 * systemd in a container move themselves into a child cgroup): the entry is re-keyed to
	 * the cgroup it lives in now, and its records keep this id, the container's. 0: the key.
	 * The stderr ring stays keyed by this id.
	 */
	__u64 home_cgroup_id;
};

/*
 * Map "mains": tgid of each main process in "cgroups" -> the cgroup id it is keyed by there, so
 * that a move (cgroup/cgroup_attach_task fires after it, when the old cgroup is gone from the
 * task) finds its entry.
 */

/* Map "stderr_tails": bytes written to fd 2, per tracked cgroup. */
struct ew_tail_val {
	__u64 total; /* bytes written since the main exec (created at the first write) */
	/*
	 * Only the first EW_STDERR_CAP bytes hold data; byte i of the stream sits at
	 * i % EW_STDERR_CAP. The array is twice that because the verifier bounds the offset
	 * (< CAP) and the length (<= CAP) of a copy separately, so it must see room for both.
	 */
	char ring[2 * EW_STDERR_CAP];
};

/* Per-CPU counters in map "stats": nothing is dropped silently. */
enum ew_stat {
	EW_STAT_EXEC_MAIN,    /* main-process execs emitted */
	EW_STAT_EXEC_REEXEC,  /* main-process re-execs emitted */
	EW_STAT_EXIT_MAIN,    /* main-process exits emitted */
	EW_STAT_EXIT_CHILD,   /* child exits counted in "cgroups" */
	EW_STAT_READY,	      /* ready records emitted */
	EW_STAT_DROP_EXEC,    /* ring buffer full: exec records lost */
	EW_STAT_DROP_EXIT,    /* ring buffer full: exit records lost */
	EW_STAT_DROP_READY,   /* ring buffer full: ready records lost */
	EW_STAT_MAP_FULL,     /* "cgroups" full: a main process not tracked */
	EW_STAT_TAIL_FAULT,   /* stderr bytes that could not be read from user memory */
	EW_STAT_SIGNALS,      /* fatal signals recorded against a main process */
	EW_STAT_OOM_VICTIMS,  /* OOM victims seen */
	EW_STAT_TAIL_FULL,    /* "stderr_tails" had no room: a container's stderr not kept */
	EW_STAT_MAIN_MOVES,   /* main processes that moved to another cgroup, followed there */
	EW_STAT_START_FAILED, /* start failures emitted (a ring buffer drop counts in DROP_EXIT) */
	EW_STAT__MAX
};

_Static_assert(sizeof(struct ew_hdr) == 24, "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_exec_event) ==
		       24 + 16 + 16 + 2 * EW_PATH_LEN + EW_CG_LEVELS * EW_CG_NAME_LEN,
	       "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_killer) == 40, "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_exit_event) == 24 + 32 + 32 + 40 + 16 + 8,
	       "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_exit_tail_event) == sizeof(struct ew_exit_event) + EW_STDERR_CAP,
	       "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_start_failed_event) == sizeof(struct ew_exec_event) + 16,
	       "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_ready_event) == 24 + 16 + 16, "ABI change: bump EW_ABI_VERSION");
_Static_assert(sizeof(struct ew_cgroup_val) == 40 + 32 + 40 + 8, "ABI change: bump EW_ABI_VERSION");
_Static_assert((EW_STDERR_CAP & (EW_STDERR_CAP - 1)) == 0, "EW_STDERR_CAP: a power of two");

#endif /* EXITWATCH_ABI_H */
