/* SPDX-License-Identifier: Apache-2.0 */
/* A container's names in a hosts file that several owners may share (two networks of one
 * container, the containers of a pod): the file has one block (hosts.h), the union of the
 * live owners' lines, each name once, the first owner of a name winning; a registry
 * (record.h) in hg_hosts_lock_dir, next to the file's lock and whatever stateDir the
 * owners' configurations name, remembers who owns which lines. Every write and every
 * removal renders the block again from it: a file rewritten by someone else (kubelet
 * truncates a pod's etc-hosts before each container) gets every live owner's names back
 * with the next write; an owner that leaves takes the names no other owner has; the last
 * one takes the block. Owners whose process is gone are dropped then too, and the old
 * per-owner blocks of the previous version (of any owner the registry lists, or that
 * leaves) are taken into the one block. Writers of one file serialise on
 * hg_state_lock_file, which covers the registry and the file together. */
#pragma once

#include <sys/types.h>
#include "os/hosts.h"
#include "ops/record.h"
#include "ops/registry.h"
#include "os/target.h"
#include "base/error.h"

struct hg_names_owner {
	const char *key;  /* the block's owner: an attachment key */
	pid_t pid;        /* the container's process; 0: unknown (see HG_OWNER_UNKNOWN_TTL) */
	unsigned long long pid_start;
};

/* How long an owner whose process is unknown (the runtime gave no PID, or its /proc entry
 * could not be read) counts as alive after it last wrote: a day. Its liveness cannot be
 * decided, and "for ever" kept such owners, and their registries, after their containers
 * were long gone. A day covers every rewrite that comes with a pod's start (kubelet
 * rewrites etc-hosts before each of its containers; crash-loop back-off stops growing at
 * 5 minutes) many times over; past it the owner is forgotten rather than declared dead:
 * its block is no longer rebuilt, but it is not removed on a guess either (its own
 * poststop or DEL still removes it). */
#define HG_OWNER_UNKNOWN_TTL (24 * 60 * 60)

enum hg_owner_state {
	HG_OWNER_ALIVE,
	HG_OWNER_DEAD,    /* its process is gone: its block goes */
	HG_OWNER_EXPIRED, /* unknown process, older than HG_OWNER_UNKNOWN_TTL: forgotten */
};
/* now: seconds since the epoch. A clock set back (since in the future) expires nobody. */
enum hg_owner_state hg_names_owner_state(const struct hg_hosts_owner *o, long long now);

/* Is the registry g the one of the file id, reached through target? Its device, inode
 * and whatever generation or birth time both know must agree; where no such identity can
 * be compared, the path must agree too. A registry without an identity (version 2)
 * never is. */
bool hg_names_registry_matches(const struct hg_hosts_registry *g, const struct hg_file_id *id,
			       const struct hg_hosts_target *target);

/* Records owner's entries and renders the block with them. *block gets the block's lines
 * as written (every owner's), *written (when not NULL) the file's identity. Errors as
 * hg_target_open and hg_hosts_apply_fd. */
int hg_names_write(const char *state_dir, const struct hg_names_owner *owner, const struct hg_hosts_entry *entries,
		   size_t n, const struct hg_hosts_target *target, char **block, struct hg_file_id *written,
		   struct hg_error *err);
/* Removes owner's names: the block is rendered again from the owners left, or removed when
 * none is (owner NULL: a version-1 record, whose lines the registry never had). *gone is
 * set when the file is gone. */
int hg_names_remove(const char *state_dir, const char *owner, const struct hg_hosts_target *target, bool *gone,
		    struct hg_error *err);
/* Removes owner from the registry of the file dev/ino when the file can no longer be
 * reached (ctr's DEL comes after the container's process is gone, and its root with it):
 * nobody would ever write that file again to drop it. */
int hg_names_forget(const char *state_dir, const char *owner, uint64_t dev, uint64_t ino, struct hg_error *err);
/* The block owner's names are in, as the file has it now: 1 and *block, 0 when there is
 * none; owner's old per-owner block when the file still has one. *want gets what the
 * block should say (the registry's owners rendered as a write would) when the registry
 * lists owner, else NULL: the caller compares with what it recorded. */
int hg_names_read(const char *state_dir, const char *owner, const struct hg_hosts_target *target, char **block,
		  char **want, struct hg_error *err);
