#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# exitwatch on a real Kubernetes container runtime: containerd 1.6's CRI plugin driven as a
# kubelet drives it (tests/cri/kubelet.py, tests/cri/test_cri.py say what is run and asserted):
# a crash-looping pod's names, identity, workload, CRI-log stderr tails and findings; exec
# probes and `kubectl exec` that give no record across an exitwatch restart; the sandbox never
# reported; an app and its sidecar; an init container; a pod deleted while it loops; a container
# that fails within a millisecond of its exec, read after containerd deleted its bundle; liveness
# kills, an OOM kill under a memory limit, exit 0 restarted, Jobs, a rollout (tests/cri/lifecycle.py).
# Needs root, BTF, tracefs, the standalone containerd that scripts/services.sh starts (socket
# /run/exitwatch-cri/containerd.sock, CRI enabled), Docker (to build the images), python3 with
# grpcio, protobuf and websocket, protoc. A missing one skips the test, except under CI=true.
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
ctr --address "$SOCK" plugins ls 2>/dev/null | grep -q 'io.containerd.grpc.v1 *cri .* ok' ||
	skip "no containerd with CRI on $SOCK (scripts/services.sh starts one)"

tests/cri/images.sh >/dev/null
EXITWATCH=$EW "$PY" tests/cri/test_cri.py
