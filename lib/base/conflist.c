/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include "base/conflist.h"
#include "base/cni-version.h"
#include "base/config.h"
#include "base/util.h"

static const char *extension(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot ? dot : "";
}

bool hg_conflist_is_cni_name(const char *name)
{
	const char *ext = extension(name);
	return strcmp(ext, ".conf") == 0 || strcmp(ext, ".conflist") == 0 || strcmp(ext, ".json") == 0;
}

int hg_conflist_pick_primary(char *const *names)
{
	int best = -1;
	for (int i = 0; names && names[i]; i++) {
		if (!hg_conflist_is_cni_name(names[i]))
			continue;
		/* Go's sort of file names is bytewise, as strcmp is. */
		if (best < 0 || strcmp(names[i], names[best]) < 0)
			best = i;
	}
	return best;
}

/* "X.Y.Z" (Y and Z optional) into a comparable number; -1 when it is not one. */
static long version_number(const char *v)
{
	long part[3] = {0, 0, 0};
	const char *p = v;
	for (int i = 0; i < 3; i++) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		part[i] = strtol(p, &end, 10);
		if (part[i] > 999)
			return -1;
		p = end;
		if (*p == '\0')
			break;
		if (*p != '.' || i == 2)
			return -1;
		p++;
	}
	return part[0] * 1000000 + part[1] * 1000 + part[2];
}

static int check_version(const char *name, json_t *obj, struct hg_error *err)
{
	json_t *v = json_object_get(obj, "cniVersion");
	/* The spec: no cniVersion means 0.1.0, which has no chaining. Chaining came with 0.3.0,
	 * the oldest version the plugin speaks: below it, every ADD of the list would fail. */
	if (!v)
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION,
				    "%s has no cniVersion (0.1.0): chaining needs " HG_CNI_VERSION_OLDEST " or later", name);
	if (!json_is_string(v) || version_number(json_string_value(v)) < 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s: cniVersion is not a version string", name);
	if (version_number(json_string_value(v)) < version_number(HG_CNI_VERSION_OLDEST))
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION,
				    "%s has cniVersion %s: chaining needs " HG_CNI_VERSION_OLDEST " or later", name,
				    json_string_value(v));
	return 0;
}

static bool has_type(json_t *plugin)
{
	const char *t = json_string_value(json_object_get(plugin, "type"));
	return json_is_object(plugin) && t && t[0];
}

int hg_conflist_parse(const char *name, const char *text, size_t len, json_t **list, bool *converted,
		      struct hg_error *err)
{
	json_error_t jerr;
	json_auto_t *root = json_loadb(text, len, 0, &jerr);
	size_t i;
	json_t *p;

	if (!root)
		return hg_error_set(err, HG_CNI_DECODE, "%s is not valid JSON: line %d column %d: %s", name, jerr.line,
				    jerr.column, jerr.text);
	if (!json_is_object(root))
		return hg_error_set(err, HG_CNI_DECODE, "%s is not a JSON object", name);
	if (check_version(name, root, err) < 0)
		return -1;

	if (strcmp(extension(name), ".conflist") == 0) {
		json_t *plugins = json_object_get(root, "plugins");
		const char *n = json_string_value(json_object_get(root, "name"));
		/* libcni's ConfListFromBytes refuses both. */
		if (!n || !n[0])
			return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s has no network name", name);
		if (!json_is_array(plugins) || json_array_size(plugins) == 0)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s has no plugins list", name);
		json_array_foreach (plugins, i, p)
			if (!has_type(p))
				return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s: plugin %zu has no type", name, i);
		*list = TAKE_PTR(root);
		*converted = false;
		return 0;
	}

	/* A .conf or .json is one plugin for libcni (a "plugins" key there makes containerd
	 * fail: "no 'type'; perhaps this is a .conflist?"). */
	if (!has_type(root))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s has no plugin type (a list belongs in a .conflist)",
				    name);
	const char *n = json_string_value(json_object_get(root, "name"));
	if (!n || !n[0])
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s has no network name", name);
	json_auto_t *conv = json_object();
	json_t *plugins = json_array();
	if (!conv || !plugins || json_object_set(conv, "cniVersion", json_object_get(root, "cniVersion")) < 0 ||
	    json_object_set_new(conv, "name", json_string(n)) < 0 || json_object_set_new(conv, "plugins", plugins) < 0 ||
	    json_array_append(plugins, root) < 0)
		return hg_error_oom(err);
	*list = TAKE_PTR(conv);
	*converted = true;
	return 0;
}

bool hg_conflist_is_ours(json_t *plugin)
{
	const char *t = json_string_value(json_object_get(plugin, "type"));
	return t && strcmp(t, HG_PLUGIN_TYPE) == 0;
}

int hg_conflist_check_entry(json_t *entry, struct hg_error *err)
{
	_cleanup_config_ struct hg_config c = {0};
	if (hg_config_init(&c) < 0)
		return hg_error_oom(err);
	if (!json_is_object(entry))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "the plugin configuration is not a JSON object");
	if (!hg_conflist_is_ours(entry))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "the plugin configuration must have \"type\": \"%s\"",
				    HG_PLUGIN_TYPE);
	if (hg_config_load_json(&c, entry, false, err) < 0)
		return hg_error_prefix(err, "the plugin configuration");
	return 0;
}

/* How many entries of ours, and how many plugins that are not. */
static void count(json_t *plugins, size_t *ours, size_t *others)
{
	size_t i;
	json_t *p;
	*ours = *others = 0;
	json_array_foreach (plugins, i, p) {
		if (hg_conflist_is_ours(p))
			(*ours)++;
		else
			(*others)++;
	}
}

json_t *hg_conflist_find(json_t *list)
{
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(list, "plugins"), i, p)
		if (hg_conflist_is_ours(p))
			return p;
	return NULL;
}

int hg_conflist_add(json_t *list, json_t *entry, struct hg_error *err)
{
	json_t *plugins = json_object_get(list, "plugins");
	size_t ours, others, i;
	bool placed = false;

	if (!json_is_array(plugins))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no plugins list");
	count(plugins, &ours, &others);
	if (others == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "the network has no plugin but host-gateway: there is nothing to chain after");
	if (ours == 1 && json_equal(hg_conflist_find(list), entry))
		return 0;
	/* Backwards, so that removing one does not move those still to be looked at; the
	 * first one, met last, is replaced where it stands. */
	for (i = json_array_size(plugins); i-- > 0;) {
		if (!hg_conflist_is_ours(json_array_get(plugins, i)))
			continue;
		if (--ours > 0) {
			json_array_remove(plugins, i);
			continue;
		}
		if (json_array_set_new(plugins, i, json_deep_copy(entry)) < 0)
			return hg_error_oom(err);
		placed = true;
	}
	if (!placed && json_array_append_new(plugins, json_deep_copy(entry)) < 0)
		return hg_error_oom(err);
	return 1;
}

int hg_conflist_remove(json_t *list, struct hg_error *err)
{
	json_t *plugins = json_object_get(list, "plugins");
	size_t ours, others;

	if (!json_is_array(plugins))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no plugins list");
	count(plugins, &ours, &others);
	if (ours == 0)
		return 0;
	if (others == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "the network has no plugin but host-gateway: removing it would leave an empty list");
	for (size_t i = json_array_size(plugins); i-- > 0;)
		if (hg_conflist_is_ours(json_array_get(plugins, i)))
			json_array_remove(plugins, i);
	return 1;
}

int hg_conflist_has(json_t *list, json_t *entry, struct hg_error *err)
{
	size_t ours, others;
	count(json_object_get(list, "plugins"), &ours, &others);
	if (ours == 0)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "no host-gateway entry");
	if (ours > 1)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%zu host-gateway entries", ours);
	if (others == 0)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "no plugin but host-gateway");
	if (!json_equal(hg_conflist_find(list), entry))
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host-gateway entry differs from the plugin configuration");
	return 0;
}

char *hg_conflist_dump(json_t *list)
{
	/* jansson (>= 2.8) dumps object keys in insertion order, which is the order read. */
	_cleanup_free_ char *text = json_dumps(list, JSON_INDENT(2));
	char *out = NULL;
	if (!text || asprintf(&out, "%s\n", text) < 0)
		return NULL;
	return out;
}

char *hg_conflist_converted_name(const char *name)
{
	size_t base = strlen(name) - strlen(extension(name));
	char *out = NULL;
	if (asprintf(&out, "%.*s.conflist", (int) base, name) < 0)
		return NULL;
	return out;
}

const char *hg_conflist_rename_blocker(char *const *names, int old, const char *new_name)
{
	for (int i = 0; names && names[i]; i++)
		if (i != old && hg_conflist_is_cni_name(names[i]) && strcmp(names[i], new_name) <= 0)
			return names[i];
	return NULL;
}
