#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The capabilities the DaemonSet grants (deploy/k8s/base/daemonset.yaml: drop ALL, add BPF and
# PERFMON, uid 0; read from the manifest) are exactly the ones exitwatch needs:
#   1. with CAP_BPF + CAP_PERFMON only (setpriv: bounding set, no inheritable or ambient caps)
#      exitwatch loads, prints its agent start record, reports the container_exit of a workload
#      run as a container main process in a fresh cgroup v2 directory (exit 3, its stderr
#      tail), keeps CAP_BPF alone once attached, and exits 0 on SIGTERM;
#   2. with each of the two removed in turn, it exits 1 before loading anything, with the one
#      line from src/ingest/loader.c check_caps() naming exactly the missing capability.
# Needs root, BTF, a cgroup v2 mount, tracefs and setpriv (util-linux). A missing one skips the
# test, except under CI=true, where it fails it. EXITWATCH=PATH and EW_WORKLOAD=PATH test other
# binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
START_TIMEOUT_S=30
# What the DaemonSet grants, from its "add: [BPF, PERFMON]", in setpriv's spelling.
MANIFEST=deploy/k8s/base/daemonset.yaml
read -ra GRANTED <<<"$(grep -oP '^\s*add: \[\K[A-Z_, ]+(?=\])' "$MANIFEST" | tr 'A-Z,' 'a-z ')"
# 1 << CAP_BPF (39): all exitwatch keeps after attaching.
CAP_BPF_ONLY=0000008000000000

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
command -v setpriv >/dev/null || skip "setpriv is not installed (apt-get install util-linux)"
setpriv --list-caps | grep -x bpf >/dev/null ||
	skip "this setpriv does not know CAP_BPF (util-linux 2.36 or newer does)"
[ "${#GRANTED[@]}" -gt 0 ] || fail "no capabilities.add list in $MANIFEST"
need_live_agent

tmp=$(mktemp -d /tmp/ew-e2e-caps.XXXXXX)
EW_ERR_LOG=$tmp/ew.err
cgname=ew-e2e-caps-$$
cg=$cgroot/$cgname
ew_pid=
cleanup() {
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# with_caps CAP... -- CMD...: CMD as uid 0 with only CAP... (bounding set; nothing inheritable
# or ambient), as a container runtime grants them. CMD replaces the caller: run in the
# background, $! is CMD's pid.
with_caps() {
	local set=-all
	while [ "$1" != -- ]; do
		set+=",+$1"
		shift
	done
	shift
	exec setpriv --bounding-set="$set" --inh-caps=-all --ambient-caps=-all -- "$@"
}

# 1: exactly the granted capabilities. A bare cgroup has no runtime log: its stderr tail is the
# opt-in kernel capture's, which must load with these capabilities too.
with_caps "${GRANTED[@]}" -- "$EW" --config /dev/null --stderr-kernel \
	--set "agent.spool_dir=$tmp/spool" \
	>"$tmp/ew.out" 2>"$tmp/ew.err" &
ew_pid=$!
end=$((SECONDS + START_TIMEOUT_S))
until grep -q '"event":"agent".*"phase":"start"' "$tmp/ew.out" 2>/dev/null; do
	kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch with CAP_BPF + CAP_PERFMON exited early"
	[ "$SECONDS" -lt "$end" ] || fail "no agent start record within $START_TIMEOUT_S s"
	sleep 0.1
done
echo "granted ${GRANTED[*]}: $(grep -m1 '"phase":"start"' "$tmp/ew.out" | cut -c1-150)..."
eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$ew_pid/status")
[ "$eff" = "$CAP_BPF_ONLY" ] || fail "after attaching CapEff is $eff, not CAP_BPF alone ($CAP_BPF_ONLY)"
echo "after attaching: CapEff $eff (CAP_BPF only)"

mkdir "$cg"
rc=0
run_in_cgroup "$cg" "$WORKLOAD" stderr 3 'ModuleNotFoundError: deploy-caps' 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "the workload exited $rc, not 3"
pattern="\"event\":\"container_exit\".*\"cgroup\":\"/$cgname\".*\"code\":3.*ModuleNotFoundError: deploy-caps"
for _ in $(seq 1 100); do
	grep -q "$pattern" "$tmp/ew.out" && break
	sleep 0.1
done
grep -q "$pattern" "$tmp/ew.out" ||
	fail "no container_exit record (code 3, stderr tail) for /$cgname on stdout"
echo "container_exit: $(grep -m1 "$pattern" "$tmp/ew.out" | grep -o '"message":"[^"]*"')"
kill -TERM "$ew_pid"
rc=0
wait "$ew_pid" || rc=$?
ew_pid=
[ "$rc" = 0 ] || fail "exitwatch exited $rc on SIGTERM, not 0"
echo "SIGTERM: exit status 0"

# 2: each granted capability removed in turn.
for missing in "${GRANTED[@]}"; do
	keep=()
	for c in "${GRANTED[@]}"; do
		[ "$c" = "$missing" ] || keep+=("$c")
	done
	name=CAP_${missing^^}
	rc=0
	(with_caps "${keep[@]}" -- timeout 30 "$EW" --config /dev/null --no-scan \
		--set "agent.spool_dir=$tmp/spool") >"$tmp/ew.out" 2>"$tmp/ew.err" || rc=$?
	[ "$rc" = 1 ] || fail "without $name exitwatch exited $rc, not 1"
	[ "$(wc -l <"$tmp/ew.err")" = 1 ] || fail "without $name stderr is not one line"
	want="exitwatch: error: missing capabilities $name: exitwatch needs CAP_BPF and CAP_PERFMON"
	want+=" (or CAP_SYS_ADMIN) to load its tracepoint programs; run it as root or grant them"
	[ "$(cat "$tmp/ew.err")" = "$want" ] || fail "without $name stderr is: $(cat "$tmp/ew.err")"
	[ ! -s "$tmp/ew.out" ] || fail "without $name exitwatch printed records"
	echo "without $name: exit status 1, $(cat "$tmp/ew.err")"
done
echo "PASS: CAP_BPF and CAP_PERFMON are needed, and enough"
