/* From the project's shared benchmark kit (../shared/bench), unchanged but for this line. */
/* spawnstorm: spawn N short-lived processes one after another and print the
 * mean wall time per spawn+exit in nanoseconds, timed inside the process so
 * that tracer start-up is not counted.
 *
 *   spawnstorm N EXITCODE [CGROUP_DIR]
 *
 * With CGROUP_DIR, each child moves itself into a fresh child cgroup
 * CGROUP_DIR/c<i> before exec, the way a container runtime starts a
 * container's main process (its parent stays outside that cgroup).
 * Each child re-executes this program, which exits with EXITCODE at once:
 * build it static so that an exec costs as little as it can. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "usage: %s N EXITCODE [CGROUP_DIR]\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[1]);
	const char *code = argv[2];
	const char *cgdir = argc > 3 ? argv[3] : NULL;
	long long t0 = now_ns();
	for (int i = 0; i < n; i++) {
		char path[4096];
		if (cgdir) {
			snprintf(path, sizeof path, "%s/c%d", cgdir, i);
			if (mkdir(path, 0755) && errno != EEXIST) {
				perror(path);
				return 1;
			}
		}
		pid_t p = fork();
		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0) {
			if (cgdir) {
				char procs[4200];
				snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
				int fd = open(procs, O_WRONLY);
				if (fd < 0 || write(fd, "0", 1) != 1)
					_exit(126);
				close(fd);
			}
			execl("/proc/self/exe", "spawnstorm", "--exit", code, (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(p, &st, 0);
		if (cgdir)
			rmdir(path);
	}
	long long t1 = now_ns();
	printf("%lld\n", (t1 - t0) / n);
	return 0;
}
