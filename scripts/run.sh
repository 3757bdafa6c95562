#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running exitwatch: installs the build
# dependencies if missing, builds, mounts tracefs if needed, and runs it with your arguments.
# Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
make -s
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/tracing
exec build/exitwatch "$@"
