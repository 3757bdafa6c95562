#!/usr/bin/env bash
# Memory at container churn, on the live kernel (issue 15): 40,000 unique container mains, each
# in a fresh cgroup, half exiting 0 and half 3, through the agent with its default
# configuration (bench/churn-soak.sh in CHECK mode, the same soak `make bench` runs with
# 200,000). It fails unless every start and exit was reported with its exit code and no record
# was lost, the agent's RSS stayed within 64 MiB (half the DaemonSet's limit), the RSS grew by
# at most 300 bytes per clean identity and 1 KiB per failing one while they are remembered
# (measured over the second step of 20,000, after the first has filled malloc's free lists),
# and the kernel's cgroups map is not left holding the soak's cgroups.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh

EW=${EXITWATCH:-build/exitwatch}
[ "$(id -u)" = 0 ] || skip "needs root"
command -v bpftool >/dev/null || skip "bpftool is missing (Debian package bpftool)"
command -v gcc >/dev/null || skip "gcc is missing"
[ -x "$EW" ] || fail "$EW is not built"
CHECK=1 EXITWATCH=$EW bash bench/churn-soak.sh 40000 20000 || fail "the churn soak is out of bounds"
echo "PASS: churn soak"
