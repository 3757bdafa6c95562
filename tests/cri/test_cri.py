# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""exitwatch on a real Kubernetes node's container runtime: containerd's CRI plugin (1.6, 1.7
or 2.1: tests/e2e/cri-containerd.sh runs each), driven the way a kubelet drives it
(tests/cri/kubelet.py), with the kubelet's CrashLoopBackOff and the rule windows divided by one
scale factor (SCALE), through configuration only.

Run by tests/e2e/cri-containerd.sh, which starts nothing: containerd with
tests/cri/containerd.toml is scripts/services.sh's, the images are tests/cri/images.sh's.

Pods, all at once, under one exitwatch that is restarted half-way (same state file):
  checkout-6d5f7c9b8-q4w2x (shop, Deployment-style): `backend`, a Python program that prints a
    ModuleNotFoundError traceback and exits 3, restarted with CrashLoopBackOff. The incident.
  web-0 (shop, StatefulSet-style): an init container that exits 0, then `web` and a sidecar
    `log-shipper`, healthy; an ExecSync liveness probe into `web` every second and a
    `kubectl exec` loop (Exec and its WebSocket stream) into `log-shipper` for the whole run.
  migrate-7c9d8b6f5-zt4kq (batch): `migrate` exits 3 within a millisecond of its exec; once,
    exitwatch is stopped (SIGSTOP) while one attempt starts, fails and has its bundle deleted
    by containerd, so its start is read after config.json is gone.
  orders-5f6d7c8b9-m2n4p (shop): `worker` crash-loops; the pod is deleted while it loops, and
    its findings, crash_loop's too, resolve after their quiet periods.
  seed-7d6c5b4f9-k8j7h (batch, restartPolicy Never), started late: `seed` exits 4 at once, while
    exitwatch is stopped and the kubelet holds its /var/log/containers link back, so its start
    is read with neither bundle nor link: its log file names it.
And tests/cri/lifecycle.py's pods, in the same runs: liveness kills, an OOM kill, exit 0
restarted, Jobs (OnFailure, Never), a Deployment rolled out twice in a row.
Each assertion filters on the pods' uids: other tests' containers on the node are ignored.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubelet  # noqa: E402
import lifecycle  # noqa: E402

# Rule windows, CrashLoopBackOff and the start-up grace, all divided by this.
SCALE = 60
# The containerd under test: its CRI plugin's root, and the version it must say it is (the matrix
# of tests/e2e/cri-containerd.sh sets both; empty: whatever runs).
CRI_ROOT = os.environ.get("EW_CRI_ROOT",
                          "/var/lib/exitwatch-containerd/io.containerd.grpc.v1.cri")
CRI_VERSION = os.environ.get("EW_CRI_VERSION", "")
EW = os.environ.get("EXITWATCH", "build/exitwatch")
RECORD_LOG = os.environ.get("EW_RECORD_LOG")
TASK_ROOT = "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
IMG_BUSYBOX = "docker.io/library/exitwatch-test:latest"
IMG_PYTHON = "docker.io/library/exitwatch-test-python:latest"
TRACEBACK = ("Traceback (most recent call last):\n"
             "  File \"/app/main.py\", line 3, in <module>\n"
             "    import app.services.monitoring\n"
             "ModuleNotFoundError: No module named 'app.services.monitoring'\n")
# 1 << CAP_BPF (39): all exitwatch keeps once attached.
CAP_BPF_ONLY = "0000008000000000"

failures = []
T0 = time.monotonic()


def check(ok, what):
    print("%s %5.1fs %s" % ("ok  " if ok else "FAIL", time.monotonic() - T0, what), flush=True)
    if not ok:
        failures.append(what)
    return ok


def seconds(s):
    """A duration for exitwatch's configuration, in milliseconds."""
    return "%dms" % round(s * 1000)


class Agent:
    """One exitwatch run: its records of the test's pods (and its agent records), parsed as
    they come. Other tests' containers on the node (a storm of thousands, at times) are
    dropped as they are read, so that this test neither holds nor scans them."""

    def __init__(self, tmp, tag, uids):
        self.uids = set(uids)
        self.records = []
        self.lock = threading.Lock()
        self.err_path = os.path.join(tmp, "ew-%s.err" % tag)
        args = [EW, "--config", "/dev/null", "--node", "cri-test",
                # tests/cri/containerd.toml's root: the CRI plugin's status of each container,
                # where a failed start's error is (/var/lib/containerd/... on a node).
                "--set", "agent.containerd_cri_root=" + CRI_ROOT,
                "--state-file", os.path.join(tmp, "state.json"),
                "--set", "agent.spool_dir=" + os.path.join(tmp, "spool"),
                "--startup-grace", seconds(60 / SCALE),
                "--rule", "exit_code_burst.window=" + seconds(300 / SCALE),
                "--rule", "exit_code_burst.resolve=" + seconds(600 / SCALE),
                "--rule", "restart_rate.window=" + seconds(3600 / SCALE),
                "--rule", "restart_rate.resolve=" + seconds(3600 / SCALE),
                "--rule", "startup_failure_rate.window=" + seconds(3600 / SCALE),
                "--rule", "startup_failure_rate.resolve=" + seconds(3600 / SCALE),
                "--rule", "crash_loop.resolve=" + seconds(3600 / SCALE),
                "--rule", "stable.uptime=" + seconds(4 * 3600 / SCALE)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=open(self.err_path, "w"), text=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        if not self.wait(lambda r: r["event"] == "agent" and r["agent"]["phase"] == "start",
                         30):
            raise RuntimeError("exitwatch did not start: " + self.stderr())

    def read(self):
        for line in self.proc.stdout:
            # Cheap first: most lines of a busy node are not ours.
            if '"event":"agent"' not in line and not any(u in line for u in self.uids):
                continue
            rec = json.loads(line)
            if rec["event"] != "agent" and pod_uid_of(rec) not in self.uids:
                continue
            with self.lock:
                self.records.append(rec)
            if RECORD_LOG:
                with open(RECORD_LOG, "a") as f:
                    f.write(line)

    def all(self, pred=lambda r: True):
        with self.lock:
            return [r for r in self.records if pred(r)]

    def wait(self, pred, timeout_s):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            got = self.all(pred)
            if got:
                return got[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        print("exitwatch pid %d: %.2fs user, %.2fs system CPU" % (
            self.proc.pid, int(fields[11]) / tick, int(fields[12]) / tick), flush=True)
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        return rc


def pod_uid_of(rec):
    return rec.get("pod", {}).get("uid")


def of_pod(pod, event=None):
    return lambda r: pod_uid_of(r) == pod.uid and (event is None or r["event"] == event)


def app_files(tmp):
    """The Python program of the incident, mounted at /app: app and app.services exist,
    app.services.monitoring does not."""
    root = os.path.join(tmp, "app")
    os.makedirs(os.path.join(root, "app", "services"))
    for pkg in ("app", "app/services"):
        open(os.path.join(root, pkg, "__init__.py"), "w").close()
    with open(os.path.join(root, "main.py"), "w") as f:
        f.write("import sys, traceback\ntry:\n    import app.services.monitoring\n"
                "except ImportError:\n    traceback.print_exc()\n    sys.exit(3)\n")
    return root


def main():
    tmp = tempfile.mkdtemp(prefix="ew-cri.")
    cri = kubelet.Cri()
    v = cri.version()
    print("CRI: %s %s, API %s" % (v.runtime_name, v.runtime_version, v.runtime_api_version))
    if CRI_VERSION and not check(v.runtime_name == "containerd" and
                                 v.runtime_version.startswith(CRI_VERSION + "."),
                                 "the CRI runtime is containerd %s.x" % CRI_VERSION):
        sys.exit(1)

    # What Docker's shims leave on a node (they MkdirAll /run/containerd/s with 0600): a
    # state directory uid 0 cannot traverse without CAP_DAC_READ_SEARCH, which exitwatch no
    # longer has once attached. Its names must come all the same (identity/meta_pin.c).
    os.chmod("/run/containerd", 0o600)

    app = app_files(tmp)
    # The Python image has no /usr of its own: the node's, read-only, as tests/docker does.
    backend = kubelet.Spec("backend", IMG_PYTHON, ["/usr/bin/python3", "/app/main.py"],
                           mounts=["/usr", (app, "/app")])
    checkout = kubelet.Pod(cri, "checkout-6d5f7c9b8-q4w2x", "shop", str(uuid.uuid4()),
                           [backend], backoff_scale=SCALE)
    web = kubelet.Pod(cri, "web-0", "shop", str(uuid.uuid4()),
                      [kubelet.Spec("web", IMG_BUSYBOX, ["/usr/local/bin/workload", "pause"]),
                       kubelet.Spec("log-shipper", IMG_BUSYBOX,
                                    ["/usr/local/bin/workload", "pause"])],
                      init_containers=[kubelet.Spec("init-config", IMG_BUSYBOX,
                                                    ["/bin/sh", "-c", "echo configured"])],
                      backoff_scale=SCALE)
    migrate = kubelet.Pod(cri, "migrate-7c9d8b6f5-zt4kq", "batch", str(uuid.uuid4()),
                          [kubelet.Spec("migrate", IMG_BUSYBOX,
                                        ["/usr/local/bin/workload", "stderr", "3",
                                         "migrate: relation \"orders\" does not exist"])],
                          backoff_scale=SCALE)
    orders = kubelet.Pod(cri, "orders-5f6d7c8b9-m2n4p", "shop", str(uuid.uuid4()),
                         [kubelet.Spec("worker", IMG_BUSYBOX,
                                       ["/usr/local/bin/workload", "exit", "3"])],
                         backoff_scale=SCALE)
    pods = [checkout, web, migrate, orders]
    # Started alone, later (start_before_link()): its one container exits 4 at once.
    seed = kubelet.Pod(cri, "seed-7d6c5b4f9-k8j7h", "batch", str(uuid.uuid4()),
                       [kubelet.Spec("seed", IMG_BUSYBOX,
                                     ["/usr/local/bin/workload", "exit", "4"])],
                       backoff_scale=SCALE, restart_policy="Never")
    # Liveness kills, an OOM kill, exit 0 restarted, Jobs, a rollout (tests/cri/lifecycle.py).
    life = lifecycle.Life(cri, tmp, IMG_BUSYBOX, SCALE, 60 / SCALE)
    probes = []
    agents = []
    stop_window = []  # [SIGSTOP, SIGCONT] of exitwatch 1, time.monotonic()
    link_window = []  # the same, of start_before_link()
    try:
        uids = [p.uid for p in pods + [seed]] + life.uids()
        agent = Agent(tmp, "1", uids)
        agents.append(agent)
        with open("/proc/%d/status" % agent.proc.pid) as f:
            eff = [ln.split()[1] for ln in f if ln.startswith("CapEff:")][0]
        check(eff == CAP_BPF_ONLY, "exitwatch keeps CAP_BPF alone once attached (CapEff %s)" % eff)
        check(os.stat("/run/containerd").st_mode & 0o777 == 0o600,
              "/run/containerd is 0600 (no owner x bit) while exitwatch runs")

        for p in pods:
            p.start()
        life.start()
        probes.append(kubelet.Prober(web, "web", ["/bin/sh", "-c", "test -d /tmp"], 1.0).start())
        probes.append(kubelet.Prober(web, "log-shipper",
                                     ["/bin/sh", "-c", "echo hello from kubectl exec; ls /"],
                                     0.25, stream=True).start())

        # The incident's findings, all three rules.
        for rule in ("exit_code_burst", "restart_rate", "startup_failure_rate"):
            check(agent.wait(lambda r, rule=rule: of_pod(checkout, "finding")(r)
                             and r["rule"] == rule, 60) is not None,
                  "checkout/backend: a %s finding" % rule)

        # The pod deleted while it loops, once it has its finding.
        for rule in ("exit_code_burst", "restart_rate", "crash_loop"):
            check(agent.wait(lambda r, rule=rule: of_pod(orders, "finding")(r)
                             and r["rule"] == rule, 60) is not None,
                  "orders/worker: a %s finding before the pod is deleted" % rule)
        orders.delete()
        orders_deleted = time.time()

        # A start read after its container died and containerd deleted its bundle: exitwatch
        # is stopped from just after one exit of `migrate` until the next attempt has failed.
        # Not while the rollout's pods come and go: one started, stopped and removed (link
        # and all) meanwhile could only be keyed by its pod. The liveness-killed pods loop on
        # through the stop: one of theirs born and removed inside it is keyed by its pod too,
        # which assert_no_sandbox() checks (a CI run had one).
        life.finish()
        stopped = stop_through_an_attempt(agent, migrate, stop_window)
        # And one read before the kubelet's link: its log file names it.
        unlinked = start_before_link(agent, seed, link_window)

        time.sleep(20)
        # exitwatch restarted with its state file, while everything goes on.
        check(agent.stop() == 0, "exitwatch 1 exits 0 on SIGTERM")
        agent = Agent(tmp, "2", uids)
        agents.append(agent)
        # Long enough for the deleted pod's findings to resolve (restart_rate and crash_loop:
        # 1h / SCALE).
        left = orders_deleted + 3600 / SCALE + 15 - time.time()
        time.sleep(max(left, 20))
    finally:
        for pr in probes:
            pr.finish()
        life.finish()
        for p in pods + [seed] + life.pods:
            # A pod never started (seed, when the test stopped before it) has nothing to delete.
            if not p.stopping.is_set() and p.sandbox_id:
                try:
                    p.delete()
                except Exception as e:  # the assertions below still run
                    print("deleting %s: %r" % (p.name, e))
        time.sleep(1)
        for a in agents:
            if a.proc.poll() is None:
                a.stop()
    recs = [r for a in agents for r in a.all()]
    first, second = agents[0].all(), agents[1].all() if len(agents) > 1 else []

    for p in pods:
        check(not p.errors, "the driver ran %s without errors %s" % (p.name, p.errors))
    assert_incident(checkout, recs)
    assert_quiet_pod(web, first, second, probes)
    assert_fast(migrate, recs, stopped)
    assert_before_link(seed, recs, unlinked)
    assert_deleted(orders, recs)
    assert_no_sandbox(pods + [seed] + life.pods, recs, [stop_window, link_window])
    life.assert_all(recs, check, iso_seconds)

    for i, a in enumerate(agents):
        err = a.stderr()
        check("Permission denied" not in err,
              "exitwatch %d said no 'Permission denied' on stderr" % (i + 1))
    if failures:
        for i, a in enumerate(agents):
            sys.stderr.write("--- exitwatch %d stderr ---\n%s" % (i + 1, a.stderr()[-4000:]))
        print("FAILED: %d assertion(s): %s" % (len(failures), "; ".join(failures)))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASS: exitwatch on containerd's CRI")
    return 0


def stop_through_an_attempt(agent, pod, window):
    """SIGSTOPs exitwatch right after an exit of pod's container, SIGCONTs it once the next
    attempt has exited and its bundle (config.json) is gone. The attempt's id, or None; window
    gets the times of the SIGSTOP and the SIGCONT."""
    if not agent.wait(lambda r: of_pod(pod, "container_exit")(r), 30):
        check(False, "migrate: a first exit")
        return None
    window.append(time.monotonic())
    os.kill(agent.proc.pid, signal.SIGSTOP)
    try:
        seen = pod.current("migrate")
        end = time.monotonic() + 30
        while time.monotonic() < end:
            cur = pod.current("migrate")
            if cur is not seen and cur.exit_code is not None and \
                    not os.path.exists(os.path.join(TASK_ROOT, cur.cid)):
                check(os.path.lexists(cur.link),
                      "migrate attempt %d: exited and its bundle is gone while exitwatch is "
                      "stopped; the kubelet's link is there" % cur.restart)
                return cur
            time.sleep(0.01)
        check(False, "migrate: an attempt exited while exitwatch was stopped")
        return None
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
        window.append(time.monotonic())


def start_before_link(agent, pod, window):
    """A container read after containerd deleted its bundle and before the kubelet linked it,
    as a busy kubelet allows (it links after StartContainer returns; containerd 2.1 deletes the
    bundle of a container that exits at once 9 to 30 ms after that, and exitwatch may read the
    start later: a storm makes its turns 40 ms apart): exitwatch is SIGSTOPped while pod's one
    container starts and exits, and the kubelet's link waits until exitwatch has read the
    start. The attempt, or None; window gets the times of the SIGSTOP and the SIGCONT."""
    name = pod.specs[0].name
    pod.run_sandbox()
    pod.link_gate.clear()
    window.append(time.monotonic())
    os.kill(agent.proc.pid, signal.SIGSTOP)
    a = None
    try:
        pod.start()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            att = pod.all_attempts(name)
            # The kubelet has not polled its state (it waits to link): CRI's word.
            if att and pod.cri.container_status(att[0].cid).state == \
                    pod.cri.pb.CONTAINER_EXITED and \
                    not os.path.exists(os.path.join(TASK_ROOT, att[0].cid)):
                a = att[0]
                check(not os.path.lexists(a.link),
                      "%s: exited and its bundle is gone while exitwatch is stopped, the "
                      "kubelet's link not made yet" % name)
                break
            time.sleep(0.01)
        else:
            check(False, "%s: exited while exitwatch was stopped" % name)
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
        window.append(time.monotonic())
        if a is not None:
            check(agent.wait(lambda r: r["event"] == "container_start"
                             and r.get("container", {}).get("id") == a.cid, 10) is not None,
                  "%s: exitwatch read its start before the kubelet's link" % name)
        pod.link_gate.set()
    return a


def named(rec, pod, container):
    """The names every record of a pod's container must carry."""
    c, p = rec["container"], rec.get("pod", {})
    return (c.get("name") == container and p.get("name") == pod.name
            and p.get("namespace") == pod.namespace and p.get("uid") == pod.uid
            and c.get("identity") == "k8s:%s/%s" % (pod.uid, container))


def assert_incident(pod, recs):
    exits = [r for r in recs if of_pod(pod, "container_exit")(r)]
    check(len(exits) >= 5, "checkout/backend: %d exits (at least 5)" % len(exits))
    ids = {r["container"]["id"] for r in exits}
    check(len(ids) == len(exits), "checkout/backend: each exit is another container id")
    check(all(named(r, pod, "backend") for r in exits),
          "checkout/backend: every exit names namespace, pod, container, pod uid; identity "
          "k8s:<pod uid>/backend across %d container ids" % len(ids))
    check(all(r["container"].get("image") == IMG_PYTHON for r in exits),
          "checkout/backend: every exit names the image")
    counts = [r["container"].get("restart_count") for r in exits]
    check(counts == sorted(counts) and counts and counts[0] is not None
          and len(set(counts)) == len(counts),
          "checkout/backend: every exit has the kubelet's restart count, rising: %s" % counts)
    check(all(r["workload"]["key"] == "k8s:shop/checkout/backend" for r in exits),
          "checkout/backend: workload k8s:shop/checkout/backend")
    check(all(r["exit"]["code"] == 3 and r["exit"]["class"] == "config_error" for r in exits),
          "checkout/backend: every exit is code 3, config_error")
    tails = [r.get("stderr_tail") for r in exits]
    check(all(t == TRACEBACK for t in tails),
          "checkout/backend: every stderr tail is the traceback, exactly: %r" % tails[:1])
    check(all(r.get("stderr_source") == "cri" for r in exits),
          "checkout/backend: the tails come from the CRI log")
    for rule, sev in (("exit_code_burst", "CRITICAL"), ("restart_rate", "WARNING"),
                      ("startup_failure_rate", "INFO")):
        fs = [r for r in recs if of_pod(pod, "finding")(r) and r["rule"] == rule]
        if not check(fs, "checkout/backend: %s fired" % rule):
            continue
        f = fs[0]
        check(f["severity"] == sev and named(f, pod, "backend"),
              "checkout/backend: %s is %s and names the container" % (rule, sev))
        if rule == "exit_code_burst":
            check(f["count"] == 4 and f["exit_codes"] == {"3": 4}
                  and f["window_s"] == 300 / SCALE and f["stderr_tail"] == TRACEBACK
                  and f["workload"]["key"] == "k8s:shop/checkout/backend",
                  "checkout/backend: exit_code_burst on the 4th exit in %gs, with the "
                  "traceback" % (300 / SCALE))
        if rule == "restart_rate":
            check(f["count"] == 4, "checkout/backend: restart_rate on the 4th restart")
        # One finding per episode, across the exitwatch restart too (its state file).
        check(len({x["finding_id"] for x in fs}) == 1,
              "checkout/backend: one %s episode (%d records)" % (rule, len(fs)))


def assert_quiet_pod(pod, first, second, probes):
    failed = [f for p in probes for f in p.failed]
    check(probes[0].ok >= 60 and probes[1].ok >= 150 and not failed,
          "web-0: %d exec probes and %d kubectl execs ran, %d failed %s"
          % (probes[0].ok, probes[1].ok, len(failed), failed[:3]))
    # Until the pod is deleted at the end: then its containers stop, and exit.
    n = len(first) + len(second)
    first = [r for r in first if iso_seconds(r["time"]) < pod.deleted_at]
    second = [r for r in second if iso_seconds(r["time"]) < pod.deleted_at]
    check(len(first) + len(second) < n, "web-0: its records after its deletion are left out")
    for c in ("web", "log-shipper"):
        for tag, recs in (("exitwatch 1", first), ("exitwatch 2", second)):
            mine = [r for r in recs if of_pod(pod)(r) and r["container"].get("name") == c]
            starts = [r for r in mine if r["event"] == "container_start"]
            others = [r for r in mine if r["event"] not in ("container_start",
                                                            "container_ready")]
            check(not others, "web-0/%s: no exit, finding or resolved record in %s (%d)"
                  % (c, tag, len(others)))
            # One start per exitwatch: the container's own (exitwatch 1) or the start-up
            # scan's (exitwatch 2), of its main process, never of an exec.
            want_running = tag == "exitwatch 2"
            check(len(starts) == 1 and starts[0]["process"]["comm"] == "workload"
                  and starts[0]["already_running"] == want_running and named(starts[0], pod, c),
                  "web-0/%s: one start in %s, of its main process (already_running %s): %s"
                  % (c, tag, want_running, [(s["process"]["comm"], s["already_running"])
                                            for s in starts]))
    mine = [r for r in first + second if of_pod(pod)(r)]
    keys = {r["container"]["identity"] for r in mine if r["container"].get("name") != "init-config"}
    check(keys == {"k8s:%s/web" % pod.uid, "k8s:%s/log-shipper" % pod.uid},
          "web-0: the app and its sidecar are two identities of one pod: %s" % sorted(keys))
    init = [r for r in first if of_pod(pod)(r) and r["container"].get("name") == "init-config"]
    ex = [r for r in init if r["event"] == "container_exit"]
    check(len(ex) == 1 and ex[0]["exit"]["code"] == 0 and ex[0]["exit"]["class"] == "clean",
          "web-0/init-config: one exit, code 0, clean")
    check(not [r for r in init if r["event"] in ("finding", "resolved")],
          "web-0/init-config: no finding")
    st = [r for r in first if of_pod(pod, "container_start")(r)]
    check(all(s["restarts"] == 0 for s in st),
          "web-0: no start counts as a restart: %s" % [s["restarts"] for s in st])
    check(not [r for r in first + second if of_pod(pod, "finding")(r)], "web-0: no finding")


def assert_fast(pod, recs, stopped):
    exits = [r for r in recs if of_pod(pod, "container_exit")(r)]
    check(len(exits) >= 5, "migrate: %d exits (at least 5)" % len(exits))
    fast = [r for r in exits if r["uptime_s"] <= 0.001]
    check(fast, "migrate: exits within a millisecond of the exec (%d of %d; uptimes %s)"
          % (len(fast), len(exits), sorted(r["uptime_s"] for r in exits)[:5]))
    check(all(named(r, pod, "migrate") for r in exits),
          "migrate: every exit named, identity k8s:<pod uid>/migrate")
    check(all(r["container"].get("image") == IMG_BUSYBOX for r in exits),
          "migrate: every exit names the image")
    check(all(r["workload"]["key"] == "k8s:batch/migrate/migrate" for r in exits),
          "migrate: workload k8s:batch/migrate/migrate")
    check(all(r.get("stderr_tail") == "migrate: relation \"orders\" does not exist\n"
              for r in exits), "migrate: every exit has its stderr tail from the CRI log")
    if stopped:
        mine = [r for r in exits if r["container"]["id"] == stopped.cid]
        check(len(mine) == 1 and named(mine[0], pod, "migrate")
              and mine[0]["container"].get("restart_count") == stopped.restart,
              "migrate attempt %d (read after its bundle was deleted): named by the kubelet's "
              "link, restart count %d: %s" % (stopped.restart, stopped.restart,
                                              [(r["container"].get("identity"),
                                                r["container"].get("restart_count"))
                                               for r in mine]))
    fs = [r for r in recs if of_pod(pod, "finding")(r) and r["rule"] == "exit_code_burst"]
    check(fs and named(fs[0], pod, "migrate"), "migrate: exit_code_burst fired, named")


def assert_before_link(pod, recs, a):
    if not check(a is not None, "seed: an attempt read before its link"):
        return
    mine = [r for r in recs if r.get("container", {}).get("id") == a.cid]
    check([r["event"] for r in mine] == ["container_start", "container_exit"]
          and all(named(r, pod, "seed") and r["container"].get("restart_count") == 0
                  for r in mine)
          and mine[1]["exit"]["code"] == 4 and mine[1]["workload"]["key"] == "k8s:batch/seed/seed",
          "seed (read after its bundle was deleted, before the kubelet's link): its start and "
          "exit named by its log file, k8s:<pod uid>/seed, restart count 0: %s"
          % [(r["event"], r["container"].get("identity"), r["container"].get("restart_count"))
             for r in mine])


def assert_deleted(pod, recs):
    exits = [r for r in recs if of_pod(pod, "container_exit")(r)]
    check(len(exits) >= 4 and all(named(r, pod, "worker") for r in exits),
          "orders/worker: %d exits, each named" % len(exits))
    check(not pod.pod_cgroups(), "orders: the pod's cgroups are gone")
    fired = {r["rule"]: r for r in recs if of_pod(pod, "finding")(r)}
    res = {r["rule"]: r for r in recs if of_pod(pod, "resolved")(r)}
    for rule, quiet in (("exit_code_burst", 600 / SCALE), ("restart_rate", 3600 / SCALE),
                        ("crash_loop", 3600 / SCALE)):
        if not check(rule in fired and rule in res, "orders/worker: %s fired and resolved"
                     % rule):
            continue
        t_res = iso_seconds(res[rule]["time"])
        last = max(iso_seconds(r["time"]) for r in exits)
        check(res[rule]["finding_id"] == fired[rule]["finding_id"]
              and abs(t_res - last - quiet) < 1.0,
              "orders/worker: %s resolved %.1fs after the last exit (quiet period %gs)"
              % (rule, t_res - last, quiet))
    # Never started again, not fixed: its resolved record says so.
    if "crash_loop" in res:
        check("has not started again" in res["crash_loop"]["message"],
              "orders/worker: crash_loop's resolved says it did not start again: %s"
              % res["crash_loop"]["message"])


def assert_no_sandbox(pods, recs, stop_windows):
    """No sandbox and every container named, but for one that was created and removed, link
    and all, while exitwatch was stopped: nothing on the node names it any more when exitwatch
    reads its start, and it must then be keyed by its pod (the liveness-killed pods loop on
    through the stops)."""
    uids = {p.uid for p in pods}
    unseeable = {a.cid for w in stop_windows if len(w) == 2 for p in pods
                 for a in p.all_attempts_of_all()
                 if a.created >= w[0] and a.removed is not None and a.removed <= w[1]}
    bad, keyed = [], []
    for r in recs:
        if pod_uid_of(r) not in uids:
            continue
        c = r.get("container", {})
        if c.get("id") in unseeable and c.get("name") is None:
            keyed.append(r)
            continue
        if (c.get("sandbox") or c.get("name") in (None, "POD")
                or c.get("image") == "exitwatch.local/pause:1"
                or "/POD" in c.get("identity", "")):
            bad.append(r)
    check(not bad, "no record of a pod's sandbox (pause), and none unnamed: %s"
          % [(r["event"], r["container"].get("identity")) for r in bad[:3]])
    wrong = [r["container"].get("identity") for r in keyed
             if r["container"].get("identity") != "k8s:" + pod_uid_of(r)]
    check(not wrong, "containers created and removed while exitwatch was stopped (%d records): "
          "keyed by their pod: %s" % (len(keyed), wrong[:3]))


def iso_seconds(t):
    """RFC 3339 with nanoseconds, UTC -> seconds since the epoch."""
    import calendar
    base, frac = t.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + frac)


if __name__ == "__main__":
    sys.exit(main())
