/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI state on stdin and a bundle's config.json come from runtimes and images. */
#include <stdint.h>
#include <stdlib.h>
#include "hook/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hg_oci_state s;
	struct hg_oci_bundle b;
	struct hg_error err;
	if (hg_oci_state_parse((const char *) data, size, &s, &err) == 0)
		hg_oci_state_free(&s);
	json_t *j = json_loadb((const char *) data, size, 0, NULL);
	if (j && hg_oci_bundle_parse(j, "/bundle", "config.json", &b, &err) == 0)
		hg_oci_bundle_free(&b);
	json_decref(j);
	return 0;
}
