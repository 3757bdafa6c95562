#!/usr/bin/env bash
# End to end: exitwatch's stream sinks into a real syslog-ng, which goes away in the middle of
# a burst and comes back. A synthetic recording (gen-recording.py: crash-looping containers, a
# few thousand container_*, finding and resolved records, more bytes than the resend window) is
# replayed once into a file, which gives the expected lines, then three times, paced over ~7 s,
# into syslog-ng: through tcp://127.0.0.1:PORT and through unix:PATH, about a third of the way in
# syslog-ng gets SIGTERM (it reads what is pending, then exits); through a second TCP port,
# two thirds of the way in (over 4 MiB sent), it is stalled (SIGSTOP) for 0.5 s and then killed
# (SIGKILL), losing what sat unread in its socket.
# Each time it starts again 2 s later with the same configuration. Then:
#   - exitwatch exits 0, and it did lose its connection and reconnect;
#   - after removing duplicates on logging.googleapis.com/insertId (the resend window sends
#     recent lines again after a reconnect), syslog-ng's file holds every expected line, byte
#     for byte, once and in order; every copy of a line is identical;
#   - lines that are not JSON (a line cut by the stop) are counted: at most 2 per restart.
# Needs syslog-ng (Debian: syslog-ng-core), python3 and ss (iproute2); no root. A missing tool
# skips the test, except under CI=true, where it fails it. EXITWATCH=PATH tests another binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
DURATION_S=7	  # paced replay
STOP_AFTER_S=2.3  # about a third of the way in
KILL_AFTER_S=4.7  # two thirds: more than the resend window has been sent by then
DOWN_S=2	  # syslog-ng stopped this long
STALL_S=0.5	  # and before that, stalled this long
MSG_SIZE=262144	  # syslog-ng's log-msg-size: must exceed our longest line
MAX_CUT_PER_RESTART=2

. tests/e2e/lib.sh

command -v syslog-ng >/dev/null || skip "syslog-ng is not installed (apt-get install syslog-ng-core)"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v ss >/dev/null || skip "ss is not installed (apt-get install iproute2)"
[ -x "$EW" ] || skip "$EW is not built (make)"

tmp=$(mktemp -d /tmp/ew-e2e-syslog-ng.XXXXXX)
sng_pid=
ew_pid=
cleanup() {
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	[ -n "$sng_pid" ] && kill "$sng_pid" 2>/dev/null && wait "$sng_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1: the recording, and the expected lines (the same replay, at once, into a file).
rec=$tmp/recording.ndjson
span=$(tests/e2e/gen-recording.py --identities 40 --episodes 8 "$rec")
"$EW" replay --config /dev/null -o "file:$tmp/expected.ndjson" "$rec"
nexp=$(wc -l <"$tmp/expected.ndjson")
longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 1 }' "$tmp/expected.ndjson")
[ "$nexp" -ge 1000 ] || fail "the recording gave only $nexp lines"
[ "$longest" -lt "$MSG_SIZE" ] || fail "longest line $longest bytes >= log-msg-size $MSG_SIZE"
# Kept for tests/e2e/validate-schema.sh, which run-integration.sh runs last.
if [ -n "${EW_RECORD_LOG:-}" ]; then
	cat "$tmp/expected.ndjson" >>"$EW_RECORD_LOG"
fi
speed=$(python3 -c "print(round($span / $DURATION_S, 3))")
echo "expected: $nexp lines, $(wc -c <"$tmp/expected.ndjson") bytes, longest $longest bytes" \
	"(syslog-ng log-msg-size $MSG_SIZE); replay span ${span}s at --speed $speed"

# 2: syslog-ng, with a TCP and a Unix stream source, each stored raw in its own file.
port=$(free_port)
port2=$port
while [ "$port2" = "$port" ]; do port2=$(free_port); done
sock=$tmp/syslog-ng.sock
conf=$tmp/syslog-ng.conf
version=$(syslog-ng --version | sed -n 's/^Config version: *//p')
cat >"$conf" <<EOF
@version: ${version:-3.35}
options { log-msg-size($MSG_SIZE); stats-freq(0); use-dns(no); mark-freq(0); };
source s_tcp { network(transport(tcp) ip(127.0.0.1) port($port) flags(no-parse)
	log-msg-size($MSG_SIZE) log-iw-size(100000)); };
source s_tcp2 { network(transport(tcp) ip(127.0.0.1) port($port2) flags(no-parse)
	log-msg-size($MSG_SIZE) log-iw-size(100000)); };
source s_unix { unix-stream("$sock" flags(no-parse) log-msg-size($MSG_SIZE)
	log-iw-size(100000)); };
destination d_tcp { file("$tmp/tcp.out" template("\$MSG\n")); };
destination d_unix { file("$tmp/unix.out" template("\$MSG\n")); };
destination d_tcp2 { file("$tmp/tcp-killed.out" template("\$MSG\n")); };
log { source(s_tcp); destination(d_tcp); flags(flow-control); };
log { source(s_unix); destination(d_unix); flags(flow-control); };
log { source(s_tcp2); destination(d_tcp2); flags(flow-control); };
EOF
syslog-ng --syntax-only -f "$conf" || fail "syslog-ng rejects $conf"

sng_start() {
	syslog-ng -F -f "$conf" -R "$tmp/syslog-ng.persist" -p "$tmp/syslog-ng.pid" \
		-c "$tmp/syslog-ng.ctl" >>"$tmp/syslog-ng.log" 2>&1 &
	sng_pid=$!
	for _ in $(seq 1 100); do
		if [ -S "$sock" ] && [ "$(ss -Hltn "( sport = :$port or sport = :$port2 )" |
			wc -l)" = 2 ]; then
			return 0
		fi
		kill -0 "$sng_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/syslog-ng.log" >&2
	fail "syslog-ng did not start listening on 127.0.0.1:$port, :$port2 and $sock"
}
sng_stop() {
	kill -TERM "$sng_pid"
	wait "$sng_pid" || true
	sng_pid=
}
# A receiver that stalls (say, on a slow destination) and then dies: lines pile up unread in
# its socket for STALL_S and are lost with it (syslog-ng reads what is pending before it obeys a
# SIGTERM, so only a crash shows that loss).
sng_kill() {
	kill -STOP "$sng_pid"
	sleep "$STALL_S"
	kill -KILL "$sng_pid"
	wait "$sng_pid" || true
	sng_pid=
}
sng_start

# 3: for each transport, the paced replay with syslog-ng restarted under it.
check() { # NAME OUTFILE RESTARTS
	python3 - "$tmp/expected.ndjson" "$2" "$1" "$3" "$MAX_CUT_PER_RESTART" <<'EOF'
import json, sys

expected_path, got_path, name, restarts, max_cut = sys.argv[1:]
expected = open(expected_path, encoding="utf-8").read().splitlines()
got = open(got_path, encoding="utf-8", errors="replace").read().splitlines()
first, order, cut, dups = {}, [], [], 0
for line in got:
    try:
        rec = json.loads(line)
        iid = rec["logging.googleapis.com/insertId"]
    except (ValueError, KeyError, TypeError):
        cut.append(line)
        continue
    if iid in first:
        dups += 1
        if first[iid] != line:
            sys.exit("FAIL %s: two different lines with insertId %s" % (name, iid))
        continue
    first[iid] = line
    order.append(line)
print("%s: received %d lines: %d unique, %d sent again, %d not JSON (cut)"
      % (name, len(got), len(order), dups, len(cut)))
for c in cut:
    print("  cut: %.100s%s" % (c, "..." if len(c) > 100 else ""))
if len(cut) > int(max_cut) * int(restarts):
    sys.exit("FAIL %s: %d cut lines, at most %d per restart" % (name, len(cut), int(max_cut)))
for i, (e, g) in enumerate(zip(expected, order)):
    if e != g:
        sys.exit("FAIL %s: unique line %d differs:\n  want %.150s\n  got  %.150s" % (name, i, e, g))
if len(order) != len(expected):
    sys.exit("FAIL %s: %d unique lines, want %d (first missing: %.150s)"
             % (name, len(order), len(expected), expected[len(order)] if len(order) < len(expected) else "-"))
print("%s: all %d expected lines present, once after de-duplication, in order" % (name, len(expected)))
EOF
}

settle() { # FILE: waits until it has stopped growing (0.3 s), at most 10 s
	local prev=-1 same=0 size
	for _ in $(seq 1 100); do
		size=$(stat -c %s "$1")
		if [ "$size" = "$prev" ]; then
			same=$((same + 1))
			[ "$same" -ge 3 ] && return 0
		else
			same=0
		fi
		prev=$size
		sleep 0.1
	done
}

run_case() { # NAME SPEC OUTFILE STOP-FUNCTION SECONDS-IN
	local name=$1 spec=$2 out=$3 stop=$4 after_s=$5 rc t0 took before after
	t0=$(date +%s.%N)
	"$EW" replay --config /dev/null --speed "$speed" -o "$spec" \
		--set agent.drain_timeout=60s --set "agent.spool_dir=$tmp/spool-$name" \
		"$rec" 2>"$tmp/ew-$name.err" &
	ew_pid=$!
	sleep "$after_s"
	kill -0 "$ew_pid" 2>/dev/null || fail "$name: the replay ended before syslog-ng was stopped"
	$stop
	before=$(wc -l <"$out")
	sleep "$DOWN_S"
	kill -0 "$ew_pid" 2>/dev/null || fail "$name: the replay ended while syslog-ng was down"
	sng_start
	rc=0
	wait "$ew_pid" || rc=$?
	ew_pid=
	[ "$rc" = 0 ] || { cat "$tmp/ew-$name.err" >&2; fail "$name: exitwatch exited $rc"; }
	took=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
	echo "$name: syslog-ng stopped ($stop) ${after_s}s in with $before lines stored, restarted" \
		"${DOWN_S}s later;" \
		"exitwatch exited 0 after ${took}s"
	# A paced replay cut short (a stop request) would drain what it had and exit 0 too.
	python3 -c "import sys; sys.exit($took < $DURATION_S * 0.95)" ||
		fail "$name: the replay took ${took}s, less than ${DURATION_S}s: it was cut short"
	grep -q "connection lost" "$tmp/ew-$name.err" ||
		fail "$name: exitwatch never saw the connection drop: $(cat "$tmp/ew-$name.err")"
	sed 's/^/  /' "$tmp/ew-$name.err"
	# Drained means handed to syslog-ng's socket: give it time to write the file.
	settle "$out"
	after=$(wc -l <"$out")
	[ "$after" -gt "$before" ] || fail "$name: nothing arrived after the restart"
	check "$name" "$out" 1
}

: >"$tmp/tcp.out"
: >"$tmp/unix.out"
: >"$tmp/tcp-killed.out"
run_case tcp "tcp://127.0.0.1:$port" "$tmp/tcp.out" sng_stop "$STOP_AFTER_S"
run_case unix "unix:$sock" "$tmp/unix.out" sng_stop "$STOP_AFTER_S"
run_case tcp-killed "tcp://127.0.0.1:$port2" "$tmp/tcp-killed.out" sng_kill "$KILL_AFTER_S"
sng_stop
echo "PASS: syslog-ng over TCP and a Unix socket, stopped or killed mid-burst: nothing lost"
