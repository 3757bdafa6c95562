#!/usr/bin/env python3
"""Writes exitwatch's cluster-wide alerts for three engines, from one set of rules:

  prometheus/rules.yaml             a Prometheus rule file (promtool, rule_files:)
  prometheus/prometheusrule.yaml    the same groups as a Prometheus Operator PrometheusRule
  prometheus/podmonitor.yaml        the Operator's PodMonitor for the agents' /metrics
  gmp/rules.yaml                    Google Cloud Managed Service for Prometheus: Rules
  gmp/podmonitoring.yaml            ... and PodMonitoring (managed collection ignores the Operator)
  cloud-monitoring/log-metrics/*.yaml   Cloud Logging log-based metrics over the agents' records
                                    (gcloud logging metrics create NAME --config-from-file=FILE)
  cloud-monitoring/policies/*.json  Cloud Monitoring alert policies over them, in PromQL
                                    (gcloud monitoring policies create --policy-from-file=FILE)

The rules are the incident's thresholds, summed across nodes (one node sees only its replicas):
  ExitwatchExitCodeBurst       exit 3 more than 3 times in 5 minutes per workload  CRITICAL
                               resolves after 10 minutes without an exit 3
  ExitwatchRestartRate         more than 3 restarts in 1 hour per identity        WARNING
                               resolves when under 1 restart in the last hour
  ExitwatchStartupFailureRate  more than 5% of a workload's starts failed in 1 hour
                               (at least 5 starts)                                  INFO
                               resolves when 99% of the hour's starts succeed (or none is left)
  ExitwatchCrashLoop           exitwatch's crash_loop finding is open              ERROR
                               resolves at its resolved record: a successful start, or
                               an hour without a start after the last exit
and, per agent:
  ExitwatchWorkloadCap         a node put records under workload="_other_"         WARNING

The agent keeps per-workload series for at most 200 workloads active within the hour; past that
it counts the rest under workload="_other_", a merge of unrelated workloads that the
per-workload rules leave out (summed over nodes it would look like one workload's burst).

Each alert resolves as its rule says, not when a window has passed: an alert is open from the
last time its firing condition held until the first time after it that its resolution
condition holds (the last time each held is found with a subquery over LOOKBACK). A loop that
goes on below the firing threshold keeps the alert open; LOOKBACK bounds how long it can go on
so (6 hours by default).

--scale F multiplies every duration (windows, quiet periods, the lookback, the subquery step,
the evaluation interval) by F, for tests that cannot wait 10 minutes: tests/e2e/alerts-prometheus.sh
runs the shipped rules' scaled copy against a real Prometheus. Without options it writes the
shipped files into deploy/alerts/; tests/e2e/alerts-promtool.sh checks they are up to date.

    gen-alerts.py [--scale F] [--out DIR]
"""
import argparse
import json
import os
import sys

import yaml

# The seed thresholds (README, "Rules"); durations in seconds.
BURST = {"codes": [3], "count": 3, "window": 300, "quiet": 600}
RATE = {"count": 3, "window": 3600, "quiet": 3600}
STARTUP = {"fail_percent": 5, "resolve_success_percent": 99, "min_starts": 5, "window": 3600}
LOOKBACK = 6 * 3600  # how far back an open alert looks for its last firing
STEP = 60  # the subquery's resolution: a resolution may come up to one step late
EVAL = 30  # rule evaluation interval
SCRAPE = 15  # the PodMonitor's and PodMonitoring's scrape interval

# Cloud Logging: the agents' records, as GKE's logging agent stores them.
AGENT_LOGS = ('resource.type="k8s_container" AND resource.labels.namespace_name="exitwatch" '
              'AND resource.labels.container_name="exitwatch"')
LOG_PREFIX = "logging_googleapis_com:user_"  # a log-based metric's name in Cloud Monitoring PromQL


def dur(s):
    """Seconds as a Prometheus duration: 1h, 10m, 15s, 1500ms."""
    ms = int(round(s * 1000))
    if ms % 3600000 == 0:
        return "%dh" % (ms // 3600000)
    if ms % 60000 == 0:
        return "%dm" % (ms // 60000)
    if ms % 1000 == 0:
        return "%ds" % (ms // 1000)
    return "%dms" % ms


def hysteresis(by, fire, quiet, lookback, step):
    """Open while `fire` holds, and after it until `quiet` holds: the last time `fire` held is
    later than the last time `quiet` held (or `quiet` has not held within the lookback)."""
    last_fire = "max_over_time(timestamp(\n    %s\n  )[%s:%s])" % (fire, lookback, step)
    last_quiet = "max_over_time(timestamp(\n    %s\n  )[%s:%s])" % (quiet, lookback, step)
    return ("(\n  %s\n)\nor on(%s)\n(\n  %s\n  > on(%s)\n  %s\n)\nor on(%s)\n(\n  %s\n  unless on(%s)\n  %s\n)"
            % (fire, by, last_fire, by, last_quiet, by, last_fire, by, last_quiet))


class Names:
    """Metric names and label names: the agents' own in Prometheus, the log-based metrics'
    in Cloud Monitoring."""

    def __init__(self, cloud):
        p = LOG_PREFIX if cloud else ""
        self.exits = p + ("exitwatch_container_exits" if cloud else
                          "exitwatch_container_exits_total")
        self.starts = p + ("exitwatch_container_starts" if cloud else
                           "exitwatch_container_starts_total")
        self.failed = p + ("exitwatch_container_failed_starts" if cloud else
                           "exitwatch_container_failed_starts_total")
        self.restarts = p + "exitwatch_container_restarts"  # Cloud Monitoring only
        self.findings = p + "exitwatch_findings"  # Cloud Monitoring only
        # The agents' overflow series (README, "Prometheus"): unrelated workloads merged. The
        # log-based metrics take workload from each record, which always names its own.
        self.own = "" if cloud else 'workload!="_other_"'
        self.cloud = cloud

    def sel(self, name, *matchers):
        m = [x for x in matchers + (self.own,) if x]
        return "%s{%s}" % (name, ",".join(m)) if m else name

    def per_workload(self, sel, window, labels):
        """increase() of sel over window, summed by workload across nodes. One agent's series
        counted once even when two scrape jobs reach it (the pods' prometheus.io annotations
        and the PodMonitor, both in one Prometheus): its duplicates differ only in the job's
        own labels, never in instance (the pod's address) nor in the agent's labels."""
        inc = "increase(%s[%s])" % (sel, window)
        if not self.cloud:
            inc = "max by (instance, %s) (%s)" % (labels, inc)
        return "sum by (workload) (%s)" % inc


def burst_expr(n, s):
    codes = "|".join(str(c) for c in BURST["codes"])
    sel = n.sel(n.exits, 'code=~"%s"' % codes)
    # More than count: the count is whole, and increase() extrapolates a window's raw count
    # by up to a third at a 15 s scrape of a 5 m window (less when the window holds the
    # series' start), so "more than 3" is ">= 4", which 3 exits never reach.
    labels = "runtime, namespace, workload, exit_class, code"
    fire = "%s >= %d" % (n.per_workload(sel, dur(BURST["window"] * s), labels),
                         BURST["count"] + 1)
    quiet = "%s == 0" % n.per_workload(sel, dur(BURST["quiet"] * s), labels)
    return hysteresis("workload", fire, quiet, dur(LOOKBACK * s), dur(STEP * s))


def startup_expr(n, s):
    w = dur(STARTUP["window"] * s)
    starts = n.per_workload(n.sel(n.starts), w, "runtime, namespace, workload")
    failed = n.per_workload(n.sel(n.failed), w, "runtime, namespace, workload")
    fire = "(%s / %s > %g) and on(workload) (%s >= %d)" % (
        failed, starts, STARTUP["fail_percent"] / 100.0, starts, STARTUP["min_starts"])
    quiet = "(%s / %s <= %g) or on(workload) (%s == 0)" % (
        failed, starts, round(1 - STARTUP["resolve_success_percent"] / 100.0, 6), starts)
    return hysteresis("workload", fire, quiet, dur(LOOKBACK * s), dur(STEP * s))


def restart_expr_cloud(n, s):
    sel = "sum by (workload, identity) (increase(%s[%s]))" % (n.restarts,
                                                           dur(RATE["window"] * s))
    fire = "%s >= %d" % (sel, RATE["count"] + 1)
    quiet = "%s == 0" % sel
    return hysteresis("workload, identity", fire, quiet, dur(LOOKBACK * s), dur(STEP * s))


def crash_loop_expr_cloud(n, s):
    # Open from a crash_loop finding until its resolved record: the log says both.
    def ev(event):
        return ('sum by (workload, identity) (increase(%s{rule="crash_loop",event="%s"}[%s])) > 0'
                % (n.findings, event, dur(2 * STEP * s)))
    return hysteresis("workload, identity", ev("finding"), ev("resolved"), dur(LOOKBACK * s),
                      dur(STEP * s))


DESCRIPTIONS = {
    "burst": ("{{ $labels.workload }} exited with code 3 more than 3 times in 5 minutes across "
              "the cluster's nodes",
              "The workload's containers, summed over every node, exit with a configuration "
              "error code at start-up. Each node's finding records name the containers, their "
              "exit codes and last stderr lines. Resolves after 10 minutes without such an exit."),
    "rate": ("{{ $labels.identity }} restarted more than 3 times in an hour",
             "exitwatch's restart_rate finding for this container is open; it resolves when the "
             "container has not restarted for an hour."),
    "startup": ("more than 5% of {{ $labels.workload }}'s starts failed in the last hour",
                "Summed across nodes, at least 5 starts in the hour. Resolves when 99% of the "
                "hour's starts succeed."),
    "loop": ("{{ $labels.identity }} failed to start twice in a row with the same exit code",
             "exitwatch's crash_loop finding is open (the finding record says whether the last "
             "stderr line repeated); it resolves at the container's first successful start, or "
             "when the container has not started again for an hour after its last exit (its pod "
             "was replaced or deleted)."),
}


def prom_rules(s):
    n = Names(False)

    def alert(name, expr, severity, key, extra=None):
        summary, desc = DESCRIPTIONS[key]
        r = {"alert": name, "expr": expr, "labels": {"severity": severity},
             "annotations": {"summary": "exitwatch: " + summary, "description": desc}}
        if extra:
            r.update(extra)
        return r

    cluster = [
        alert("ExitwatchExitCodeBurst", burst_expr(n, s), "critical", "burst"),
        alert("ExitwatchStartupFailureRate", startup_expr(n, s), "info", "startup"),
        # One identity lives on one node: the agent's own finding is already the whole answer.
        alert("ExitwatchRestartRate",
              'max by (workload, identity) (exitwatch_finding_active{rule="restart_rate"}) == 1',
              "warning", "rate"),
        alert("ExitwatchCrashLoop",
              'max by (workload, identity) (exitwatch_finding_active{rule="crash_loop"}) == 1',
              "error", "loop"),
    ]
    agent = [
        {"alert": "ExitwatchRingbufDrops",
         "expr": "sum by (pod) (increase(exitwatch_ringbuf_drops_total[%s])) > 0" % dur(600 * s),
         "labels": {"severity": "warning"},
         "annotations": {
             "summary": "exitwatch on {{ $labels.pod }} lost kernel records",
             "description": "The BPF ring buffer was full: some container starts or exits were "
                            "not seen, and findings in that window say \"degraded\": true. Raise "
                            "agent.ringbuf_size or look for a spawn storm."}},
        {"alert": "ExitwatchMapFull",
         "expr": "sum by (pod) (increase(exitwatch_map_full_total[%s])) > 0" % dur(600 * s),
         "labels": {"severity": "warning"},
         "annotations": {
             "summary": "exitwatch on {{ $labels.pod }} could not track some containers",
             "description": "The kernel's container map was full: containers started then "
                            "were not tracked, their starts and exits not reported, and "
                            "findings in that window say \"degraded\": true. Raise "
                            "agent.max_containers."}},
        # Forgetting one-shot jobs' identities after their windows is what max_identities and
        # memory_budget are for; only those forgotten while a window still counted them lose
        # detection (the counter is at 0 from the agent's start).
        {"alert": "ExitwatchIdentitiesForgotten",
         "expr": "sum by (pod) (increase(exitwatch_identities_forgotten_in_window_total[%s]))"
                 " > 0" % dur(600 * s),
         "labels": {"severity": "warning"},
         "annotations": {
             "summary": "exitwatch on {{ $labels.pod }} forgot containers it was still counting",
             "description": "The detector reached agent.max_identities or agent.memory_budget "
                            "and forgot identities active within their rules' windows: a "
                            "restart of one is not counted and its loop's count starts over. "
                            "Raise agent.max_identities or agent.memory_budget."}},
        # The overflow counter is at 0 from the agent's start, so increase() sees the first.
        {"alert": "ExitwatchWorkloadCap",
         "expr": "sum by (pod, instance) (increase(exitwatch_workloads_overflow_total[%s])) > 0"
                 % dur(600 * s),
         "labels": {"severity": "warning"},
         "annotations": {
             "summary": "exitwatch on {{ $labels.pod }} ({{ $labels.instance }}) is past its "
                        "per-workload series cap",
             "description": "The node has 200 workloads with a start or exit in the last hour "
                            "(or a finding open), and counts the starts and exits of further "
                            "ones under workload=\"_other_\", which ExitwatchExitCodeBurst and "
                            "ExitwatchStartupFailureRate leave out: those workloads are not "
                            "alerted on from this node. See exitwatch_workloads and "
                            "exitwatch_workloads_overflow_total; the node's records still name "
                            "every workload."}},
        # The shipped PodMonitor's and PodMonitoring's jobs are named for exitwatch; a scrape
        # through the pods' prometheus.io annotations has the scrape config's job, and the
        # pod's labels where it maps them (labelmap of __meta_kubernetes_pod_label_*).
        {"alert": "ExitwatchDown",
         "expr": 'up{job=~".*exitwatch.*"} == 0 or up{app_kubernetes_io_name="exitwatch"} == 0',
         "for": dur(300 * s),
         "labels": {"severity": "warning"},
         "annotations": {
             "summary": "exitwatch on {{ $labels.instance }} is not answering scrapes",
             "description": "Container exits on that node go unwatched."}},
    ]
    return [{"name": "exitwatch-cluster", "interval": dur(EVAL * s), "rules": cluster},
            {"name": "exitwatch-agent", "interval": dur(EVAL * s), "rules": agent}]


class Literal(str):
    pass


def literal_repr(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.SafeDumper.add_representer(Literal, literal_repr)


def literalize(o):
    if isinstance(o, dict):
        return {k: literalize(v) for k, v in o.items()}
    if isinstance(o, list):
        return [literalize(v) for v in o]
    if isinstance(o, str) and "\n" in o:
        return Literal(o + "\n")
    return o


def write_yaml(path, head, docs):
    with open(path, "w", encoding="utf-8") as f:
        f.write(head)
        for i, d in enumerate(docs):
            if i:
                f.write("---\n")
            yaml.safe_dump(literalize(d), f, sort_keys=False, width=100,
                           default_flow_style=False, allow_unicode=False)


def header(lines):
    return "".join("# %s\n" % l if l else "#\n" for l in lines)


GEN = "Written by deploy/alerts/gen-alerts.py: edit that, then run it."
SELECTOR = {"matchLabels": {"app.kubernetes.io/name": "exitwatch"}}


def log_metric(name, desc, filt, labels):
    """A Cloud Logging log-based counter (LogMetric), labels extracted from the record."""
    return {
        "name": name,
        "description": desc,
        "filter": AGENT_LOGS + " AND " + filt,
        "metricDescriptor": {
            "metricKind": "DELTA", "valueType": "INT64", "unit": "1",
            "labels": [{"key": k, "valueType": "STRING", "description": d}
                       for k, (_, d) in labels.items()]},
        "labelExtractors": {k: "EXTRACT(%s)" % f for k, (f, _) in labels.items()},
    }


WL = ("jsonPayload.workload.key", "the workload key, e.g. k8s:shop/backend/backend")
IDENT = ("jsonPayload.container.identity", "the container identity, e.g. k8s:<pod uid>/backend")


def cloud_files(s):
    n = Names(True)
    metrics = {
        "exitwatch_container_exits": log_metric(
            "exitwatch_container_exits", "Container main-process exits, by workload and code.",
            'jsonPayload.event="container_exit"',
            {"workload": WL, "code": ("jsonPayload.exit.code", "the exit code (0 for a signal)"),
             "exit_class": ("jsonPayload.exit.class", "config_error, crash, ...")}),
        "exitwatch_container_starts": log_metric(
            "exitwatch_container_starts", "Container starts exitwatch saw, by workload.",
            'jsonPayload.event="container_start" AND jsonPayload.already_running=false',
            {"workload": WL}),
        "exitwatch_container_failed_starts": log_metric(
            "exitwatch_container_failed_starts",
            "Starts that exited before they were ready or outlived the grace period.",
            'jsonPayload.event="container_exit" AND jsonPayload.startup.succeeded=false',
            {"workload": WL}),
        "exitwatch_container_restarts": log_metric(
            "exitwatch_container_restarts", "Restarts of a container identity.",
            'jsonPayload.event="container_start" AND jsonPayload.already_running=false '
            'AND jsonPayload.restarts>0',
            {"workload": WL, "identity": IDENT}),
        "exitwatch_findings": log_metric(
            "exitwatch_findings", "exitwatch findings and resolutions, by rule.",
            '(jsonPayload.event="finding" OR jsonPayload.event="resolved")',
            {"event": ("jsonPayload.event", "finding or resolved"),
             "rule": ("jsonPayload.rule", "exit_code_burst, crash_loop, ..."),
             "workload": WL, "identity": IDENT}),
    }
    pols = {
        "exit-code-burst": ("exitwatch: a workload exits 3 more than 3 times in 5 minutes",
                            burst_expr(n, s), "CRITICAL", "burst"),
        "restart-rate": ("exitwatch: a container restarts more than 3 times an hour",
                         restart_expr_cloud(n, s), "WARNING", "rate"),
        "startup-failure-rate": ("exitwatch: more than 5% of a workload's starts fail",
                                 startup_expr(n, s), None, "startup"),
        "crash-loop": ("exitwatch: a container failed to start twice in a row",
                       crash_loop_expr_cloud(n, s), "ERROR", "loop"),
    }
    policies = {}
    for name, (title, expr, sev, key) in pols.items():
        summary, desc = DESCRIPTIONS[key]
        p = {
            "displayName": title,
            "documentation": {
                "mimeType": "text/markdown",
                "subject": "exitwatch: " + summary.replace("{{ $labels.", "${metric.label.")
                .replace(" }}", "}"),
                "content": desc + "\n\nThe records: `" + AGENT_LOGS +
                " AND jsonPayload.workload.key=\"${metric.label.workload}\"`"},
            "combiner": "OR",
            "conditions": [{
                "displayName": title,
                "conditionPrometheusQueryLanguage": {
                    "query": expr, "duration": "0s", "evaluationInterval": dur(max(EVAL * s, 30)),
                    "labels": {"severity": (sev or "INFO").lower()}}}],
            # Incidents close when the query returns nothing; this only bounds a stale one.
            "alertStrategy": {"autoClose": "%ds" % int(max(LOOKBACK * s, 1800))},
        }
        if sev:
            p["severity"] = sev
        policies[name] = p
    return metrics, policies


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    s, out = a.scale, a.out
    if s <= 0:
        ap.error("--scale must be above 0")
    for d in ("prometheus", "gmp", "cloud-monitoring/log-metrics", "cloud-monitoring/policies"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    groups = prom_rules(s)
    scaled = [] if s == 1 else ["Scaled by %g (--scale): not for a real cluster." % s]
    write_yaml(os.path.join(out, "prometheus/rules.yaml"), header([
        "exitwatch's alerts as a Prometheus rule file (rule_files:), over the agents' /metrics.",
        "Cluster-wide: they sum every node's agent. " + GEN] + scaled), [{"groups": groups}])
    meta = {"name": "exitwatch", "namespace": "exitwatch",
            "labels": {"app.kubernetes.io/name": "exitwatch"}}
    write_yaml(os.path.join(out, "prometheus/prometheusrule.yaml"), header([
        "Prometheus Operator (kube-prometheus-stack and the like): the rules of rules.yaml.",
        "kube-prometheus-stack selects rules by its release label by default: add yours.",
        "  kubectl apply -f prometheusrule.yaml -f podmonitor.yaml", GEN] + scaled),
        [{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
          "metadata": meta, "spec": {"groups": groups}}])
    write_yaml(os.path.join(out, "prometheus/podmonitor.yaml"), header([
        "Prometheus Operator: scrape every exitwatch agent. honorLabels keeps the metrics' own",
        "namespace label (the workload's) instead of renaming it exported_namespace.", GEN]),
        [{"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": meta,
          "spec": {"selector": SELECTOR, "podMetricsEndpoints": [
              {"port": "metrics", "path": "/metrics", "interval": dur(SCRAPE),
               "honorLabels": True}]}}])
    write_yaml(os.path.join(out, "gmp/podmonitoring.yaml"), header([
        "Google Cloud Managed Service for Prometheus (managed collection): scrape every agent.",
        "Managed collection keeps its own namespace label: the metrics' namespace label",
        "arrives as exported_namespace. The rules group by workload, which names the namespace.",
        "  kubectl apply -f podmonitoring.yaml -f rules.yaml", GEN]),
        [{"apiVersion": "monitoring.googleapis.com/v1", "kind": "PodMonitoring",
          "metadata": meta, "spec": {"selector": SELECTOR, "endpoints": [
              {"port": "metrics", "path": "/metrics", "interval": dur(SCRAPE)}]}}])
    write_yaml(os.path.join(out, "gmp/rules.yaml"), header([
        "Google Cloud Managed Service for Prometheus: the rules of ../prometheus/rules.yaml as a",
        "namespaced Rules resource (managed rule evaluation does not read PrometheusRule). In",
        "the agents' namespace, it sees their metrics. Alerts go to the Alertmanager the",
        "OperatorConfig names.", GEN] + scaled),
        [{"apiVersion": "monitoring.googleapis.com/v1", "kind": "Rules", "metadata": meta,
          "spec": {"groups": groups}}])
    metrics, policies = cloud_files(s)
    for name, m in metrics.items():
        write_yaml(os.path.join(out, "cloud-monitoring/log-metrics/%s.yaml" % name), header([
            "Cloud Logging log-based metric over the exitwatch agents' records.",
            "  gcloud logging metrics create %s --config-from-file=%s.yaml" % (name, name),
            GEN] + scaled), [m])
    for name, p in policies.items():
        with open(os.path.join(out, "cloud-monitoring/policies/%s.json" % name), "w",
                  encoding="utf-8") as f:
            json.dump(p, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
