#!/usr/bin/env bash
# `exitwatch replay` as the binary runs it (src/agent/agent.c is linked only into the binary,
# so its unit tests cannot reach this): a replay is a pure function of its recording and its
# configuration, and says so when it fails.
#   - it never records: --record or [agent] record, even naming the recording being read,
#     neither truncates nor creates a file; a warning names the ignored path;
#   - it never reads or writes the live agent's state file (--state-file, [agent] state_file),
#     whose restored memory would change the records; a warning names the ignored path;
#   - a replay whose outputs lost lines (stdout on a full disk) exits 1 and says how many;
# Needs the built binary; no root and no BPF.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
. tests/e2e/lib.sh
[ -x "$EW" ] || skip "$EW is not built (make)"

tmp=$(mktemp -d /tmp/ew-e2e-replay-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rec=tests/fixtures/replay/seed-1.ndjson
export EW_ERR_LOG=$tmp/err

"$EW" replay --config /dev/null "$rec" >"$tmp/want.ndjson" 2>"$EW_ERR_LOG" ||
	fail "exitwatch replay $rec"
[ -s "$tmp/want.ndjson" ] || fail "exitwatch replay $rec printed nothing"

# 1: replay never records. --record naming its own input must leave the input as it was.
cp "$rec" "$tmp/in.ndjson"
"$EW" replay --config /dev/null --record "$tmp/in.ndjson" "$tmp/in.ndjson" \
	>"$tmp/got.ndjson" 2>"$EW_ERR_LOG" || fail "replay --record INPUT INPUT exited $?"
cmp -s "$rec" "$tmp/in.ndjson" || fail "replay --record INPUT INPUT changed INPUT"
cmp -s "$tmp/want.ndjson" "$tmp/got.ndjson" || fail "replay --record changed the records"
grep -qF "replay does not record: ignoring [agent] record = $tmp/in.ndjson" "$EW_ERR_LOG" ||
	fail "replay --record: no warning naming the ignored path"
# The config file's key, the same.
printf '[agent]\nrecord = %s\n' "$tmp/in.ndjson" >"$tmp/record.conf"
"$EW" replay --config "$tmp/record.conf" "$tmp/in.ndjson" >"$tmp/got.ndjson" 2>"$EW_ERR_LOG" ||
	fail "replay with [agent] record = INPUT exited $?"
cmp -s "$rec" "$tmp/in.ndjson" || fail "[agent] record = INPUT: replay changed INPUT"
cmp -s "$tmp/want.ndjson" "$tmp/got.ndjson" || fail "[agent] record: the records changed"
grep -qF "replay does not record: ignoring [agent] record = $tmp/in.ndjson" "$EW_ERR_LOG" ||
	fail "[agent] record: no warning naming the ignored path"
# Elsewhere, no file appears.
"$EW" replay --config /dev/null --set "agent.record=$tmp/new.ndjson" "$rec" >/dev/null \
	2>"$EW_ERR_LOG" || fail "replay --set agent.record=NEW exited $?"
[ ! -e "$tmp/new.ndjson" ] || fail "replay --set agent.record=NEW created NEW"
echo "ok   replay records nothing (--record, [agent] record), and says so"

# 2: replay never uses the state file. This one, valid, would change the records (a restored
# drop count marks findings degraded); the replay must be the one without it, and leave it be.
printf '{"exitwatch_state":1,"now_ns":1,"saved_ns":1,"next_serial":1,"drops_total":5,%s}\n' \
	'"last_drop_ns":1757983380000000000,"workloads":[],"identities":[]' >"$tmp/state.json"
cp "$tmp/state.json" "$tmp/state.orig"
for how in "--state-file $tmp/state.json" "--set agent.state_file=$tmp/state.json"; do
	# shellcheck disable=SC2086 # $how is two words
	"$EW" replay --config /dev/null $how "$rec" >"$tmp/got.ndjson" 2>"$EW_ERR_LOG" ||
		fail "replay $how exited $?"
	cmp -s "$tmp/want.ndjson" "$tmp/got.ndjson" ||
		fail "replay $how: the records are not those of the replay without it"
	grep -qF "replay does not use the state file: ignoring [agent] state_file = $tmp/state.json" \
		"$EW_ERR_LOG" || fail "replay $how: no warning naming the ignored path"
	cmp -s "$tmp/state.json" "$tmp/state.orig" || fail "replay $how changed the state file"
done
# A state file that is not there is not created either.
"$EW" replay --config /dev/null --state-file "$tmp/none.json" "$rec" >/dev/null 2>"$EW_ERR_LOG" ||
	fail "replay --state-file NEW exited $?"
[ ! -e "$tmp/none.json" ] || fail "replay --state-file NEW created NEW"
echo "ok   replay neither reads nor writes the state file, and says so"

# 3: lost lines fail the replay. /dev/full takes no byte: every record is lost.
n=$(wc -l <"$tmp/want.ndjson")
rc=0
"$EW" replay --config /dev/null "$rec" >/dev/full 2>"$EW_ERR_LOG" || rc=$?
[ "$rc" = 1 ] || fail "replay >/dev/full exited $rc, not 1"
grep -qF "replay: $n of $n output lines were lost (stdout: $n)" "$EW_ERR_LOG" ||
	fail "replay >/dev/full: no error saying $n of $n lines were lost"
# One output of two losing them is enough; the other still gets every line.
rc=0
"$EW" replay --config /dev/null -o "file:$tmp/copy.ndjson" -o stdout "$rec" >/dev/full \
	2>"$EW_ERR_LOG" || rc=$?
[ "$rc" = 1 ] || fail "replay -o file:COPY -o stdout >/dev/full exited $rc, not 1"
grep -qF "replay: $n of $((2 * n)) output lines were lost (stdout: $n)" "$EW_ERR_LOG" ||
	fail "replay -o file:COPY -o stdout >/dev/full: no error saying $n lines were lost"
cmp -s "$tmp/want.ndjson" "$tmp/copy.ndjson" || fail "the file output lost lines too"
echo "ok   a replay whose outputs lost lines exits 1, saying how many"

echo "PASS: exitwatch replay reads its recording and its configuration, nothing else"
