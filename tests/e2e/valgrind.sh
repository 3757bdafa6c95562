#!/usr/bin/env bash
# The real exitwatch under valgrind (memcheck) for ~10 s while container main processes start
# and exit, then SIGTERM: valgrind must exit 0 and report no error and no definitely lost byte.
# This is the uninstrumented binary users run, with the BPF programs loaded for real, the state
# file and the recording written: what ASan cannot cover because it needs its own build.
#
#   EXITWATCH   binary to run (default ${BUILD:-build}/exitwatch); an ASan build is skipped
#   EW_WORKLOAD the workload helper (default ${BUILD:-build}/tests/helpers/workload)
#   VG_SECONDS  how long containers come and go (default 10)
#
# False positives from valgrind's partial knowledge of bpf() are suppressed, narrowly and with
# the reason, in tests/e2e/valgrind.supp. Needs root and valgrind: without them the test is
# skipped, except under CI=true, where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
EW=${EXITWATCH:-$BUILD/exitwatch}
WORKLOAD=${EW_WORKLOAD:-$PWD/$BUILD/tests/helpers/workload}
VG_SECONDS=${VG_SECONDS:-10}
START_TIMEOUT_S=90 # loading and attaching the BPF programs is slow under valgrind
STOP_TIMEOUT_S=60  # so is tearing them down, and the leak check after it

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed (apt-get install valgrind)"
need_live_agent
# valgrind cannot run an ASan binary (make test SANITIZE=... sets EXITWATCH to one): not a
# missing tool, so not a failure under CI either.
if grep -q __asan_init "$EW"; then
	not_applicable "$EW is an ASan build, which valgrind cannot run"
fi

tmp=$(mktemp -d /tmp/ew-valgrind-XXXXXX)
base=$cgroot/ewvg-$$
vgpid=
cleanup() {
	if [ -n "$vgpid" ] && kill -0 "$vgpid" 2>/dev/null; then
		kill -KILL "$vgpid" 2>/dev/null || true
		wait "$vgpid" 2>/dev/null || true
	fi
	find "$base" -depth -type d -exec rmdir {} + 2>/dev/null || true
	if [ "${KEEP_LOGS:-}" != 1 ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# --track-fds=no: the agent keeps BPF map and link fds by design. Definite leaks are errors;
# "possibly lost" and "still reachable" blocks are libraries' one-time allocations.
valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--error-exitcode=99 --track-fds=no --suppressions=tests/e2e/valgrind.supp \
	--log-file="$tmp/valgrind.log" \
	"$EW" --config /dev/null --node valgrind-test --no-scan --agent-interval 2s \
	--state-file "$tmp/state.json" --record "$tmp/events.rec" \
	--rule exit_code_burst.window=1m --rule exit_code_burst.count=2 \
	>"$tmp/out.ndjson" 2>"$tmp/err.log" &
vgpid=$!

started=
for _ in $(seq $((START_TIMEOUT_S * 10))); do
	if grep -q '"phase":"start"' "$tmp/out.ndjson" 2>/dev/null; then
		started=1
		break
	fi
	kill -0 "$vgpid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$started" ]; then
	cat "$tmp/err.log" "$tmp/valgrind.log" >&2 || true
	fail "exitwatch did not print its start record within ${START_TIMEOUT_S}s under valgrind"
fi

# Container main processes as runc starts them: sh moves itself into the cgroup and execs the
# workload, whose parent (this script) stays outside. Docker- and systemd-shaped names, so the
# identity and metadata paths run too (the runtime files are absent: that path is exercised).
id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
layouts=("/docker/$id" "/system.slice/ewvg-api.service" "/plain/job")
for l in "${layouts[@]}"; do
	mkdir -p "$base$l"
done
runs=0
end=$((SECONDS + VG_SECONDS))
while [ $SECONDS -lt $end ]; do
	for l in "${layouts[@]}"; do
		run_in_cgroup "$base$l" "$WORKLOAD" stderr 3 "ModuleNotFoundError: x" 2>/dev/null || true
		runs=$((runs + 1))
	done
	sleep 0.5
done

kill -TERM "$vgpid"
status=
for _ in $(seq $((STOP_TIMEOUT_S * 10))); do
	if ! kill -0 "$vgpid" 2>/dev/null; then
		set +e
		wait "$vgpid"
		status=$?
		set -e
		break
	fi
	sleep 0.1
done
vgpid_left=$vgpid
vgpid=
if [ -z "$status" ]; then
	kill -KILL "$vgpid_left" 2>/dev/null || true
	fail "exitwatch did not stop within ${STOP_TIMEOUT_S}s of SIGTERM under valgrind"
fi

exits=$(grep -c "\"event\":\"container_exit\".*ewvg-$$" "$tmp/out.ndjson" || true)
printf 'valgrind: %d container runs, %s container_exit records, %s findings, exit status %s\n' \
	"$runs" "$exits" "$(grep -c '"event":"finding"' "$tmp/out.ndjson" || true)" "$status"
grep -E 'ERROR SUMMARY|definitely lost|All heap blocks were freed' "$tmp/valgrind.log" | sed 's/^/  /'

ok=1
if [ "$status" != 0 ]; then
	echo "valgrind: exit status $status (99: valgrind found errors)" >&2
	ok=
fi
if ! grep -q 'ERROR SUMMARY: 0 errors' "$tmp/valgrind.log"; then
	echo "valgrind: errors reported" >&2
	ok=
fi
if ! grep -qE 'definitely lost: 0 bytes|All heap blocks were freed|no leaks are possible' \
	"$tmp/valgrind.log"; then
	echo "valgrind: memory definitely lost" >&2
	ok=
fi
# Without records the run proves nothing: valgrind must not have kept the BPF side from working.
if [ "$exits" -lt "$runs" ]; then
	echo "valgrind: $runs container runs but $exits container_exit records" >&2
	ok=
fi
if [ -z "$ok" ]; then
	echo "--- valgrind log ($tmp/valgrind.log) ---" >&2
	cat "$tmp/valgrind.log" >&2
	echo "--- exitwatch stderr ---" >&2
	cat "$tmp/err.log" >&2
	KEEP_LOGS=1
	fail "see above"
fi
echo "valgrind: OK"
