/* SPDX-License-Identifier: Apache-2.0 */
/* The hook's per-netns plumbing and its users, and the collector of what a runtime left
 * when it never ran poststop (it failed after createRuntime, or was killed):
 *   <stateDir>/hook/<containerID>.json             a container's membership
 *   <stateDir>/hook/netns/<dev>-<ino>.json          the plumbing of one network namespace
 *   <stateDir>/hook/netns/<dev>-<ino>.users/<ID>    its users; the last one undoes it */
#pragma once

#include <stdbool.h>
#include "os/log.h"
#include "base/error.h"
#include "ops/record.h"
#include "ops/state.h"

/* Drops container id from the users of netns_record; the last user undoes the plumbing.
 * Called with the "hook" lock held. */
void hg_hook_release_user(const char *id, const char *netns_record, const char *netns_hint,
			  const struct hg_log *log);
/* Empties a users directory. */
void hg_hook_remove_users(const char *users);

/* Removes memberships whose container process is gone (pid and start time recorded at
 * createRuntime) or whose netns record is gone, plumbing whose namespace is gone or that
 * has no user left, by-netns links to records that are gone, and hosts registries whose
 * every owner is gone. Takes the "hook" lock.
 * Returns how many things it removed, -1 when the state directory is unusable. */
int hg_hook_collect(const char *state_dir, const struct hg_log *log);

/* Removes the CNI attachments whose network namespace is gone (no path leads to it, no
 * process is in it, no mount namespace has it mounted): the runtime's DEL never came (the
 * entry was taken out of the conflist before the pod stopped). For `host-gateway gc` only.
 * Returns how many it removed. */
int hg_collect_cni(const char *state_dir, const struct hg_log *log);

/* A CNI record a collector judged stale (r, read from path after *read was taken): undone
 * and retired under the attachment's lock, taken without waiting (held: an ADD or DEL is at
 * work on it), and only when path is still the file that was read (an ADD of the same key
 * may have replaced it since); r NULL: a damaged record, removed without undo. 1 retired;
 * 0 left (replaced, or gone); -1 left with err saying why (the lock is held, or the retire
 * failed). */
int hg_collect_retire_judged(const char *state_dir, const char *path, const struct hg_state_stamp *read,
			     const struct hg_record *r, const struct hg_log *log, struct hg_error *err);
