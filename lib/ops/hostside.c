/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "ops/hostside.h"
#include "base/key.h"
#include "base/nat.h"
#include "os/nft.h"
#include "os/netns.h"
#include "os/sysctl.h"
#include "os/route.h"
#include "base/util.h"

static int user_paths(const char *state_dir, const char *kind, const char *resource, const char *key,
		      char dir[512], char file[1024])
{
	char k[300];
	snprintf(k, sizeof(k), "%s", key);
	for (char *p = k; *p; p++)
		if (*p == '/')
			*p = '+';
	snprintf(dir, 512, "%s/%s/%s", state_dir, kind, resource);
	snprintf(file, 1024, "%s/%s", dir, k);
	return 0;
}

static int mkdirs(const char *state_dir, const char *kind, const char *dir, struct hg_error *err)
{
	char mid[512];
	snprintf(mid, sizeof(mid), "%s/%s", state_dir, kind);
	mkdir(state_dir, 0700);
	if ((mkdir(mid, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", dir);
	return 0;
}

static int touch(const char *path, const char *content, struct hg_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (content && write(fd, content, strlen(content)) < 0))
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", path);
	return 0;
}

/* Removes the user file; 1 when dir is empty afterwards (and removed), 0 when others are left. */
static int drop_user(const char *dir, const char *file)
{
	unlink(file);
	return rmdir(dir) == 0 ? 1 : 0;
}

int hg_alias_acquire(const char *state_dir, const struct hg_ip *ip, const char *key, struct hg_error *err)
{
	char a[HG_IP_STRLEN], dir[512], file[1024], owned[600];
	hg_ip_str(ip, a);
	user_paths(state_dir, "alias", a, key, dir, file);
	snprintf(owned, sizeof(owned), "%s.owned", dir);
	if (mkdirs(state_dir, "alias", dir, err) < 0)
		return -1;
	int has = hg_lo_has_address(ip, err);
	if (has < 0)
		return -1;
	if (!has) {
		/* Marked before it exists, so that a crash in between still lets the last user remove it. */
		if (touch(owned, NULL, err) < 0)
			return -1;
		if (hg_lo_address(ip, true, err) < 0)
			return -1;
	}
	if (touch(file, NULL, err) < 0)
		return -1;
	return 0;
}

/* The last user of an alias is gone: the address goes, unless it was there before us. */
static void release_alias(const char *dir, const char *address, const struct hg_log *log)
{
	char owned[600];
	struct hg_ip ip;
	struct hg_error err = {0};
	snprintf(owned, sizeof(owned), "%s.owned", dir);
	if (access(owned, F_OK) < 0 || hg_ip_parse(address, false, &ip) < 0)
		return;
	if (hg_lo_address(&ip, false, &err) < 0)
		hg_logf(log, "%s, ignoring", err.msg);
	unlink(owned);
}

void hg_alias_release(const char *state_dir, const struct hg_ip *ip, const char *key, const struct hg_log *log)
{
	char a[HG_IP_STRLEN], dir[512], file[1024];
	hg_ip_str(ip, a);
	user_paths(state_dir, "alias", a, key, dir, file);
	if (drop_user(dir, file))
		release_alias(dir, a, log);
}

static int localnet_path(const char *iface, char *path, size_t size)
{
	return snprintf(path, size, "/proc/sys/net/ipv4/conf/%s/route_localnet", iface) < (int) size ? 0 : -1;
}

int hg_loopback_acquire(const char *state_dir, const char *iface, char *const *elements, const char *key,
			const char *port, const struct hg_ip *addr, struct hg_error *err)
{
	char dir[512], file[1024], orig[600], sysctl[256], old[16];
	_cleanup_free_ char *text = NULL;
	user_paths(state_dir, "localnet", iface, key, dir, file);
	snprintf(orig, sizeof(orig), "%s.orig", dir);
	if (mkdirs(state_dir, "localnet", dir, err) < 0)
		return -1;
	if (touch(file, NULL, err) < 0)
		return -1;
	if (port && port[0] && !hg_key_iface_safe(port))
		return hg_error_set(err, HG_CNI_NFTABLES, "bridge port \"%.20s\" has characters nftables rules cannot match safely", port);
	/* The guard is in place before route_localnet opens the interface. Once the tables
	 * exist (every attachment but the first), one transaction of elements does it. */
	struct hg_error fast_err = {0};
	if (hg_nat_loopback_grant_text(iface, elements, port, addr, key, &text) < 0)
		return hg_error_oom(err);
	if (hg_nft_run(text, &fast_err) < 0) {
		free(TAKE_PTR(text));
		if (hg_nat_loopback_add_text(iface, elements, port, addr, key, &text) < 0)
			return hg_error_oom(err);
		if (hg_nft_run(text, err) < 0)
			return -1;
	}
	localnet_path(iface, sysctl, sizeof(sysctl));
	if (hg_sysctl_read(sysctl, old, sizeof(old)) < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "read %s", sysctl);
	if (strcmp(old, "1") != 0) {
		if (touch(orig, old, err) < 0)
			return -1;
		if (hg_sysctl_write(sysctl, "1", NULL, 0, err) < 0)
			return -1;
	}
	return 0;
}

static void delete_elements(char *const *elements, const struct hg_log *log)
{
	_cleanup_free_ char *text = NULL;
	struct hg_error err = {0};
	if (!elements || !elements[0] || hg_nat_host_del_text(elements, &text) < 0)
		return;
	if (hg_nft_run(text, &err) == 0)
		return;
	/* One element already gone fails the whole transaction: retry one by one. */
	for (size_t i = 0; elements[i]; i++) {
		char *const one[] = {elements[i], NULL};
		_cleanup_free_ char *t = NULL;
		if (hg_nat_host_del_text(one, &t) == 0)
			hg_nft_run(t, &err);
	}
}

/* d_type is not trusted: some filesystems report DT_UNKNOWN. */
static bool is_dir(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The last user of the last interface takes the whole host table away. */
/* Does a map or set of our table of family hold an element? Unsure (a listing error) is
 * yes: a table kept costs nothing, one removed under a user breaks it. */
static bool nft_table_in_use(const char *family)
{
	json_auto_t *listing = NULL;
	struct hg_error err = {0};
	char cmd[64];
	size_t i;
	json_t *item;
	snprintf(cmd, sizeof(cmd), "list table %s " HG_NFT_TABLE, family);
	if (hg_nft_list_json(cmd, &listing, &err) < 0)
		return true;
	json_array_foreach (json_object_get(listing, "nftables"), i, item) {
		json_t *m = json_object_get(item, "map");
		if (!m)
			m = json_object_get(item, "set");
		if (m && json_array_size(json_object_get(m, "elem")) > 0)
			return true;
	}
	return false;
}

static void drop_table_if_unused(const char *state_dir, const struct hg_log *log)
{
	char dir[512];
	struct hg_error err = {0};
	snprintf(dir, sizeof(dir), "%s/localnet", state_dir);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && is_dir(dirfd(d), e->d_name))
			return;
	/* The tables are the machine's, shared with attachments recorded in other stateDirs
	 * (another configuration): they go only when no map or set of theirs holds an element. */
	if (!nft_table_in_use("inet") &&
	    hg_nft_run("table inet " HG_NFT_TABLE "\ndelete table inet " HG_NFT_TABLE "\n", &err) < 0)
		hg_logf(log, "remove the host table: %s, ignoring", err.msg);
	if (!nft_table_in_use("bridge") &&
	    hg_nft_run("table bridge " HG_NFT_TABLE "\ndelete table bridge " HG_NFT_TABLE "\n", &err) < 0)
		hg_logf(log, "remove the bridge table: %s, ignoring", err.msg);
}

/* The last user of an interface is gone: its guard entry goes and route_localnet gets
 * back the value it had before us. */
static void release_localnet(const char *dir, const char *iface, const struct hg_log *log)
{
	char orig[600], sysctl[256], old[16], text[300];
	struct hg_error err = {0};
	if (!hg_key_iface_safe(iface))
		return; /* never acquired: ADD refuses such a name */
	snprintf(orig, sizeof(orig), "%s.orig", dir);
	snprintf(text, sizeof(text), "delete element inet %s localnet_ifaces { \"%s\" }\n", HG_NFT_TABLE, iface);
	hg_nft_run(text, &err);
	localnet_path(iface, sysctl, sizeof(sysctl));
	if (hg_sysctl_read(orig, old, sizeof(old)) == 0) {
		/* The interface may be gone with its container (ptp): nothing to restore then. */
		if (access(sysctl, F_OK) == 0 && hg_sysctl_write(sysctl, old, NULL, 0, &err) < 0)
			hg_logf(log, "%s, ignoring", err.msg);
		unlink(orig);
	}
}

void hg_loopback_release(const char *state_dir, const char *iface, char *const *elements, const char *key,
			 const char *port, const struct hg_ip *addr, const struct hg_log *log)
{
	char dir[512], file[1024];
	_cleanup_free_ char *text = NULL;
	struct hg_error err = {0};
	bool with_port = port && port[0] && hg_key_iface_safe(port);
	user_paths(state_dir, "localnet", iface, key, dir, file);
	/* One transaction when everything is there; else piece by piece (an element already
	 * gone, e.g. after a killed ADD, fails the whole transaction). */
	if (!elements || !elements[0] ||
	    hg_nat_loopback_del_text(elements, with_port ? port : NULL, addr, &text) < 0 || hg_nft_run(text, &err) < 0) {
		delete_elements(elements, log);
		_cleanup_free_ char *bridge = NULL;
		/* Gone already when a killed ADD never made it: nothing to log. */
		if (with_port && hg_nat_bridge_del_text(port, addr, &bridge) == 0)
			hg_nft_run(bridge, &err);
	}
	if (drop_user(dir, file))
		release_localnet(dir, iface, log);
	drop_table_if_unused(state_dir, log);
}

/* The elements of the first map or set (kind) of a listing as nft prints them in JSON;
 * a map's: [[{"elem":{"val":{"concat":[…]},"comment":…}}, port], …] */
static json_t *listed_elements(json_t *listing, const char *kind)
{
	size_t i;
	json_t *item;
	json_array_foreach (json_object_get(listing, "nftables"), i, item) {
		json_t *m = json_object_get(item, kind);
		if (m)
			return json_object_get(m, "elem");
	}
	return NULL;
}

static const char *element_comment(json_t *e)
{
	return json_string_value(json_object_get(json_object_get(json_array_get(e, 0), "elem"), "comment"));
}

int hg_loopback_present(const char *iface, char *const *elements, const char *key, struct hg_error *err)
{
	json_auto_t *listing = NULL, *set = NULL;
	size_t i, found = 0;
	json_t *e;
	if (hg_nft_list_json("list map inet " HG_NFT_TABLE " loopback4", &listing, err) < 0)
		return -1;
	json_array_foreach (listed_elements(listing, "map"), i, e) {
		const char *c = element_comment(e);
		if (c && strcmp(c, key) == 0)
			found++;
	}
	if (found != strv_len(elements))
		return 0;
	if (hg_nft_list_json("list set inet " HG_NFT_TABLE " localnet_ifaces", &set, err) < 0)
		return -1;
	_cleanup_free_ char *dump = set ? json_dumps(set, JSON_COMPACT) : NULL;
	char quoted[64];
	snprintf(quoted, sizeof(quoted), "\"%s\"", iface);
	return dump && strstr(dump, quoted) ? 1 : 0;
}

/* Is key (a user file name or an nft comment) of network, and then of a valid attachment?
 * Keys of earlier versions wrote '/' where '+' is now. */
static bool key_valid(const char *stored, const char *network, json_t *valid)
{
	char key[300], prefix[HG_KEY_MAX];
	size_t i;
	json_t *a;
	snprintf(key, sizeof(key), "%s", stored);
	for (char *p = key; *p; p++)
		if (*p == '/')
			*p = '+';
	if (hg_key_attachment(network, "x", NULL, prefix, sizeof(prefix)) < 0)
		return true;
	size_t n = strlen(prefix) - strlen("x+-");
	if (strncmp(key, prefix, n) != 0)
		return true; /* another network's: not ours to judge */
	json_array_foreach (valid, i, a) {
		char k[HG_KEY_MAX];
		if (hg_key_attachment(network, json_string_value(json_object_get(a, "containerID")) ?: "",
				      json_string_value(json_object_get(a, "ifname")) ?: "", k, sizeof(k)) == 0 &&
		    strcmp(k, key) == 0)
			return true;
	}
	return false;
}

static void gc_elements(const char *network, json_t *valid, const struct hg_log *log)
{
	json_auto_t *listing = NULL;
	struct hg_error err = {0};
	size_t i;
	json_t *e;
	if (hg_nft_list_json("list map inet " HG_NFT_TABLE " loopback4", &listing, &err) < 0 || !listing)
		return;
	json_array_foreach (listed_elements(listing, "map"), i, e) {
		const char *c = element_comment(e);
		json_t *concat = json_object_get(json_object_get(json_object_get(json_array_get(e, 0), "elem"), "val"),
						 "concat");
		if (!c || key_valid(c, network, valid) || json_array_size(concat) != 5)
			continue;
		char text[512];
		snprintf(text, sizeof(text), "delete element inet %s loopback4 { \"%s\" . %s . %s . %s . %lld }\n",
			 HG_NFT_TABLE, json_string_value(json_array_get(concat, 0)),
			 json_string_value(json_array_get(concat, 1)), json_string_value(json_array_get(concat, 2)),
			 json_string_value(json_array_get(concat, 3)),
			 (long long) json_integer_value(json_array_get(concat, 4)));
		if (hg_nft_run(text, &err) < 0)
			hg_logf(log, "GC: %s, ignoring", err.msg);
		else
			hg_logf(log, "GC: removed stale host rule of %s", c);
	}
}

/* Bridge port bindings whose key names a stale attachment of network. */
static void gc_bridge_elements(const char *network, json_t *valid, const struct hg_log *log)
{
	static const char *const sets[] = {"granted", "granted_addrs"};
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		json_auto_t *listing = NULL;
		struct hg_error err = {0};
		char cmd[128];
		size_t i;
		json_t *e;
		snprintf(cmd, sizeof(cmd), "list set bridge %s %s", HG_NFT_TABLE, sets[s]);
		if (hg_nft_list_json(cmd, &listing, &err) < 0 || !listing)
			continue;
		json_array_foreach (listed_elements(listing, "set"), i, e) {
			json_t *elem = json_object_get(e, "elem");
			const char *c = json_string_value(json_object_get(elem, "comment"));
			json_t *val = json_object_get(elem, "val");
			json_t *concat = json_object_get(val, "concat");
			const char *port = json_string_value(json_array_get(concat, 0));
			const char *addr = json_string_value(concat ? json_array_get(concat, 1) : val);
			struct hg_ip ip;
			char text[256];
			if (!c || key_valid(c, network, valid) || !addr || hg_ip_parse(addr, false, &ip) < 0 ||
			    (concat && (!port || !hg_key_iface_safe(port))))
				continue;
			if (concat)
				snprintf(text, sizeof(text), "delete element bridge %s granted { \"%s\" . %s }\n", HG_NFT_TABLE,
					 port, addr);
			else
				snprintf(text, sizeof(text), "delete element bridge %s granted_addrs { %s }\n", HG_NFT_TABLE, addr);
			if (hg_nft_run(text, &err) < 0)
				hg_logf(log, "GC: %s, ignoring", err.msg);
		}
	}
}

/* Drops the users of network that are not valid from every resource of kind, releasing a
 * resource whose last user that was. A user file is the key with '/' written as '+'. */
static void gc_users(const char *state_dir, const char *kind, const char *network, json_t *valid,
		     void (*release)(const char *dir, const char *resource, const struct hg_log *log),
		     const struct hg_log *log)
{
	char top[512];
	snprintf(top, sizeof(top), "%s/%s", state_dir, kind);
	_cleanup_closedir_ DIR *d = opendir(top);
	struct dirent *r;
	while (d && (r = readdir(d))) {
		char dir[1024];
		if (r->d_name[0] == '.' || !is_dir(dirfd(d), r->d_name))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", top, r->d_name);
		_cleanup_closedir_ DIR *users = opendir(dir);
		struct dirent *u;
		bool dropped = false;
		while (users && (u = readdir(users))) {
			const char *key = u->d_name;
			char file[1400];
			if (u->d_name[0] == '.')
				continue;
			if (key_valid(key, network, valid))
				continue;
			snprintf(file, sizeof(file), "%s/%s", dir, u->d_name);
			unlink(file);
			dropped = true;
			hg_logf(log, "GC: released %s %s of %s", kind, r->d_name, key);
		}
		if (dropped && rmdir(dir) == 0)
			release(dir, r->d_name, log);
	}
}

void hg_loopback_gc(const char *state_dir, const char *network, json_t *valid, const struct hg_log *log)
{
	gc_elements(network, valid, log);
	gc_bridge_elements(network, valid, log);
	gc_users(state_dir, "alias", network, valid, release_alias, log);
	gc_users(state_dir, "localnet", network, valid, release_localnet, log);
	drop_table_if_unused(state_dir, log);
}
