/* SPDX-License-Identifier: Apache-2.0 */
/* The per-attachment record: the contract between ADD, DEL, CHECK, GC and the hook. One
 * typed struct, and this module is the only code that knows how it is stored (JSON, one
 * file, written atomically) and which keys it has.
 *   <stateDir>/cni/<network>/<containerID>+<ifname>.json   a CNI attachment
 *   <stateDir>/hook/netns/<dev>-<ino>.json                  the hook's plumbing of a netns
 *   <stateDir>/hook/<containerID>.json                      a container's membership of it
 *   <stateDir>/nri/<podID>.json                             the NRI plugin's attachment of a pod
 *                                                          (membership.h)
 * Format version 2; version 1 files (written before attachment keys took '+' and
 * memberships their process) are read as they are. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>
#include "base/ip.h"
#include "base/hostaddr.h"
#include "os/netns.h"
#include "os/target.h"
#include "base/error.h"

#define HG_RECORD_VERSION 2
#define HG_RECORD_MAX_ROUTES 4
#define HG_RECORD_MAX_ENTRIES (2 + 2 * 256) /* both families of names, and of each extra host */
#define HG_RECORD_MAX_SIZE (4 << 20)        /* a registry of 64 owners with every name fits */

enum hg_record_kind { HG_RECORD_CNI, HG_RECORD_HOOK, HG_RECORD_NRI };
/* The kind as records store it ("cni", "hook", "nri"), and back (anything else is "cni", as
 * records before the key were). */
const char *hg_record_kind_name(enum hg_record_kind k);
enum hg_record_kind hg_record_kind_parse(const char *s);

struct hg_record_route {
	struct hg_ip dst;
	struct hg_ip via; /* family 0: on-link */
	int ifindex;
};

/* One line of the hosts block: an address and its names. */
struct hg_record_entry {
	struct hg_ip ip;
	char **names; /* NULL-terminated, owned */
};

struct hg_record {
	int version;
	enum hg_record_kind kind;
	char *network; /* CNI only */
	char *container_id;
	char *ifname; /* NULL: the interface of the container's default route (hook) */
	char *key;    /* hg_key_attachment: nft comments and users files carry it */
	char *state_dir;
	struct {
		char *path;
		dev_t dev;
		ino_t ino;
		uint64_t cookie; /* 0: unknown (kernel before 5.14) */
	} netns;
	/* What was done, each recorded before it is done (undo tolerates what is missing). */
	struct hg_record_route routes[HG_RECORD_MAX_ROUTES];
	size_t n_routes;
	bool container_table; /* table inet host_gateway in the container's netns */
	bool route_localnet;  /* set on localnet_iface in the container, was localnet_old */
	char localnet_iface[IF_NAMESIZE];
	char localnet_old[16];
	struct hg_ip aliases[2]; /* loopback aliases on the host */
	size_t n_aliases;
	bool host_loopback; /* hostLoopbackPorts: loopback_elements of the host map, on loopback_iface */
	char loopback_iface[IF_NAMESIZE];
	char **loopback_elements;
	char loopback_port[IF_NAMESIZE]; /* the container's bridge port ("" when not on a bridge) */
	struct hg_ip loopback_addr;      /* the granted container address bound to that port */
	/* What the names were built from. */
	struct hg_ip container_ips[HG_MAX_CONTAINER_ADDRS]; /* with prefix */
	size_t n_container_ips;
	struct hg_host_addrs host_ips, targets;
	struct hg_record_entry *entries;
	size_t n_entries;
	/* Where the names were written, and the block written there. */
	bool has_hosts;
	struct hg_hosts_target hosts;
	char *hosts_block;
	/* The file found there (0: not known, a record of an earlier release): its hosts
	 * registry, which DEL cleans even when the file can no longer be reached. */
	uint64_t hosts_dev, hosts_ino;
};

void hg_record_init(struct hg_record *r);
void hg_record_free(struct hg_record *r);
static inline void hg_record_freep(struct hg_record *r) { hg_record_free(r); }
#define _cleanup_record_ __attribute__((cleanup(hg_record_freep)))

/* 0 with *found false when the file does not exist; -1 (HG_CNI_STATE) when it is damaged
 * or of an unknown version. */
int hg_record_load(const char *path, struct hg_record *r, bool *found, struct hg_error *err);
int hg_record_save(const char *path, const struct hg_record *r, struct hg_error *err);
/* Does the record describe the namespace id? Device and inode, and the cookie when both
 * know it: inode numbers are reused, cookies never. */
bool hg_record_matches_netns(const struct hg_record *r, const struct hg_netns_id *id);
/* The record is done with: its by-netns link (only if it is path's) and its file go. */
int hg_record_retire(const char *state_dir, const char *path, const struct hg_record *r, struct hg_error *err);

/* <stateDir>/by-netns/<dev>-<ino> links to the CNI record of that namespace, so that the
 * hook finds it with one readlink. */
int hg_record_index(const char *state_dir, const char *path, const struct hg_record *r, struct hg_error *err);
/* The CNI record (any network) of namespace id: 1 and *r filled, 0 when none. */
int hg_record_find_by_netns(const char *state_dir, const struct hg_netns_id *id, struct hg_record *r,
			    struct hg_error *err);

/* Entries of the hosts block: copies names into the record; -1 when out of memory or past
 * HG_RECORD_MAX_ENTRIES. */
int hg_record_add_entry(struct hg_record *r, const struct hg_ip *ip, char *const *names);
