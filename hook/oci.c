/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include "hook/oci.h"
#include "base/util.h"

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int hg_oci_state_parse(const char *text, size_t len, struct hg_oci_state *out, struct hg_error *err)
{
	json_error_t jerr;
	memset(out, 0, sizeof(*out));
	json_auto_t *state = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(state))
		return hg_error_set(err, HG_CNI_DECODE, "the OCI state on stdin is not a JSON object (%s)",
				    state ? "wrong type" : jerr.text);
	const char *id = json_string_value(json_object_get(state, "id"));
	const char *bundle = json_string_value(json_object_get(state, "bundle"));
	json_t *pid = json_object_get(state, "pid");
	if (!id || !id[0])
		return hg_error_set(err, HG_CNI_DECODE, "the OCI state has no \"id\"");
	if (!bundle || bundle[0] != '/')
		return hg_error_set(err, HG_CNI_DECODE, "the OCI state has no absolute \"bundle\" path");
	if (pid && (!json_is_integer(pid) || json_integer_value(pid) < 0 || json_integer_value(pid) > 0x7fffffff))
		return hg_error_set(err, HG_CNI_DECODE, "the OCI state's \"pid\" is not a process ID");
	json_t *ann = json_object_get(state, "annotations");
	if (ann && !json_is_object(ann))
		return hg_error_set(err, HG_CNI_DECODE, "the OCI state's \"annotations\" is not an object");
	out->id = strdup(id);
	out->bundle = strdup(bundle);
	const char *status = json_string_value(json_object_get(state, "status"));
	out->status = dup_or_null(status);
	out->pid = pid ? (pid_t) json_integer_value(pid) : 0;
	out->annotations = ann ? json_incref(ann) : json_object();
	if (!out->id || !out->bundle || (status && !out->status) || !out->annotations) {
		hg_oci_state_free(out);
		return hg_error_oom(err);
	}
	return 0;
}

void hg_oci_state_free(struct hg_oci_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->status);
	json_decref(s->annotations);
	memset(s, 0, sizeof(*s));
}

/* Runtimes clean a mount destination before mounting ("/etc//hosts", "/etc/./hosts/" and
 * "etc/hosts" all land on /etc/hosts), so the comparison must too. */
static bool is_etc_hosts(const char *dest)
{
	const char *want[] = {"etc", "hosts"};
	size_t n = 0;
	const char *p = dest;
	while (*p) {
		while (*p == '/')
			p++;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		size_t len = p - start;
		if (len == 0 || (len == 1 && start[0] == '.'))
			continue;
		if (len == 2 && start[0] == '.' && start[1] == '.') {
			if (n > 0)
				n--;
			continue;
		}
		if (n >= 2 || len != strlen(want[n]) || memcmp(start, want[n], len) != 0)
			return false;
		n++;
	}
	return n == 2;
}

int hg_oci_bundle_parse(json_t *config, const char *bundle_dir, const char *what, struct hg_oci_bundle *out,
			struct hg_error *err)
{
	size_t i;
	json_t *item;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(config))
		return hg_error_set(err, HG_CNI_DECODE, "%s is not a JSON object", what);

	json_t *namespaces = json_object_get(json_object_get(config, "linux"), "namespaces");
	json_array_foreach (namespaces, i, item) {
		const char *type = json_string_value(json_object_get(item, "type"));
		if (!type || strcmp(type, "network") != 0)
			continue;
		out->has_netns = true;
		const char *path = json_string_value(json_object_get(item, "path"));
		if (path && path[0]) {
			if (path[0] != '/') {
				hg_oci_bundle_free(out);
				return hg_error_set(err, HG_CNI_DECODE, "%s: linux.namespaces network path \"%s\" is not absolute",
						    what, path);
			}
			free(out->netns_path);
			if (!(out->netns_path = strdup(path))) {
				hg_oci_bundle_free(out);
				return hg_error_oom(err);
			}
		}
	}
	/* The last mount at /etc/hosts is the one the container sees. */
	json_array_foreach (json_object_get(config, "mounts"), i, item) {
		const char *dest = json_string_value(json_object_get(item, "destination"));
		const char *source = json_string_value(json_object_get(item, "source"));
		if (dest && source && is_etc_hosts(dest)) {
			if (source[0] != '/') {
				hg_oci_bundle_free(out);
				return hg_error_set(err, HG_CNI_DECODE, "%s: the /etc/hosts mount source \"%s\" is not absolute",
						    what, source);
			}
			free(out->hosts_source);
			if (!(out->hosts_source = strdup(source))) {
				hg_oci_bundle_free(out);
				return hg_error_oom(err);
			}
			/* mount(8) semantics: the last of "ro" and "rw" counts. */
			size_t j;
			json_t *opt;
			bool rro = false;
			out->hosts_readonly = false;
			json_array_foreach (json_object_get(item, "options"), j, opt) {
				const char *o = json_string_value(opt);
				if (o && strcmp(o, "ro") == 0)
					out->hosts_readonly = true;
				else if (o && strcmp(o, "rw") == 0 && !rro)
					out->hosts_readonly = false;
				else if (o && strcmp(o, "rro") == 0) /* recursive: a later "rw" does not undo it */
					out->hosts_readonly = rro = true;
			}
		}
	}
	const char *root = json_string_value(json_object_get(json_object_get(config, "root"), "path"));
	out->root_readonly = json_is_true(json_object_get(json_object_get(config, "root"), "readonly"));
	bool root_oom = false;
	if (root && root[0] == '/')
		root_oom = !(out->root = strdup(root));
	else if (root && root[0] && asprintf(&out->root, "%s/%s", bundle_dir, root) < 0)
		root_oom = !(out->root = NULL);
	json_t *ann = json_object_get(config, "annotations");
	out->annotations = json_is_object(ann) ? json_incref(ann) : json_object();
	if (!out->annotations || root_oom) {
		hg_oci_bundle_free(out);
		return hg_error_oom(err);
	}
	return 0;
}

void hg_oci_bundle_free(struct hg_oci_bundle *b)
{
	free(b->netns_path);
	free(b->hosts_source);
	free(b->root);
	json_decref(b->annotations);
	memset(b, 0, sizeof(*b));
}
