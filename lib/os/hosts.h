/* The managed blocks of an /etc/hosts file: our lines live between two marker lines that
 * name their owner (an attachment key), so that several attachments sharing one file (two
 * networks of one container, the containers of a pod) each have their own block, and ADD,
 * DEL and CHECK of one never touch another's. Every other line belongs to the user and is
 * kept byte for byte. A name the user already maps outside the blocks is left to the user,
 * as Podman does. When two owners map one name, the block that comes first in the file
 * (the one written first) is the one resolvers use; when it goes, the next one's takes over.
 *   # BEGIN host-gateway net+cid+eth0 (managed block: edits here are lost)
 *   10.244.7.1	host.docker.internal
 *   # END host-gateway net+cid+eth0
 * The single-block version wrote markers without an owner: such a legacy block is owner
 * NULL here, left alone by owners, removed by the DEL of that version's record. */
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

/* content without owner's blocks (stale or duplicated ones included) and without damaged
 * markers, other owners' blocks as they are, plus a new block of owner for entries (at
 * the end), less the names the user maps. *block gets the lines written, "\n"-joined
 * (empty when no name is left, and then no block is written). owner NULL: the legacy
 * block. */
int hg_hosts_merge(const char *content, size_t len, const char *owner, const struct hg_hosts_entry *entries,
		   size_t n, char **out, size_t *out_len, char **block);
/* content without owner's blocks and damaged markers. */
int hg_hosts_strip(const char *content, size_t len, const char *owner, char **out, size_t *out_len);
/* The lines inside owner's first block, "\n"-joined; 0 with *block NULL when there is none. */
int hg_hosts_block(const char *content, size_t len, const char *owner, char **block);

/* File operations on an fd opened by the caller (see rootfs.h): the file is rewritten in
 * place, so its inode, owner and mode stay. Nothing is written when the text would not
 * change. Callers serialise on a lock in the state directory (hg_state_lock_file), never
 * on the file itself: any process of a container that shares the file could hold that
 * lock for ever. */
int hg_hosts_apply_fd(int fd, const char *what, const char *owner, const struct hg_hosts_entry *entries, size_t n,
		      char **block, struct hg_error *err);
int hg_hosts_remove_fd(int fd, const char *what, const char *owner, struct hg_error *err);
int hg_hosts_read_block_fd(int fd, const char *what, const char *owner, char **block, struct hg_error *err);
/* Several owners at once: drops the blocks of the owners in drop (NULL-terminated, may be
 * NULL), then writes every block of blocks in turn (each lands after the previous one).
 * texts[i] gets block i's lines. */
struct hg_hosts_block_spec {
	const char *owner;
	const struct hg_hosts_entry *entries;
	size_t n;
};
int hg_hosts_rewrite_fd(int fd, const char *what, char *const *drop, const struct hg_hosts_block_spec *blocks,
			size_t n, char **texts, struct hg_error *err);
