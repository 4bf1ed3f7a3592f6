/* SPDX-License-Identifier: Apache-2.0 */
/* A prevResult comes from whatever plugin ran before us. */
#include <stdint.h>
#include <stdlib.h>
#include "plugin/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hg_container_net cn;
	struct hg_error err;
	json_t *j = json_loadb((const char *) data, size, 0, NULL);
	if (j)
		hg_result_container_net(j, "eth0", &cn, &err);
	json_decref(j);
	return 0;
}
