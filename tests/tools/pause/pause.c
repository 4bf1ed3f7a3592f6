/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod sandbox's process for the kubelet and cluster tests (the job of Kubernetes'
 * pause image): it holds the pod's namespaces, reaps the orphans re-parented to it as
 * PID 1 of the pod's PID namespace, and ends on SIGTERM/SIGINT (a runtime stopping the
 * sandbox). Built static, so that the image holds this one file.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void reap(int sig)
{
	(void)sig;
	int saved = errno;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

int main(void)
{
	struct sigaction end = { .sa_handler = stop };
	struct sigaction child = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART };

	if (sigaction(SIGTERM, &end, NULL) < 0 || sigaction(SIGINT, &end, NULL) < 0 ||
	    sigaction(SIGCHLD, &child, NULL) < 0)
		return 1;
	for (;;)
		pause();
}
