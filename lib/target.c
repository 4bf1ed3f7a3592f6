#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "target.h"
#include "rootfs.h"
#include "hosts.h"
#include "util.h"

pid_t hg_pid_of_netns_path(const char *path)
{
	char *end;
	if (strncmp(path, "/proc/", 6) != 0)
		return 0;
	long pid = strtol(path + 6, &end, 10);
	if (end == path + 6 || strcmp(end, "/ns/net") != 0 || pid <= 0)
		return 0;
	return (pid_t) pid;
}

/* /proc/PID, opened once: the start time, the mount namespace and the root read through
 * this descriptor are all of one process (a PID recycled after the open makes them fail,
 * ESRCH, instead of describing another process). */
struct proc_pid {
	int dirfd;
	unsigned long long start; /* field 22 of stat: clock ticks since boot */
	ino_t mntns;
};

static int proc_pid_open(pid_t pid, struct proc_pid *p)
{
	char path[64], buf[1024];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	p->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0)
		return -errno;
	_cleanup_close_ int fd = openat(p->dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')'. */
	char *f = strrchr(buf, ')');
	if (!f)
		return -EIO;
	f += 2;
	for (int field = 3; field < 22; field++) {
		f = strchr(f, ' ');
		if (!f)
			return -EIO;
		f++;
	}
	p->start = strtoull(f, NULL, 10);
	if (fstatat(p->dirfd, "ns/mnt", &st, 0) < 0)
		return -errno;
	p->mntns = st.st_ino;
	return 0;
}

static void proc_pid_close(struct proc_pid *p)
{
	closep(&p->dirfd);
}

int hg_pid_start_time(pid_t pid, unsigned long long *start)
{
	struct proc_pid p = {.dirfd = -1};
	int r = proc_pid_open(pid, &p);
	proc_pid_close(&p);
	if (r == 0)
		*start = p.start;
	return r;
}

json_t *hg_target_for_pid(pid_t pid, const char **why)
{
	char root[64];
	struct proc_pid p = {.dirfd = -1};
	struct stat ours;
	int r = proc_pid_open(pid, &p);
	proc_pid_close(&p);
	if (r < 0 || stat("/proc/self/ns/mnt", &ours) < 0) {
		*why = "the process is gone";
		return NULL;
	}
	if (p.mntns == ours.st_ino) {
		*why = "the process shares our mount namespace, so its /etc/hosts is this machine's";
		return NULL;
	}
	snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
	return json_pack("{s:s, s:s, s:i, s:I, s:I}", "root", root, "path", "/etc/hosts", "pid", (int) pid,
			 "pidStart", (json_int_t) p.start, "mntns", (json_int_t) p.mntns);
}

json_t *hg_target_in_root(const char *root, const char *path)
{
	return json_pack("{s:s, s:s}", "root", root, "path", path);
}

json_t *hg_target_file(const char *path)
{
	return json_pack("{s:s}", "file", path);
}

const char *hg_target_describe(json_t *target, char *buf, size_t size)
{
	const char *file = json_string_value(json_object_get(target, "file"));
	if (file)
		snprintf(buf, size, "%s", file);
	else
		snprintf(buf, size, "%s%s", json_string_value(json_object_get(target, "root")) ?: "?",
			 json_string_value(json_object_get(target, "path")) ?: "?");
	return buf;
}

/* A private mount namespace may still have this machine's root (ip netns exec, unshare -m,
 * systemd's PrivateTmp): what decides is the file itself, compared with ours. */
static int refuse_machine_hosts(int fd, const char *what, struct hg_error *err)
{
	struct stat theirs, ours;
	if (fstat(fd, &theirs) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "stat %s", what);
	if (stat("/etc/hosts", &ours) == 0 && theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
		hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is this machine's own /etc/hosts, refusing to write it", what);
		err->errnum = EXDEV;
		return -1;
	}
	return 0;
}

static int open_in_pid_root(json_t *target, pid_t pid, const char *path, bool *gone, struct hg_error *err)
{
	char root[64];
	struct proc_pid p = {.dirfd = -1};
	snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
	if (proc_pid_open(pid, &p) < 0 || (json_int_t) p.start != json_integer_value(json_object_get(target, "pidStart")) ||
	    (json_int_t) p.mntns != json_integer_value(json_object_get(target, "mntns"))) {
		proc_pid_close(&p);
		*gone = true;
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "process %d is gone", (int) pid);
	}
	_cleanup_close_ int rootfd = openat(p.dirfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	proc_pid_close(&p);
	if (rootfd < 0) {
		*gone = errno == ENOENT || errno == ESRCH;
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "open %s", root);
	}
	return hg_open_in_rootfd(rootfd, root, path, HG_HOSTS_MAX_SIZE, err);
}

int hg_target_open(json_t *target, bool *gone, struct hg_error *err)
{
	const char *file = json_string_value(json_object_get(target, "file"));
	const char *root = json_string_value(json_object_get(target, "root"));
	const char *path = json_string_value(json_object_get(target, "path"));
	json_int_t pid = json_integer_value(json_object_get(target, "pid"));
	char what[512];
	_cleanup_close_ int fd = -1;
	*gone = false;
	hg_target_describe(target, what, sizeof(what));
	if (file) {
		fd = hg_open_host_file(file, HG_HOSTS_MAX_SIZE, err);
		if (fd < 0 && access(file, F_OK) < 0 && errno == ENOENT)
			*gone = true;
	} else if (!root || !path) {
		return hg_error_set(err, HG_CNI_STATE, "hosts target has neither file nor root");
	} else if (pid > 0) {
		fd = open_in_pid_root(target, (pid_t) pid, path, gone, err);
	} else {
		fd = hg_open_in_root(root, path, HG_HOSTS_MAX_SIZE, err);
		if (fd < 0 && access(root, F_OK) < 0)
			*gone = true;
	}
	if (fd < 0 || refuse_machine_hosts(fd, what, err) < 0)
		return -1;
	return TAKE_FD(fd);
}
