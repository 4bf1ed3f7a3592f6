/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline both personalities share: find the host, make it routable, name it, record
 * it; and the undo and the check of all that from the record alone. */
#pragma once

#include "base/config.h"
#include "ops/record.h"
#include "base/hostaddr.h"
#include "os/log.h"
#include "base/error.h"

struct hg_attach_req {
	const struct hg_config *config;
	enum hg_record_kind kind; /* stored in the record */
	const char *network;      /* CNI network name (NULL for the hook) */
	const char *container_id;
	const char *ifname;       /* the container's interface; NULL: the default route's */
	const char *netns_path;
	int netns_fd;             /* > 0: an already opened netns_path (pidfd-checked) */
	struct hg_container_net cnet; /* from prevResult; ignored when discover is set */
	bool discover;            /* read the container's addresses inside the netns */
	const struct hg_hosts_target *hosts_target; /* where names go; NULL: nowhere, recorded only */
	const struct hg_log *log;
	/* Called with the record as planned, before resources that outlive the container's
	 * namespace are acquired, so that the caller can store it where DEL will look. */
	int (*save)(void *ctx, const struct hg_record *record, struct hg_error *err);
	void *save_ctx;
};

/* Does the work and fills the record describing it (not yet written to disk, except
 * through req->save). On failure whatever was already done is undone and *record freed. */
int hg_attach_add(const struct hg_attach_req *req, struct hg_record *record, struct hg_error *err);
/* Best effort: removes everything the record lists that still exists, logging the rest.
 * netns_hint: the runtime's current path of the netns (may be NULL or stale). */
void hg_attach_undo(const struct hg_record *record, const char *netns_hint, const struct hg_log *log);
/* Does the record's network namespace still exist (same device, inode and cookie)? */
bool hg_attach_netns_alive(const struct hg_record *record);
/* HG_CNI_CHECK_FAILED when something the record lists is missing or altered. */
int hg_attach_check(const struct hg_record *record, struct hg_error *err);

/* The lines of the managed hosts block for these targets (unit-tested). */
struct hg_entries {
	struct hg_hosts_entry *items;
	size_t n;
	char **storage; /* name lists for extra hosts, two slots each */
};
/* The entries of a configuration at the addresses targets; -1 when out of memory. */
int hg_entries_build(const struct hg_config *c, const struct hg_host_addrs *targets, struct hg_entries *out);
void hg_entries_free(struct hg_entries *e);
#define _cleanup_entries_ __attribute__((cleanup(hg_entries_free)))
/* The same, from a record; names are borrowed from it. */
int hg_entries_from_record(const struct hg_record *r, struct hg_entries *out);

/* The owner of the record's block in its hosts file (names.h). */
const char *hg_attach_hosts_owner(const struct hg_record *r);
