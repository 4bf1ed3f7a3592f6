/* SPDX-License-Identifier: Apache-2.0 */
/* Preloaded (LD_PRELOAD) into host-gateway by tests: the first flock(2) of the process on
 * an attachment's lock (".CONTAINERID+IFNAME.lock") creates $HG_FLOCK_PAUSE_DIR/paused and
 * waits (at most 10 s) until $HG_FLOCK_PAUSE_DIR/go exists. A test thereby runs what it
 * needs between a collector's judgement of a record and its taking the record's lock, a
 * window of microseconds otherwise. Built by the test that uses it (gcc -shared). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static int is_attachment_lock(int fd)
{
	char link[64], target[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	size_t len = strlen(base);
	return base[0] == '.' && strchr(base, '+') && len > 5 && strcmp(base + len - 5, ".lock") == 0;
}

static void touch(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int flock(int fd, int operation)
{
	static int (*real_flock)(int, int);
	static int paused;
	const char *dir = getenv("HG_FLOCK_PAUSE_DIR");
	if (!real_flock)
		real_flock = (int (*)(int, int)) dlsym(RTLD_NEXT, "flock");
	if (!real_flock)
		return (int) syscall(SYS_flock, fd, operation);
	if (dir && !paused && is_attachment_lock(fd)) {
		paused = 1;
		touch(dir, "paused");
		int i;
		for (i = 0; i < 2000 && !exists(dir, "go"); i++)
			nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
		if (i == 2000)
			touch(dir, "timedout"); /* the test then fails: it did not drive the window */
	}
	return real_flock(fd, operation);
}
