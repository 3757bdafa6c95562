# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A kubelet-shaped client of containerd's CRI, for tests/cri/test_cri.py.

It does to containerd what a kubelet does for a pod, through the CRI v1 API (tests/cri/cri.proto,
compiled with protoc at start): RunPodSandbox with the pod's names, uid, labels, a kubepods
cgroup parent and /var/log/pods/<ns>_<pod>_<uid> as the log directory (host network: no CNI);
the log directory of each container; CreateContainer and StartContainer with log_path
<container>/<restart>.log and the kubelet's labels and annotations (restartCount among them);
the /var/log/containers/<pod>_<ns>_<container>-<id>.log link; restarts under restartPolicy
Always with CrashLoopBackOff (10 s doubling to 5 min, divided by a scale factor for tests, the
first restart at once as the kubelet's back-off does), or under restartPolicy OnFailure or Never;
a StartContainer that fails (RunContainerError) restarted under the same back-off; garbage
collection of all but the last dead container of each name; init containers run to completion
first; a memory limit (LinuxContainerResources); an exec liveness probe whose failures make the
kubelet kill the container (StopContainer with the pod's grace period) and restart it; ExecSync
probes and `kubectl exec`; and the pod's deletion (stop and remove every container, then the
sandbox).
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import websocket

SOCKET = "/run/exitwatch-cri/containerd.sock"  # tests/cri/containerd.toml
PODS_LOG_ROOT = "/var/log/pods"
CONTAINERS_LOG_ROOT = "/var/log/containers"
CGROUP_ROOT = "/sys/fs/cgroup"
BACKOFF_INITIAL_S = 10.0
BACKOFF_MAX_S = 300.0
# The kubelet resets a container's back-off after it ran this long (2x the max back-off).
BACKOFF_RESET_S = 600.0

_pb = None


def proto():
    """The CRI messages, compiled from tests/cri/cri.proto into a temporary directory."""
    global _pb
    if _pb is None:
        here = os.path.dirname(os.path.abspath(__file__))
        out = tempfile.mkdtemp(prefix="ew-cri-proto.")
        subprocess.run(["protoc", "-I" + here, "--python_out=" + out,
                        os.path.join(here, "cri.proto")], check=True)
        sys.path.insert(0, out)
        import cri_pb2  # noqa: E402 (generated just above)
        _pb = cri_pb2
    return _pb


class Cri:
    """The CRI RuntimeService, method by method, over containerd's socket."""

    def __init__(self, socket=SOCKET):
        self.pb = proto()
        self.channel = grpc.insecure_channel("unix://" + socket)

    def call(self, method, request, response, timeout=30):
        rpc = self.channel.unary_unary("/runtime.v1.RuntimeService/" + method,
                                       request_serializer=request.SerializeToString,
                                       response_deserializer=response.FromString)
        return rpc(request, timeout=timeout)

    def version(self):
        pb = self.pb
        return self.call("Version", pb.VersionRequest(version="v1"), pb.VersionResponse)

    def run_pod_sandbox(self, config, handler=""):
        pb = self.pb
        r = self.call("RunPodSandbox", pb.RunPodSandboxRequest(config=config,
                                                               runtime_handler=handler),
                      pb.RunPodSandboxResponse, timeout=60)
        return r.pod_sandbox_id

    def stop_pod_sandbox(self, sid):
        pb = self.pb
        self.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sid),
                  pb.StopPodSandboxResponse, timeout=60)

    def remove_pod_sandbox(self, sid):
        pb = self.pb
        self.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sid),
                  pb.RemovePodSandboxResponse, timeout=60)

    def create_container(self, sid, config, sandbox_config):
        pb = self.pb
        r = self.call("CreateContainer",
                      pb.CreateContainerRequest(pod_sandbox_id=sid, config=config,
                                                sandbox_config=sandbox_config),
                      pb.CreateContainerResponse, timeout=60)
        return r.container_id

    def start_container(self, cid):
        pb = self.pb
        self.call("StartContainer", pb.StartContainerRequest(container_id=cid),
                  pb.StartContainerResponse, timeout=60)

    def stop_container(self, cid, timeout_s=2):
        pb = self.pb
        self.call("StopContainer", pb.StopContainerRequest(container_id=cid, timeout=timeout_s),
                  pb.StopContainerResponse, timeout=60)

    def remove_container(self, cid):
        pb = self.pb
        self.call("RemoveContainer", pb.RemoveContainerRequest(container_id=cid),
                  pb.RemoveContainerResponse, timeout=60)

    def container_status(self, cid):
        pb = self.pb
        return self.call("ContainerStatus", pb.ContainerStatusRequest(container_id=cid),
                         pb.ContainerStatusResponse).status

    def exec_sync(self, cid, cmd, timeout_s=5):
        pb = self.pb
        return self.call("ExecSync",
                         pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout_s),
                         pb.ExecSyncResponse, timeout=timeout_s + 10)

    def exec_url(self, cid, cmd):
        pb = self.pb
        return self.call("Exec", pb.ExecRequest(container_id=cid, cmd=cmd, stdout=True,
                                                stderr=True), pb.ExecResponse).url

    def exec_stream(self, cid, cmd, timeout_s=10):
        """`kubectl exec`: Exec, then the runtime's streaming server over a WebSocket with
        the v4.channel.k8s.io protocol (each frame's first byte is its stream: 1 stdout,
        2 stderr, 3 the final status). Returns (exit code, stdout, stderr)."""
        url = self.exec_url(cid, cmd)
        ws = websocket.create_connection(url.replace("http://", "ws://", 1),
                                         subprotocols=["v4.channel.k8s.io"],
                                         timeout=timeout_s)
        out, err, status = b"", b"", None
        try:
            while True:
                try:
                    frame = ws.recv()
                except websocket.WebSocketConnectionClosedException:
                    break
                if not frame:
                    break
                if isinstance(frame, str):
                    frame = frame.encode()
                if frame[0] == 1:
                    out += frame[1:]
                elif frame[0] == 2:
                    err += frame[1:]
                elif frame[0] == 3:
                    status = json.loads(frame[1:])
        finally:
            ws.close()
        if status is None:
            raise RuntimeError("exec stream of %s: no status" % cid[:12])
        if status.get("status") == "Success":
            return 0, out, err
        for c in status.get("details", {}).get("causes", []):
            if c.get("reason") == "ExitCode":
                return int(c["message"]), out, err
        raise RuntimeError("exec stream of %s: %r" % (cid[:12], status))


class Liveness:
    """An exec liveness probe: cmd every period_s from delay_s after the start; after threshold
    failures in a row the kubelet kills the container (StopContainer with the pod's
    termination grace period) and restarts it, under the same back-off as a crash."""

    def __init__(self, cmd, delay_s, period_s, threshold=3):
        self.cmd = list(cmd)
        self.delay_s = delay_s
        self.period_s = period_s
        self.threshold = threshold


class Spec:
    """One container of a pod spec: name, image, command, and host paths mounted read-only
    (a path, mounted where it is, or a (host path, container path) pair); a memory limit in
    bytes (resources.limits.memory) and a liveness probe, if any."""

    def __init__(self, name, image, command, mounts=(), env=(), memory_limit=0, liveness=None):
        self.name = name
        self.image = image
        self.command = list(command)
        self.mounts = [(m, m) if isinstance(m, str) else tuple(m) for m in mounts]
        self.env = list(env)
        self.memory_limit = memory_limit
        self.liveness = liveness


class Attempt:
    """One container the kubelet created for a spec: its id and restart count."""

    def __init__(self, cid, restart, log_path, link, created):
        self.cid = cid
        self.created = created  # time.monotonic() before CreateContainer
        self.removed = None  # time.monotonic() once removed, link and all
        self.restart = restart
        self.log_path = log_path
        self.link = link
        self.exit_code = None
        self.finished_ns = 0
        self.reason = ""
        self.start_error = None  # StartContainer's error, when it failed
        self.liveness_killed = False


class Pod:
    """A pod as the kubelet runs it on a node with the cgroupfs driver (QoS burstable)."""

    def __init__(self, cri, name, namespace, uid, containers, init_containers=(),
                 backoff_scale=1.0, poll_s=0.02, qos="burstable", restart_policy="Always",
                 labels=None, grace_s=2):
        self.cri = cri
        self.name = name
        self.namespace = namespace
        self.uid = uid
        # Always, OnFailure or Never; the pod's own labels (a Job's job-name, controller-uid;
        # a ReplicaSet's pod-template-hash); terminationGracePeriodSeconds (CRI: whole seconds).
        self.restart_policy = restart_policy
        self.labels = dict(labels or {})
        self.grace_s = grace_s
        self.specs = list(containers)
        self.init_specs = list(init_containers)
        self.scale = backoff_scale
        self.poll_s = poll_s
        self.qos = qos
        self.log_dir = os.path.join(PODS_LOG_ROOT, "%s_%s_%s" % (namespace, name, uid))
        self.sandbox_id = None
        self.attempts = {}  # container name -> [Attempt], oldest first
        self.removed = []  # attempts the GC or the pod's deletion removed
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []
        self.errors = []
        self.deleted_at = None
        self.finished = threading.Event()  # restartPolicy let its containers end for good
        # Cleared: a started container's /var/log/containers link waits, as behind a busy
        # kubelet (the test holds it to play a start read before the link).
        self.link_gate = threading.Event()
        self.link_gate.set()

    # The pod's sandbox -------------------------------------------------------------------
    def sandbox_config(self):
        pb = self.cri.pb
        labels = dict(self.labels)
        labels.update({"io.kubernetes.pod.name": self.name,
                       "io.kubernetes.pod.namespace": self.namespace,
                       "io.kubernetes.pod.uid": self.uid})
        ns = pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD)
        # No hostname: a hostNetwork pod shares the node's UTS namespace (the kubelet leaves
        # it empty there too; runc refuses to set one).
        return pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=self.name, uid=self.uid,
                                           namespace=self.namespace, attempt=0),
            log_directory=self.log_dir,
            labels=labels,
            annotations={"kubernetes.io/config.source": "api"},
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent="/kubepods/%s/pod%s" % (self.qos, self.uid),
                security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns)))

    def run_sandbox(self):
        os.makedirs(self.log_dir, exist_ok=True)
        self.sandbox_id = self.cri.run_pod_sandbox(self.sandbox_config())
        return self.sandbox_id

    # One container attempt ---------------------------------------------------------------
    def container_config(self, spec, restart):
        pb = self.cri.pb
        labels = {"io.kubernetes.container.name": spec.name,
                  "io.kubernetes.pod.name": self.name,
                  "io.kubernetes.pod.namespace": self.namespace,
                  "io.kubernetes.pod.uid": self.uid}
        annotations = {"io.kubernetes.container.restartCount": str(restart),
                       "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
                       "io.kubernetes.container.terminationMessagePolicy": "File"}
        ns = pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD)
        return pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=spec.name, attempt=restart),
            image=pb.ImageSpec(image=spec.image),
            command=spec.command,
            envs=[pb.KeyValue(key=k, value=v) for k, v in spec.env],
            mounts=[pb.Mount(host_path=h, container_path=c, readonly=True)
                    for h, c in spec.mounts],
            labels=labels,
            annotations=annotations,
            log_path="%s/%d.log" % (spec.name, restart),
            linux=pb.LinuxContainerConfig(
                resources=pb.LinuxContainerResources(memory_limit_in_bytes=spec.memory_limit),
                security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))

    def start_attempt(self, spec, restart):
        os.makedirs(os.path.join(self.log_dir, spec.name), exist_ok=True)
        created = time.monotonic()
        cid = self.cri.create_container(self.sandbox_id, self.container_config(spec, restart),
                                        self.sandbox_config())
        log_path = os.path.join(self.log_dir, spec.name, "%d.log" % restart)
        link = os.path.join(CONTAINERS_LOG_ROOT, "%s_%s_%s-%s.log" % (
            self.name, self.namespace, spec.name, cid))
        a = Attempt(cid, restart, log_path, link, created)
        with self.lock:
            self.attempts.setdefault(spec.name, []).append(a)
        try:
            self.cri.start_container(cid)
        except grpc.RpcError as e:
            # RunContainerError: the container stays, exited (runc could not start it); the
            # kubelet restarts it under the same back-off as a crash. No log link is made.
            a.start_error = e.details()
            return a
        # After a successful start, as the kubelet does (kuberuntime_container.go).
        self.link_gate.wait()
        os.makedirs(CONTAINERS_LOG_ROOT, exist_ok=True)
        try:
            os.symlink(log_path, link)
        except FileExistsError:
            pass
        return a

    def wait_exit(self, a, spec=None):
        """Polls the container's state as the kubelet's PLEG relists (scaled): its exit code.
        Runs the spec's liveness probe meanwhile, as the kubelet's prober does."""
        live = spec.liveness if spec else None
        started, next_probe, failed = time.monotonic(), 0.0, 0
        if live:
            next_probe = started + live.delay_s
        while not self.stopping.is_set():
            st = self.cri.container_status(a.cid)
            if st.state == self.cri.pb.CONTAINER_EXITED:
                a.exit_code = st.exit_code
                a.finished_ns = st.finished_at
                a.reason = st.reason
                return st.exit_code
            if live and not a.liveness_killed and time.monotonic() >= next_probe:
                next_probe += live.period_s
                try:
                    ok = self.cri.exec_sync(a.cid, live.cmd).exit_code == 0
                except grpc.RpcError:
                    ok = False
                failed = 0 if ok else failed + 1
                if failed >= live.threshold:
                    # "Container x failed liveness probe, will be restarted": killContainer
                    # with the pod's grace period; the runtime sends SIGTERM, then SIGKILL.
                    a.liveness_killed = True
                    self.cri.stop_container(a.cid, self.grace_s)
                continue
            time.sleep(self.poll_s)
        return None

    def remove_attempt(self, a):
        """Container GC: the container, its log file and its link."""
        try:
            self.cri.remove_container(a.cid)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
        for path in (a.link, a.log_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        a.removed = time.monotonic()
        with self.lock:
            self.removed.append(a)

    def backoff_s(self, failures):
        """The kubelet's CrashLoopBackOff before restart number `failures` (1: at once)."""
        if failures <= 1:
            return 0.0
        return min(BACKOFF_INITIAL_S * 2 ** (failures - 2), BACKOFF_MAX_S) / self.scale

    def loop(self, spec):
        """The pod's restartPolicy: Always restarts every exit, OnFailure a non-zero one, Never
        none; each restart a new container with the next restart count."""
        restart, failures = 0, 0
        try:
            while not self.stopping.is_set():
                a = self.start_attempt(spec, restart)
                started = time.monotonic()
                if a.start_error is None and self.wait_exit(a, spec) is None:
                    return
                if a.start_error is not None:
                    st = self.cri.container_status(a.cid)
                    a.exit_code, a.reason = st.exit_code, st.reason
                if self.restart_policy == "Never" or (
                        self.restart_policy == "OnFailure" and a.exit_code == 0):
                    self.finished.set()
                    return
                ran = time.monotonic() - started
                failures = 1 if ran * self.scale >= BACKOFF_RESET_S else failures + 1
                # Keep the last dead container of the name, as the kubelet's GC does.
                with self.lock:
                    old = self.attempts[spec.name][:-1]
                    del self.attempts[spec.name][:-1]
                for o in old:
                    self.remove_attempt(o)
                if self.stopping.wait(self.backoff_s(failures)):
                    return
                restart += 1
        except Exception as e:  # reported by the test, not lost in a thread
            if not self.stopping.is_set():
                self.errors.append("%s/%s: %r" % (self.name, spec.name, e))

    def start(self):
        """The sandbox, the init containers one by one to exit 0, then the containers (the
        sandbox is left as it is when there is one already: run_sandbox() was called)."""
        if not self.sandbox_id:
            self.run_sandbox()
        for spec in self.init_specs:
            a = self.start_attempt(spec, 0)
            code = self.wait_exit(a)
            if code != 0:
                raise RuntimeError("init container %s exited %r" % (spec.name, code))
        for spec in self.specs:
            t = threading.Thread(target=self.loop, args=(spec,), daemon=True)
            t.start()
            self.threads.append(t)

    def current(self, name):
        with self.lock:
            return self.attempts[name][-1]

    def all_attempts(self, name):
        with self.lock:
            return list(self.attempts.get(name, []))

    def all_attempts_of_all(self):
        """Every attempt of every container spec, the removed ones too."""
        with self.lock:
            return [a for v in self.attempts.values() for a in v] + list(self.removed)

    def delete(self):
        """kubectl delete pod: no more restarts, every container stopped and removed, then the
        sandbox, then the pod's log directory."""
        self.deleted_at = time.time()
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=30)
        with self.lock:
            attempts = [a for v in self.attempts.values() for a in v]
        for a in attempts:
            # The kubelet retries until it succeeds; a start in flight can race the first stop.
            for tries in range(10):
                try:
                    self.cri.stop_container(a.cid, self.grace_s)
                    self.remove_attempt(a)
                    break
                except grpc.RpcError:
                    if tries == 9:
                        raise
                    time.sleep(0.2)
        if self.sandbox_id:
            self.cri.stop_pod_sandbox(self.sandbox_id)
            self.cri.remove_pod_sandbox(self.sandbox_id)
        subprocess.run(["rm", "-rf", self.log_dir], check=False)
        self.remove_pod_cgroups()

    def pod_cgroups(self):
        """The pod's cgroup in every hierarchy: the kubelet's pod cgroup manager owns it."""
        rel = "kubepods/%s/pod%s" % (self.qos, self.uid)
        return [os.path.join(CGROUP_ROOT, h, rel) for h in os.listdir(CGROUP_ROOT)
                if os.path.isdir(os.path.join(CGROUP_ROOT, h, rel))]

    def remove_pod_cgroups(self):
        """As the kubelet does once the pod's containers are gone: rmdir, leaf first."""
        for path in self.pod_cgroups():
            for root, dirs, _ in os.walk(path, topdown=False):
                for d in dirs:
                    os.rmdir(os.path.join(root, d))
            os.rmdir(path)


class Prober:
    """An exec into a pod's current container every period: an exec liveness probe (ExecSync,
    as the kubelet's prober), or a `kubectl exec` loop (Exec and its stream, stream=True).
    Counts the execs that ran and those that failed."""

    def __init__(self, pod, container, cmd, period_s, stream=False):
        self.pod = pod
        self.container = container
        self.cmd = list(cmd)
        self.period_s = period_s
        self.stream = stream
        self.ok = 0
        self.failed = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.wait(self.period_s):
            try:
                cid = self.pod.current(self.container).cid
                if self.stream:
                    code, _, err = self.pod.cri.exec_stream(cid, self.cmd)
                else:
                    r = self.pod.cri.exec_sync(cid, self.cmd)
                    code, err = r.exit_code, r.stderr
                if code == 0:
                    self.ok += 1
                else:
                    self.failed.append("exit %d: %r" % (code, err[-200:]))
            except Exception as e:
                self.failed.append(repr(e))

    def start(self):
        self.thread.start()
        return self

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=30)
