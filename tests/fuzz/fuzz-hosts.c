/* SPDX-License-Identifier: Apache-2.0 */
/* The hosts-block merge must never lose a user line or an old block it was not told to
 * drop: whatever the file holds, stripping the block from the merged text gives back the
 * file without the block and the dropped owners' old blocks, and merging twice changes
 * nothing. The owners dropped are none, one key or two, as the first byte says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "os/hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const names[] = {"host.docker.internal", "gateway.docker.internal", NULL};
	struct hg_hosts_entry entries[2] = {{.names = names}, {.names = names}};
	char *merged = NULL, *block = NULL, *again = NULL, *block2 = NULL, *stripped = NULL, *base = NULL;
	size_t merged_len, again_len, stripped_len, base_len;

	static char *const one[] = {"net+c1+eth0", NULL}, *const two[] = {"net+c1+eth0", "p+c+e", NULL};
	static char *const *const drops[] = {NULL, one, two};
	char *const *owner = drops[size ? data[0] % 3 : 0];

	hg_ip_parse("10.0.0.1", false, &entries[0].ip);
	hg_ip_parse("fd00::1", false, &entries[1].ip);
	if (hg_hosts_merge((const char *) data, size, owner, entries, 2, &merged, &merged_len, &block) < 0)
		return 0;
	if (hg_hosts_strip((const char *) data, size, owner, &base, &base_len) < 0 ||
	    hg_hosts_strip(merged, merged_len, owner, &stripped, &stripped_len) < 0)
		abort();
	/* The merge may add one line end to a last unterminated user line, nothing else. */
	if (stripped_len < base_len || memcmp(stripped, base, base_len) != 0 || stripped_len - base_len > 2)
		abort();
	if (hg_hosts_merge(merged, merged_len, owner, entries, 2, &again, &again_len, &block2) < 0)
		abort();
	if (again_len != merged_len || memcmp(again, merged, merged_len) != 0 || strcmp(block, block2) != 0)
		abort();
	free(merged);
	free(block);
	free(again);
	free(block2);
	free(stripped);
	free(base);
	return 0;
}
