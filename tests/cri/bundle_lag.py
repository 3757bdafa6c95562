# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""How long after StartContainer returns containerd deletes the bundle of a container that
exits at once: the window in which a start read late finds neither the bundle nor, behind a
busy kubelet, the /var/log/containers link (README, "A container that lives a millisecond").
A measurement, not a test: it asserts nothing.

    python3 tests/cri/bundle_lag.py [N]   against the containerd on tests/cri's socket

Needs tests/cri/images.sh's images. Measured on the development VM: 1.6 and 1.7 delete it 27 to
45 ms after StartContainer returns, 2.1 after 9 to 30 ms (20 containers each)."""
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubelet  # noqa: E402

TASK_ROOT = "/run/containerd/io.containerd.runtime.v2.task/k8s.io"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cri = kubelet.Cri()
    print("containerd %s" % cri.version().runtime_version, flush=True)
    pod = kubelet.Pod(cri, "lag-7d6c5b4f9-x2x2x", "default", str(uuid.uuid4()),
                      [kubelet.Spec("lag", "docker.io/library/exitwatch-test:latest",
                                    ["/usr/local/bin/workload", "exit", "4"])],
                      restart_policy="Never")
    pod.run_sandbox()
    spec, lag = pod.specs[0], []
    try:
        for i in range(n):
            cid = cri.create_container(pod.sandbox_id, pod.container_config(spec, i),
                                       pod.sandbox_config())
            cri.start_container(cid)
            t0 = time.monotonic()
            while os.path.exists(os.path.join(TASK_ROOT, cid)) and time.monotonic() - t0 < 2:
                time.sleep(0.0005)
            lag.append((time.monotonic() - t0) * 1000)
            # CRI records the exit in its own time: it refuses to remove a running container.
            while cri.container_status(cid).state != cri.pb.CONTAINER_EXITED and \
                    time.monotonic() - t0 < 5:
                time.sleep(0.01)
            cri.remove_container(cid)
    finally:
        cri.stop_pod_sandbox(pod.sandbox_id)
        cri.remove_pod_sandbox(pod.sandbox_id)
    lag.sort()
    print("bundle deleted after StartContainer returned, ms: min %.1f, median %.1f, max %.1f "
          "(%d containers)" % (lag[0], lag[len(lag) // 2], lag[-1], len(lag)))


if __name__ == "__main__":
    sys.exit(main())
