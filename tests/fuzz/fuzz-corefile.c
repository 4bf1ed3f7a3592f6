/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway corefile` on any input: no crash; when it prints, the output holds no NUL,
 * re-parses with our entries first in the main block's one hosts block (as CoreDNS reads
 * it, hg_corefile_check), and edited again gives the same bytes. The first byte picks the
 * addresses and names, and stays part of the Corefile. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/corefile.h"

static void spec_init(struct hg_corefile_spec *s, uint8_t pick)
{
	struct hg_error err = {0};
	*s = (struct hg_corefile_spec){0};
	if (pick & 1)
		hg_corefile_spec_add_ip(s, "fd00:254::2", &err);
	if (hg_corefile_spec_add_ip(s, "169.254.1.2", &err) < 0)
		abort();
	if (pick & 2)
		hg_corefile_spec_add_name(s, "host.docker.internal", &err);
	if (hg_corefile_spec_finish(s, &err) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hg_corefile_spec s;
	struct hg_error err = {0};
	char *out = NULL, *again = NULL;
	size_t out_len, again_len;

	spec_init(&s, size ? data[0] : 0);
	if (hg_corefile_edit((const char *) data, size, &s, &out, &out_len, &err) < 0) {
		/* Refusing is fine; an output that fails its own check is a bug (the message of
		 * hg_corefile_edit then starts so: others start with the line, or quote input). */
		if (strncmp(err.msg, "internal error", strlen("internal error")) == 0)
			abort();
		hg_corefile_spec_free(&s);
		return 0;
	}
	if (memchr(out, '\0', out_len) || out[out_len] != '\0')
		abort();
	if (hg_corefile_check(out, out_len, &s, &err) < 0)
		abort();
	if (hg_corefile_edit(out, out_len, &s, &again, &again_len, &err) < 0)
		abort();
	if (again_len != out_len || memcmp(again, out, out_len) != 0)
		abort();
	free(out);
	free(again);
	hg_corefile_spec_free(&s);
	return 0;
}
