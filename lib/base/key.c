/* SPDX-License-Identifier: Apache-2.0 */
/* Attachment keys, and the names that may stand beside them in nft text (key.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "base/key.h"

static bool key_char_safe(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
	       ch == '.' || ch == '-';
}

/* One part of a key: as it is when short and plain, else its first bytes (unsafe ones as
 * '_') and a hash of the whole, so that distinct parts stay distinct and the key is safe
 * in nft text, a file name, and an nft comment (at most 128 bytes). */
static void key_part(const char *s, size_t max, char *out)
{
	size_t n = strlen(s);
	bool plain = n <= max;
	for (size_t i = 0; plain && i < n; i++)
		plain = key_char_safe(s[i]);
	if (plain) {
		memcpy(out, s, n + 1);
		return;
	}
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) s[i]) * 0x100000001b3ull;
	size_t keep = n < max - 17 ? n : max - 17;
	for (size_t i = 0; i < keep; i++)
		out[i] = key_char_safe(s[i]) ? s[i] : '_';
	snprintf(out + keep, 18, "~%016llx", (unsigned long long) h);
}

int hg_key_attachment(const char *network, const char *container_id, const char *ifname, char *out, size_t size)
{
	char net[HG_KEY_NETWORK_MAX + 1], cid[HG_KEY_ID_MAX + 1], ifn[HG_KEY_IFNAME_MAX + 1];
	/* '=' is in no network name: a CNI network called "hook" is not the hook. */
	key_part(network ? network : "", HG_KEY_NETWORK_MAX, net);
	key_part(container_id, HG_KEY_ID_MAX, cid);
	key_part(ifname ? ifname : "-", HG_KEY_IFNAME_MAX, ifn);
	int n = snprintf(out, size, "%s+%s+%s", network ? net : "=hook", cid, ifn);
	return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

bool hg_key_iface_safe(const char *iface)
{
	if (!iface || !iface[0] || strlen(iface) >= 16)
		return false;
	for (const char *p = iface; *p; p++)
		if (!key_char_safe(*p) && *p != '@' && *p != '+')
			return false;
	return true;
}

/* The users directory of a resource and the file of one user in it. */
