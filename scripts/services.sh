#!/usr/bin/env bash
# Starts what the tests need and a fresh machine does not run: tracefs and a Docker daemon.
# (syslog-ng and Prometheus are started by the tests that use them.) Needs root.
set -euo pipefail

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

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
