/* SPDX-License-Identifier: Apache-2.0 */
/* The state directory: where records live (record.h owns what is in them), its locks,
 * and the atomic write of one JSON file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/error.h"
#include "os/netns.h"

/* The layout of the state folder is this module's alone; everyone else asks for a path:
 *   cni/NETWORK/CONTAINERID+IFNAME.json   the record of a CNI attachment
 *   hook/CONTAINERID.json                  a hook container's membership
 *   hook/netns/DEV-INO.json, .users/       the hook's plumbing of a namespace, its users
 *   nri/PODID.json                         the NRI plugin's attachment of a pod
 *   by-netns/DEV-INO                       a link to the record of a namespace
 *   .NAME.lock                             the locks
 * and, in hg_hosts_lock_dir whatever the stateDir: hosts/DEV-INO.json, the registry of
 * the owners of one hosts file. Paths are heap strings; -1 (and *out NULL) when out of
 * memory. */
enum hg_state_dir {
	HG_STATE_DIR_CNI,        /* cni */
	HG_STATE_DIR_HOOK,       /* hook */
	HG_STATE_DIR_HOOK_NETNS, /* hook/netns */
	HG_STATE_DIR_BY_NETNS,   /* by-netns */
	HG_STATE_DIR_NRI,        /* nri */
};
int hg_state_dir_path(const char *state_dir, enum hg_state_dir which, char **out);
/* by-netns/DEV-INO. */
int hg_state_by_netns_path(const char *state_dir, uint64_t dev, uint64_t ino, char **out);
/* The folder of the hosts registries (in hg_hosts_lock_dir), and the registry of the hosts
 * file of that device and inode, into buf of size bytes (cut when it does not fit). */
int hg_state_hosts_dir(char **out);
void hg_state_hosts_registry_path(uint64_t dev, uint64_t ino, char *buf, size_t size);
int hg_state_cni_path(const char *state_dir, const char *network, const char *container_id, const char *ifname,
		      char **out);
int hg_state_hook_path(const char *state_dir, const char *container_id, char **out);
int hg_state_nri_path(const char *state_dir, const char *pod_id, char **out);
/* The directory holding every CNI record of a network. */
int hg_state_network_dir(const char *state_dir, const char *network, char **out);

/* Creates the parent directories (0700) and replaces path atomically (temp file + rename).
 * Only record.c calls it: the record module alone knows what a record holds. */
int hg_state_write(const char *path, json_t *record, struct hg_error *err);
/* The temp name of a write in progress: HG_STATE_TEMP_PREFIX PID ".json" (a dot name,
 * never listed as a record). */
#define HG_STATE_TEMP_PREFIX ".tmp."
/* Removes the temp files of dir whose writer is dead (killed between its link and its
 * rename); returns how many. */
int hg_state_sweep_temp(const char *dir);
int hg_state_remove(const char *path, struct hg_error *err);
/* The full paths of the *.json records in dir (none when dir is missing). */
int hg_state_list(const char *dir, char ***paths, struct hg_error *err);
/* The CNI attachment records under state_dir/cni/NETWORK/ (each needs the binary for its
 * DEL). */
int hg_state_count_records(const char *state_dir, size_t *n, struct hg_error *err);
/* Is the state directory usable (created if missing, writable)? */
int hg_state_ready(const char *state_dir, struct hg_error *err);
/* Creates the state directory if needed and refuses one that is a symlink, not ours, or
 * writable by group or others (its parents may be anything). */
int hg_state_check_dir(const char *state_dir, struct hg_error *err);
/* An exclusive lock on <stateDir>/.NAME.lock, released when the returned fd is closed.
 * Waits at most 5 s (HG_CNI_TRY_AGAIN after that).
 * "host" serialises the shared host-side resources; "hook" the hook's per-netns records.
 * Distinct names never wait for each other (flock conflicts even within one process). */
int hg_state_lock(const char *state_dir, const char *name, struct hg_error *err);
/* One attachment's lock, a file beside its record (".NAME.lock" for "NAME.json"): held by
 * whatever replaces or retires that record (ADD, DEL, the collectors), so that a collector
 * never retires a record an ADD of the same key is writing. The file goes with the record:
 * unlocking unlinks it when the record is gone, and a waiter that got the lock of a file
 * unlinked meanwhile takes the new one. wait: at most 5 s in all (HG_CNI_TRY_AGAIN after
 * that); without it, HG_CNI_TRY_AGAIN at once when it is held (the collectors: an ADD or
 * DEL at work on the attachment has it; the next collection looks again). */
int hg_state_lock_record(const char *record_path, bool wait, struct hg_error *err);
void hg_state_unlock_record(const char *record_path, int fd);
/* Which file a path is now: records are replaced by rename, never rewritten in place, so
 * an equal stamp (device, inode, change time) is the file that was read. */
struct hg_state_stamp {
	uint64_t dev, ino;
	int64_t ctime_sec;
	long ctime_nsec;
};
int hg_state_stamp_of(const char *path, struct hg_state_stamp *out);
bool hg_state_stamp_equal(const struct hg_state_stamp *a, const struct hg_state_stamp *b);
/* The same for every record lock of dir; returns how many went. */
int hg_state_sweep_record_locks(const char *dir);
/* Serialises writers of the file fd is open on (a hosts file), keyed by its device and
 * inode, in hg_hosts_lock_dir (the default stateDir, whatever stateDir a configuration
 * names, so that writers with different stateDirs still serialise): a lock on the file
 * itself could be held for ever by any process of a container that shares it. */
extern const char *hg_hosts_lock_dir; /* tests point it elsewhere */
int hg_state_lock_file(const char *state_dir, int fd, struct hg_error *err);
/* The same lock, for the file of that device and inode. */
int hg_state_lock_devino(const char *state_dir, uint64_t dev, uint64_t ino, struct hg_error *err);
/* The hook's plumbing is per network namespace, shared by the containers that join it:
 * <stateDir>/hook/netns/<dev>-<ino>.json and its users, <dev>-<ino>.users/<containerID>. */
int hg_state_hook_netns_paths(const char *state_dir, const struct hg_netns_id *id, char **record, char **users);
