/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON of the state folder's files (records, memberships, registries), both ways. */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "ops/json-io.h"
#include "ops/record.h"
#include "base/util.h"
#include "os/fs.h"

/* ---- to JSON --------------------------------------------------------------------------- */

void jio_put(struct jio_out *o, json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		o->oom = true;
}

void jio_push(struct jio_out *o, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) < 0)
		o->oom = true;
}

json_t *jio_ip_string(const struct hg_ip *ip, bool cidr)
{
	char buf[HG_IP_STRLEN];
	return json_string(cidr ? hg_ip_cidr(ip, buf) : hg_ip_str(ip, buf));
}

json_t *jio_strings(struct jio_out *o, char *const *v)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && v && v[i]; i++)
		jio_push(o, arr, json_string(v[i]));
	return arr;
}

json_t *jio_addrs(struct jio_out *o, const struct hg_host_addrs *a)
{
	json_t *arr = json_array();
	for (int f = 0; arr && f < 2; f++)
		if (a->ip[f].family)
			jio_push(o, arr, jio_ip_string(&a->ip[f], false));
	return arr;
}

json_t *jio_entries(struct jio_out *o, const struct hg_record_entry *entries, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_t *e = json_object();
		jio_push(o, arr, e);
		if (!e)
			continue;
		jio_put(o, e, "ip", jio_ip_string(&entries[i].ip, false));
		jio_put(o, e, "names", jio_strings(o, entries[i].names));
	}
	return arr;
}

/* block NULL: a registry's target, which has none. */
json_t *jio_target_json(struct jio_out *o, const struct hg_hosts_target *t, const char *block)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	if (t->file) {
		jio_put(o, j, "file", json_string(t->file));
	} else {
		jio_put(o, j, "root", json_string(t->root ? t->root : ""));
		jio_put(o, j, "path", json_string(t->path ? t->path : ""));
		if (t->pid > 0) {
			jio_put(o, j, "pid", json_integer(t->pid));
			jio_put(o, j, "pidStart", json_integer((json_int_t) t->pid_start));
			jio_put(o, j, "mntns", json_integer((json_int_t) t->mntns));
		}
	}
	if (block)
		jio_put(o, j, "block", json_string(block));
	return j;
}

/* ---- from JSON ------------------------------------------------------------------------- */

void jio_damaged(struct jio_in *in, const char *what)
{
	if (!in->bad)
		snprintf(in->what, sizeof(in->what), "%s", what);
	in->bad = true;
}

char *jio_opt_string(struct jio_in *in, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return NULL;
	char *s = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
	if (!s)
		jio_damaged(in, key);
	return s;
}

char *jio_req_string(struct jio_in *in, json_t *obj, const char *key)
{
	if (!json_object_get(obj, key))
		jio_damaged(in, key);
	return jio_opt_string(in, obj, key);
}

json_int_t jio_integer(struct jio_in *in, json_t *obj, const char *key, bool required)
{
	json_t *v = json_object_get(obj, key);
	if (!v && !required)
		return 0;
	if (!json_is_integer(v))
		jio_damaged(in, key);
	return json_integer_value(v);
}

void jio_ip_of(struct jio_in *in, json_t *v, bool cidr, const char *what, struct hg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (!json_is_string(v) || hg_ip_parse(json_string_value(v), cidr, ip) < 0)
		jio_damaged(in, what);
}

void jio_fixed_string(struct jio_in *in, json_t *obj, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) >= size)
		jio_damaged(in, key);
	else
		memcpy(buf, json_string_value(v), json_string_length(v) + 1);
}

void jio_addrs_of(struct jio_in *in, json_t *arr, const char *what, struct hg_host_addrs *a)
{
	size_t i;
	json_t *v;
	memset(a, 0, sizeof(*a));
	json_array_foreach (arr, i, v) {
		struct hg_ip ip;
		jio_ip_of(in, v, false, what, &ip);
		if (ip.family)
			a->ip[hg_family_slot(ip.family)] = ip;
	}
}

char **jio_strings_of(struct jio_in *in, json_t *arr, const char *what)
{
	char **v = calloc(1, sizeof(char *));
	size_t i;
	json_t *s;
	if (!v || !json_is_array(arr)) {
		jio_damaged(in, what);
		return v;
	}
	json_array_foreach (arr, i, s)
		if (!json_is_string(s) || strv_push(&v, json_string_value(s)) < 0)
			jio_damaged(in, what);
	return v;
}

void jio_target_of(struct jio_in *in, json_t *j, const char *what, struct hg_hosts_target *t)
{
	if (!json_is_object(j)) {
		jio_damaged(in, what);
		return;
	}
	t->file = jio_opt_string(in, j, "file");
	if (!t->file) {
		t->root = jio_req_string(in, j, "root");
		t->path = jio_req_string(in, j, "path");
		t->pid = (pid_t) jio_integer(in, j, "pid", false);
		t->pid_start = (unsigned long long) jio_integer(in, j, "pidStart", false);
		t->mntns = (uint64_t) jio_integer(in, j, "mntns", false);
	}
}

int jio_load_json(const char *path, json_t **j, bool *found, struct hg_error *err)
{
	json_error_t jerr;
	struct hg_error rerr = {0};
	_cleanup_free_ char *buf = NULL;
	size_t len;
	*found = false;
	*j = NULL;
	/* Records are small regular files of ours; a link, a FIFO (which would block), a device
	 * or a huge file there is damage, not a record. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "open state record %s", path);
	/* One read: json_loadfd reads a byte per read(2), ~550 system calls per record. */
	if (hg_read_fd(fd, path, HG_RECORD_MAX_SIZE, 0, NULL, &buf, &len, &rerr) < 0) {
		if (rerr.code == HG_CNI_IO && rerr.errnum == ENOMEM)
			return hg_error_oom(err);
		if (rerr.code == HG_CNI_IO && strncmp(rerr.msg, "read ", 5) == 0)
			return hg_error_errno(err, HG_CNI_STATE, rerr.errnum, "read state record %s", path);
		return hg_error_set(err, HG_CNI_STATE, "state record %s is not a regular file of at most %d bytes", path,
				    HG_RECORD_MAX_SIZE);
	}
	*j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*j)
		return hg_error_set(err, HG_CNI_STATE, "read state record %s: %s", path, jerr.text);
	if (!json_is_object(*j))
		return hg_error_set(err, HG_CNI_STATE, "state record %s is not a JSON object", path);
	*found = true;
	return 0;
}

