#!/usr/bin/env bash
# End to end: the file sink under its own size rotation and a logrotate-style rename + SIGHUP
# at the same time. A synthetic recording (gen-recording.py) is replayed once into one file,
# which gives the expected lines, then paced over ~4 s into -o file:OUT with
# agent.file_max_bytes=64K (exitwatch renames OUT to OUT.1, OUT.1 to OUT.2, ...), while every
# 0.3 s this script moves OUT to moved/NNNN (NNNN counting up) and sends exitwatch SIGHUP, as
# logrotate's postrotate does. Then every line written must be found exactly once:
#   - no line missing, none duplicated, none cut: each file ends with '\n', each line is JSON;
#   - the order is recovered from names alone within each kind of file: exitwatch's own
#     rotations oldest first (OUT.N, highest N first), then OUT; the moved files by NNNN. The
#     two sequences are merged where the next expected line starts a file (which file of the
#     two heads comes next); the concatenation must be the expected lines, in order;
#   - both mechanisms happened (several rotated files and several moved files hold lines), and
#     exitwatch exited 0.
# Needs python3; no root. A missing tool skips the test, except under CI=true, where it fails
# it. EXITWATCH=PATH tests another binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
DURATION_S=4
MOVE_EVERY_S=0.3
MAX_BYTES=65536
KEEP=100 # the most exitwatch allows; the recording makes about 60 rotated files

. tests/e2e/lib.sh

command -v python3 >/dev/null || skip "python3 is not installed"
[ -x "$EW" ] || skip "$EW is not built (make)"

tmp=$(mktemp -d /tmp/ew-e2e-file.XXXXXX)
ew_pid=
cleanup() {
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

rec=$tmp/recording.ndjson
span=$(tests/e2e/gen-recording.py --identities 30 --episodes 6 "$rec")
"$EW" replay --config /dev/null -o "file:$tmp/expected.ndjson" "$rec"
nexp=$(wc -l <"$tmp/expected.ndjson")
speed=$(python3 -c "print(round($span / $DURATION_S, 3))")
echo "expected: $nexp lines, $(wc -c <"$tmp/expected.ndjson") bytes; replay span ${span}s" \
	"at --speed $speed, rotation at $MAX_BYTES bytes keeping $KEEP"

mkdir "$tmp/logs" "$tmp/moved"
out=$tmp/logs/exitwatch.log
t0=$(date +%s.%N)
"$EW" replay --config /dev/null --speed "$speed" -o "file:$out" \
	--set "agent.file_max_bytes=$MAX_BYTES" --set "agent.file_keep=$KEEP" \
	"$rec" 2>"$tmp/ew.err" &
ew_pid=$!
moves=0
while kill -0 "$ew_pid" 2>/dev/null; do
	sleep "$MOVE_EVERY_S"
	# Fails when OUT does not exist (between a rename and the reopen): try again next time.
	if mv "$out" "$tmp/moved/$(printf %04d $((moves + 1)))" 2>/dev/null; then
		moves=$((moves + 1))
		kill -HUP "$ew_pid" 2>/dev/null || true
	fi
done
rc=0
wait "$ew_pid" || rc=$?
ew_pid=
sed 's/^/  /' "$tmp/ew.err"
[ "$rc" = 0 ] || fail "exitwatch exited $rc"
echo "exitwatch exited 0 after $(python3 -c "print(round($(date +%s.%N) - $t0, 1))")s;" \
	"moved OUT away $moves times"

python3 - "$tmp/expected.ndjson" "$out" "$tmp/moved" "$KEEP" <<'EOF'
import json, os, sys

expected_path, out, moved_dir, keep = sys.argv[1:]
expected = open(expected_path, "rb").read().splitlines(keepends=True)
index = {}
for i, line in enumerate(expected):
    iid = json.loads(line)["logging.googleapis.com/insertId"]
    if iid in index:
        sys.exit("FAIL: the expected lines repeat insertId %s" % iid)
    index[iid] = i

def load(path):
    data = open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit("FAIL: %s ends in the middle of a line" % path)
    lines = data.splitlines(keepends=True)
    for n, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError:
            sys.exit("FAIL: %s:%d is not JSON (a cut line?): %.100s" % (path, n, line))
    return path, lines

# Exitwatch's own rotations, oldest (highest N) first, then the file it writes now.
d = os.path.dirname(out)
rotated = sorted((int(f.rsplit(".", 1)[1]) for f in os.listdir(d)
                  if f.startswith(os.path.basename(out) + ".")), reverse=True)
if rotated and rotated[0] >= int(keep):
    sys.exit("FAIL: %s.%d exists: rotated files may have been dropped" % (out, rotated[0]))
seq_a = [load("%s.%d" % (out, n)) for n in rotated]
if os.path.exists(out):
    seq_a.append(load(out))
# The files this script moved away, in the order it moved them.
seq_b = [load(os.path.join(moved_dir, f)) for f in sorted(os.listdir(moved_dir))]
na = sum(1 for _, l in seq_a if l)
nb = sum(1 for _, l in seq_b if l)
print("files: %d rotated by exitwatch (+ the current one), %d moved away; with lines: %d, %d"
      % (len(rotated), len(seq_b), na, nb))
if na < 5 or nb < 5:
    sys.exit("FAIL: too few files with lines to test both mechanisms")

seqs = [[f for f in seq_a if f[1]], [f for f in seq_b if f[1]]]
pos, total = 0, 0
while seqs[0] or seqs[1]:
    if pos == len(expected):
        sys.exit("FAIL: lines after the last expected one, in %s"
                 % ", ".join(s[0][0] for s in seqs if s))
    nexts = [s for s in seqs if s and s[0][1][0] == expected[pos]]
    if len(nexts) != 1:
        heads = ["%s (expected line %s)" % (s[0][0], index.get(json.loads(s[0][1][0])
                 ["logging.googleapis.com/insertId"])) for s in seqs if s]
        sys.exit("FAIL: expected line %d starts %s of the next files: %s"
                 % (pos, "none" if not nexts else "both", ", ".join(heads)))
    path, lines = nexts[0].pop(0)
    for n, line in enumerate(lines, 1):
        if pos >= len(expected) or line != expected[pos]:
            where = index.get(json.loads(line)["logging.googleapis.com/insertId"])
            sys.exit("FAIL: %s:%d is expected line %s, want line %d (%s)"
                     % (path, n, where, pos, "duplicated" if where is not None and where < pos
                        else "lines missing before it" if where is not None else "unknown"))
        pos += 1
    total += len(lines)
if pos != len(expected):
    sys.exit("FAIL: %d lines found, want %d: missing from %.120s" % (pos, len(expected), expected[pos]))
print("all %d lines found once, whole, in order, across %d files" % (total, na + nb))
EOF
echo "PASS: file sink rotated by size and by rename + SIGHUP at once: nothing lost or repeated"
