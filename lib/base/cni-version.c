/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include "base/cni-version.h"

#define ELEMENT(v) v,
const char *const hg_cni_versions[] = {HG_CNI_VERSIONS_X(ELEMENT, ELEMENT, ELEMENT) NULL};

int hg_cni_version_number(const char *v)
{
	unsigned a, b, c;
	char tail;
	if (!v || sscanf(v, "%u.%u.%u%c", &a, &b, &c, &tail) != 3 || a > 99 || b > 99 || c > 99)
		return -1;
	return (int) (a * 10000 + b * 100 + c);
}

bool hg_cni_version_supported(const char *v)
{
	for (size_t i = 0; hg_cni_versions[i]; i++)
		if (strcmp(hg_cni_versions[i], v) == 0)
			return true;
	return false;
}
