/* SPDX-License-Identifier: Apache-2.0 */
/* Our entry in a CNI network configuration, as text and JSON only (no files): which file of a
 * configuration folder runtimes load, what a valid one is, and adding, replacing or
 * removing the host-gateway entry of its plugin list. lib/ops/install.c does the file work. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "base/error.h"

#define HG_PLUGIN_TYPE "host-gateway"

/* The largest configuration file install reads or writes, and doctor reads: a network
 * configuration is a few KiB; this bound keeps a hostile file from taking our memory. */
#define HG_CONFLIST_MAX_SIZE (1u << 20)

/* The entry `install` writes when no --plugin-config is given. */
#define HG_DEFAULT_ENTRY "{\"type\":\"host-gateway\",\"capabilities\":{\"io.kubernetes.cri.pod-annotations\":true}}"

/* A file name libcni loads from a configuration folder: its extension (from the last '.')
 * is .conf, .conflist or .json. Hidden names count too: libcni does not skip them. */
bool hg_conflist_is_cni_name(const char *name);

/* The index in names (NULL-terminated) of the file runtimes load first: libcni sorts the
 * folder's CNI names bytewise and containerd, CRI-O and kindnet's nodes take the first one.
 * Names that are not CNI names are skipped; -1 when there is none. */
int hg_conflist_pick_primary(char *const *names);

/* Parses the text of the configuration file `name` (only its extension matters) as the
 * runtimes would: a .conflist is a list with a name and plugins, a .conf or .json a single
 * plugin. The cniVersion must be 0.3.0 or later (chaining starts there). *list gets a
 * conflist object; a single plugin is converted as libcni's ConfListFromConf does
 * ({cniVersion, name, plugins: [the whole original object]}) and *converted is set. */
int hg_conflist_parse(const char *name, const char *text, size_t len, json_t **list, bool *converted,
		      struct hg_error *err);

/* A plugin object whose type is ours. */
bool hg_conflist_is_ours(json_t *plugin);


/* Our entry as --plugin-config gives it: an object of type host-gateway that the plugin's
 * own configuration parser accepts (ADD would refuse it otherwise, on every pod). */
int hg_conflist_check_entry(json_t *entry, struct hg_error *err);

/* Puts entry into the list: the first entry of ours is replaced in its place, further ones
 * are dropped, and without one it is appended. 1 when the list changed, 0 when it already
 * held exactly one entry of ours equal to entry. A list with no plugin but ours is refused:
 * there would be nothing to chain after. */
int hg_conflist_add(json_t *list, json_t *entry, struct hg_error *err);

/* Removes every entry of ours: 1 when one was removed, 0 when there was none. A list that
 * would be left without plugins is refused (runtimes reject an empty list). */
int hg_conflist_remove(json_t *list, struct hg_error *err);

/* 0 when the list holds exactly one entry of ours and it equals entry; -1 otherwise, with
 * why in err. */
int hg_conflist_has(json_t *list, json_t *entry, struct hg_error *err);

/* The first entry of ours, borrowed; NULL when none. */
json_t *hg_conflist_find(json_t *list);

/* The file text written: two-space indent, keys in the order read, one final newline, so
 * that the same list always gives the same bytes. NULL when out of memory. */
char *hg_conflist_dump(json_t *list);

/* "10-bridge.conf" -> "10-bridge.conflist" (the name a converted .conf/.json gets). */
char *hg_conflist_converted_name(const char *name);

/* Whether renaming names[old] to new_name keeps it the file runtimes load first: no other
 * CNI name may sort at or before new_name. NULL when it does, else the name in the way. */
const char *hg_conflist_rename_blocker(char *const *names, int old, const char *new_name);
