#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# exitwatch on a real Kubernetes container runtime: containerd's CRI plugin, 1.6 (the host's), then
# 1.7 and 2 (the versions GKE nodes run, scripts/fetch-containerd.sh), each driven as a kubelet
# drives it (tests/cri/kubelet.py, tests/cri/test_cri.py say what is run and asserted):
# a crash-looping pod's names, identity, workload, CRI-log stderr tails and findings; exec
# probes and `kubectl exec` that give no record across an exitwatch restart; the sandbox never
# reported; an app and its sidecar; an init container; a pod deleted while it loops; a container
# that fails within a millisecond of its exec, read after containerd deleted its bundle; liveness
# kills, an OOM kill under a memory limit, exit 0 restarted, Jobs, a rollout (tests/cri/lifecycle.py).
# Needs root, BTF, tracefs, the standalone containerd that scripts/services.sh starts (socket
# /run/exitwatch-cri/containerd.sock, CRI enabled), Docker (to build the images), python3 with
# grpcio, protobuf and websocket, protoc, and Debian's mirror for the matrix's containerd (cached
# in EW_CONTAINERD_CACHE, default /var/cache/exitwatch-containerd). A missing one skips the test,
# except under CI=true.
# The systemd cgroup driver is not run: runc's systemd driver creates each container's scope
# through systemd's D-Bus API, and these machines have no systemd (PID 1 is not systemd).
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
SOCK=/run/exitwatch-cri/containerd.sock
# Debian's python3 (python3-grpcio and python3-protobuf live in its dist-packages), whatever
# python3 comes first in PATH.
PY=/usr/bin/python3

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
need_live_agent
command -v ctr >/dev/null || skip "containerd is not installed (scripts/deps.sh test)"
command -v protoc >/dev/null || skip "protoc is not installed (apt-get install protobuf-compiler)"
"$PY" -c "import grpc, google.protobuf, websocket" 2>/dev/null ||
	skip "python3-grpcio, python3-protobuf or python3-websocket is missing (scripts/deps.sh test)"
docker info >/dev/null 2>&1 || skip "no Docker daemon to build the images (scripts/services.sh)"
# Whether the containerd on $SOCK, whichever it is, serves CRI.
cri_ok() {
	ctr --address "$SOCK" plugins ls 2>/dev/null | grep -q 'io.containerd.grpc.v1 *cri .* ok'
}
cri_ok || skip "no containerd with CRI on $SOCK (scripts/services.sh starts one)"

# The host's containerd first: Debian 12's 1.6, scripts/services.sh's.
tests/cri/images.sh >/dev/null
EXITWATCH=$EW "$PY" tests/cri/test_cri.py

# Then the versions GKE nodes run, 1.7 and 2 (scripts/fetch-containerd.sh brings them from
# Debian's later releases), each in turn in the host one's place: the same socket and state
# directory (/run/containerd, which one containerd owns at a time), a root of its own (a later
# containerd migrates the metadata it finds), the same configuration otherwise (2.x migrates
# its version 2 in memory, as on a node upgraded to it). Whatever happens, the host's is started
# again at the end. EW_CRI_VERSIONS="" runs the host's alone.
read -r -a versions <<<"${EW_CRI_VERSIONS-1.7 2}"
[ ${#versions[@]} -gt 0 ] || exit 0
cache=${EW_CONTAINERD_CACHE:-/var/cache/exitwatch-containerd}
scripts/fetch-containerd.sh "$cache" "${versions[@]}" ||
	skip "containerd ${versions[*]} could not be fetched from Debian (scripts/fetch-containerd.sh)"

host_pid=/run/exitwatch-containerd.pid
matrix_pid=/run/exitwatch-containerd-matrix.pid

# Stops the containerd of the pid file $1, if it runs.
cri_stop() {
	local pid

	pid=$(cat "$1" 2>/dev/null) || return 0
	rm -f "$1"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

cri_restore() {
	cri_stop "$matrix_pid"
	scripts/services.sh >/dev/null
}
trap cri_restore EXIT

for v in "${versions[@]}"; do
	bin=$cache/$v/usr/bin
	# A container left running would keep a shim of the last containerd on the state
	# directory the next one takes.
	left=$(ctr --address "$SOCK" -n k8s.io tasks ls -q 2>/dev/null | wc -l)
	[ "$left" = 0 ] || fail "$left CRI containers still run before containerd $v takes over"
	cri_stop "$host_pid"
	cri_stop "$matrix_pid"
	conf=/run/exitwatch-cri/containerd-$v.toml
	sed "s|^root = .*|root = \"/var/lib/exitwatch-containerd-$v\"|" tests/cri/containerd.toml >"$conf"
	PATH=$bin:$PATH nohup "$bin/containerd" --config "$conf" \
		>"/var/log/exitwatch-containerd-$v.log" 2>&1 &
	echo $! >"$matrix_pid"
	for _ in $(seq 1 30); do
		cri_ok && break
		sleep 1
	done
	cri_ok || fail "containerd $v did not start (/var/log/exitwatch-containerd-$v.log)"
	echo "== containerd $v"
	# Its own ctr imports the images, and its own shim runs the containers.
	PATH=$bin:$PATH tests/cri/images.sh >/dev/null
	PATH=$bin:$PATH EXITWATCH=$EW EW_CRI_VERSION=$v \
		EW_CRI_ROOT=/var/lib/exitwatch-containerd-$v/io.containerd.grpc.v1.cri \
		"$PY" tests/cri/test_cri.py
done
