/* SPDX-License-Identifier: Apache-2.0 */
/* The hosts registries: who has a block in one hosts file, and its lines (registry.h). */
#include <string.h>
#include <stdlib.h>
#include "ops/registry.h"
#include "ops/state.h"
#include "ops/json-io.h"
#include "base/util.h"

static void owner_free(struct hg_hosts_owner *o)
{
	free(o->key);
	for (size_t i = 0; i < o->n_entries; i++)
		strv_free(o->entries[i].names);
	free(o->entries);
	memset(o, 0, sizeof(*o));
}

void hg_registry_free(struct hg_hosts_registry *g)
{
	for (size_t i = 0; i < g->n; i++)
		owner_free(&g->owners[i]);
	free(g->owners);
	hg_target_free(&g->target);
	memset(g, 0, sizeof(*g));
}

int hg_registry_set_file(struct hg_hosts_registry *g, const struct hg_hosts_target *target,
			 const struct hg_file_id *id)
{
	struct hg_hosts_target copy;
	if (hg_target_copy(target, &copy) < 0)
		return -1;
	hg_target_free(&g->target);
	g->target = copy;
	g->identity = *id;
	g->has_identity = true;
	return 0;
}

void hg_registry_remove(struct hg_hosts_registry *g, size_t i)
{
	owner_free(&g->owners[i]);
	memmove(&g->owners[i], &g->owners[i + 1], (g->n - i - 1) * sizeof(g->owners[0]));
	g->n--;
}

static int owner_set_entries(struct hg_hosts_owner *o, const struct hg_ip *ips, char *const *const *names, size_t n)
{
	struct hg_record_entry *e = calloc(n + 1, sizeof(*e));
	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++) {
		e[i].ip = ips[i];
		if (!(e[i].names = strv_copy(names[i]))) {
			for (size_t j = 0; j < i; j++)
				strv_free(e[j].names);
			free(e);
			errno = ENOMEM;
			return -1;
		}
	}
	for (size_t i = 0; i < o->n_entries; i++)
		strv_free(o->entries[i].names);
	free(o->entries);
	o->entries = e;
	o->n_entries = n;
	return 0;
}

int hg_registry_put(struct hg_hosts_registry *g, const char *key, pid_t pid, unsigned long long pid_start,
		    long long since, const struct hg_ip *ips, char *const *const *names, size_t n)
{
	size_t i = 0;
	while (i < g->n && strcmp(g->owners[i].key, key) != 0)
		i++;
	if (i == g->n) {
		if (g->n >= HG_HOSTS_MAX_OWNERS) {
			errno = E2BIG;
			return -1;
		}
		struct hg_hosts_owner *grown = realloc(g->owners, (g->n + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		g->owners = grown;
		memset(&g->owners[i], 0, sizeof(g->owners[i]));
		if (!(g->owners[i].key = strdup(key)))
			return -1;
		g->n++;
	}
	g->owners[i].pid = pid;
	g->owners[i].pid_start = pid_start;
	g->owners[i].since = since;
	return owner_set_entries(&g->owners[i], ips, names, n);
}

int hg_registry_load(const char *path, struct hg_hosts_registry *g, struct hg_error *err)
{
	json_auto_t *j = NULL;
	struct jio_in in = {.path = path, .err = err};
	bool found;
	size_t i, k;
	json_t *o, *e;
	memset(g, 0, sizeof(*g));
	if (jio_load_json(path, &j, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	g->version = (int) jio_integer(&in, j, "version", true);
	if (g->version < 2 || g->version > HG_REGISTRY_VERSION)
		jio_damaged(&in, "version");
	if (g->version == 2) {
		/* Version 2 named only a host file, and no identity: it cannot show which file it
		 * was made for. */
		g->target.file = jio_opt_string(&in, j, "file");
	} else if (json_object_get(j, "identity")) {
		json_t *id = json_object_get(j, "identity");
		jio_target_of(&in, json_object_get(j, "target"), "target", &g->target);
		if (!json_is_object(id))
			jio_damaged(&in, "identity");
		g->has_identity = true;
		g->identity.dev = (uint64_t) jio_integer(&in, id, "dev", true);
		g->identity.ino = (uint64_t) jio_integer(&in, id, "ino", true);
		g->identity.has_generation = json_object_get(id, "generation") != NULL;
		g->identity.generation = (uint32_t) jio_integer(&in, id, "generation", false);
		g->identity.has_birth = json_object_get(id, "birthSec") != NULL;
		g->identity.birth_sec = (int64_t) jio_integer(&in, id, "birthSec", false);
		g->identity.birth_nsec = (uint32_t) jio_integer(&in, id, "birthNsec", false);
	}
	json_array_foreach (json_object_get(j, "owners"), i, o) {
		_cleanup_free_ char *key = jio_req_string(&in, o, "key");
		pid_t pid = (pid_t) jio_integer(&in, o, "pid", false);
		unsigned long long start = (unsigned long long) jio_integer(&in, o, "pidStart", false);
		long long since = (long long) jio_integer(&in, o, "since", false);
		json_t *entries = json_object_get(o, "entries");
		size_t n = json_array_size(entries);
		if (n > HG_RECORD_MAX_ENTRIES)
			jio_damaged(&in, "entries");
		if (in.bad)
			break;
		struct hg_ip ips[n ? n : 1];
		char **names[n ? n : 1];
		json_array_foreach (entries, k, e) {
			jio_ip_of(&in, json_object_get(e, "ip"), false, "entries", &ips[k]);
			names[k] = jio_strings_of(&in, json_object_get(e, "names"), "entries");
		}
		if (!in.bad && hg_registry_put(g, key, pid, start, since, ips, (char *const *const *) names, n) < 0)
			jio_damaged(&in, "owners");
		for (k = 0; k < n; k++)
			strv_free(names[k]);
	}
	if (in.bad) {
		hg_registry_free(g);
		return hg_error_set(err, HG_CNI_STATE, "hosts registry %s is damaged (\"%s\")", path, in.what);
	}
	return 0;
}

int hg_registry_save(const char *path, const struct hg_hosts_registry *g, struct hg_error *err)
{
	struct jio_out o = {0};
	if (g->n == 0)
		return hg_state_remove(path, err);
	json_auto_t *j = json_object();
	json_t *owners = json_array();
	if (!j || !owners) {
		json_decref(owners);
		return hg_error_oom(err);
	}
	jio_put(&o, j, "version", json_integer(HG_REGISTRY_VERSION));
	jio_put(&o, j, "owners", owners);
	json_t *id = g->has_identity ? json_object() : NULL;
	if (g->has_identity) {
		jio_put(&o, j, "target", jio_target_json(&o, &g->target, NULL));
		jio_put(&o, j, "identity", id);
	}
	if (id) {
		jio_put(&o, id, "dev", json_integer((json_int_t) g->identity.dev));
		jio_put(&o, id, "ino", json_integer((json_int_t) g->identity.ino));
		if (g->identity.has_generation)
			jio_put(&o, id, "generation", json_integer(g->identity.generation));
		if (g->identity.has_birth) {
			jio_put(&o, id, "birthSec", json_integer((json_int_t) g->identity.birth_sec));
			jio_put(&o, id, "birthNsec", json_integer(g->identity.birth_nsec));
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct hg_hosts_owner *w = &g->owners[i];
		json_t *oj = json_object();
		jio_push(&o, owners, oj);
		if (!oj)
			continue;
		jio_put(&o, oj, "entries", jio_entries(&o, w->entries, w->n_entries));
		jio_put(&o, oj, "key", json_string(w->key));
		if (w->since)
			jio_put(&o, oj, "since", json_integer((json_int_t) w->since));
		if (w->pid > 0) {
			jio_put(&o, oj, "pid", json_integer(w->pid));
			jio_put(&o, oj, "pidStart", json_integer((json_int_t) w->pid_start));
		}
	}
	if (o.oom)
		return hg_error_oom(err);
	return hg_state_write(path, j, err);
}
