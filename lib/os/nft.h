/* SPDX-License-Identifier: Apache-2.0 */
/* libnftables at run time: loaded on first use (from the system, else from beside the
 * binary), one context per network namespace, one transaction per rule set.
 *
 * Releasing the netlink socket of a context that committed a change makes the kernel
 * wait for an RCU grace period (the nftables URELEASE handler flushes the deferred
 * destruction of the transaction's objects): 10 to 20 ms of DEL's wall time, after the
 * batch was acknowledged and the rules were in place. So contexts (one per network
 * namespace) are kept to the end of the process, and hg_nft_release_detached() hands
 * their sockets to a child that releases them once this process has exited. */
#pragma once

#include <stdbool.h>
#include <jansson.h>
#include "base/error.h"

/* Beside the binary: libnftables and its libraries for nodes without them (install). */
#define HG_NFT_LIB_DIR "host-gateway.lib"

/* libnftables in the current network namespace. */
int hg_nft_run(const char *text, struct hg_error *err);
/* `nft -j list ...` of cmd; 0 with *out NULL when the object does not exist. */
int hg_nft_list_json(const char *cmd, json_t **out, struct hg_error *err);
/* `nft -a -s list ...` of cmd as text, with "# handle N" comments and without the
 * counters' values, into *out (heap). */
int hg_nft_list_text(const char *cmd, char **out, struct hg_error *err);
/* Can libnftables be loaded here (from the system, or beside the binary)? */
bool hg_nft_available(void);

/* Called by main as the process ends, after its output is flushed: when contexts are
 * kept, starts a child (clone with CLONE_VM: no page tables to copy) that closes every
 * descriptor but their nftables netlink sockets and is killed (PR_SET_PDEATHSIG) when
 * this process exits, so that the final release, and the kernel's wait in it, happen in
 * the child; the caller of this process (a runtime waiting for its exit and for EOF on
 * its stdout) does not wait for it. The child is reaped by init or the nearest
 * subreaper. When no child can be started, the contexts are freed here, waiting. */
void hg_nft_release_detached(void);
