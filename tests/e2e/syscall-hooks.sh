#!/usr/bin/env bash
# What the node's syscalls pay for exitwatch is decided by what it attaches: a syscall
# tracepoint (tp/syscalls/*, raw_syscalls) puts every syscall of every task through the tracing
# slow path, anything else leaves syscalls alone. So, from the kernel's own list of the agent's
# attachments (bpftool perf show):
#   - the default configuration attaches no syscall tracepoint at all;
#   - --stderr-kernel, the opt-in capture, attaches the write-family ones (the positive
#     control: the check can see syscall tracepoints when there are some).
# The cost in ns is a benchmark (make bench, "Syscall tax"); this is the guarantee behind it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh

EW=${EXITWATCH:-build/exitwatch}
[ "$(id -u)" = 0 ] || skip "needs root"
command -v bpftool >/dev/null || skip "bpftool is missing (Debian package bpftool)"
[ -x "$EW" ] || fail "$EW is not built"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

tmp=$(mktemp -d)
ew_pid=
cleanup() {
	[ -z "$ew_pid" ] || kill -INT "$ew_pid" 2>/dev/null || true
	[ -z "$ew_pid" ] || wait "$ew_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export EW_ERR_LOG=$tmp/ew.err

# The tracepoints the agent started with "$@" attached, one name a line.
hooks_of() {
	"$EW" --config /dev/null --no-scan --agent-interval 1h "$@" >"$tmp/ew.out" 2>"$tmp/ew.err" &
	ew_pid=$!
	for _ in $(seq 1 100); do
		grep -q '"phase":"start"' "$tmp/ew.out" 2>/dev/null && break
		kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch $* exited early"
		sleep 0.1
	done
	grep -q '"phase":"start"' "$tmp/ew.out" || fail "exitwatch $*: no agent start record"
	bpftool -j perf show pid "$ew_pid" | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("pid") == int(sys.argv[1]):
        print(p.get("tracepoint") or p.get("func") or p.get("fd_type"))' "$ew_pid" >"$tmp/hooks"
	kill -INT "$ew_pid"
	wait "$ew_pid" || fail "exitwatch $* exited $? on SIGINT"
	ew_pid=
	[ -s "$tmp/hooks" ] || fail "exitwatch $*: bpftool lists no attachment at all"
	cat "$tmp/hooks"
}

is_syscall_hook() { grep -E '^(sys_enter|sys_exit)(_|$)'; }

hooks_of >"$tmp/default"
echo "default: $(tr '\n' ' ' <"$tmp/default")"
grep -qx sched_process_exec "$tmp/default" || fail "default: sched_process_exec not attached"
if is_syscall_hook <"$tmp/default" >"$tmp/bad"; then
	fail "the default configuration attaches syscall tracepoints: $(tr '\n' ' ' <"$tmp/bad")"
fi

hooks_of --stderr-kernel >"$tmp/kernel"
echo "--stderr-kernel: $(tr '\n' ' ' <"$tmp/kernel")"
for tp in sys_enter_write sys_exit_write sys_enter_writev sys_exit_writev; do
	grep -qx "$tp" "$tmp/kernel" || fail "--stderr-kernel: $tp not attached"
done

echo "PASS: the default configuration attaches no syscall tracepoint; --stderr-kernel attaches $(is_syscall_hook <"$tmp/kernel" | wc -l)"
