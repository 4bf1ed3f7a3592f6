/* SPDX-License-Identifier: Apache-2.0 */
/* Any JSON as a plugin entry or hook config: parsed or refused, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hg_config c;
	struct hg_error err;
	json_t *j = json_loadb((const char *) data, size, 0, NULL);
	if (!j)
		return 0;
	if (hg_config_init(&c) == 0) {
		if (hg_config_load_json(&c, j, true, &err) == 0)
			hg_config_apply_annotations(&c, json_object_get(j, "annotations"), &err);
		hg_config_free(&c);
	}
	json_decref(j);
	return 0;
}
