#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# exitwatch on Podman, rootful: a container under --restart=always that prints a line to stderr
# and exits 3. Every container_exit has the identity podman:<id> (Podman keeps the id across
# its restarts), the container's name and image (from containers/storage's containers.json),
# code 3 and the stderr line (from the k8s-file log, conmon's userdata/ctr.log), and the
# default crash_loop rule fires at the 2nd exit and exit_code_burst once, named, after the 4th.
# The OCI runtime is runc: crun refuses this machine's hybrid cgroups ("cgroups in hybrid mode
# not supported"); crun runs in the kernel matrix's pure cgroup v2 guests (scripts/vmtest).
# Podman 4.3's default ulimits (nofile 1048576) fail with EPERM without CAP_SYS_RESOURCE, as
# on this VM: the container gets 1024, as Docker's do.
# Then a command that is not in the image: podman run fails (127) and its one container_exit is of
# class start_failed, named by Podman's files, with no container_start.
# Needs root, BTF, tracefs, podman and Docker (the image is built with Docker, then loaded).
# A missing one skips the test, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
TIMEOUT_S=60
LINE="ModuleNotFoundError: No module named 'app.services.monitoring'"

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
need_live_agent
command -v podman >/dev/null || skip "podman is not installed (scripts/deps.sh test)"
command -v jq >/dev/null || skip "jq is not installed (scripts/deps.sh test)"
docker info >/dev/null 2>&1 || skip "no Docker daemon to build the image (scripts/services.sh)"

tests/docker/build-image.sh >/dev/null
docker save exitwatch-test:latest | podman load -q >/dev/null

tmp=$(mktemp -d /tmp/ew-e2e-podman.XXXXXX)
EW_ERR_LOG=$tmp/ew.err
name=ew-podman-$$
ew_pid=
cleanup() {
	# One at a time: podman rm of two where one is gone already removes neither.
	local c
	for c in "$name" "$name-nocmd"; do
		podman rm -f "$c" >/dev/null 2>&1 || true
	done
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$EW" --config /dev/null --set "agent.spool_dir=$tmp/spool" >"$tmp/ew.out" 2>"$tmp/ew.err" &
ew_pid=$!
end=$((SECONDS + TIMEOUT_S))
until grep -q '"phase":"start"' "$tmp/ew.out" 2>/dev/null; do
	kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch exited early"
	[ "$SECONDS" -lt "$end" ] || fail "no agent start record within $TIMEOUT_S s"
	sleep 0.1
done

id=$(podman run -d --runtime runc --name "$name" --restart=always \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	localhost/exitwatch-test:latest /usr/local/bin/workload stderr 3 "$LINE")
echo "podman container $name: $id"
mine() { jq -c --arg id "$id" 'select(.container.id == $id)' "$tmp/ew.out"; }
burst() { mine | jq -s 'map(select(.event == "finding" and .rule == "exit_code_burst"))'; }
until [ "$(burst | jq length)" -ge 1 ]; do
	kill -0 "$ew_pid" 2>/dev/null || fail "exitwatch exited early"
	[ "$SECONDS" -lt "$end" ] || fail "no exit_code_burst finding for $name within $TIMEOUT_S s"
	sleep 0.2
done
podman rm -f "$name" >/dev/null
sleep 0.5

exits=$(mine | jq -s 'map(select(.event == "container_exit"))')
n=$(jq length <<<"$exits")
[ "$n" -ge 4 ] || fail "$n container_exit records, not at least 4"
bad=$(jq --arg id "$id" --arg name "$name" --arg line "$LINE" 'map(select(
	.container.identity != "podman:\($id)" or .container.runtime != "podman" or
	.container.name != $name or .container.image != "localhost/exitwatch-test:latest" or
	.exit.code != 3 or .exit.class != "config_error" or
	.stderr_tail != "\($line)\n")) | length' <<<"$exits")
[ "$bad" = 0 ] || fail "$bad of $n exits lack podman:<id>, the name, the image, code 3 or the tail: $(jq -c '.[0]' <<<"$exits")"
echo "$n exits: identity podman:${id:0:12}..., name $name, image localhost/exitwatch-test:latest, code 3, stderr tail"
# crash_loop speaks at the second failed start, exit_code_burst at the fourth exit in 5 minutes.
f=$(mine | jq -s 'map(select(.event == "finding"))')
jq -e --arg id "$id" --arg name "$name" '.[0] | .rule == "crash_loop" and .count == 2 and
	.container.identity == "podman:\($id)" and .container.name == $name' <<<"$f" >/dev/null ||
	fail "the first finding is not crash_loop at the 2nd exit, named: $(jq -c '.[0]' <<<"$f")"
f=$(burst)
jq -e --arg id "$id" --arg name "$name" '.[0] | .count == 4 and
	.container.identity == "podman:\($id)" and .container.name == $name' <<<"$f" >/dev/null ||
	fail "exit_code_burst is not on the 4th exit, named: $(jq -c '.[0]' <<<"$f")"
echo "finding: $(jq -r '.[0].message' <<<"$f")"
rc=0
podman run --runtime runc --name "$name-nocmd" --ulimit nofile=1024:1024 \
	--ulimit nproc=1024:1024 localhost/exitwatch-test:latest /no/such/app 2>/dev/null || rc=$?
[ "$rc" = 127 ] || fail "podman run of a missing command returned $rc, not 127"
nocmd() { jq -c --arg n "$name-nocmd" 'select(.container.name == $n)' "$tmp/ew.out"; }
until [ -n "$(nocmd)" ]; do
	[ "$SECONDS" -lt "$end" ] || fail "no record of $name-nocmd within $TIMEOUT_S s"
	sleep 0.2
done
sleep 0.5
r=$(nocmd | jq -s .)
jq -e 'length == 1 and .[0].event == "container_exit" and .[0].exit.class == "start_failed" and
	.[0].container.runtime == "podman" and (.[0].container.identity | startswith("podman:")) and
	.[0].process.comm == "runc:[2:INIT]"' <<<"$r" >/dev/null ||
	fail "$name-nocmd: not one start_failed container_exit, named: $(jq -c . <<<"$r")"
echo "start failure: $(jq -r '.[0].message' <<<"$r")"
if [ -n "${EW_RECORD_LOG:-}" ]; then
	cat "$tmp/ew.out" >>"$EW_RECORD_LOG"
fi
echo "PASS: Podman containers are named, and their crash loop found"
