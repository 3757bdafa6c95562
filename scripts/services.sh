#!/usr/bin/env bash
# Starts what the tests need and a fresh machine does not run: tracefs, a Docker daemon and a
# containerd with its CRI plugin. (syslog-ng and Prometheus are started by the tests that use
# them.) Needs root. Safe to run again: what runs already is left alone.
set -euo pipefail

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

# dockerd uses a containerd whose socket is at /run/containerd/containerd.sock, and starts its
# own when there is none: a socket left by a containerd that is gone would stop it starting.
sys_sock=/run/containerd/containerd.sock
if [ -S "$sys_sock" ] && ! ctr --address "$sys_sock" version >/dev/null 2>&1; then
	rm -f "$sys_sock" "$sys_sock.ttrpc"
fi

if ! docker info >/dev/null 2>&1; then
	if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
		systemctl start docker
	else
		# No init system (a CI container, this VM): run the daemon ourselves.
		nohup dockerd >/var/log/exitwatch-dockerd.log 2>&1 &
	fi
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 1
	done
	docker info >/dev/null 2>&1 || {
		echo "exitwatch: dockerd did not start; see /var/log/exitwatch-dockerd.log" >&2
		exit 1
	}
fi

# A containerd of its own for the CRI tests (tests/e2e/cri-containerd.sh), laid out as on a
# Kubernetes node (state /run/containerd) but with tests/cri/containerd.toml (a locally built
# sandbox image, no CNI, its socket in /run/exitwatch-cri so that dockerd never takes it for a
# system containerd). Docker's containerd (/run/docker/containerd) runs with its CRI plugin
# disabled and is left alone. A containerd started by the package's unit is stopped first:
# the state directory is ours.
cri_sock=/run/exitwatch-cri/containerd.sock
cri_pid=/run/exitwatch-containerd.pid
cri_ok() { ctr --address "$cri_sock" plugins ls 2>/dev/null | grep -q 'io.containerd.grpc.v1 *cri .* ok'; }
ours() { [ -s "$cri_pid" ] && kill -0 "$(cat "$cri_pid")" 2>/dev/null; }
if command -v containerd >/dev/null 2>&1 && ! { ours && cri_ok; }; then
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
		systemctl stop containerd
	fi
	here=$(cd "$(dirname "$0")/.." && pwd)
	mkdir -p "$(dirname "$cri_sock")"
	nohup containerd --config "$here/tests/cri/containerd.toml" \
		>/var/log/exitwatch-containerd.log 2>&1 &
	echo $! >"$cri_pid"
	for _ in $(seq 1 30); do
		cri_ok && break
		sleep 1
	done
	cri_ok || {
		echo "exitwatch: containerd (CRI) did not start; see /var/log/exitwatch-containerd.log" >&2
		exit 1
	}
fi
