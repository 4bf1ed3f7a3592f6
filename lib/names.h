/* A container's names in a hosts file that several owners may share (two networks of one
 * container, the containers of a pod): each owner has its own block (hosts.h), and a
 * registry (record.h) in hg_hosts_lock_dir, next to the file's lock and whatever stateDir
 * the owners' configurations name, remembers every owner's lines, so that a
 * file rewritten by someone else (kubelet truncates a pod's etc-hosts before each
 * container) gets every live owner's block back with the next write. Owners whose process
 * is gone are dropped then too. Writers of one file serialise on hg_state_lock_file. */
#pragma once

#include <sys/types.h>
#include "hosts.h"
#include "target.h"
#include "error.h"

struct hg_names_owner {
	const char *key;  /* the block's owner: an attachment key */
	pid_t pid;        /* the container's process; 0: unknown (never dropped as dead) */
	unsigned long long pid_start;
};

/* Writes owner's block of entries (and rebuilds the other live owners'). *block gets the
 * lines written. Errors as hg_target_open and hg_hosts_apply_fd. */
int hg_names_write(const char *state_dir, const struct hg_names_owner *owner, const struct hg_hosts_entry *entries,
		   size_t n, const struct hg_hosts_target *target, char **block, struct hg_error *err);
/* Removes owner's block (owner NULL: the legacy block of a version-1 record). *gone is set
 * when the file is gone. */
int hg_names_remove(const char *state_dir, const char *owner, const struct hg_hosts_target *target, bool *gone,
		    struct hg_error *err);
/* owner's block as the file has it now: 1 and *block, 0 when it has none. */
int hg_names_read(const char *state_dir, const char *owner, const struct hg_hosts_target *target, char **block,
		  struct hg_error *err);
