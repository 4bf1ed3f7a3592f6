/* SPDX-License-Identifier: Apache-2.0 */
/* What the hook needs from the OCI state (stdin) and the bundle's config.json: pure
 * parsing, unit-tested with the shapes crun and runc really send. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/error.h"

/* A bundle's config.json is the runtime's; the bound is the one of the OCI state on stdin. */
#define HG_BUNDLE_MAX_SIZE (64u << 20)

struct hg_oci_state {
	char *id;
	pid_t pid;       /* 0 when absent (runc poststop) or 0 (crun poststop) */
	char *bundle;
	char *status;
	json_t *annotations; /* object, never NULL */
};

struct hg_oci_bundle {
	bool has_netns;      /* a linux.namespaces entry of type network */
	char *netns_path;    /* its path, NULL when the runtime creates a new one */
	char *hosts_source;  /* source of the bind mount at /etc/hosts, NULL when none */
	bool hosts_readonly; /* that mount has "ro": the container must not see it change */
	char *root;          /* absolute root path */
	bool root_readonly;  /* root.readonly: the root may be shared by other bundles */
	json_t *annotations; /* object, never NULL */
};

int hg_oci_state_parse(const char *text, size_t len, struct hg_oci_state *out, struct hg_error *err);
void hg_oci_state_free(struct hg_oci_state *s);
/* what names the file in messages. */
int hg_oci_bundle_parse(json_t *config, const char *bundle_dir, const char *what, struct hg_oci_bundle *out,
			struct hg_error *err);
void hg_oci_bundle_free(struct hg_oci_bundle *b);
