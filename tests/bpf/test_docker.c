// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A real Docker daemon (started by scripts/services.sh) running the locally built test image
 * (tests/docker/build-image.sh), and the real exitwatch: names from Docker's own files, the
 * stderr tail, OOM, killer attribution, and a crash loop's finding. Plus a Kubernetes-shaped
 * container: a kubepods cgroup with containerd's files in a --host-root tree.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/entrant.h"
#include "harness/harness.h"

#define IMAGE "exitwatch-test:latest"

struct fixture {
	struct ew_h_agent agent;
	struct ew_h_scratch s; /* its cgroup subtree and scratch directory */
	char conf[128];
	char name[64];	/* docker container name of this test */
	char id[128];	/* its id */
	pid_t loops[2]; /* exec entrant loops (test_exec_entrants_never_main) */
};

static const char short_windows[] = "[rule.exit_code_burst]\nwindow = 60s\nresolve = 5s\n"
				    "[agent]\nstartup_grace = 2s\n";

static int setup(void **state)
{
	static int n;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, "docker");
	ew_h_scratch_file(&f->s, "exitwatch.conf", short_windows, f->conf, sizeof(f->conf));
	snprintf(f->name, sizeof(f->name), "ewtest-%d-%d", getpid(), n++);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ew_h_entrant_loop_stop(&f->loops[0]);
	ew_h_entrant_loop_stop(&f->loops[1]);
	ew_h_agent_kill(&f->agent);
	ew_h_sh("docker rm -f %s >/dev/null 2>&1", f->name);
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

static void start_agent(struct fixture *f, const char *a1, const char *a2)
{
	ew_h_agent_start(&f->agent, (const char *const[]){"--config", f->conf, "--agent-interval",
							  "1h", a1, a2, NULL});
}

/* Records of this test's container: container.name == f->name. */
static bool by_name(json_object *o, const void *arg)
{
	const char *const *w = arg; /* { event, name } */
	const char *ev = ew_h_str(o, "event"), *nm = ew_h_str(o, "container.name");

	return ev && nm && !strcmp(ev, w[0]) && !strcmp(nm, w[1]);
}

static json_object *wait_named(struct fixture *f, const char *event, size_t *from, int ms)
{
	const char *w[] = {event, f->name};
	json_object *o = ew_h_wait(&f->agent, by_name, w, from, ms);

	if (!o)
		fail_msg("no %s record for container %s within %d ms", event, f->name, ms);
	return o;
}

static void docker_run(struct fixture *f, const char *opts, const char *cmd)
{
	assert_int_equal(ew_h_capture(f->id, sizeof(f->id), "docker run -d --name %s %s %s %s",
				      f->name, opts, IMAGE, cmd),
			 0);
	assert_int_equal(strlen(f->id), 64);
}

static void test_crash_loop_names_and_finding(void **state)
{
	struct fixture *f = *state;
	json_object *e = NULL, *fi;
	size_t from = 0;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f,
		   "--restart=always --label com.docker.compose.project=shop "
		   "--label com.docker.compose.service=backend",
		   "workload stderr 3 'Traceback (most recent call last):' "
		   "'  File \"/app/main.py\", line 3, in <module>' "
		   "\"ModuleNotFoundError: No module named 'app.services.monitoring'\"");
	for (int i = 0; i < 4; i++)
		e = wait_named(f, "container_exit", &from, 20000);
	assert_string_equal(ew_h_str(e, "container.id"), f->id);
	assert_string_equal(ew_h_str(e, "container.runtime"), "docker");
	assert_string_equal(ew_h_str(e, "container.image"), IMAGE);
	assert_string_equal(ew_h_str(e, "container.restart_policy"), "always");
	assert_string_equal(ew_h_str(e, "compose.project"), "shop");
	assert_string_equal(ew_h_str(e, "compose.service"), "backend");
	assert_string_equal(ew_h_str(e, "workload.key"), "compose:shop/backend");
	assert_string_equal(ew_h_str(e, "exit.class"), "config_error");
	assert_int_equal(ew_h_int(e, "exit.code", 0), 3);
	assert_non_null(strstr(ew_h_str(e, "stderr_tail"),
			       "ModuleNotFoundError: No module named 'app.services.monitoring'\n"));
	assert_string_equal(ew_h_label(e, "container"), f->name);
	assert_string_equal(ew_h_label(e, "workload"), "compose:shop/backend");
	fi = ew_h_wait(&f->agent, by_name, (const char *[]){"finding", f->name}, NULL, 20000);
	assert_non_null(fi);
	print_message("finding: %s\n", ew_h_str(fi, "message"));
	assert_string_equal(ew_h_str(fi, "rule"), "exit_code_burst");
	assert_string_equal(ew_h_str(fi, "severity"), "CRITICAL");
	assert_non_null(
		strstr(ew_h_str(fi, "message"), "No module named 'app.services.monitoring'"));
	assert_non_null(strstr(ew_h_str(fi, "stderr_tail"), "ModuleNotFoundError"));
	assert_string_equal(ew_h_str(fi, "workload.key"), "compose:shop/backend");
	/* Docker keeps the id across restarts: later starts are restarts of one identity. */
	e = wait_named(f, "container_start", NULL, 5000);
	assert_string_equal(ew_h_str(e, "container.identity"), ew_h_str(fi, "container.identity"));
	ew_h_sh("docker rm -f %s >/dev/null 2>&1", f->name);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_oom_killed(void **state)
{
	struct fixture *f = *state;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f, "--memory 64m --memory-swap 64m", "workload oom");
	e = wait_named(f, "container_exit", NULL, 30000);
	assert_string_equal(ew_h_str(e, "exit.class"), "oom_killed");
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGKILL);
	assert_string_equal(ew_h_str(e, "severity"), "ERROR");
	assert_non_null(strstr(ew_h_str(e, "exit.meaning"), "OOM"));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_docker_stop_terminated(void **state)
{
	struct fixture *f = *state;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f, "", "workload term 143");
	wait_named(f, "container_start", NULL, 10000);
	assert_int_equal(ew_h_sh("docker stop -t 10 %s >/dev/null", f->name), 0);
	e = wait_named(f, "container_exit", NULL, 15000);
	print_message("docker stop: %s\n", ew_h_str(e, "message"));
	assert_string_equal(ew_h_str(e, "exit.class"), "terminated");
	assert_int_equal(ew_h_int(e, "exit.code", 0), 143);
	assert_string_equal(ew_h_str(e, "killed_by.signal_name"), "SIGTERM");
	assert_true(ew_h_int(e, "killed_by.pid", 0) > 0);
	/* runc sends it from the runtime's cgroup (the root one where dockerd was started by
	 * hand, containerd.service under systemd): never from the container itself. */
	assert_non_null(ew_h_str(e, "killed_by.container"));
	assert_string_not_equal(ew_h_str(e, "killed_by.container"),
				ew_h_str(e, "container.identity"));
	assert_non_null(ew_h_str(e, "killed_by.comm"));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_docker_kill_killed(void **state)
{
	struct fixture *f = *state;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f, "", "workload pause");
	wait_named(f, "container_start", NULL, 10000);
	assert_int_equal(ew_h_sh("docker kill -s KILL %s >/dev/null", f->name), 0);
	e = wait_named(f, "container_exit", NULL, 15000);
	print_message("docker kill: %s\n", ew_h_str(e, "message"));
	assert_string_equal(ew_h_str(e, "exit.class"), "killed");
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGKILL);
	assert_string_equal(ew_h_str(e, "killed_by.signal_name"), "SIGKILL");
	assert_true(ew_h_int(e, "killed_by.pid", 0) > 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * The main process is never an exec entrant: a loop that enters the running container the way
 * runc exec does (its pid namespace, then its cgroup, then exec `true`) and one that only joins
 * its cgroup, while exitwatch starts and stops 20 times: every run reports the container once,
 * as already running with its real main process, and no start, exit or finding of an entrant.
 */
static void test_exec_entrants_never_main(void **state)
{
	struct fixture *f = *state;
	char pid[32], path[64], line[4096], procs[4096] = "", sfx[128] = "";
	pid_t main_pid;
	int corrected;
	FILE *fp;

	ew_h_require_docker();
	docker_run(f, "", "sleep 100000");
	assert_int_equal(
		ew_h_capture(pid, sizeof(pid), "docker inspect -f '{{.State.Pid}}' %s", f->name),
		0);
	main_pid = atoi(pid);
	assert_true(main_pid > 0);
	/* Its cgroup, as the kernel has it: "0::/docker/<id>" (or a systemd driver's scope). */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", main_pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(),
				 line + 3);
			snprintf(sfx, sizeof(sfx), "%s", strrchr(line, '/'));
		}
	fclose(fp);
	assert_non_null(strstr(sfx, f->id));

	f->loops[0] = ew_h_entrant_loop(main_pid, procs, true);
	ew_h_entrant_no_scan(&f->agent, sfx, 1500);
	f->loops[1] = ew_h_entrant_loop(main_pid, procs, false);
	corrected = ew_h_entrant_runs(&f->agent, 20, sfx, main_pid);
	ew_h_entrant_loop_stop(&f->loops[0]);
	ew_h_entrant_loop_stop(&f->loops[1]);
	/* A real `docker exec` still works, and the container was never disturbed. */
	assert_int_equal(ew_h_sh("docker exec %s true", f->name), 0);
	assert_int_equal(kill(main_pid, 0), 0);
	print_message("docker: 20 agent runs, %d corrected an entrant\n", corrected);
}

/* containerd's OCI spec for a CRI container, with the annotations the kubelet's CRI sets. */
static void write_cri_config(const char *root, const char *id, const char *uid, const char *pod,
			     const char *ns, const char *cname)
{
	char dir[512], path[600];
	FILE *c;

	snprintf(dir, sizeof(dir), "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s",
		 root, id);
	assert_int_equal(ew_h_sh("mkdir -p '%s'", dir), 0);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	c = fopen(path, "w");
	assert_non_null(c);
	fprintf(c,
		"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"/app/server\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
		"\"io.kubernetes.cri.container-type\":\"container\","
		"\"io.kubernetes.cri.container-name\":\"%s\","
		"\"io.kubernetes.cri.image-name\":\"registry.example.com/shop/%s:1.4.2\","
		"\"io.kubernetes.cri.sandbox-name\":\"%s\","
		"\"io.kubernetes.cri.sandbox-namespace\":\"%s\","
		"\"io.kubernetes.cri.sandbox-uid\":\"%s\"},"
		"\"linux\":{\"cgroupsPath\":\"kubepods-burstable-pod%s.slice:cri-containerd:%s\"}}"
		"\n",
		cname, cname, pod, ns, uid, uid, id);
	fclose(c);
}

/* A kubepods-shaped cgroup, containerd's files under --host-root: pod names, and a restart
 * with a new container id is the same identity. */
static void test_kubernetes_shaped(void **state)
{
	struct fixture *f = *state;
	char root[128], uid[37], uid_us[37], id1[65], id2[65], layout[384], *p, sfx1[80], sfx2[80];
	json_object *s1, *s2, *e;
	pid_t pid;

	ew_h_require_bpf();
	snprintf(root, sizeof(root), "%s/host", f->s.dir);
	assert_int_equal(ew_h_sh("mkdir -p '%s' && ln -s /proc '%s/proc'", root, root), 0);
	ew_h_rand_uid(uid);
	strcpy(uid_us, uid);
	for (p = uid_us; (p = strchr(p, '-'));)
		*p = '_';
	ew_h_rand_id(id1);
	ew_h_rand_id(id2);
	snprintf(sfx1, sizeof(sfx1), "%s.scope", id1);
	snprintf(sfx2, sizeof(sfx2), "%s.scope", id2);
	write_cri_config(root, id1, uid, "checkout-6d5f7c9b8-q4w2x", "shop", "backend");
	write_cri_config(root, id2, uid, "checkout-6d5f7c9b8-q4w2x", "shop", "backend");
	start_agent(f, "--host-root", root);

	snprintf(layout, sizeof(layout),
		 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
		 "cri-containerd-%s.scope",
		 uid_us, id1);
	pid = ew_h_run_in(f->s.base, layout, EW_H_WL("exit", "3"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	s1 = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_start", sfx1}, NULL,
		       5000);
	assert_non_null(s1);
	assert_string_equal(ew_h_str(s1, "pod.namespace"), "shop");
	assert_string_equal(ew_h_str(s1, "pod.name"), "checkout-6d5f7c9b8-q4w2x");
	assert_string_equal(ew_h_str(s1, "pod.uid"), uid);
	assert_string_equal(ew_h_str(s1, "pod.qos"), "burstable");
	assert_string_equal(ew_h_str(s1, "container.name"), "backend");
	assert_string_equal(ew_h_str(s1, "container.image"),
			    "registry.example.com/shop/backend:1.4.2");
	assert_string_equal(ew_h_str(s1, "workload.key"), "k8s:shop/checkout/backend");
	assert_string_equal(ew_h_label(s1, "namespace"), "shop");
	assert_string_equal(ew_h_label(s1, "pod"), "checkout-6d5f7c9b8-q4w2x");

	/* The kubelet restarts it: a new container id, the same pod and name. */
	snprintf(layout, sizeof(layout),
		 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
		 "cri-containerd-%s.scope",
		 uid_us, id2);
	pid = ew_h_run_in(f->s.base, layout, EW_H_WL("exit", "3"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	s2 = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_start", sfx2}, NULL,
		       5000);
	assert_non_null(s2);
	assert_string_equal(ew_h_str(s2, "container.identity"), ew_h_str(s1, "container.identity"));
	assert_int_equal(ew_h_int(s2, "restarts", 0), 1);
	e = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_exit", sfx2}, NULL,
		      5000);
	assert_non_null(e);
	assert_string_equal(ew_h_str(e, "container.name"), "backend");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_loop_names_and_finding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docker_stop_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docker_kill_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubernetes_shaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_entrants_never_main, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_docker", tests, NULL, NULL);
}
