#!/usr/bin/env python3
"""Detection latency: from the exit that crosses a threshold (the finding's "time", the
kernel's timestamp of that exit) to the moment the finding line can be read on exitwatch's
stdout. exit_code_burst is set to fire on the first exit with code 3 (count = 0), and every
spawn is a fresh cgroup, hence its own workload: each spawn is one episode.
Usage: latency.py EXITWATCH SPAWNSTORM CGDIR N"""
import calendar
import json
import os
import subprocess
import sys
import threading
import time

ew, storm, cgdir, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(cgdir, exist_ok=True)
p = subprocess.Popen([ew, "--config", "/dev/null", "--agent-interval", "1h", "--no-stderr",
                      "--rule", "exit_code_burst.count=0", "--rule", "restart_rate.enabled=false",
                      "--rule", "startup_failure_rate.enabled=false"],
                     stdout=subprocess.PIPE, bufsize=0)


def wall_ns(ts):
    # "2026-11-29T11:44:14.932347598Z"
    secs = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int(ts[20:29])


lat = []
started = threading.Event()


def reader():
    buf = b""
    while True:
        chunk = os.read(p.stdout.fileno(), 1 << 16)
        if not chunk:
            return
        now = time.time_ns()
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            r = json.loads(line)
            if r["event"] == "agent" and r["agent"]["phase"] == "start":
                started.set()
            elif r["event"] == "finding" and r["rule"] == "exit_code_burst":
                lat.append((now - wall_ns(r["time"])) / 1e6)


t = threading.Thread(target=reader, daemon=True)
t.start()
started.wait(30)
subprocess.run([storm, str(n), "3", cgdir], stdout=subprocess.DEVNULL, check=True)
deadline = time.time() + 5
while len(lat) < n and time.time() < deadline:
    time.sleep(0.05)
p.send_signal(2)
p.wait()
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("%d episodes (a finding each: %d). From the crossing exit to its finding line on stdout:"
      % (n, len(lat)))
print()
print("| p50 | p90 | p99 | max | target p99 |")
print("|---:|---:|---:|---:|---:|")
print("| %.1f ms | %.1f ms | %.1f ms | %.1f ms | <= 100 ms |" % (pct(0.5), pct(0.9), pct(0.99), lat[-1]))
