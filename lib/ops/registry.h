/* SPDX-License-Identifier: Apache-2.0 */
/* The hosts registries, the names code's memory (names.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "ops/record.h"
#include "os/target.h"
#include "base/error.h"

/* Who has a block in one hosts file, and its lines, so that a file rewritten by someone
 * else (kubelet truncates a pod's etc-hosts before each container) is rebuilt with every
 * live owner's block: <hg_hosts_lock_dir>/hosts/<dev>-<ino>.json (the default stateDir,
 * whatever stateDir an owner's configuration names), in the order the owners came.
 * Inode numbers are reused once a file is gone, so a registry also records which file it
 * was made for (names.h decides whether a file is still that one). Format version 3;
 * version 2 registries (no identity) are read, and are stale. */
#define HG_REGISTRY_VERSION 3
#define HG_HOSTS_MAX_OWNERS 64

struct hg_hosts_owner {
	char *key;
	pid_t pid; /* the container's process: the owner lives while it does (0: unknown) */
	unsigned long long pid_start;
	long long since; /* when it last wrote its lines, seconds since the epoch (0: unknown) */
	struct hg_record_entry *entries;
	size_t n_entries;
};

struct hg_hosts_registry {
	int version;
	struct hg_hosts_target target; /* where its last writer reached the file (file NULL and
					  root NULL: not recorded, version 2) */
	bool has_identity;             /* false: version 2, made for an unknown file */
	struct hg_file_id identity;
	struct hg_hosts_owner *owners;
	size_t n;
};

void hg_registry_free(struct hg_hosts_registry *g);
/* A missing file is an empty registry; a damaged one is -1 (HG_CNI_STATE). */
int hg_registry_load(const char *path, struct hg_hosts_registry *g, struct hg_error *err);
/* An empty registry removes the file. */
int hg_registry_save(const char *path, const struct hg_hosts_registry *g, struct hg_error *err);
/* Removes owner i (freeing it). */
void hg_registry_remove(struct hg_hosts_registry *g, size_t i);
/* Sets key's lines, appending a new owner; -1 with errno E2BIG past HG_HOSTS_MAX_OWNERS,
 * ENOMEM when out of memory. */
int hg_registry_put(struct hg_hosts_registry *g, const char *key, pid_t pid, unsigned long long pid_start,
		    long long since, const struct hg_ip *ips, char *const *const *names, size_t n);
/* Records that the registry is of the file id, reached through target (copied); -1 when
 * out of memory. */
int hg_registry_set_file(struct hg_hosts_registry *g, const struct hg_hosts_target *target,
			 const struct hg_file_id *id);
