/* SPDX-License-Identifier: Apache-2.0 */
/* A container's membership of the hook's plumbing of its netns (membership.h). */
#include <string.h>
#include <stdlib.h>
#include "ops/membership.h"
#include "ops/record.h"
#include "ops/state.h"
#include "ops/json-io.h"
#include "base/util.h"

void hg_membership_free(struct hg_membership *m)
{
	free(m->container_id);
	free(m->netns_record);
	memset(m, 0, sizeof(*m));
}

int hg_membership_load(const char *path, struct hg_membership *m, bool *found, struct hg_error *err)
{
	json_auto_t *j = NULL;
	struct jio_in in = {.path = path, .err = err};
	memset(m, 0, sizeof(*m));
	if (jio_load_json(path, &j, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	int version = (int) jio_integer(&in, j, "version", true);
	if (version < 1 || version > HG_RECORD_VERSION)
		jio_damaged(&in, "version");
	m->container_id = jio_req_string(&in, j, "containerID");
	m->netns_record = jio_req_string(&in, j, "netnsRecord");
	m->pid = (pid_t) jio_integer(&in, j, "pid", false);
	m->pid_start = (unsigned long long) jio_integer(&in, j, "pidStart", false);
	if (in.bad) {
		hg_membership_free(m);
		return hg_error_set(err, HG_CNI_STATE, "membership record %s is damaged (\"%s\")", path, in.what);
	}
	return 0;
}

int hg_membership_save(const char *path, const struct hg_membership *m, struct hg_error *err)
{
	struct jio_out o = {0};
	json_auto_t *j = json_object();
	if (!j)
		return hg_error_oom(err);
	jio_put(&o, j, "version", json_integer(HG_RECORD_VERSION));
	jio_put(&o, j, "containerID", json_string(m->container_id ? m->container_id : ""));
	jio_put(&o, j, "netnsRecord", json_string(m->netns_record ? m->netns_record : ""));
	if (m->pid > 0) {
		jio_put(&o, j, "pid", json_integer(m->pid));
		jio_put(&o, j, "pidStart", json_integer((json_int_t) m->pid_start));
	}
	if (o.oom)
		return hg_error_oom(err);
	return hg_state_write(path, j, err);
}

