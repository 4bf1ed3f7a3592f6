/* SPDX-License-Identifier: Apache-2.0 */
/* Where a container's names are written, described so that a later DEL, CHECK or hook can
 * reopen exactly the same file, and never another one:
 *   a file inside a container root: root "/proc/PID/root" + path "/etc/hosts", with PID's
 *       start time and mount namespace, checked again (through one /proc/PID descriptor)
 *       before every reopen, so that a recycled PID cannot redirect a write; or a root
 *       path (the hook's root.path) + path;
 *   a host file a runtime bind-mounts at /etc/hosts (kubelet's etc-hosts, podman's). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

struct hg_hosts_target {
	char *file;               /* a host path, or NULL */
	char *root, *path;        /* otherwise: path resolved inside root */
	pid_t pid;                /* > 0: root is /proc/PID/root */
	unsigned long long pid_start;
	uint64_t mntns;
};

void hg_target_free(struct hg_hosts_target *t);
#define _cleanup_target_ __attribute__((cleanup(hg_target_free)))
/* Copies, fills and makes targets: -1 when out of memory. */
int hg_target_copy(const struct hg_hosts_target *from, struct hg_hosts_target *to);
/* The /etc/hosts of process pid's root; -1 (err says why, HG_CNI_HOSTS_FILE) when the
 * process is gone or shares our mount namespace (its file would be this machine's). */
int hg_target_for_pid(pid_t pid, struct hg_hosts_target *out, struct hg_error *err);
int hg_target_in_root(const char *root, const char *path, struct hg_hosts_target *out);
int hg_target_file(const char *path, struct hg_hosts_target *out);
/* Opens the target read-write. -1 with *gone set when the process or file is gone; -1 with
 * err->errnum EXDEV when the file is this machine's own /etc/hosts (never written). */
int hg_target_open(const struct hg_hosts_target *t, bool *gone, struct hg_error *err);
/* The same, read-only, for a look that writes nothing (doctor): a read-only mount of the
 * file opens too, and the refusals say "not read" rather than "refusing to write it". */
int hg_target_open_read(const struct hg_hosts_target *t, bool *gone, struct hg_error *err);
/* A readable name for messages. */
const char *hg_target_describe(const struct hg_hosts_target *t, char *buf, size_t size);

/* What tells a file from a later one that got its inode number once it was gone (a hosts
 * registry must never hand one file's owners to the next): device and inode, and what
 * the filesystem offers beyond them, the inode's generation (FS_IOC_GETVERSION: ext4,
 * btrfs, f2fs; not tmpfs or overlayfs) and its birth time (statx STATX_BTIME: ext4 with
 * 256-byte inodes, xfs, btrfs, tmpfs, overlayfs over those). */
struct hg_file_id {
	uint64_t dev, ino;
	bool has_generation;
	uint32_t generation;
	bool has_birth;
	int64_t birth_sec;
	uint32_t birth_nsec;
};

/* The identity of the file fd is open on; -1 with errno when it cannot even be stat'ed. */
int hg_file_identify(int fd, struct hg_file_id *id);
/* 1: the same file; 0: another one (another device or inode, or a generation or birth time
 * that differs); -1: cannot tell (same device and inode, and no generation or birth time
 * known on both sides). */
int hg_file_id_compare(const struct hg_file_id *a, const struct hg_file_id *b);

/* Start time of process pid (clock ticks since boot), to tell a recycled PID; -1 with
 * errno. */
int hg_pid_start_time(pid_t pid, unsigned long long *start);

/* Parses "/proc/PID/ns/net" into PID; 0 when path has another form. */
pid_t hg_pid_of_netns_path(const char *path);
