#!/usr/bin/env python3
"""Detection latency: from the exit that crosses a threshold (the finding's "time", the
kernel's timestamp of that exit) to the moment the finding line can be read on exitwatch's
stdout. exit_code_burst is set to fire on the first exit with code 3 (count = 0), and every
spawn is a fresh cgroup, hence its own workload: each spawn is one episode.
With "docker" instead of a spawn storm, each episode is a Docker container (the test image,
tests/docker/build-image.sh) that writes a line to stderr and exits 3: its exit waits for
Docker's log file to settle (README, "The stderr tail"), and the finding must carry that line.
Usage: latency.py EXITWATCH SPAWNSTORM CGDIR N
       latency.py EXITWATCH docker - N"""
import calendar
import json
import os
import subprocess
import sys
import threading
import time

ew, storm, cgdir, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
docker = storm == "docker"
if not docker:
    os.makedirs(cgdir, exist_ok=True)
p = subprocess.Popen([ew, "--config", "/dev/null", "--agent-interval", "1h",
                      "--rule", "exit_code_burst.count=0", "--rule", "restart_rate.enabled=false",
                      "--rule", "startup_failure_rate.enabled=false"],
                     stdout=subprocess.PIPE, bufsize=0)


def wall_ns(ts):
    # "2026-11-29T11:44:14.932347598Z"
    secs = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int(ts[20:29])


lat = []
tails = 0
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
            elif (r["event"] == "finding" and r["rule"] == "exit_code_burst"
                  and (not docker or r.get("container", {}).get("name", "").startswith(
                      "ew-latency-"))):
                lat.append((now - wall_ns(r["time"])) / 1e6)
                if r.get("stderr_tail", "").endswith("ew-latency: last words\n"):
                    global tails
                    tails += 1


t = threading.Thread(target=reader, daemon=True)
t.start()
started.wait(30)
if docker:
    names = ["ew-latency-%d-%d" % (os.getpid(), i) for i in range(n)]
    try:
        for name in names:
            subprocess.run(["docker", "run", "--name", name, "exitwatch-test:latest", "sh", "-c",
                            "echo ew-latency: last words >&2; exit 3"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        subprocess.run(["docker", "rm", "-f"] + names, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
else:
    subprocess.run([storm, str(n), "3", cgdir], stdout=subprocess.DEVNULL, check=True)
deadline = time.time() + 5
while len(lat) < n and time.time() < deadline:
    time.sleep(0.05)
p.send_signal(2)
p.wait()
if not lat:
    sys.exit("latency: no finding at all")
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
if docker:
    print("%d Docker containers (a finding each: %d; with the container's last stderr line as"
          " the tail: %d). From the crossing exit to its finding line on stdout:"
          % (n, len(lat), tails))
else:
    print("%d episodes (a finding each: %d). From the crossing exit to its finding line on stdout:"
          % (n, len(lat)))
print()
print("| p50 | p90 | p99 | max | target p99 |")
print("|---:|---:|---:|---:|---:|")
print("| %.1f ms | %.1f ms | %.1f ms | %.1f ms | <= 100 ms |" % (pct(0.5), pct(0.9), pct(0.99), lat[-1]))
if len(lat) < n or (docker and tails < n):
    sys.exit("latency: %d of %d findings, %d with the right tail" % (len(lat), n, tails))
