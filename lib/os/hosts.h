/* SPDX-License-Identifier: Apache-2.0 */
/* The managed block of an /etc/hosts file: our lines live between two marker lines, one
 * block per file whoever wrote it (the two networks of a container, the containers of a
 * pod), each name in it once. Who owns which lines is not the file's business but the
 * registry's (ops/names.h): it hands the union of the live owners' entries, in the order
 * the owners came, and the first of them to map a name in a family is the one the block
 * keeps (with glibc's "multi on" a name twice would give both addresses). Every other
 * line belongs to the user and is kept byte for byte; a name the user already maps
 * outside the block is left to the user, as Podman does.
 *   # BEGIN host-gateway (managed block: edits here are lost)
 *   10.244.7.1	host.docker.internal
 *   # END host-gateway
 * The previous version wrote one block per owner, its markers naming the owner:
 *   # BEGIN host-gateway net+cid+eth0 (managed block: edits here are lost)
 *   # END host-gateway net+cid+eth0
 * Such an old block is read (hg_hosts_block with its owner) and goes when the caller drops
 * its owner (drop: NULL-terminated keys, may be NULL), which the registry does for every
 * owner it knows, so that the first write after an upgrade takes the old blocks into the
 * one; an old block of an owner nobody lists stays until that owner's own removal. */
#pragma once

#include <stddef.h>
#include "base/ip.h"
#include "base/error.h"

#define HG_HOSTS_BEGIN "# BEGIN host-gateway (managed block: edits here are lost)"
#define HG_HOSTS_BEGIN_PREFIX "# BEGIN host-gateway"
#define HG_HOSTS_END "# END host-gateway"
#define HG_HOSTS_MAX_SIZE (1024 * 1024)

struct hg_hosts_entry {
	struct hg_ip ip;
	char *const *names; /* NULL-terminated */
};

/* Pure text operations (unit-tested). Outputs are heap strings. */

/* content without the block (stale or duplicated ones included), without the old blocks of
 * the owners in drop and without damaged markers, other old blocks as they are, plus a new
 * block for entries (at the end), less the names the user maps. *block gets the lines
 * written, "\n"-joined (empty when no name is left, and then no block is written). */
int hg_hosts_merge(const char *content, size_t len, char *const *drop, const struct hg_hosts_entry *entries,
		   size_t n, char **out, size_t *out_len, char **block);
/* content without the block, the old blocks of drop and damaged markers. */
int hg_hosts_strip(const char *content, size_t len, char *const *drop, char **out, size_t *out_len);
/* The lines inside the first block (owner NULL) or owner's first old block, "\n"-joined;
 * 0 with *block NULL when there is none. */
int hg_hosts_block(const char *content, size_t len, const char *owner, char **block);

/* File operations on an fd opened by the caller (see rootfs.h): the file is rewritten in
 * place, so its inode, owner and mode stay. Nothing is written when the text would not
 * change. Callers serialise on a lock in the state directory (hg_state_lock_file), never
 * on the file itself: any process of a container that shares the file could hold that
 * lock for ever. */
int hg_hosts_apply_fd(int fd, const char *what, char *const *drop, const struct hg_hosts_entry *entries, size_t n,
		      char **block, struct hg_error *err);
int hg_hosts_remove_fd(int fd, const char *what, char *const *drop, struct hg_error *err);
int hg_hosts_read_block_fd(int fd, const char *what, const char *owner, char **block, struct hg_error *err);
