#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A state file the agent cannot write (its volume read-only, here a tmpfs of the test remounted
# read-only): the agent runs on, and its one warning says what a restart would do, which depends
# on what the path holds:
#   - an older state (written before the volume became read-only): a restart restores it as it
#     was, so findings fired or resolved since would fire or resolve again (the warning said a
#     restart "would forget open episodes", the opposite);
#   - nothing: a restart forgets the open episodes.
# Needs root, BTF, cgroup v2 and mount(8). A missing one skips the test, except under CI=true,
# where it fails it.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
START_TIMEOUT_S=30

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
command -v mount >/dev/null || skip "mount is not installed (apt-get install mount)"
need_live_agent

tmp=$(mktemp -d /tmp/ew-e2e-state-ro.XXXXXX)
vol=$tmp/vol
EW_ERR_LOG=$tmp/ew.err
ew_pid=
cleanup() {
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	mountpoint -q "$vol" && umount "$vol"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$vol"
mount -t tmpfs -o size=1m tmpfs "$vol" || skip "cannot mount a tmpfs on $vol"

# run_agent: starts the agent on $vol/state.json (a checkpoint every second, nothing of the
# machine's containers: a subtree of none), waits for its start record, stops it after 2.5 s
# (two checkpoints at least) and leaves its stderr in $EW_ERR_LOG.
run_agent() {
	"$EW" --config /dev/null --no-scan --cgroup-subtree /ew-e2e-state-ro-none \
		--state-file "$vol/state.json" --set agent.checkpoint_interval=1s \
		>"$tmp/ew.out" 2>"$EW_ERR_LOG" &
	ew_pid=$!
	local end=$((SECONDS + START_TIMEOUT_S))
	until grep -q '"event":"agent".*"phase":"start"' "$tmp/ew.out" 2>/dev/null; do
		kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch exited early"
		[ "$SECONDS" -lt "$end" ] || fail "no agent start record within ${START_TIMEOUT_S}s"
		sleep 0.1
	done
	sleep 2.5
	kill -TERM "$ew_pid"
	wait "$ew_pid" || fail "exitwatch exited $? on SIGTERM"
	ew_pid=
}

# Nothing at the path: a restart forgets.
mount -o remount,ro "$vol"
run_agent
[ "$(grep -c 'cannot write the state file' "$EW_ERR_LOG")" = 1 ] ||
	fail "not one warning for a streak of failed checkpoints"
grep -q "cannot write the state file $vol/state.json: Read-only file system (detection goes on; a restart would forget open episodes" "$EW_ERR_LOG" ||
	fail "no warning that a restart would forget, with no state file"

# A state written while the volume was writable: a restart restores it, older than the run.
mount -o remount,rw "$vol"
run_agent
[ -s "$vol/state.json" ] || fail "no state file written on a writable volume"
mount -o remount,ro "$vol"
run_agent
grep -q "cannot write the state file $vol/state.json: Read-only file system (detection goes on; a restart would restore the older state the file holds" "$EW_ERR_LOG" ||
	fail "no warning that a restart would restore the older state"
echo "PASS: state-file-readonly"
