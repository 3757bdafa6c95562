#!/usr/bin/env python3
"""Writes the incident's timeline as exitwatch recordings (the format of --record, read by
`exitwatch replay`), into tests/fixtures/replay/:

  seed-1.ndjson            one replica of Deployment prod/netra-backend on one node: it starts
                           every 7 minutes and exits 3 forty seconds in, 9 times in the hour
                           (minutes 0, 7, ..., 56); the fixed start at minute 63 stays up.
  seed-6-one-node.ndjson   6 replicas of it on one node, replica i offset by i * 70 s (the
                           7-minute cycle spread evenly), each on the seed's own timeline.
  seed-6-node-<i>.ndjson   the same 6 replicas, one per node (i = 0..5): what each of 6 agents
                           records when GKE spreads the Deployment over 6 nodes.

Deterministic (fixed times from 2025-09-16T00:43:00Z, ids from fixed names). The recordings
end 5 hours after the fix, so that every finding resolves and the stable milestone comes.

    gen-seed-timeline.py OUTDIR
"""
import hashlib
import json
import os
import sys

BASE_NS = 1757983380 * 10**9  # 2025-09-16T00:43:00Z, the incident's first hour
SEC = 10**9
CYCLE_S, EXIT_AFTER_S, FAILED_STARTS, FIX_AT_S = 420, 40, 9, 63 * 60
TAIL = (b"Traceback (most recent call last):\n"
        b"  File \"/app/netra_backend/app/middleware/gcp_auth_context_middleware.py\", line 23,"
        b" in <module>\n"
        b"ModuleNotFoundError: No module named 'netra_backend.app.services.monitoring'\n")


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def identity(i, cgroup_id, restarts):
    uid = "%08x-0000-4000-8000-%012x" % (0x5eed0000 + i, i)
    cid = hashlib.sha256(b"seed-%d-%d" % (i, restarts)).hexdigest()
    pod = "netra-backend-7d9f8b6c4d-%s" % hashlib.sha256(b"pod%d" % i).hexdigest()[:5]
    pod = pod.translate(str.maketrans("0123456789", "bcdfghjklm"))
    cgroup = ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
              "cri-containerd-%s.scope" % (uid.replace("-", "_"), cid))
    return cgroup, {
        "runtime": 2, "cgroup_id": cgroup_id, "kubernetes": True, "has_meta": True,
        "sandbox": False, "restart_count": restarts, "cgroup": cgroup, "container_id": cid,
        "pod_uid": uid, "qos": "burstable", "unit": "", "name": "backend",
        "image": "us-docker.pkg.dev/netra-staging/backend/netra-backend:00742",
        "pod_name": pod, "pod_namespace": "prod", "meta_pod_uid": uid,
        "compose_project": "", "compose_service": "", "restart_policy": "",
        "key": "k8s:%s/backend" % uid, "workload": "k8s:prod/netra-backend/backend",
        "display": pod + "/backend",
    }


def replica_events(i, offset_s):
    out = []
    for k in range(FAILED_STARTS + 1):
        start_s = offset_s + (k * CYCLE_S if k < FAILED_STARTS else FIX_AT_S)
        start_ns = BASE_NS + start_s * SEC
        pid = 30000 + 100 * i + k
        cgroup_id = 700000 + 100 * i + k
        common = {"cgroup_id": cgroup_id, "pid": pid,
                  "start_boot_ns": start_ns - BASE_NS + 5000 * SEC, "comm": "python3",
                  "seeded": False, "filename": "/usr/local/bin/python3", "argv0": "python3"}
        cgroup, ident = identity(i, cgroup_id, k)
        start = {"type": "start", "time": start_ns, **common, "cgroup": cgroup,
                 "cg_level": 4, "ppid": 4000 + i, "reexec": False}
        out.append((start_ns, 0, dumps({"event": start, "identity": ident})))
        if k == FAILED_STARTS:
            break  # the fix stays up
        exit_ns = start_ns + EXIT_AFTER_S * SEC
        ex = {"type": "exit", "time": exit_ns, **common, "exit_word": 3 << 8,
              "uptime_ns": EXIT_AFTER_S * SEC, "oom": False, "ready": False,
              "startup_ns": 0, "children_clean": 0, "children_failed": 0,
              "children_signaled": 0, "children_oom_killed": 0,
              "stderr_total": len(TAIL), "tail_hex": TAIL.hex(), "tail_source": "cri"}
        out.append((exit_ns, 1, dumps({"event": ex, "identity": ident})))
    return out


def write(path, node, events):
    events.sort(key=lambda ev: (ev[0], ev[1], ev[2]))
    with open(path, "w", encoding="ascii") as f:
        f.write(dumps({"exitwatch_record": 1, "node": node}) + "\n")
        for _, _, line in events:
            f.write(line + "\n")
        f.write(dumps({"end": {"time": BASE_NS + (FIX_AT_S + 6 * 3600) * SEC}}) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "seed-1.ndjson"), "gke-seed-node-0", replica_events(0, 0))
    allr = []
    for i in range(6):
        allr += replica_events(i, i * CYCLE_S // 6)
        write(os.path.join(d, "seed-6-node-%d.ndjson" % i), "gke-seed-node-%d" % i,
              replica_events(i, i * CYCLE_S // 6))
    write(os.path.join(d, "seed-6-one-node.ndjson"), "gke-seed-node-0", allr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
