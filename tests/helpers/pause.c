// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pod sandbox ("pause") of the CRI tests (tests/cri/images.sh builds exitwatch.local/pause
 * from it): what Kubernetes' pause does. It holds the pod's namespaces, reaps the orphans the
 * pod's pid namespace hands it, and exits 0 on SIGINT or SIGTERM. Static: the image holds it
 * alone.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_child(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction stop = {.sa_handler = on_stop},
			 child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};

	if (sigaction(SIGINT, &stop, NULL) || sigaction(SIGTERM, &stop, NULL) ||
	    sigaction(SIGCHLD, &child, NULL))
		return 1;
	for (;;)
		pause();
}
