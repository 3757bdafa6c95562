#!/usr/bin/env python3
"""Writes the `promtool test rules` cases for deploy/alerts/prometheus/rules.yaml (the shipped
file, with the shipped durations) into tests/alerts/:

  burst.test.yaml     ExitwatchExitCodeBurst: a loop spread over 3 nodes, no node reaching the
                      threshold alone, fires CRITICAL; it stays firing while the loop goes on
                      below the threshold; it resolves 10 minutes after the last exit 3, not
                      when a window passed. One node alone with the same loop: nothing.
  seed.test.yaml      the incident's timeline (an exit 3 every 7 minutes, 40 s into start-up, 9
                      times) on 6 replicas, one per node, offset by 70 s: the minute the
                      cluster-wide CRITICAL fires and resolves; and on one node (one replica):
                      never.
  startup.test.yaml   ExitwatchStartupFailureRate: more than 5% of at least 5 starts failed,
                      summed over 2 nodes; open until 99% of the hour's starts succeed.
  findings.test.yaml  ExitwatchRestartRate and ExitwatchCrashLoop follow exitwatch_finding_active,
                      and the agent rules (ring buffer drops, the kernel's container map full,
                      identities forgotten within their windows, an agent down).
  overflow.test.yaml  workload="_other_" (a node past its 200 workloads: unrelated workloads
                      merged) never fires a per-workload alert; ExitwatchWorkloadCap names the
                      node instead.

Series are counters sampled every 15 s (the PodMonitor's interval) or every minute; each test
states the exact times. tests/e2e/alerts-promtool.sh runs promtool on them (and checks that
this script still writes them).

    gen-promtool-tests.py OUTDIR
"""
import os
import sys

import yaml

RULES = "../../deploy/alerts/prometheus/rules.yaml"
WL = "k8s:prod/backend/app"
EXITS = 'exitwatch_container_exits_total{code="3",exit_class="config_error",runtime="containerd",namespace="prod",workload="%s",instance="%s"}'


def counter(times, step, end, born=0):
    """A counter's samples every `step` seconds from 0 to `end`: +1 at each of `times` (s).
    Absent before `born` (s), as a series is before the agent first sees its workload."""
    out, n, k = [], 0, 0
    times = sorted(times)
    for t in range(0, end + 1, step):
        while k < len(times) and times[k] <= t:
            n += 1
            k += 1
        out.append(n if t >= born else None)
    # Run-length keeps the files short.
    parts, i = [], 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and out[j + 1] == out[i]:
            j += 1
        if out[i] is None:  # "_xN" is N missing samples ...
            parts.append("_x%d" % (j - i + 1) if j > i else "_")
        else:  # ... but "VxN" is V N + 1 times
            parts.append("%dx%d" % (out[i], j - i) if j > i else "%d" % out[i])
        i = j + 1
    return " ".join(parts)


def alert(workload, severity="critical", alertname="ExitwatchExitCodeBurst"):
    return {"exp_labels": {"severity": severity, "workload": workload},
            "exp_annotations": None}


def at(m):
    return "%gm" % m if m != int(m) else "%dm" % m


def burst_cases():
    # 3 nodes, each exiting 3 every 3 minutes, staggered by a minute: 1 exit a minute in the
    # cluster (5 in any 5 minutes), at most 2 on a node. From minute 1 to 30.
    nodes = {n: [60 * (1 + i + 3 * k) for k in range(10)] for i, n in enumerate("abc")}
    # Then node a alone goes on below the threshold: one exit every 4 minutes to minute 58.
    nodes["a"] += [60 * m for m in range(34, 59, 4)]
    end = 90 * 60
    series = [{"series": EXITS % (WL, "node-" + n), "values": counter(t, 60, end)}
              for n, t in nodes.items()]
    # The same loop on one node only (a workload of its own): 2 exits in 5 minutes at most.
    series.append({"series": EXITS % ("k8s:prod/lonely/app", "node-a"),
                   "values": counter(nodes["b"], 60, end)})
    firing = [{"exp_labels": {"severity": "critical", "workload": WL}}]
    tests = []
    # Minute 4: 4 exits (1, 2, 3, 4) in the window: fires; at 3 it had 3.
    for m, exp in [(3, []), (4, firing), (20, firing), (30, firing),
                   # below the threshold since minute 31, the loop goes on: still open
                   (36, firing), (45, firing), (58, firing),
                   # the last exit 3 at 58; quiet period 10 minutes: open at 67, gone at 68
                   (67, firing), (68, []), (89, [])]:
        tests.append({"eval_time": at(m), "alertname": "ExitwatchExitCodeBurst",
                      "exp_alerts": exp})
    return {"rule_files": [RULES], "evaluation_interval": "1m",
            "tests": [{"name": "a loop across 3 nodes fires, stays while it goes on, resolves "
                               "10 minutes after the last exit 3",
                       "interval": "1m", "input_series": series, "alert_rule_test": tests},
                      double_scrape_burst()]}


def double_scrape_burst():
    # One agent reached by two scrape jobs in one Prometheus (the pods' prometheus.io
    # annotations and the PodMonitor): every series twice, alike but for job. 3 exits in 5
    # minutes are 3, not 6; 4 (another workload) still fire, once.
    end = 30 * 60
    three, four = [60, 120, 180], [60, 120, 180, 240]
    series = []
    for job in ["kubernetes-pods", "exitwatch/exitwatch"]:
        for wl, times in [(WL, three), ("k8s:prod/four/app", four)]:
            s = EXITS % (wl, "10.0.0.1:9090")
            series.append({"series": s[:-1] + ',job="%s"}' % job,
                           "values": counter(times, 60, end)})
    four_firing = [{"exp_labels": {"severity": "critical", "workload": "k8s:prod/four/app"}}]
    tests = [{"eval_time": at(m), "alertname": "ExitwatchExitCodeBurst", "exp_alerts": e}
             for m, e in [(3, []), (4, four_firing), (6, four_firing)]]
    return {"name": "an agent scraped by two jobs counts once", "interval": "1m",
            "input_series": series, "alert_rule_test": tests}


def seed_cases():
    # The incident: a start every 7 minutes that exits 3 forty seconds in, 9 times, then the
    # fix at minute 63 that stays up. Replica i runs on node i, 70 s after replica i-1
    # (tests/fixtures/replay/seed-6-node-<i>.ndjson). Sampled every 15 s. A node's series
    # appear when its agent first sees the workload, at its replica's first start: starts at
    # 1 (so increase() misses that first start), exits and failed starts at 0.
    starts = {i: [70 * i + 420 * k for k in range(9)] + [63 * 60 + 70 * i] for i in range(6)}
    exits = {i: [t + 40 for t in starts[i][:9]] for i in range(6)}
    end = 130 * 60
    st = 'exitwatch_container_starts_total{runtime="containerd",namespace="prod",workload="%s",instance="%s"}'
    fl = 'exitwatch_container_failed_starts_total{runtime="containerd",namespace="prod",workload="%s",instance="%s"}'
    series = []
    for i in range(6):
        node = "node-%d" % i
        born = starts[i][0]
        series += [{"series": EXITS % (WL, node), "values": counter(exits[i], 15, end, born)},
                   {"series": st % (WL, node), "values": counter(starts[i], 15, end, born)},
                   {"series": fl % (WL, node), "values": counter(exits[i], 15, end, born)}]
    one = []  # one replica on one node, and the six on one node: one series each
    for wl, reps in (("k8s:prod/single/app", [0]), ("k8s:prod/sixonone/app", range(6))):
        s_ = sorted(t for i in reps for t in starts[i])
        e_ = sorted(t for i in reps for t in exits[i])
        one += [{"series": EXITS % (wl, "node-0"), "values": counter(e_, 15, end)},
                {"series": st % (wl, "node-0"), "values": counter(s_, 15, end)},
                {"series": fl % (wl, "node-0"), "values": counter(e_, 15, end)}]
    crit = [{"exp_labels": {"severity": "critical", "workload": WL}}]
    info = [{"exp_labels": {"severity": "info", "workload": WL}}]
    # CRITICAL: the 4th exit is at 4m10s (0:40, 1:50, 3:00, 4:10), seen at the 4m15s sample.
    # The last exit is at 62m30s (replica 5's 9th); the quiet condition (no exit 3 for 10
    # minutes) holds from 72m30s, and the subquery sees it at its next 1-minute step, 73m.
    # INFO: each node's first start is its series' first sample, which increase() cannot
    # count; the 5th start it counts is the 2nd round's 5th, at 11m40s (7:00, 8:10, 9:20,
    # 10:30, 11:40), seen at 11m45s. The last failure, at 62m30s, leaves the hour at 122m30s,
    # seen at the subquery's next step, 123m.
    tests = [{"eval_time": t, "alertname": "ExitwatchExitCodeBurst", "exp_alerts": e}
             for t, e in [("4m", []), ("4m15s", crit), ("30m", crit), ("62m", crit),
                          ("72m45s", crit), ("73m", []), ("90m", [])]]
    tests += [{"eval_time": t, "alertname": "ExitwatchStartupFailureRate", "exp_alerts": e}
              for t, e in [("11m30s", []), ("11m45s", info), ("100m", info), ("122m45s", info),
                           ("123m", [])]]
    return {"rule_files": [RULES], "evaluation_interval": "15s",
            "tests": [{"name": "the seed timeline on 6 nodes: CRITICAL from minute 4.25 to 73, "
                               "INFO from 11.75 to 123",
                       "interval": "15s", "input_series": series, "alert_rule_test": tests},
                      {"name": "the seed timeline on 1 node: 1 replica never CRITICAL, "
                               "INFO from 35 to 117; 6 replicas as on 6 nodes, INFO from 6",
                       "interval": "15s", "input_series": one,
                       "alert_rule_test": one_node_tests()}]}


def one_node_tests():
    # One replica: no 4 exits in 5 minutes, ever. Its starts' first sample is its first start:
    # increase() counts those at 7, 14, 21, 28, 35: the 5th at 35m, seen then; the last failure
    # (56m40s) leaves the hour at 116m40s, seen at 117m. Six replicas on one node: one series
    # from minute 0, so every start but the very first counts: the 5th at 5m50s, seen at 6m.
    single = [{"exp_labels": {"severity": "info", "workload": "k8s:prod/single/app"}}]
    six_c = [{"exp_labels": {"severity": "critical", "workload": "k8s:prod/sixonone/app"}}]
    six_i = [{"exp_labels": {"severity": "info", "workload": "k8s:prod/sixonone/app"}}]
    t = [{"eval_time": e, "alertname": "ExitwatchExitCodeBurst", "exp_alerts": a}
         for e, a in [("4m", []), ("4m15s", six_c), ("72m45s", six_c), ("73m", []), ("100m", [])]]
    t += [{"eval_time": e, "alertname": "ExitwatchStartupFailureRate", "exp_alerts": a}
          for e, a in [("5m45s", []), ("6m", six_i), ("34m45s", six_i), ("35m", single + six_i),
                       ("116m45s", single + six_i), ("117m", six_i), ("122m45s", six_i),
                       ("123m", [])]]
    return t


def startup_cases():
    st = 'exitwatch_container_starts_total{runtime="containerd",namespace="prod",workload="%s",instance="%s"}'
    fl = 'exitwatch_container_failed_starts_total{runtime="containerd",namespace="prod",workload="%s",instance="%s"}'
    end = 200 * 60
    # Two nodes: each starts a replica every 4 minutes from minute 1; node a's starts fail
    # until minute 30 (8 failed), node b's always succeed. Failed share: 8 of ~15 by minute 30.
    a_starts = [60 * (1 + 4 * k) for k in range(40)]
    b_starts = [60 * (3 + 4 * k) for k in range(40)]
    a_failed = [t + 40 for t in a_starts if t < 30 * 60]
    series = [{"series": st % (WL, "node-a"), "values": counter(a_starts, 60, end)},
              {"series": st % (WL, "node-b"), "values": counter(b_starts, 60, end)},
              {"series": fl % (WL, "node-a"), "values": counter(a_failed, 60, end)},
              {"series": fl % (WL, "node-b"), "values": counter([], 60, end)}]
    firing = [{"exp_labels": {"severity": "info", "workload": WL}}]
    # Starts at 1, 3, 5, 7, 9, ... (a, b, a, b, a); failures at 1:40, 5:40, 9:40 ... 29:40.
    # The 5th start is at minute 9: fires there (3 of 5 failed). The last failure is at 29:40;
    # a failed share of at most 1% would need 100 starts in the hour: it comes when the last
    # failure leaves the hour, 89:40, seen at the subquery's next step, minute 90.
    tests = [{"eval_time": at(m), "alertname": "ExitwatchStartupFailureRate", "exp_alerts": e}
             for m, e in [(8, []), (9, firing), (60, firing), (89, firing), (90, []),
                          (150, [])]]
    # One agent scraped by two jobs: 3 starts, all failed, are not the 5 starts the rule needs.
    twice = []
    for job in ["kubernetes-pods", "exitwatch/exitwatch"]:
        for tmpl, times in [(st, [60, 120, 180]), (fl, [100, 160, 220])]:
            s = tmpl % ("k8s:prod/twice/app", "10.0.0.1:9090")
            twice.append({"series": s[:-1] + ',job="%s"}' % job,
                          "values": counter(times, 60, 30 * 60)})
    return {"rule_files": [RULES], "evaluation_interval": "1m",
            "tests": [{"name": "failed starts on one of two nodes: INFO until 99% succeed",
                       "interval": "1m", "input_series": series, "alert_rule_test": tests},
                      {"name": "an agent scraped by two jobs counts its starts once",
                       "interval": "1m", "input_series": twice,
                       "alert_rule_test": [{"eval_time": at(m),
                                            "alertname": "ExitwatchStartupFailureRate",
                                            "exp_alerts": []} for m in (4, 10, 20)]}]}


def findings_cases():
    g = 'exitwatch_finding_active{rule="%s",severity="%s",workload="%s",identity="%s",instance="node-a"}'
    ident = "k8s:uid-1/app"
    series = [{"series": g % ("restart_rate", "WARNING", WL, ident), "values": "_x4 1x60 0x30"},
              {"series": g % ("crash_loop", "ERROR", WL, ident), "values": "_x2 1x10 0x80"},
              {"series": 'exitwatch_ringbuf_drops_total{kind="exit",pod="exitwatch-x"}',
               "values": "0x20 5x70"},
              {"series": 'exitwatch_map_full_total{pod="exitwatch-y"}', "values": "0x30 2x60"},
              # At 0 from the start; forgetting after the windows (reason="limit" alone) is
              # what max_identities is for, and no alert.
              {"series": 'exitwatch_identities_forgotten_total{reason="limit",pod="exitwatch-z"}',
               "values": "0x10 50x20 80x60"},
              {"series": 'exitwatch_identities_forgotten_in_window_total{pod="exitwatch-z"}',
               "values": "0x50 3x40"},
              {"series": 'up{job="exitwatch/exitwatch",instance="10.0.0.7:9090"}',
               "values": "1x10 0x80"},
              # Scraped through the pods' prometheus.io annotations: the job is the scrape
              # config's, the pod's labels come through a labelmap.
              {"series": 'up{job="kubernetes-pods",app_kubernetes_io_name="exitwatch",'
                         'instance="10.0.0.8:9090"}',
               "values": "1x20 0x70"},
              {"series": 'up{job="kubernetes-pods",app_kubernetes_io_name="other",'
                         'instance="10.0.0.9:9090"}',
               "values": "0x90"}]
    rate = [{"exp_labels": {"severity": "warning", "workload": WL, "identity": ident}}]
    loop = [{"exp_labels": {"severity": "error", "workload": WL, "identity": ident}}]
    tests = [{"eval_time": "3m", "alertname": "ExitwatchRestartRate", "exp_alerts": []},
             {"eval_time": "5m", "alertname": "ExitwatchRestartRate", "exp_alerts": rate},
             {"eval_time": "64m", "alertname": "ExitwatchRestartRate", "exp_alerts": rate},
             {"eval_time": "65m", "alertname": "ExitwatchRestartRate", "exp_alerts": []},
             {"eval_time": "1m", "alertname": "ExitwatchCrashLoop", "exp_alerts": []},
             {"eval_time": "2m", "alertname": "ExitwatchCrashLoop", "exp_alerts": loop},
             {"eval_time": "12m", "alertname": "ExitwatchCrashLoop", "exp_alerts": loop},
             {"eval_time": "13m", "alertname": "ExitwatchCrashLoop", "exp_alerts": []},
             {"eval_time": "20m", "alertname": "ExitwatchRingbufDrops", "exp_alerts": []},
             {"eval_time": "25m", "alertname": "ExitwatchRingbufDrops",
              "exp_alerts": [{"exp_labels": {"severity": "warning", "pod": "exitwatch-x"}}]},
             {"eval_time": "40m", "alertname": "ExitwatchRingbufDrops", "exp_alerts": []},
             {"eval_time": "30m", "alertname": "ExitwatchMapFull", "exp_alerts": []},
             {"eval_time": "35m", "alertname": "ExitwatchMapFull",
              "exp_alerts": [{"exp_labels": {"severity": "warning", "pod": "exitwatch-y"}}]},
             {"eval_time": "50m", "alertname": "ExitwatchMapFull", "exp_alerts": []},
             {"eval_time": "45m", "alertname": "ExitwatchIdentitiesForgotten",
              "exp_alerts": []},
             {"eval_time": "55m", "alertname": "ExitwatchIdentitiesForgotten",
              "exp_alerts": [{"exp_labels": {"severity": "warning", "pod": "exitwatch-z"}}]},
             {"eval_time": "70m", "alertname": "ExitwatchIdentitiesForgotten",
              "exp_alerts": []},
             {"eval_time": "14m", "alertname": "ExitwatchDown", "exp_alerts": []},
             {"eval_time": "16m", "alertname": "ExitwatchDown",
              "exp_alerts": [{"exp_labels": {"severity": "warning", "job": "exitwatch/exitwatch",
                                             "instance": "10.0.0.7:9090"}}]},
             {"eval_time": "26m", "alertname": "ExitwatchDown",
              "exp_alerts": [{"exp_labels": {"severity": "warning", "job": "exitwatch/exitwatch",
                                             "instance": "10.0.0.7:9090"}},
                             {"exp_labels": {"severity": "warning", "job": "kubernetes-pods",
                                             "app_kubernetes_io_name": "exitwatch",
                                             "instance": "10.0.0.8:9090"}}]}]
    return {"rule_files": [RULES], "evaluation_interval": "1m",
            "tests": [{"name": "per-node findings and the agent's own health", "interval": "1m",
                       "input_series": series, "alert_rule_test": tests}]}


def overflow_cases():
    # The review's case: four nodes past their workload cap, each with one exit 3 of a
    # different workload, all under workload="_other_": summed, 4 exits in 5 minutes, which
    # would be a CRITICAL burst of a workload that does not exist. And _other_'s starts failing
    # on two nodes: no start-up failure rate either. Each node's overflow counter (at 0 from
    # the agent's start) says the cap was reached: ExitwatchWorkloadCap, per node.
    oth = 'runtime="_other_",namespace="_other_",workload="_other_"'
    ex = 'exitwatch_container_exits_total{' + oth + ',exit_class="config_error",code="3",instance="%s",pod="%s"}'
    st = 'exitwatch_container_starts_total{' + oth + ',instance="%s",pod="%s"}'
    fl = 'exitwatch_container_failed_starts_total{' + oth + ',instance="%s",pod="%s"}'
    ov = 'exitwatch_workloads_overflow_total{instance="%s",pod="%s"}'
    end = 90 * 60
    series = []
    nodes = [("10.0.0.%d:9090" % (i + 1), "exitwatch-%s" % n) for i, n in enumerate("abcd")]
    for i, (inst, pod) in enumerate(nodes):
        series.append({"series": ex % (inst, pod), "values": counter([300 + 10 * i], 60, end)})
        series.append({"series": ov % (inst, pod),
                       "values": counter([300 + 10 * i, 360, 420], 60, end)})
        if i < 2:
            fails = [60 * m for m in range(1, 31)]
            series.append({"series": st % (inst, pod), "values": counter(fails, 60, end)})
            series.append({"series": fl % (inst, pod), "values": counter(fails, 60, end)})
    cap = [{"exp_labels": {"severity": "warning", "instance": inst, "pod": pod}}
           for inst, pod in nodes]
    tests = [{"eval_time": at(m), "alertname": "ExitwatchExitCodeBurst", "exp_alerts": []}
             for m in (6, 7, 10)]
    tests += [{"eval_time": at(m), "alertname": "ExitwatchStartupFailureRate", "exp_alerts": []}
              for m in (10, 30, 60)]
    # Overflows from 5m to 7m on every node, seen by 6m; a 10-minute window holds none of
    # them from 17m (its samples from 7m on are equal): 20m is well clear.
    tests += [{"eval_time": at(m), "alertname": "ExitwatchWorkloadCap", "exp_alerts": e}
              for m, e in [(4, []), (6, cap), (15, cap), (20, []), (60, [])]]
    return {"rule_files": [RULES], "evaluation_interval": "1m",
            "tests": [{"name": "workload=\"_other_\" fires no per-workload alert; "
                               "ExitwatchWorkloadCap names each node past its cap",
                       "interval": "1m", "input_series": series, "alert_rule_test": tests}]}


def cloud_cases():
    # The Cloud Monitoring policies' PromQL, as Prometheus alerting rules that
    # tests/e2e/alerts-promtool.sh writes (alert: the policy file's name, labels: the
    # condition's), over counters named as Cloud Monitoring names log-based metrics.
    lg = "logging_googleapis_com:user_"
    ex = lg + 'exitwatch_container_exits{code="3",exit_class="config_error",workload="%s",pod_name="exitwatch-%s"}'
    rs = lg + 'exitwatch_container_restarts{workload="%s",identity="k8s:uid-1/app",pod_name="exitwatch-a"}'
    fd = lg + 'exitwatch_findings{event="%s",rule="crash_loop",workload="%s",identity="k8s:uid-1/app",pod_name="exitwatch-a"}'
    end = 150 * 60
    nodes = {n: [60 * (1 + i + 3 * k) for k in range(10)] for i, n in enumerate("abc")}
    nodes["a"] += [60 * m for m in range(34, 59, 4)]
    series = [{"series": ex % (WL, n), "values": counter(t, 60, end)} for n, t in nodes.items()]
    series += [{"series": rs % WL, "values": counter([60 * 7 * k for k in range(1, 9)], 60, end)},
               {"series": fd % ("finding", WL), "values": counter([8 * 60], 60, end)},
               {"series": fd % ("resolved", WL), "values": counter([64 * 60], 60, end)}]
    crit = [{"exp_labels": {"severity": "critical", "workload": WL}}]
    warn = [{"exp_labels": {"severity": "warning", "workload": WL, "identity": "k8s:uid-1/app"}}]
    err = [{"exp_labels": {"severity": "error", "workload": WL, "identity": "k8s:uid-1/app"}}]
    tests = [{"eval_time": at(m), "alertname": "exit-code-burst", "exp_alerts": e}
             for m, e in [(3, []), (4, crit), (45, crit), (67, crit), (68, [])]]
    # Restarts at 7, 14, ..., 56: the 4th at 28 fires; none after 56: quiet from 116.
    tests += [{"eval_time": at(m), "alertname": "restart-rate", "exp_alerts": e}
              for m, e in [(27, []), (28, warn), (115, warn), (116, [])]]
    # The crash_loop finding at 8, its resolution at 64.
    tests += [{"eval_time": at(m), "alertname": "crash-loop", "exp_alerts": e}
              for m, e in [(7, []), (8, err), (40, err), (63, err), (64, [])]]
    return {"rule_files": ["cloud-rules.yaml"], "evaluation_interval": "1m",
            "tests": [{"name": "Cloud Monitoring policies' PromQL over log-based counters",
                       "interval": "1m", "input_series": series, "alert_rule_test": tests}]}


def annotate(doc):
    """The shipped rules' annotations, expanded for each expected alert's labels."""
    rules = yaml.safe_load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), RULES)))
    ann = {r["alert"]: r.get("annotations", {}) for g in rules["groups"] for r in g["rules"]}
    if doc["rule_files"] != [RULES]:
        ann = {}  # the policies' documentation is not part of the rules written from them
    for t in doc["tests"]:
        for case in t["alert_rule_test"]:
            for a in case["exp_alerts"]:
                a["exp_annotations"] = {}
                for k, v in ann.get(case["alertname"], {}).items():
                    for lk, lv in a["exp_labels"].items():
                        v = v.replace("{{ $labels.%s }}" % lk, lv)
                    a["exp_annotations"][k] = v
    return doc


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, f in [("burst", burst_cases), ("seed", seed_cases), ("startup", startup_cases),
                    ("findings", findings_cases), ("overflow", overflow_cases),
                    ("cloud", cloud_cases)]:
        with open(os.path.join(out, name + ".test.yaml"), "w", encoding="utf-8") as fh:
            fh.write("# Written by tests/alerts/gen-promtool-tests.py: edit that, then run it.\n")
            yaml.safe_dump(annotate(f()), fh, sort_keys=False, width=200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
