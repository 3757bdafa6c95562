#!/usr/bin/env bash
# `exitwatch replay` at the default --speed 0 into a tcp:// and a unix: output with no spool
# (agent.spool_max_bytes = 0, as for a user who cannot create the spool directory, or while the
# live agent holds the spool's lock): a replay may block, so every record a live receiver can
# take must reach it, however many more there are than the memory queue holds. The recording
# (tests/e2e/gen-recording.py, 60 containers, 12 episodes) gives 10,380 records, more than the
# default queue of 10,000 lines:
#   - tcp, default queue, a receiver that reads at once;
#   - unix, a queue of 50 lines, a receiver that reads nothing for a second after accepting
#     (the socket buffers fill, then the queue: the replay waits for it).
# Each receiver must get exactly the records the same replay prints on stdout, byte for byte,
# in order, on one connection; the replay exits 0 and reports no dropped line.
# Needs python3 and the built binary; no root.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
. tests/e2e/lib.sh
[ -x "$EW" ] || skip "$EW is not built (make)"
command -v python3 >/dev/null || skip "python3 is not installed"

tmp=$(mktemp -d /tmp/ew-e2e-replay-stream.XXXXXX)
rx_pid=
trap '[ -z "$rx_pid" ] || kill "$rx_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

python3 tests/e2e/gen-recording.py --identities 60 --episodes 12 "$tmp/rec.ndjson" >/dev/null
"$EW" replay --config /dev/null "$tmp/rec.ndjson" >"$tmp/want.ndjson" 2>"$tmp/err" ||
	fail "exitwatch replay to stdout: $(cat "$tmp/err")"
want=$(wc -l <"$tmp/want.ndjson")
[ "$want" -gt 10000 ] || fail "the recording gives $want records, not more than the queue's 10,000"

# receiver ADDR PAUSE OUT: listens on ADDR (tcp:127.0.0.1:0 or unix:PATH), writes where it
# listens to OUT.addr, then takes one connection, waits PAUSE seconds before the first read and
# writes everything up to the sender's close to OUT. A second connection is an error (none is
# expected: the receiver never goes away), and so is no connection within 60 s.
receiver() {
	python3 - "$@" <<'PY' &
import os, socket, sys, time
addr, pause, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
if addr.startswith("unix:"):
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(addr[5:])
    where = addr
else:
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    where = "tcp://127.0.0.1:%d" % ls.getsockname()[1]
ls.listen(4)
with open(out + ".addr.tmp", "w") as f:
    f.write(where)
os.rename(out + ".addr.tmp", out + ".addr")
ls.settimeout(60)
c, _ = ls.accept()
time.sleep(pause)
with open(out, "wb") as f:
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        f.write(b)
ls.settimeout(0.5)
try:
    ls.accept()
    sys.exit("a second connection")
except socket.timeout:
    pass
PY
	rx_pid=$!
	for _ in $(seq 100); do
		[ -e "$3.addr" ] && return 0
		sleep 0.05
	done
	fail "the receiver on $1 did not start"
}

# check WHAT ADDR PAUSE QUEUE_MAX_LINES
check() {
	local what=$1 out=$tmp/rx-$RANDOM rc=0 got
	receiver "$2" "$3" "$out"
	EW_ERR_LOG=$tmp/err
	"$EW" replay --config /dev/null --set agent.spool_max_bytes=0 \
		--set "agent.spool_dir=$tmp/spool" --set "agent.queue_max_lines=$4" \
		-o "$(cat "$out.addr")" "$tmp/rec.ndjson" >/dev/null 2>"$tmp/err" || rc=$?
	wait "$rx_pid" || fail "$what: the receiver failed"
	rx_pid=
	got=$(wc -l <"$out")
	[ "$rc" = 0 ] || fail "$what: exitwatch replay exited $rc"
	! grep -q 'dropping lines' "$tmp/err" ||
		fail "$what: the replay dropped lines ($got of the $want records arrived)"
	cmp -s "$tmp/want.ndjson" "$out" ||
		fail "$what: the receiver got $got lines, not the $want records of the replay, in order"
	echo "ok   $what: all $got records arrived, in order"
}

check "tcp, default queue" tcp 0 10000
check "unix, a queue of 50, a receiver that reads nothing for 1 s" "unix:$tmp/rx.sock" 1 50
echo "PASS: a replay at --speed 0 delivers every record to a live stream receiver"
