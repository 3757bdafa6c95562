#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Usage: tests/e2e/validate-schema.sh [FILE...]
#
# Checks exitwatch's NDJSON output against docs/exitwatch.schema.json: every line of each FILE
# (default build/test-records.ndjson, which the integration tests fill) and every example in
# docs/schema.md. Each line must be one complete JSON object on one line (strict JSON: no NaN,
# no duplicate member names) and valid against the schema. Uses Debian's python3-jsonschema
# (the validator class of the schema's own draft, with a format checker).
#
# Exit status: 0 when everything is valid; 1 on an invalid line, an empty input file or a missing
# one under CI=true; 2 when the validator cannot run. Outside CI a missing input file only says
# there is nothing to validate (the examples in docs/schema.md are still checked).
set -u

caller_pwd=$PWD
root=$(cd "$(dirname "$0")/../.." && pwd)
python=/usr/bin/python3

files=()
if [ $# -eq 0 ]; then
	files=("$root/build/test-records.ndjson")
else
	for f in "$@"; do
		case $f in
		/*) files+=("$f") ;;
		*) files+=("$caller_pwd/$f") ;;
		esac
	done
fi

if [ ! -x "$python" ]; then
	echo "validate-schema: $python not found (apt-get install python3 python3-jsonschema)" >&2
	exit 2
fi
if ! "$python" -c 'import jsonschema' 2>/dev/null; then
	echo "validate-schema: the python3 jsonschema module is missing" \
		"(apt-get install python3-jsonschema)" >&2
	exit 2
fi

exec "$python" -W ignore::DeprecationWarning - "$root" "${CI:-}" "${files[@]}" <<'PYEOF'
import datetime
import json
import os
import re
import sys

import jsonschema

root, ci, inputs = sys.argv[1], sys.argv[2] == "true", sys.argv[3:]
schema_path = os.path.join(root, "docs/exitwatch.schema.json")
doc_path = os.path.join(root, "docs/schema.md")
MAX_SHOWN = 5


def rel(path):
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path


def die(msg, status=2):
    print("validate-schema: " + msg, file=sys.stderr)
    sys.exit(status)


def no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError("duplicate member name %r" % k)
        obj[k] = v
    return obj


def no_constant(name):
    raise ValueError("%s is not JSON" % name)


def parse_line(text):
    """The object on one line, or raises ValueError saying why it is not one."""
    if text != text.strip():
        raise ValueError("leading or trailing whitespace")
    obj = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    if not isinstance(obj, dict):
        raise ValueError("a JSON %s, not an object" % type(obj).__name__)
    return obj


try:
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
except (OSError, ValueError) as e:
    die("cannot read %s: %s" % (rel(schema_path), e))

cls = jsonschema.validators.validator_for(schema)
try:
    cls.check_schema(schema)
except jsonschema.exceptions.SchemaError as e:
    die("%s is not a valid schema: %s" % (rel(schema_path), e.message))

checker = jsonschema.FormatChecker()
if "date-time" not in checker.checkers:
    # Debian's jsonschema checks date-time only with rfc3339-validator installed; this check
    # is enough for our fixed form and catches impossible dates (February 30th).
    DT = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value):
        if not isinstance(value, str):
            return True
        m = DT.match(value)
        if not m:
            return False
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        datetime.datetime(y, mo, d, h, mi, min(s, 59))
        return True

validator = cls(schema, format_checker=checker)

failures = []
ok = 0
types = set()


def fail(where, msg):
    failures.append("%s: %s" % (where, msg))


def check(where, text):
    global ok
    try:
        obj = parse_line(text)
    except ValueError as e:
        fail(where, "not a single-line JSON object: %s" % e)
        return
    errors = sorted(validator.iter_errors(obj), key=lambda e: e.path)
    if errors:
        e = jsonschema.exceptions.best_match(errors)
        path = "/".join(str(p) for p in e.absolute_path)
        msg = e.message if len(e.message) <= 300 else e.message[:300] + "..."
        fail(where, "%s%s (event %r)" % (path + ": " if path else "", msg, obj.get("event")))
        return
    ok += 1
    types.add(obj["event"])


bad_input = False
for path in inputs:
    if not os.path.exists(path):
        if ci:
            print("validate-schema: %s is missing (CI=true: the integration tests must "
                  "write it)" % rel(path), file=sys.stderr)
            bad_input = True
        else:
            print("validate-schema: %s: nothing to validate; run the integration tests first "
                  "(sudo make test)" % rel(path))
        continue
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        print("validate-schema: %s: %s" % (rel(path), e.strerror), file=sys.stderr)
        bad_input = True
        continue
    if not data:
        print("validate-schema: %s is empty: exitwatch printed no records" % rel(path),
              file=sys.stderr)
        bad_input = True
        continue
    if not data.endswith(b"\n"):
        fail("%s:%d" % (rel(path), data.count(b"\n") + 1), "last line has no newline")
    for n, raw in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else
                            data.split(b"\n"), 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            fail("%s:%d" % (rel(path), n), "not UTF-8: %s" % e)
            continue
        check("%s:%d" % (rel(path), n), text)

# Every ```json block of the documentation holds example lines, one record per line.
try:
    with open(doc_path, encoding="utf-8") as f:
        doc = f.read().split("\n")
except OSError as e:
    die("cannot read %s: %s" % (rel(doc_path), e.strerror))
examples = 0
in_block = False
for n, line in enumerate(doc, 1):
    if not in_block:
        in_block = line.strip() == "```json"
        continue
    if line.strip() == "```":
        in_block = False
        continue
    if line.strip():
        examples += 1
        check("%s:%d" % (rel(doc_path), n), line)
if in_block:
    fail(rel(doc_path), "unterminated ```json block")
if not examples:
    fail(rel(doc_path), "no ```json example found")

for msg in failures[:MAX_SHOWN]:
    print("INVALID " + msg)
if len(failures) > MAX_SHOWN:
    print("... and %d more problems" % (len(failures) - MAX_SHOWN))
summary = "%d records of %d types valid" % (ok, len(types))
if failures:
    print("validate-schema: FAILED: %d problems; %s (schema %s)" %
          (len(failures), summary, rel(schema_path)))
    sys.exit(1)
if bad_input:
    print("validate-schema: FAILED: missing or empty input; %s" % summary)
    sys.exit(1)
print("%s (%d of them examples in %s; %s, %s)" %
      (summary, examples, rel(doc_path), rel(schema_path), cls.__name__))
PYEOF
