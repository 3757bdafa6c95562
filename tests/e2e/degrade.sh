#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A kernel or node without a feature's prerequisite turns that one feature off; the core goes
# on. Here: no tracefs, and no way to mount it. exitwatch runs in a private mount namespace
# where tracefs (and debugfs, whose tracing/ directory would mount it on access) is unmounted,
# with only the capabilities the DaemonSet grants (CAP_BPF + CAP_PERFMON, so no mount(2)).
# Then:
#   - it starts (no exit 1), and says in exactly one warning line that tracefs is missing and
#     which features are off;
#   - the agent record's features say stderr_tail and oom false, and killer and
#     ready_tracking (tp_btf programs, which need no tracefs) true;
#   - a container main process that exits 3 still gives its container_exit with code 3.
# Needs root, BTF, cgroup v2, unshare and setpriv (util-linux). A missing one skips the test,
# except under CI=true, where it fails it.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
START_TIMEOUT_S=30

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
command -v setpriv >/dev/null || skip "setpriv is not installed (apt-get install util-linux)"
command -v unshare >/dev/null || skip "unshare is not installed (apt-get install util-linux)"
need_live_agent

tmp=$(mktemp -d /tmp/ew-e2e-degrade.XXXXXX)
EW_ERR_LOG=$tmp/ew.err
cgname=ew-e2e-degrade-$$
cg=$cgroot/$cgname
ew_pid=
cleanup() {
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# The agent's view: tracefs and debugfs gone (private propagation: the host keeps both), then
# only CAP_BPF and CAP_PERFMON. `exec` keeps one pid from unshare to exitwatch.
unshare --mount --propagation private -- sh -c '
	umount -l /sys/kernel/debug/tracing 2>/dev/null
	umount -l /sys/kernel/debug 2>/dev/null
	umount -l /sys/kernel/tracing 2>/dev/null
	if [ -e /sys/kernel/tracing/events/sched ] || [ -e /sys/kernel/debug/tracing/events/sched ]
	then
		echo "tracefs is still visible" >&2
		exit 99
	fi
	exec setpriv --bounding-set=-all,+bpf,+perfmon --inh-caps=-all --ambient-caps=-all -- "$@"
' sh "$EW" --config /dev/null --no-scan --stderr-kernel --set "agent.spool_dir=$tmp/spool" \
	>"$tmp/ew.out" 2>"$tmp/ew.err" &
ew_pid=$!
end=$((SECONDS + START_TIMEOUT_S))
until grep -q '"event":"agent".*"phase":"start"' "$tmp/ew.out" 2>/dev/null; do
	kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch without tracefs exited early"
	[ "$SECONDS" -lt "$end" ] || fail "no agent start record within $START_TIMEOUT_S s"
	sleep 0.1
done

warn='exitwatch: warning: tracefs is not mounted and cannot be'
[ "$(grep -c "^$warn" "$tmp/ew.err")" = 1 ] || fail "no single warning line '$warn...'"
grep -q "^$warn.*: the kernel stderr capture (--stderr-kernel) and OOM attribution off" \
	"$tmp/ew.err" ||
	fail "the warning does not say which features are off: $(grep "^$warn" "$tmp/ew.err")"
echo "warning: $(grep "^$warn" "$tmp/ew.err")"

features=$(grep -m1 '"phase":"start"' "$tmp/ew.out" | grep -o '"features":{[^}]*}')
for off in stderr_tail oom; do
	case $features in *"\"$off\":false"*) ;; *) fail "features.$off is not false: $features" ;; esac
done
for on in killer ready_tracking; do
	case $features in *"\"$on\":true"*) ;; *) fail "features.$on is not true: $features" ;; esac
done
echo "agent record: $features"

mkdir "$cg"
rc=0
run_in_cgroup "$cg" "$WORKLOAD" stderr 3 'degraded but watching' 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "the workload exited $rc, not 3"
pattern="\"event\":\"container_exit\".*\"cgroup\":\"/$cgname\".*\"code\":3"
for _ in $(seq 1 100); do
	grep -q "$pattern" "$tmp/ew.out" && break
	sleep 0.1
done
grep -q "$pattern" "$tmp/ew.out" || fail "no container_exit (code 3) for /$cgname without tracefs"
if grep "$pattern" "$tmp/ew.out" | grep -q '"stderr_tail"'; then
	fail "a stderr tail without the stderr program"
fi
echo "container_exit: $(grep -m1 "$pattern" "$tmp/ew.out" | grep -o '"message":"[^"]*"')"
kill -TERM "$ew_pid"
rc=0
wait "$ew_pid" || rc=$?
ew_pid=
[ "$rc" = 0 ] || fail "exitwatch exited $rc on SIGTERM, not 0"

# The default configuration has no kernel stderr capture to turn off (its tails come from the
# runtimes' log files, which need no tracefs): the warning names OOM attribution alone.
unshare --mount --propagation private -- sh -c '
	umount -l /sys/kernel/debug/tracing 2>/dev/null
	umount -l /sys/kernel/debug 2>/dev/null
	umount -l /sys/kernel/tracing 2>/dev/null
	exec setpriv --bounding-set=-all,+bpf,+perfmon --inh-caps=-all --ambient-caps=-all -- "$@"
' sh "$EW" --config /dev/null --no-scan --set "agent.spool_dir=$tmp/spool" \
	>"$tmp/ew2.out" 2>"$tmp/ew2.err" &
ew_pid=$!
end=$((SECONDS + START_TIMEOUT_S))
until grep -q '"event":"agent".*"phase":"start"' "$tmp/ew2.out" 2>/dev/null; do
	kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch without tracefs (defaults) exited early"
	[ "$SECONDS" -lt "$end" ] || fail "no agent start record within $START_TIMEOUT_S s"
	sleep 0.1
done
kill -TERM "$ew_pid"
wait "$ew_pid" || true
ew_pid=
grep -q "^$warn.*: OOM attribution off;" "$tmp/ew2.err" ||
	fail "with the defaults the warning is not about OOM attribution alone: $(cat "$tmp/ew2.err")"
echo "defaults: $(grep "^$warn" "$tmp/ew2.err")"
echo "PASS: without tracefs the tracefs features are off, said once, and exits are reported"
