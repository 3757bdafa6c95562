# Sourced by the tests in tests/e2e/: how they skip and fail, and what several of them share.
# A missing tool or privilege skips a test (exit 0), except under CI=true, where CI must run
# everything and a skip is a failure. Every skip is also appended to $EW_SKIP_LOG, which
# tests/run-integration.sh lists at the end of the run. fail() prints the agent's stderr when
# $EW_ERR_LOG names a non-empty file.

log_skip() {
	if [ -n "${EW_SKIP_LOG:-}" ]; then
		echo "e2e ${0##*/}: $*" >>"$EW_SKIP_LOG" || true
	fi
}

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (CI=true: a missing tool is a failure)" >&2
		exit 1
	fi
	echo "SKIP: $*"
	log_skip "$*"
	exit 0
}

# A test that has nothing to do in this run by design, not for want of a tool or a privilege
# (valgrind cannot run an ASan binary): said and listed like a skip, but not a failure in CI.
not_applicable() {
	echo "SKIP: $* (not applicable to this run)"
	log_skip "$* (not applicable to this run)"
	exit 0
}

fail() {
	echo "FAIL: $*" >&2
	if [ -n "${EW_ERR_LOG:-}" ] && [ -s "$EW_ERR_LOG" ]; then
		sed 's/^/  exitwatch: /' "$EW_ERR_LOG" >&2
	fi
	exit 1
}

# What a test that runs the agent on the live kernel needs: the binaries built, a cgroup v2
# hierarchy (its mount point is left in $cgroot) and tracefs, which tp/syscalls/* and tp/oom/*
# attach through. Expects $EW and $WORKLOAD.
need_live_agent() {
	[ -x "$EW" ] || skip "$EW is not built (make)"
	[ -x "$WORKLOAD" ] || skip "$WORKLOAD is not built (make test-build)"
	cgroot=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-") {
			if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
	[ -n "$cgroot" ] || skip "no cgroup v2 hierarchy is mounted"
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing ||
		skip "cannot mount tracefs on /sys/kernel/tracing"
}

# A 127.0.0.1 TCP port nothing listens on at the time of the call (needs python3).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_in_cgroup DIR CMD...: CMD as the main process of the cgroup v2 directory DIR, started the
# way runc starts a container's: a shell moves itself into DIR and execs CMD, while its parent
# (the caller) stays outside. Its status is CMD's, or the shell's if it could not join DIR.
run_in_cgroup() {
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$@"
}

# http_get URL [QUERY]: the body on stdout; fails unless the answer is 200. QUERY is
# URL-encoded as ?query=QUERY (Prometheus' API). No proxy: everything here is on 127.0.0.1.
http_get() {
	python3 - "$@" <<'EOF'
import sys, urllib.parse, urllib.request
url = sys.argv[1]
if len(sys.argv) > 2:
    url += "?" + urllib.parse.urlencode({"query": sys.argv[2]})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(url, timeout=5) as r:
        sys.stdout.buffer.write(r.read())
except Exception:
    sys.exit(1)
EOF
}

# wait_http_200 URL SECONDS WHAT: until URL answers 200, or fail naming WHAT after SECONDS.
wait_http_200() {
	local end=$((SECONDS + $2))
	until http_get "$1" >/dev/null; do
		[ "$SECONDS" -lt "$end" ] || fail "$3: $1 did not answer 200 within $2 s"
		sleep 0.1
	done
}
