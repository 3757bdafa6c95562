#!/usr/bin/env bash
# The shipped alerts (deploy/alerts/), checked offline with real engines' tools:
#   1. deploy/alerts/ and tests/alerts/*.test.yaml are what their generators write
#      (deploy/alerts/gen-alerts.py, tests/alerts/gen-promtool-tests.py);
#   2. `promtool check rules` passes the Prometheus rule file, the PrometheusRule's and the GMP
#      Rules' groups, and the three hold the same groups;
#   3. `promtool test rules` runs tests/alerts/*.test.yaml against the shipped rule file: a loop
#      across 3 nodes fires CRITICAL, stays firing while the loop goes on, resolves after the
#      quiet period; the seed timeline on 6 nodes (and on 1: never); the start-up failure rate;
#      the per-node findings; the agent's health; workload="_other_" (a node past its workload
#      cap) firing no per-workload alert, and the cap's own alert;
#   4. the Cloud Monitoring policies' PromQL, as Prometheus rules, passes `promtool check rules`
#      and tests/alerts/cloud.test.yaml; every metric a policy queries is a shipped log-based
#      metric, and every label it groups by is one the metric extracts;
#   5. the log-based metrics, the alert policies and the GMP resources validate against JSON
#      Schemas written from Google's API reference (tests/alerts/schemas/; python3-jsonschema),
#      and every jsonPayload member a metric filters on or extracts exists in the record types
#      docs/exitwatch.schema.json defines. Nothing here talks to Google: see README, "What was
#      checked against Google's API".
# Needs promtool (Debian: prometheus), python3 with yaml and jsonschema. A missing one skips the
# test, except under CI=true, where it fails it.
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/e2e/lib.sh
command -v promtool >/dev/null || skip "promtool is not installed (apt-get install prometheus)"
python3 -c 'import yaml, jsonschema' 2>/dev/null ||
	skip "python3 yaml and jsonschema are not installed (python3-yaml python3-jsonschema)"

tmp=$(mktemp -d /tmp/ew-e2e-alerts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 1: generated files up to date.
python3 deploy/alerts/gen-alerts.py --out "$tmp/alerts"
cp deploy/alerts/gen-alerts.py "$tmp/alerts/"
diff -r deploy/alerts "$tmp/alerts" >"$tmp/diff" ||
	fail "deploy/alerts/ is not what gen-alerts.py writes: $(head -c 2000 "$tmp/diff")"
python3 tests/alerts/gen-promtool-tests.py "$tmp/tests"
for f in "$tmp"/tests/*.test.yaml; do
	cmp -s "$f" "tests/alerts/${f##*/}" ||
		fail "tests/alerts/${f##*/} is not what gen-promtool-tests.py writes"
done
echo "ok   deploy/alerts/ and tests/alerts/ are what their generators write"

# 2: the rule files.
promtool check rules deploy/alerts/prometheus/rules.yaml >"$tmp/check" 2>&1 ||
	fail "promtool check rules: $(cat "$tmp/check")"
python3 - "$tmp" <<'PY' || fail "the PrometheusRule's or the GMP Rules' groups differ from rules.yaml"
import sys, yaml
tmp = sys.argv[1]
plain = yaml.safe_load(open("deploy/alerts/prometheus/rules.yaml"))
for f, kind in [("deploy/alerts/prometheus/prometheusrule.yaml", "PrometheusRule"),
                ("deploy/alerts/gmp/rules.yaml", "Rules")]:
    d = yaml.safe_load(open(f))
    assert d["kind"] == kind, (f, d["kind"])
    assert d["spec"]["groups"] == plain["groups"], f
    yaml.safe_dump({"groups": d["spec"]["groups"]}, open("%s/%s.yml" % (tmp, kind), "w"))
PY
for k in PrometheusRule Rules; do
	promtool check rules "$tmp/$k.yml" >"$tmp/check" 2>&1 ||
		fail "promtool check rules ($k): $(cat "$tmp/check")"
done
echo "ok   promtool check rules: rules.yaml, the PrometheusRule and the GMP Rules ($(grep -o '[0-9]* rules found' "$tmp/check"))"

# 3: the rules' behaviour.
for t in burst seed startup findings overflow; do
	promtool test rules "tests/alerts/$t.test.yaml" >"$tmp/test" 2>&1 ||
		fail "promtool test rules tests/alerts/$t.test.yaml: $(cat "$tmp/test")"
	echo "ok   promtool test rules tests/alerts/$t.test.yaml: $(sed -n 's/^- name: //p' "tests/alerts/$t.test.yaml" | tr '\n' ';')"
done

# 4 and 5: Cloud Monitoring and GMP.
python3 - "$tmp" <<'PY' || fail "the Cloud Monitoring or GMP files"
import glob, json, os, re, sys
import jsonschema, yaml
tmp = sys.argv[1]
S = "tests/alerts/schemas/"
bad = []


def check(schema, doc, what):
    v = jsonschema.Draft202012Validator(json.load(open(S + schema)))
    for e in v.iter_errors(doc):
        bad.append("%s: %s: %s" % (what, "/".join(map(str, e.absolute_path)), e.message))


# The record types' members, from the output schema: paths a filter may name.
rec = json.load(open("docs/exitwatch.schema.json"))
defs = rec["$defs"]


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    return node


def has_path(event, path):
    node = resolve(defs[event])
    for part in path:
        found = None
        for cand in [node] + [resolve(x) for x in node.get("anyOf", []) + node.get("allOf", [])]:
            if isinstance(cand, dict) and part in cand.get("properties", {}):
                found = resolve(cand["properties"][part])
                break
        if found is None:
            return False
        node = found
    return True


metrics = {}
for f in sorted(glob.glob("deploy/alerts/cloud-monitoring/log-metrics/*.yaml")):
    m = yaml.safe_load(open(f))
    check("log-metric.schema.json", m, f)
    if os.path.basename(f) != m["name"] + ".yaml":
        bad.append("%s: named %s" % (f, m["name"]))
    keys = sorted(l["key"] for l in m["metricDescriptor"]["labels"])
    if keys != sorted(m["labelExtractors"]):
        bad.append("%s: labels %s, extractors %s" % (f, keys, sorted(m["labelExtractors"])))
    events = re.findall(r'jsonPayload\.event="([a-z_]+)"', m["filter"])
    paths = re.findall(r"jsonPayload\.([a-z_.]+)", m["filter"] + " " + " ".join(m["labelExtractors"].values()))
    for ev in events:
        if ev not in defs:
            bad.append("%s: no record type %s" % (f, ev))
            continue
        for p in paths:
            if not has_path(ev, p.split(".")):
                bad.append("%s: a %s record has no %s" % (f, ev, p))
    metrics["logging_googleapis_com:user_" + m["name"]] = set(m["labelExtractors"])

groups = {"groups": [{"name": "cloud-monitoring", "rules": []}]}
for f in sorted(glob.glob("deploy/alerts/cloud-monitoring/policies/*.json")):
    p = json.load(open(f))
    check("alert-policy.schema.json", p, f)
    for c in p["conditions"]:
        q = c["conditionPrometheusQueryLanguage"]
        for name, labels in re.findall(r"(logging_googleapis_com:user_[a-z_]+)\{([^}]*)\}", q["query"]):
            if name not in metrics:
                bad.append("%s: queries %s, which no log-metric file makes" % (f, name))
                continue
            for l in re.findall(r"([a-z_]+)=~?\"", labels):
                if l not in metrics[name]:
                    bad.append("%s: %s has no label %s" % (f, name, l))
        for by in re.findall(r"by \(([^)]*)\)", q["query"]):
            for l in [x.strip() for x in by.split(",")]:
                if not any(l in v for v in metrics.values()):
                    bad.append("%s: groups by %s, which no metric extracts" % (f, l))
        groups["groups"][0]["rules"].append({
            "alert": os.path.basename(f)[:-5], "expr": q["query"],
            "for": q.get("duration", "0s"), "labels": q.get("labels", {})})
yaml.safe_dump(groups, open(tmp + "/cloud-rules.yaml", "w"), sort_keys=False)

for f in sorted(glob.glob("deploy/alerts/gmp/*.yaml")):
    check("gmp.schema.json", yaml.safe_load(open(f)), f)

# The schemas must refuse what Google's API would: a misspelt field, a wrong enum.
spoilt = json.load(open("deploy/alerts/cloud-monitoring/policies/exit-code-burst.json"))
spoilt["combiner"] = "ANY"
spoilt["conditions"][0]["conditionPrometheusQueryLanguage"]["evaluation_interval"] = "60s"
n = len(bad)
check("alert-policy.schema.json", spoilt, "spoilt")
if len(bad) - n != 2:
    print("FAIL: the policy schema misses a spoilt field or enum: %s" % bad[n:])
    sys.exit(1)
del bad[n:]
for b in bad:
    print("FAIL: " + b)
print("ok   %d log-based metrics, %d alert policies, %d GMP resources: valid, and their fields "
      "exist in the records" % (len(metrics), len(groups["groups"][0]["rules"]),
                               len(glob.glob("deploy/alerts/gmp/*.yaml"))))
sys.exit(1 if bad else 0)
PY
cp tests/alerts/cloud.test.yaml "$tmp/"
promtool check rules "$tmp/cloud-rules.yaml" >"$tmp/check" 2>&1 ||
	fail "promtool check rules (the policies' PromQL): $(cat "$tmp/check")"
promtool test rules "$tmp/cloud.test.yaml" >"$tmp/test" 2>&1 ||
	fail "promtool test rules tests/alerts/cloud.test.yaml: $(cat "$tmp/test")"
echo "ok   the Cloud Monitoring policies' PromQL: promtool check rules, and tests/alerts/cloud.test.yaml"
echo "PASS: the shipped alerts for Prometheus, GMP and Cloud Monitoring check and behave as the rules say"
