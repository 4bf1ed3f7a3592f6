/* SPDX-License-Identifier: Apache-2.0 */
/* The attachment key: the name of one attachment in records, nft comments and users files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The attachment key as records, nft comments and user files carry it:
 * "network+containerID+ifname" ("=hook+containerID+-" for the hook's plumbing), each part
 * shortened with a hash when long or unusual, so that the key is at most HG_KEY_MAX - 1
 * bytes of [A-Za-z0-9_.~=+-]: safe in nft text and comments (128 bytes) and as a file name. */
#define HG_KEY_NETWORK_MAX 36
#define HG_KEY_ID_MAX 64
#define HG_KEY_IFNAME_MAX 24
#define HG_KEY_MAX 128
int hg_key_attachment(const char *network, const char *container_id, const char *ifname, char *out, size_t size);
/* Can iface go into nft text as a quoted string? (Linux allows '"' in interface names.) */
bool hg_key_iface_safe(const char *iface);

