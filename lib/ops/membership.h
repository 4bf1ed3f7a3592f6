/* SPDX-License-Identifier: Apache-2.0 */
/* A container's membership of the hook's plumbing of its netns: <stateDir>/hook/<ID>.json
 * (state.h), in the record format's version (record.h). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include "base/error.h"

struct hg_membership {
	char *container_id;
	char *netns_record; /* path of the plumbing record */
	pid_t pid;          /* 0: unknown */
	unsigned long long pid_start;
};

void hg_membership_free(struct hg_membership *m);
#define _cleanup_membership_ __attribute__((cleanup(hg_membership_free)))
int hg_membership_load(const char *path, struct hg_membership *m, bool *found, struct hg_error *err);
int hg_membership_save(const char *path, const struct hg_membership *m, struct hg_error *err);

