/* The managed block of an /etc/hosts file: our lines live between two marker lines, every
 * other line belongs to the user and is kept byte for byte. A name the user already maps
 * outside the block is left to the user, as Podman does. */
#pragma once

#include <stddef.h>
#include "ip.h"
#include "error.h"

#define HG_HOSTS_BEGIN "# BEGIN host-gateway (managed block: edits here are lost)"
#define HG_HOSTS_BEGIN_PREFIX "# BEGIN host-gateway"
#define HG_HOSTS_END "# END host-gateway"
#define HG_HOSTS_MAX_SIZE (1024 * 1024)

struct hg_hosts_entry {
	struct hg_ip ip;
	char *const *names; /* NULL-terminated */
};

/* Pure text operations (unit-tested). Outputs are heap strings. */

/* content without any of our blocks (stale or duplicated ones included), plus a new block
 * for entries, less the names the user maps. *block gets the lines we wrote, "\n"-joined
 * (empty when no name is left). */
int hg_hosts_merge(const char *content, size_t len, const struct hg_hosts_entry *entries, size_t n,
		   char **out, size_t *out_len, char **block);
/* content without any of our blocks. */
int hg_hosts_strip(const char *content, size_t len, char **out, size_t *out_len);
/* The lines inside our first block, "\n"-joined; 0 with *block NULL when there is none. */
int hg_hosts_block(const char *content, size_t len, char **block);

/* File operations on an fd opened by the caller (see rootfs.h): the file is rewritten in
 * place, so its inode, owner and mode stay. Nothing is written when the text would not
 * change. Callers serialise on a lock in the state directory (hg_state_lock_file), never
 * on the file itself: any process of a container that shares the file could hold that
 * lock for ever. */
int hg_hosts_apply_fd(int fd, const char *what, const struct hg_hosts_entry *entries, size_t n, char **block,
		      struct hg_error *err);
int hg_hosts_remove_fd(int fd, const char *what, struct hg_error *err);
int hg_hosts_read_block_fd(int fd, const char *what, char **block, struct hg_error *err);
