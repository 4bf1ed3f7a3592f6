/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a CNI result (prevResult) of any supported version: the container's addresses on
 * our interface and their gateways. */
#pragma once

#include <jansson.h>
#include "base/hostaddr.h"
#include "base/error.h"

int hg_result_container_net(json_t *result, const char *ifname, struct hg_container_net *out, struct hg_error *err);
