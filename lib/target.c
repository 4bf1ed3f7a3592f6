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

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
static int pid_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

static int mntns_of(const char *proc_dir, ino_t *ino)
{
	char path[128];
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/ns/mnt", proc_dir) >= (int) sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

json_t *hg_target_for_pid(pid_t pid, const char **why)
{
	char dir[64], root[64];
	unsigned long long start;
	ino_t theirs, ours;
	snprintf(dir, sizeof(dir), "/proc/%d", (int) pid);
	snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
	if (pid_start_time(pid, &start) < 0 || mntns_of(dir, &theirs) < 0 || mntns_of("/proc/self", &ours) < 0) {
		*why = "the process is gone";
		return NULL;
	}
	if (theirs == ours) {
		*why = "the process shares our mount namespace, so its /etc/hosts is this machine's";
		return NULL;
	}
	return json_pack("{s:s, s:s, s:i, s:I, s:I}", "root", root, "path", "/etc/hosts", "pid", (int) pid,
			 "pidStart", (json_int_t) start, "mntns", (json_int_t) theirs);
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

int hg_target_open(json_t *target, bool *gone, struct hg_error *err)
{
	const char *file = json_string_value(json_object_get(target, "file"));
	const char *root = json_string_value(json_object_get(target, "root"));
	const char *path = json_string_value(json_object_get(target, "path"));
	json_int_t pid = json_integer_value(json_object_get(target, "pid"));
	*gone = false;
	if (file) {
		int fd = hg_open_host_file(file, HG_HOSTS_MAX_SIZE, err);
		if (fd < 0 && access(file, F_OK) < 0 && errno == ENOENT)
			*gone = true;
		return fd;
	}
	if (!root || !path)
		return hg_error_set(err, HG_CNI_STATE, "hosts target has neither file nor root");
	if (pid > 0) {
		char dir[64];
		unsigned long long start;
		ino_t mntns;
		snprintf(dir, sizeof(dir), "/proc/%d", (int) pid);
		if (pid_start_time(pid, &start) < 0 || mntns_of(dir, &mntns) < 0 ||
		    (json_int_t) start != json_integer_value(json_object_get(target, "pidStart")) ||
		    (json_int_t) mntns != json_integer_value(json_object_get(target, "mntns"))) {
			*gone = true;
			return hg_error_set(err, HG_CNI_HOSTS_FILE, "process %d is gone", (int) pid);
		}
	}
	int fd = hg_open_in_root(root, path, HG_HOSTS_MAX_SIZE, err);
	if (fd < 0 && access(root, F_OK) < 0)
		*gone = true;
	return fd;
}
