# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A pod's life on a node beyond a crash loop, for tests/cri/test_cri.py: what the kubelet does
to containers that are not simply failing, and what exitwatch must (and must not) say of it.
Run in the same exitwatch runs as test_cri.py's pods, with its SCALE (rule windows, back-off,
the 1 s start-up grace), so that they add no run time of their own.

  cart (shop): an exec liveness probe that always fails; the app exits 143 on SIGTERM (a JVM).
    The kubelet kills it (StopContainer with the pod's grace period) within the start-up grace
    and restarts it: each exit decides nothing (a stop by another process), each restart
    makes the stopped start a failed one: a restart loop (restart_rate) and a crash loop.
  cart-pid1 (shop): the same probe, the app PID 1 without a SIGTERM handler (the kernel drops
    the SIGTERM), so the runtime SIGKILLs it after the grace period: killed, by runc; past the
    start-up grace, so its starts succeeded: restart_rate alone.
  hog (shop): a memory limit (CRI LinuxContainerResources) it allocates past: OOM-killed.
  done (shop): exits 0 under restartPolicy Always: clean exits, restarted in a loop.
  report (batch, Job, restartPolicy OnFailure): exits 1 until a file appears, then 0: restarts
    in one pod, a crash loop that the final success resolves.
  pi-* (batch, Job, restartPolicy Never): every retry a new pod (a new uid) that exits 3. One
    workload, k8s:batch/pi/pi.
  badcmd (shop): a command that does not exist in the image. runc's init fails to exec it, so
    StartContainer fails (RunContainerError) and the kubelet retries under its back-off, a
    CrashLoopBackOff whose container never ran: one start_failed exit per attempt, each named
    and keyed by its pod, no container_start; a crash loop and a restart loop.
  worker-* (shop, Deployment): three pods, rolled out to a new ReplicaSet and at once to a
    third (a rollout undone): the middle ReplicaSet's pods are stopped well inside their
    start-up grace. No failure, restart or finding.
"""
import os
import threading
import time
import uuid

import kubelet

W = "/usr/local/bin/workload"


def mine(recs, pods, event=None):
    uids = {p.uid for p in pods}
    return [r for r in recs if r.get("pod", {}).get("uid") in uids
            and (event is None or r["event"] == event)]


def rules(recs, pods, event="finding"):
    return sorted({r["rule"] for r in mine(recs, pods, event)})


def before_delete(recs, pod, seconds):
    """Records of pod up to its deletion at the end of the test (seconds: a record's time)."""
    return [r for r in recs if pod.deleted_at is None or seconds(r["time"]) < pod.deleted_at]


class Life:
    """The pods, their drivers (the rollout, the Job controller, the fix of `report`) and the
    checks of their records."""

    def __init__(self, cri, tmp, image, scale, grace_s):
        self.scale = scale
        self.grace_s = grace_s  # exitwatch's --startup-grace
        self.flag_dir = os.path.join(tmp, "report-flag")
        os.makedirs(self.flag_dir)

        def pod(name, ns, specs, **kw):
            return kubelet.Pod(cri, name, ns, str(uuid.uuid4()), specs, backoff_scale=scale,
                               **kw)

        def probe(delay_s, period_s):
            return kubelet.Liveness(["/bin/sh", "-c", "test -e /tmp/healthy"], delay_s, period_s,
                                    threshold=2)

        self.cart = pod("cart-7b8c9d6f5-k2m4n", "shop",
                        [kubelet.Spec("cart", image, [W, "term", "143"],
                                      liveness=probe(0.1, 0.15))], grace_s=1)
        self.cart_pid1 = pod("cart-pid1-5f7d8c9b6-h4j5k", "shop",
                             [kubelet.Spec("cart", image, [W, "pause"],
                                           liveness=probe(0.1, 0.15))], grace_s=1)
        self.hog = pod("hog-5d6f7c8b9-x2x7k", "shop",
                       [kubelet.Spec("hog", image, [W, "oom"], memory_limit=32 << 20)])
        self.done = pod("done-6c7d8f9b5-p2q4r", "shop",
                        [kubelet.Spec("once", image, [W, "exit", "0"])])
        self.badcmd = pod("badcmd-6f8d7c9b5-t2v5w", "shop",
                          [kubelet.Spec("api", image, ["/srv/no-such-app", "--port", "8080"])],
                          labels={"pod-template-hash": "6f8d7c9b5"})
        job = {"job-name": "report", "controller-uid": str(uuid.uuid4())}
        self.report = pod("report-x7k2p", "batch",
                          [kubelet.Spec("report", image,
                                        ["/bin/sh", "-c", "test -e /flag/ok || exit 1"],
                                        mounts=[(self.flag_dir, "/flag")])],
                          restart_policy="OnFailure", labels=job)
        job = {"job-name": "pi", "controller-uid": str(uuid.uuid4())}
        self.pi = [pod("pi-" + sfx, "batch",
                       [kubelet.Spec("pi", image, [W, "stderr", "3", "pi: digits must be > 0"])],
                       restart_policy="Never", labels=job)
                   for sfx in ("b2x7k", "c4z9m", "d5f6n", "g7h8p", "j9k2q")]
        self.rs = [[pod("worker-%s-%s" % (h, sfx), "shop",
                        [kubelet.Spec("worker", image, [W, "term", "143"])],
                        labels={"pod-template-hash": h}, grace_s=1)
                    for sfx in ("l2m4n", "p5q6r", "s7t8v")]
                   for h in ("7d9f8b6c4d", "5b8c9d7f6c", "6c7d8f9b5x")]
        self.looping = [self.cart, self.cart_pid1, self.hog, self.done, self.report,
                        self.badcmd]
        self.pods = self.looping + self.pi + [p for r in self.rs for p in r]
        self.threads = []
        self.errors = []

    def uids(self):
        return [p.uid for p in self.pods]

    def _run(self, fn):
        def wrapped():
            try:
                fn()
            except Exception as e:  # reported by check(), not lost in a thread
                self.errors.append(repr(e))
        t = threading.Thread(target=wrapped, daemon=True)
        t.start()
        self.threads.append(t)

    def start(self):
        for p in self.looping + self.rs[0]:
            p.start()
        self._run(self.job_never)
        self._run(self.rollout)
        self._run(self.fix_report)

    def job_never(self):
        """The Job controller: a new pod once the last one failed. On a node its back-off (10 s
        doubling: 70 s before the 4th pod) and the pods' starts (a second or two each) put four
        exits well inside exit_code_burst's 5 minutes. Here the window is divided by SCALE but a
        pod's start is not, and takes a loaded test machine (two cores, three test runs) up to a
        second and a half: the sandboxes are made first and the retries follow each other at
        once, so that the four exits fit the 5 s window as they fit 5 minutes on a node."""
        for p in self.pi:
            p.run_sandbox()
        for p in self.pi:
            p.start()
            if not p.finished.wait(30):
                raise RuntimeError("%s did not finish" % p.name)

    def rollout(self):
        """Two rollouts in a row: each pod of the middle ReplicaSet is stopped just after its
        replacement started, a fraction of the start-up grace after its own start."""
        time.sleep(2)

        def one(i):
            self.rs[1][i].start()
            self.rs[2][i].start()
            self.rs[1][i].delete()
            self.rs[0][i].delete()
        ts = [threading.Thread(target=one, args=(i,)) for i in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)

    def fix_report(self):
        """The Job's input arrives once `report` has failed a few times: its next run is 0."""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            att = self.report.all_attempts("report")
            if att and att[-1].restart >= 4:
                break
            time.sleep(0.05)
        open(os.path.join(self.flag_dir, "ok"), "w").close()
        if not self.report.finished.wait(30):
            raise RuntimeError("report did not complete")

    def finish(self):
        """Waits for the drivers: the rollout, the Jobs, the fix of `report` (about 10 s)."""
        for t in self.threads:
            t.join(60)

    # The checks ----------------------------------------------------------------------------
    def assert_all(self, recs, check, seconds):
        """recs: every record of the run; check(ok, what) as test_cri's; seconds: a record's
        time as seconds since the epoch."""
        self.seconds = seconds
        check(not self.errors and not [e for p in self.pods for e in p.errors],
              "lifecycle drivers ran without errors: %s"
              % (self.errors + [e for p in self.pods for e in p.errors]))
        self.assert_liveness(recs, check)
        self.assert_oom(recs, check)
        self.assert_done(recs, check)
        self.assert_jobs(recs, check)
        self.assert_rollout(recs, check)
        self.assert_start_failed(recs, check)

    def assert_liveness(self, recs, check):
        for pod, cls, sig in ((self.cart, "terminated", 15), (self.cart_pid1, "killed", 9)):
            tag = "%s (liveness)" % pod.name
            att = pod.all_attempts("cart")
            recs_p = before_delete(recs, pod, self.seconds)
            exits = mine(recs_p, [pod], "container_exit")
            check(len(exits) >= 5, "%s: %d exits, the kubelet's liveness kills (at least 5)"
                  % (tag, len(exits)))
            # The sender is the runtime, on the host: not the container, not another one.
            bad = [(r["exit"], r.get("killed_by")) for r in exits
                   if r["exit"]["class"] != cls or r.get("killed_by", {}).get("signal") != sig
                   or r["killed_by"].get("comm") != "runc"
                   or r["killed_by"].get("container") != "host"]
            check(exits and not bad, "%s: every exit is %s, killed_by runc on the host with "
                  "signal %d: %s" % (tag, cls, sig, bad[:2]))
            # Its findings say who stopped it: each last exit was one of those kills.
            finds = mine(recs_p, [pod], "finding")
            bad = [(r["rule"], r["last_exit"], r["message"]) for r in finds
                   if (r["last_exit"] or {}).get("killed_by", {}).get("comm") != "runc"
                   or r["last_exit"]["killed_by"].get("signal") != sig
                   or r["last_exit"]["killed_by"].get("container") != "host"
                   or "was sent by runc (pid " not in r["message"]]
            check(finds and not bad, "%s: each of its %d findings names the last exit's "
                  "sender, runc on the host with signal %d: %s" % (tag, len(finds), sig, bad[:1]))
            # Undecided at the exit: the restart that follows decides it.
            failed = [r for r in exits if r["startup"].get("succeeded") is False]
            check(not failed, "%s: no liveness kill is a failed start at its exit "
                  "(startup.succeeded false: %d, uptimes %s)"
                  % (tag, len(failed), [r["uptime_s"] for r in failed][:5]))
            early = [r for r in exits if r["uptime_s"] < self.grace_s]
            fired = set(rules(recs_p, [pod]))
            if pod is self.cart:
                check(len(early) >= 3, "%s: %d kills within the start-up grace (%gs)"
                      % (tag, len(early), self.grace_s))
                check({"restart_rate", "crash_loop"} <= fired
                      <= {"restart_rate", "crash_loop", "startup_failure_rate"},
                      "%s: killed before its start succeeded and restarted: restart_rate and "
                      "crash_loop fire: %s" % (tag, sorted(fired)))
            else:
                check(not early and fired == {"restart_rate"},
                      "%s: killed after its start succeeded: restart_rate alone fires: %s "
                      "(uptimes %s)" % (tag, sorted(fired), [r["uptime_s"] for r in exits][:5]))
            check(any(a.liveness_killed for a in att),
                  "%s: the kubelet killed it on its probe" % tag)

    def assert_oom(self, recs, check):
        exits = mine(before_delete(recs, self.hog, self.seconds), [self.hog], "container_exit")
        ended = [a for a in self.hog.all_attempts_of_all() if a.reason]
        reasons = {a.reason for a in ended}
        check(len(exits) >= 3 and all(r["exit"]["class"] == "oom_killed"
                                      and r["severity"] == "ERROR" and "killed_by" not in r
                                      and "was killed by the OOM killer" in r["message"]
                                      for r in exits),
              "hog: %d exits, each oom_killed (ERROR, no sender) under a 32 MiB limit (cgroup v1 "
              "memory here); the kubelet says %s" % (len(exits), sorted(reasons)))
        # containerd's reason is a cross-check that the kills were the OOM killer's. It is
        # racy: its shim may publish the OOM event after the exit, and the kubelet then says
        # Error (containerd #8180, #8893; seen here with 1.6 and 1.7; fixed in containerd by
        # #12714).
        # exitwatch reads the kill from the kernel: every exit above is oom_killed all the same.
        n_oom = sum(1 for a in ended if a.reason == "OOMKilled")
        check(n_oom >= 1 and reasons <= {"OOMKilled", "Error"},
              "hog: containerd's reason is OOMKilled for %d of its %d attempts (Error for the "
              "others, its race): %s" % (n_oom, len(ended), sorted(reasons)))
        f = [r for r in mine(recs, [self.hog], "finding") if r["rule"] == "crash_loop"]
        check(f and f[0]["last_exit"]["class"] == "oom_killed"
              and "killed_by" not in f[0]["last_exit"],
              "hog: crash_loop fires, its last exit oom_killed, no sender named")

    def assert_done(self, recs, check):
        recs_p = before_delete(recs, self.done, self.seconds)
        exits = mine(recs_p, [self.done], "container_exit")
        check(len(exits) >= 5 and all(r["exit"]["class"] == "clean" and r["severity"] == "INFO"
                                      and r["startup"].get("succeeded") is True for r in exits),
              "done: %d exits 0 under restartPolicy Always, each clean, a successful start"
              % len(exits))
        fired = rules(recs_p, [self.done])
        f = [r for r in mine(recs_p, [self.done], "finding")]
        check(fired == ["restart_rate"] and "last exit: code 0 (clean)" in f[0]["message"],
              "done: restart_rate alone fires, and says the last exit was 0: %s %s"
              % (fired, [r["message"] for r in f][:1]))

    def assert_jobs(self, recs, check):
        # OnFailure: one pod, one identity, restarted until its run exits 0.
        exits = mine(recs, [self.report], "container_exit")
        codes = [r["exit"]["code"] for r in exits]
        check(len(exits) >= 5 and codes[-1] == 0 and set(codes[:-1]) == {1}
              and len({r["container"]["identity"] for r in exits}) == 1
              and all(r["workload"]["key"] == "k8s:batch/report/report" for r in exits),
              "report (Job, OnFailure): exits 1 then 0, one identity, workload "
              "k8s:batch/report/report: %s" % codes)
        fired, res = rules(recs, [self.report]), rules(recs, [self.report], "resolved")
        check({"restart_rate", "crash_loop"} <= set(fired) and "crash_loop" in res,
              "report: restart_rate and crash_loop fire, crash_loop resolves at the run that "
              "completes: fired %s, resolved %s" % (fired, res))
        # Never: a pod a retry, each its own identity, all one workload.
        exits = mine(recs, self.pi, "container_exit")
        starts = mine(recs, self.pi, "container_start")
        check(len(exits) == len(self.pi) and len({r["container"]["identity"] for r in exits})
              == len(self.pi) and all(r["workload"]["key"] == "k8s:batch/pi/pi"
                                      and r["exit"]["class"] == "config_error" for r in exits),
              "pi (Job, Never): %d exits, a pod and identity each, one workload k8s:batch/pi/pi"
              % len(exits))
        check(starts and all(r["restarts"] == 0 for r in starts),
              "pi: no retry is a restart: %s" % [r["restarts"] for r in starts])
        fs = {r["rule"]: r for r in mine(recs, self.pi, "finding")}
        check(sorted(fs) == ["exit_code_burst", "startup_failure_rate"]
              and all(f["workload"]["key"] == "k8s:batch/pi/pi" and f["identities"] >= 4
                      for f in fs.values()),
              "pi: the retries count together: exit_code_burst and startup_failure_rate of the "
              "workload, over %s pods" % [f.get("identities") for f in fs.values()])

    def assert_rollout(self, recs, check):
        old, mid = self.rs[0], self.rs[1]
        allp = [p for r in self.rs for p in r]
        exits = mine(recs, old + mid, "container_exit")

        def stopped(r):
            """143 on the kubelet's SIGTERM; or, a middle pod stopped before its app had set
            its handler (PID 1 of its namespace: the kernel drops the SIGTERM), SIGKILLed by
            runc at the end of the pod's 1 s grace period. A CI run saw the second once."""
            k = r.get("killed_by", {})
            if r["exit"]["class"] == "terminated":
                return k.get("signal") == 15
            return (r["exit"]["class"] == "killed" and k.get("signal") == 9
                    and k.get("comm") == "runc" and k.get("container") == "host"
                    and r["uptime_s"] >= 1.0)
        check(len(exits) == 6 and all(stopped(r) for r in exits),
              "worker: the 6 pods of the two old ReplicaSets stop on the kubelet's SIGTERM "
              "(143), or runc's SIGKILL after the grace period when it came before the app's "
              "handler: %s" % [(r["pod"]["name"], r["exit"]["class"], r["uptime_s"],
                                r.get("killed_by", {}).get("signal")) for r in exits
                               if not stopped(r)])
        early = [r for r in mine(recs, mid, "container_exit") if r["uptime_s"] < self.grace_s]
        check(len(early) >= 2, "worker: %d pods stopped within the start-up grace (%gs): %s"
              % (len(early), self.grace_s, [r["uptime_s"] for r in mine(recs, mid,
                                                                        "container_exit")]))
        failed = [r for r in exits if r["startup"].get("succeeded") is False]
        check(not failed, "worker: no stopped pod is a failed start: %s"
              % [(r["pod"]["name"], r["uptime_s"]) for r in failed])
        keys = {r["workload"]["key"] for r in mine(recs, allp)}
        check(keys == {"k8s:shop/worker/worker"},
              "worker: the three ReplicaSets' pods are one workload: %s" % keys)
        # The exitwatch restart finds the last ReplicaSet's pods running: starts of their own.
        starts = [r for r in mine(recs, allp, "container_start") if not r["already_running"]]
        check(len(starts) == 9 and all(r["restarts"] == 0 for r in starts),
              "worker: 9 starts, none a restart: %s" % [r["restarts"] for r in starts])
        fired = [r["message"] for r in mine(recs, allp, "finding")]
        check(not fired, "worker: no finding for a rollout: %s" % fired)

    def assert_start_failed(self, recs, check):
        pod = self.badcmd
        recs_p = before_delete(recs, pod, self.seconds)
        att = sorted((a for a in pod.all_attempts_of_all() if a.start_error is not None),
                     key=lambda a: a.created)
        check(len(att) >= 3 and all("no such file" in a.start_error for a in att),
              "badcmd: containerd refused %d starts, its command not found: %s"
              % (len(att), [a.start_error for a in att][:1]))
        exits = mine(recs_p, [pod], "container_exit")
        bad = [(r["exit"], r["severity"], r["process"]["comm"], r["message"]) for r in exits
               if r["exit"]["class"] != "start_failed" or r["severity"] != "WARNING"
               or r["process"]["comm"] != "runc:[2:INIT]"
               or r["startup"].get("succeeded") is not False
               or " failed to start: " not in r["message"]]
        check(len(exits) >= 3 and not bad,
              "badcmd: %d exits, each start_failed (WARNING, runc's init, a failed start): %s"
              % (len(exits), bad[:1]))
        # Every refused start has its record, by its id (the last may race the test's end).
        ids = {r["container"]["id"] for r in mine(recs, [pod], "container_exit")}
        missing = [a.cid[:12] for a in att[:-1] if a.cid not in ids]
        check(not missing, "badcmd: a record for each refused start: missing %s" % missing)
        keys = {(r["container"]["identity"], r["container"].get("name"), r["workload"]["key"],
                 r["pod"].get("name")) for r in exits}
        check(keys == {("k8s:%s/api" % pod.uid, "api", "k8s:shop/badcmd/api", pod.name)},
              "badcmd: one identity, named by its pod and container: %s" % sorted(keys))
        check(not mine(recs, [pod], "container_start"),
              "badcmd: no container_start, it never ran")
        # Why, in runc's words as containerd's CRI status kept them (the kubelet's StartError
        # message), the cause in the message. The kubelet's GC may remove a container before a
        # stopped or restarting exitwatch reads it: most, not all, have it.
        cause = ('its command never ran: exec: "/srv/no-such-app": stat /srv/no-such-app: '
                 'no such file or directory')
        said = [r for r in exits if r.get("start_error")]
        wrong = [(r.get("start_error"), r["message"]) for r in said
                 if "runc create failed: " not in r["start_error"] or cause not in r["message"]]
        check(len(said) >= 3 and len(said) * 2 >= len(exits) and not wrong,
              "badcmd: %d of %d exits say containerd's StartError, the cause in the message: %s"
              % (len(said), len(exits), wrong[:1]))
        fired = set(rules(recs_p, [pod]))
        finds = [r for r in mine(recs_p, [pod], "finding") if r["rule"] == "crash_loop"]
        check({"crash_loop", "restart_rate"} <= fired and finds
              and finds[0]["last_exit"]["class"] == "start_failed",
              "badcmd: crash_loop and restart_rate fire, the last exit start_failed: %s %s"
              % (sorted(fired), [f["message"] for f in finds][:1]))
        # The alert says why: the runtime's error, compared across the starts and quoted.
        check(finds and "runc create failed: " in finds[0].get("start_error", "")
              and "stderr_tail" not in finds[0]
              and "the runtime's error was the same each time" in finds[0]["message"]
              and cause.split(": ", 1)[1] in finds[0]["message"],
              "badcmd: the crash_loop finding quotes containerd's StartError: %s"
              % [f["message"] for f in finds][:1])
