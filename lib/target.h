/* Where a container's names are written, described so that a later DEL, CHECK or hook can
 * reopen exactly the same file, and never another one:
 *   {"root": "/proc/PID/root", "path": "/etc/hosts", "pid": PID, "pidStart": T, "mntns": INO}
 *       a file inside a container root (PID's start time and mount namespace are checked
 *       again before every reopen, so a recycled PID cannot redirect a write);
 *   {"file": "/var/lib/kubelet/pods/UID/etc-hosts"}
 *       a host path a runtime bind-mounts at /etc/hosts. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "error.h"

/* The /etc/hosts of process pid's root, or NULL (with *why) when that would be the hosts
 * file of the mount namespace we run in: then the machine's file would be written. */
json_t *hg_target_for_pid(pid_t pid, const char **why);
json_t *hg_target_in_root(const char *root, const char *path);
json_t *hg_target_file(const char *path);
/* Opens the target read-write. -1 with *gone set when the process or file is gone. */
int hg_target_open(json_t *target, bool *gone, struct hg_error *err);
/* A readable name for messages. */
const char *hg_target_describe(json_t *target, char *buf, size_t size);

/* Start time of process pid (clock ticks since boot), to tell a recycled PID; -errno. */
int hg_pid_start_time(pid_t pid, unsigned long long *start);

/* Parses "/proc/PID/ns/net" into PID; 0 when path has another form. */
pid_t hg_pid_of_netns_path(const char *path);
