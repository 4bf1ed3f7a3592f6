/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>
#include "os/target.h"
#include "os/rootfs.h"
#include "os/hosts.h"
#include "base/util.h"

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

/* Field 22 of the stat file under dirfd (a /proc/PID). */
static int read_start_time(int dirfd, unsigned long long *start)
{
	char buf[1024];
	_cleanup_close_ int fd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0) {
		errno = n < 0 ? errno : EIO;
		return -1;
	}
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')'. */
	char *f = strrchr(buf, ')');
	if (f)
		f += 2;
	for (int field = 3; f && field < 22; field++)
		if ((f = strchr(f, ' ')))
			f++;
	if (!f) {
		errno = EIO;
		return -1;
	}
	*start = strtoull(f, NULL, 10);
	return 0;
}

static int proc_pid_open(pid_t pid, struct proc_pid *p)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	p->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0 || read_start_time(p->dirfd, &p->start) < 0 || fstatat(p->dirfd, "ns/mnt", &st, 0) < 0)
		return -1;
	p->mntns = st.st_ino;
	return 0;
}

static void proc_pid_close(struct proc_pid *p)
{
	closep(&p->dirfd);
}

int hg_pid_start_time(pid_t pid, unsigned long long *start)
{
	char path[64];
	unsigned long long t;
	/* The stat file alone: a process whose namespace links we may not read (this
	 * machine's PID 1 in some VMs) still has a start time, and an owner recorded without
	 * one could never be told dead. */
	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	_cleanup_close_ int dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || read_start_time(dirfd, &t) < 0)
		return -1;
	*start = t;
	return 0;
}

int hg_file_identify(int fd, struct hg_file_id *id)
{
	struct statx stx;
	/* FS_IOC_GETVERSION is sized for a long, but filesystems write an int (i_generation
	 * has 32 bits) at its start: a zeroed buffer of both sizes is safe either way. */
	union {
		uint64_t u64;
		uint32_t u32;
	} gen = {0};
	memset(id, 0, sizeof(*id));
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_INO | STATX_BTIME, &stx) < 0) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return -1;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	} else {
		id->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
		id->ino = stx.stx_ino;
		/* A zero birth time is a filesystem that fills the field without knowing it. */
		if ((stx.stx_mask & STATX_BTIME) && (stx.stx_btime.tv_sec || stx.stx_btime.tv_nsec)) {
			id->has_birth = true;
			id->birth_sec = stx.stx_btime.tv_sec;
			id->birth_nsec = stx.stx_btime.tv_nsec;
		}
	}
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0) {
		id->has_generation = true;
		id->generation = gen.u32;
	}
	return 0;
}

int hg_file_id_compare(const struct hg_file_id *a, const struct hg_file_id *b)
{
	bool decided = false;
	if (a->dev != b->dev || a->ino != b->ino)
		return 0;
	if (a->has_generation && b->has_generation) {
		if (a->generation != b->generation)
			return 0;
		decided = true;
	}
	if (a->has_birth && b->has_birth) {
		if (a->birth_sec != b->birth_sec || a->birth_nsec != b->birth_nsec)
			return 0;
		decided = true;
	}
	return decided ? 1 : -1;
}

void hg_target_free(struct hg_hosts_target *t)
{
	free(t->file);
	free(t->root);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

static int dup_opt(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -1 : 0;
}

int hg_target_copy(const struct hg_hosts_target *from, struct hg_hosts_target *to)
{
	*to = *from;
	to->file = to->root = to->path = NULL;
	if (dup_opt(from->file, &to->file) < 0 || dup_opt(from->root, &to->root) < 0 ||
	    dup_opt(from->path, &to->path) < 0) {
		hg_target_free(to);
		return -1;
	}
	return 0;
}

int hg_target_for_pid(pid_t pid, struct hg_hosts_target *out, struct hg_error *err)
{
	char root[64];
	struct proc_pid p = {.dirfd = -1};
	struct stat ours;
	memset(out, 0, sizeof(*out));
	int r = proc_pid_open(pid, &p);
	proc_pid_close(&p);
	if (r < 0 || stat("/proc/self/ns/mnt", &ours) < 0)
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "the process is gone");
	if (p.mntns == ours.st_ino)
		return hg_error_set(err, HG_CNI_HOSTS_FILE,
				    "the process shares our mount namespace, so its /etc/hosts is this machine's");
	snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
	if (hg_target_in_root(root, "/etc/hosts", out) < 0)
		return hg_error_oom(err);
	out->pid = pid;
	out->pid_start = p.start;
	out->mntns = p.mntns;
	return 0;
}

int hg_target_in_root(const char *root, const char *path, struct hg_hosts_target *out)
{
	memset(out, 0, sizeof(*out));
	if (dup_opt(root, &out->root) < 0 || dup_opt(path, &out->path) < 0) {
		hg_target_free(out);
		return -1;
	}
	return 0;
}

int hg_target_file(const char *path, struct hg_hosts_target *out)
{
	memset(out, 0, sizeof(*out));
	return dup_opt(path, &out->file);
}

const char *hg_target_describe(const struct hg_hosts_target *t, char *buf, size_t size)
{
	if (t->file)
		snprintf(buf, size, "%s", t->file);
	else
		snprintf(buf, size, "%s%s", t->root ? t->root : "?", t->path ? t->path : "?");
	return buf;
}

/* A private mount namespace may still have this machine's root (ip netns exec, unshare -m,
 * systemd's PrivateTmp): what decides is the file itself, compared with ours. */
static int refuse_machine_hosts(int fd, const char *what, int accmode, struct hg_error *err)
{
	struct stat theirs, ours;
	if (fstat(fd, &theirs) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "stat %s", what);
	if (stat("/etc/hosts", &ours) == 0 && theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
		/* A diagnosis refuses nothing: it says why the file has no names. */
		const char *why = accmode == O_RDONLY ? "which host-gateway never writes" : "refusing to write it";
		hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is this machine's own /etc/hosts, %s", what, why);
		err->errnum = EXDEV;
		return -1;
	}
	return 0;
}

static int open_in_pid_root(const struct hg_hosts_target *t, int accmode, bool *gone, struct hg_error *err)
{
	char root[64];
	struct proc_pid p = {.dirfd = -1};
	pid_t pid = t->pid;
	snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
	if (proc_pid_open(pid, &p) < 0 || p.start != t->pid_start || (uint64_t) p.mntns != t->mntns) {
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
	return hg_open_in_rootfd(rootfd, root, t->path, HG_HOSTS_MAX_SIZE, accmode, err);
}

static int target_open(const struct hg_hosts_target *t, int accmode, bool *gone, struct hg_error *err)
{
	char what[512];
	_cleanup_close_ int fd = -1;
	*gone = false;
	hg_target_describe(t, what, sizeof(what));
	if (t->file) {
		fd = hg_open_host_file(t->file, HG_HOSTS_MAX_SIZE, accmode, err);
		if (fd < 0 && access(t->file, F_OK) < 0 && errno == ENOENT)
			*gone = true;
	} else if (!t->root || !t->path) {
		return hg_error_set(err, HG_CNI_STATE, "hosts target has neither file nor root");
	} else if (t->pid > 0) {
		fd = open_in_pid_root(t, accmode, gone, err);
	} else {
		fd = hg_open_in_root(t->root, t->path, HG_HOSTS_MAX_SIZE, accmode, err);
		if (fd < 0 && access(t->root, F_OK) < 0)
			*gone = true;
	}
	if (fd < 0 || refuse_machine_hosts(fd, what, accmode, err) < 0)
		return -1;
	return TAKE_FD(fd);
}

int hg_target_open(const struct hg_hosts_target *t, bool *gone, struct hg_error *err)
{
	return target_open(t, O_RDWR, gone, err);
}

int hg_target_open_read(const struct hg_hosts_target *t, bool *gone, struct hg_error *err)
{
	return target_open(t, O_RDONLY, gone, err);
}
