/* The per-attachment record: the contract between ADD, DEL, CHECK, GC and the hook. One
 * typed struct, and this module is the only code that knows how it is stored (JSON, one
 * file, written atomically) and which keys it has.
 *   <stateDir>/cni/<network>/<containerID>+<ifname>.json   a CNI attachment
 *   <stateDir>/hook/netns/<dev>-<ino>.json                  the hook's plumbing of a netns
 *   <stateDir>/hook/<containerID>.json                      a container's membership of it
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

enum hg_record_kind { HG_RECORD_CNI, HG_RECORD_HOOK };

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
	char *key;    /* hg_attachment_key: nft comments and users files carry it */
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

/* Entries of the hosts block: copies names into the record. */
int hg_record_add_entry(struct hg_record *r, const struct hg_ip *ip, char *const *names);

/* A container's membership of the hook's plumbing of its netns. */
struct hg_membership {
	char *container_id;
	char *netns_record; /* path of the plumbing record */
	pid_t pid;          /* 0: unknown */
	unsigned long long pid_start;
};

void hg_membership_free(struct hg_membership *m);
int hg_membership_load(const char *path, struct hg_membership *m, bool *found, struct hg_error *err);
int hg_membership_save(const char *path, const struct hg_membership *m, struct hg_error *err);

/* Who has a block in one hosts file, and its lines, so that a file rewritten by someone
 * else (kubelet truncates a pod's etc-hosts before each container) is rebuilt with every
 * live owner's block: <hg_hosts_lock_dir>/hosts/<dev>-<ino>.json (the default stateDir,
 * whatever stateDir an owner's configuration names), in the order the owners came.
 * Inode numbers are reused once a file is gone, so a registry also records which file it
 * was made for (names.h decides whether a file is still that one). Format version 3;
 * version 2 registries (no identity) are read, and are stale. */
#define HG_REGISTRY_VERSION 3
#define HG_HOSTS_MAX_OWNERS 64

struct hg_hosts_owner {
	char *key;
	pid_t pid; /* the container's process: the owner lives while it does (0: unknown) */
	unsigned long long pid_start;
	long long since; /* when it last wrote its lines, seconds since the epoch (0: unknown) */
	struct hg_record_entry *entries;
	size_t n_entries;
};

struct hg_hosts_registry {
	int version;
	struct hg_hosts_target target; /* where its last writer reached the file (file NULL and
					  root NULL: not recorded, version 2) */
	bool has_identity;             /* false: version 2, made for an unknown file */
	struct hg_file_id identity;
	struct hg_hosts_owner *owners;
	size_t n;
};

void hg_registry_free(struct hg_hosts_registry *g);
/* A missing file is an empty registry; a damaged one is -1 (HG_CNI_STATE). */
int hg_registry_load(const char *path, struct hg_hosts_registry *g, struct hg_error *err);
/* An empty registry removes the file. */
int hg_registry_save(const char *path, const struct hg_hosts_registry *g, struct hg_error *err);
/* Removes owner i (freeing it). */
void hg_registry_remove(struct hg_hosts_registry *g, size_t i);
/* Sets key's lines, appending a new owner; -1 (-E2BIG) past HG_HOSTS_MAX_OWNERS. */
int hg_registry_put(struct hg_hosts_registry *g, const char *key, pid_t pid, unsigned long long pid_start,
		    long long since, const struct hg_ip *ips, char *const *const *names, size_t n);
/* Records that the registry is of the file id, reached through target (copied). */
int hg_registry_set_file(struct hg_hosts_registry *g, const struct hg_hosts_target *target,
			 const struct hg_file_id *id);
