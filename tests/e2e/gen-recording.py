#!/usr/bin/env python3
"""Writes a synthetic exitwatch recording (the format of --record, read by `exitwatch replay`).

N crash-looping Docker containers (compose services e2e/svc-NN): in each episode a container
starts, exits with code 3 one second later and is restarted two seconds after that, CYCLES
times; episodes repeat every PERIOD seconds, staggered by STAGGER seconds between containers,
so that replaying the recording produces a steady stream of container_start and
container_exit records, exit_code_burst findings (more than 3 exits with code 3 in 5 minutes)
and their resolutions (10 minutes quiet), and restart_rate and startup_failure_rate findings.
The recording ends an hour and a minute after the last event, so that every finding resolves.

Deterministic: times count from 2026-01-01T00:00:00Z, ids are hashes of fixed names, so two
runs write the same bytes. Prints the recorded span (first to last event) in seconds, which a
test divides by the replay duration it wants to get --speed.

    gen-recording.py [--identities N] [--episodes E] [--cycles C] OUT
"""
import argparse
import hashlib
import json
import sys

BASE_NS = 1767225600 * 10**9  # 2026-01-01T00:00:00Z
SEC = 10**9
TAIL = (b"Traceback (most recent call last):\n"
        b"  File \"/app/main.py\", line 3, in <module>\n"
        b"ModuleNotFoundError: No module named 'app.services.monitoring'\n")


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def identity(i, cgroup_id, restarts):
    cid = hashlib.sha256(b"exitwatch-e2e-%d" % i).hexdigest()
    cgroup = "/system.slice/docker-%s.scope" % cid
    name = "e2e-svc-%02d-1" % i
    return cgroup, {
        "runtime": 1, "cgroup_id": cgroup_id, "kubernetes": False, "has_meta": True,
        "sandbox": False, "restart_count": restarts, "cgroup": cgroup, "container_id": cid,
        "pod_uid": "", "qos": "", "unit": "", "name": name,
        "image": "registry.example/e2e/app:1.%d" % i, "pod_name": "", "pod_namespace": "",
        "meta_pod_uid": "", "compose_project": "e2e", "compose_service": "svc-%02d" % i,
        "restart_policy": "always", "key": "docker:" + cid,
        "workload": "compose:e2e/svc-%02d" % i, "display": name,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--identities", type=int, default=20)
    ap.add_argument("--episodes", type=int, default=6)
    ap.add_argument("--cycles", type=int, default=6)
    ap.add_argument("--period", type=int, default=900, help="seconds between episodes")
    ap.add_argument("--stagger", type=int, default=30, help="seconds between containers")
    ap.add_argument("--node", default="e2e-node")
    ap.add_argument("out")
    a = ap.parse_args()
    if a.identities < 1 or a.episodes < 1 or a.cycles < 1:
        ap.error("--identities, --episodes and --cycles must be at least 1")
    if a.period < 3 * a.cycles + 660:
        ap.error("--period must leave 11 minutes of quiet after an episode's %d s" %
                 (3 * a.cycles))

    events = []  # (time_ns, order, line)
    for i in range(a.identities):
        starts = 0
        for e in range(a.episodes):
            t0 = BASE_NS + (i * a.stagger + e * a.period) * SEC
            for c in range(a.cycles):
                start_ns = t0 + c * 3 * SEC
                exit_ns = start_ns + SEC
                pid = 20000 + (i * a.episodes + e) * a.cycles + c
                cgroup_id = 100000 + pid
                boot_ns = start_ns - BASE_NS + 1000 * SEC
                cgroup, ident = identity(i, cgroup_id, starts)
                common = {"cgroup_id": cgroup_id, "pid": pid, "start_boot_ns": boot_ns,
                          "comm": "gunicorn", "seeded": False}
                start = {"type": "start", "time": start_ns, **common, "cgroup": cgroup,
                         "cg_level": 2, "ppid": 900 + i, "filename": "/usr/local/bin/gunicorn",
                         "argv0": "gunicorn", "reexec": False}
                exit_ = {"type": "exit", "time": exit_ns, **common, "exit_word": 3 << 8,
                         "uptime_ns": SEC, "oom": False, "ready": False, "startup_ns": 0,
                         "children_clean": 0, "children_failed": 1, "children_signaled": 0,
                         "stderr_total": len(TAIL), "tail_hex": TAIL.hex()}
                events.append((start_ns, 0, dumps({"event": start, "identity": ident})))
                events.append((exit_ns, 1, dumps({"event": exit_, "identity": ident})))
                starts += 1
    events.sort(key=lambda ev: (ev[0], ev[1], ev[2]))
    first, last = events[0][0], events[-1][0]
    with open(a.out, "w", encoding="ascii") as f:
        f.write(dumps({"exitwatch_record": 1, "node": a.node}) + "\n")
        for _, _, line in events:
            f.write(line + "\n")
        f.write(dumps({"end": {"time": last + 3660 * SEC}}) + "\n")
    print("%.3f" % ((last - first) / SEC))
    return 0


if __name__ == "__main__":
    sys.exit(main())
