#!/usr/bin/env python3
"""A recording of N container identities, each started once and still running, plus every
tenth exited once with code 3: what the detector holds for a node with N containers.
Usage: gen-identities.py N > recording.ndjson"""
import json
import sys

n = int(sys.argv[1])
t = 1767225600 * 10**9  # 2026-01-01T00:00:00Z
print(json.dumps({"exitwatch_record": 1, "node": "bench"}))
for i in range(n):
    cid = "%064x" % (i + 1)
    ident = {"runtime": 1, "cgroup_id": 1000 + i, "cgroup": "/docker/" + cid,
             "container_id": cid, "name": "svc-%d" % i, "image": "example/svc:1",
             "key": "docker:" + cid, "workload": "compose:bench/svc-%d" % (i % 500),
             "display": "svc-%d" % i, "restart_count": -1}
    t += 1000000
    print(json.dumps({"event": {"type": "start", "time": t, "cgroup_id": 1000 + i,
                                "pid": 10000 + i, "start_boot_ns": t, "comm": "svc",
                                "cgroup": "/docker/" + cid, "cg_level": 2, "ppid": 1,
                                "filename": "/usr/bin/svc", "argv0": "svc"},
                      "identity": ident}))
    if i % 10 == 0:
        t += 1000000
        print(json.dumps({"event": {"type": "exit", "time": t, "cgroup_id": 1000 + i,
                                    "pid": 10000 + i, "start_boot_ns": t, "comm": "svc",
                                    "exit_word": 3 << 8, "uptime_ns": 10**9,
                                    "tail_hex": ("Error: bad config\n".encode() * 20).hex()},
                          "identity": ident}))
