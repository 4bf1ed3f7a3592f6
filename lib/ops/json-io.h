/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON of the state folder's files (records, memberships, registries), for the
 * modules that own them (record.c, membership.c, registry.c) and no one else. */
#pragma once

#include <stdbool.h>
#include <jansson.h>
#include "base/ip.h"
#include "base/hostaddr.h"
#include "base/error.h"
#include "os/target.h"

/* To JSON: jansson reports allocation failures by returning NULL; json_object_set_new and
 * json_array_append_new take ownership even then, so one check of each container at the
 * end (oom, set by every helper) covers every step. */
struct jio_out {
	bool oom;
};
void jio_put(struct jio_out *o, json_t *obj, const char *key, json_t *v);
void jio_push(struct jio_out *o, json_t *arr, json_t *v);
json_t *jio_ip_string(const struct hg_ip *ip, bool cidr);
json_t *jio_strings(struct jio_out *o, char *const *v);
json_t *jio_addrs(struct jio_out *o, const struct hg_host_addrs *a);
/* Lines of a hosts block, [{"ip": ..., "names": [...]}, ...] (records and registries). */
struct hg_record_entry;
json_t *jio_entries(struct jio_out *o, const struct hg_record_entry *e, size_t n);
json_t *jio_target_json(struct jio_out *o, const struct hg_hosts_target *t, const char *block);

/* From JSON: a file of ours, written by a root process into a checked directory; still, a
 * damaged one must be refused, not half-believed: every value is checked for its type, and
 * the first bad one is named in what. */
struct jio_in {
	const char *path;
	struct hg_error *err;
	bool bad;
	char what[64];
};
void jio_damaged(struct jio_in *in, const char *what);
char *jio_opt_string(struct jio_in *in, json_t *obj, const char *key);
char *jio_req_string(struct jio_in *in, json_t *obj, const char *key);
json_int_t jio_integer(struct jio_in *in, json_t *obj, const char *key, bool required);
void jio_ip_of(struct jio_in *in, json_t *v, bool cidr, const char *what, struct hg_ip *ip);
void jio_fixed_string(struct jio_in *in, json_t *obj, const char *key, char *buf, size_t size);
void jio_addrs_of(struct jio_in *in, json_t *arr, const char *what, struct hg_host_addrs *a);
char **jio_strings_of(struct jio_in *in, json_t *arr, const char *what);
void jio_target_of(struct jio_in *in, json_t *j, const char *what, struct hg_hosts_target *t);
/* A JSON object from path: *found false (and 0) when there is no file; a link, a FIFO, a
 * device, a file over HG_RECORD_MAX_SIZE or one that is not a JSON object is -1
 * (HG_CNI_STATE). */
int jio_load_json(const char *path, json_t **j, bool *found, struct hg_error *err);
