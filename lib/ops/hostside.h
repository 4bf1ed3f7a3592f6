/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side resources that several attachments share: the loopback alias of a virtual IP,
 * and an interface's route_localnet with its guard. Each has a users directory under the
 * state directory, one file per attachment key, so the resource stays while one user is
 * left and goes with the last; a resource that existed before us is never taken away.
 * Callers hold hg_state_lock(hg_hosts_lock_dir, "host") and pass that folder as state_dir:
 * the resources are the machine's, whatever stateDir a configuration names. Everything
 * acts on the current network namespace. */
#pragma once

#include <stdbool.h>
#include <jansson.h>
#include "base/ip.h"
#include "os/log.h"
#include "base/error.h"
#include "base/key.h" /* the users files are named by attachment key */

int hg_alias_acquire(const char *state_dir, const struct hg_ip *ip, const char *key, struct hg_error *err);
void hg_alias_release(const char *state_dir, const struct hg_ip *ip, const char *key, const struct hg_log *log);

/* route_localnet=1 on iface, the guard entry for it and the map elements of this attachment;
 * with a bridge port (port non-empty), the bridge table's binding of the container address
 * addr to that port, so that a neighbour cannot spoof it. */
int hg_loopback_acquire(const char *state_dir, const char *iface, char *const *elements, const char *key,
			const char *port, const struct hg_ip *addr, struct hg_error *err);
void hg_loopback_release(const char *state_dir, const char *iface, char *const *elements, const char *key,
			 const char *port, const struct hg_ip *addr, const struct hg_log *log);
/* 1 when every element is in the host map and iface is guarded, 0 when not. */
int hg_loopback_present(const char *iface, char *const *elements, const char *key, struct hg_error *err);
/* GC without records: deletes map elements and resource users of network whose attachment
 * is not in valid, releasing what their last user held. */
void hg_loopback_gc(const char *state_dir, const char *network, json_t *valid, const struct hg_log *log);
