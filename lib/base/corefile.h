/* SPDX-License-Identifier: Apache-2.0 */
/* CoreDNS Corefiles on Kubernetes: the names of the host resolve to the virtual IP in every
 * pod, also for clients that never read /etc/hosts. Pure text transforms, no I/O.
 *
 * hg_corefile_edit puts our entries into the hosts plugin of the main server block (the one
 * for ".:53", "." or ":53"): CoreDNS allows one hosts block per server block, so an existing
 * one (k3s's NodeHosts, or one in a snippet of the file that the block imports) gets our
 * lines at its top, before its options; otherwise a new block `hosts { ... fallthrough }`
 * goes right before the block's `forward` directive. Our lines end with the comment
 * "# host-gateway", so that the next run replaces them: running it on its own output
 * changes nothing. Every other byte is kept. The file is read as CoreDNS reads it (its
 * Caddyfile lexer and parser, Unicode white space and snippet imports included); a
 * Corefile where a hosts directive may hide in an import we cannot see (a file) is refused.
 *
 * hg_corefile_k3s_override writes the content of a `*.override` key of k3s's
 * coredns-custom ConfigMap, which k3s imports into its (managed) main server block: that
 * block already has its hosts plugin, so the names are answered by the template plugin. */
#pragma once

#include <stddef.h>
#include "base/ip.h"
#include "base/error.h"

#define HG_COREFILE_MAX_SIZE (1024 * 1024)
#define HG_COREFILE_MARKER "host-gateway" /* the comment text of our lines, after "# " */

struct hg_corefile_spec {
	struct hg_ip ips[2]; /* at most one per family, in the order given */
	size_t n_ips;
	char **names; /* NULL-terminated, heap-owned; NULL until a name is added */
};

void hg_corefile_spec_free(struct hg_corefile_spec *s);
/* One address (IPv4 or IPv6, no prefix); a second one of the same family is refused. */
int hg_corefile_spec_add_ip(struct hg_corefile_spec *s, const char *text, struct hg_error *err);
/* One host name (hg_parse_name); duplicates are dropped, at most HG_MAX_NAMES. */
int hg_corefile_spec_add_name(struct hg_corefile_spec *s, const char *text, struct hg_error *err);
/* Checks that an address was given and fills in the default names when none was. */
int hg_corefile_spec_finish(struct hg_corefile_spec *s, struct hg_error *err);

/* in (len bytes, at most HG_COREFILE_MAX_SIZE) with our entries: *out (heap, *out_len bytes,
 * NUL-terminated; it holds no other NUL). A Corefile without a main server block, with
 * unbalanced braces, with a NUL byte or with a shape we cannot edit safely is refused with
 * the line in the message. The result has passed hg_corefile_check. */
int hg_corefile_edit(const char *in, size_t len, const struct hg_corefile_spec *s, char **out, size_t *out_len,
		     struct hg_error *err);
/* Does CoreDNS read the entries of s first in the one hosts block of in's main server
 * block? 0 if so; else -1 with what is wrong. */
int hg_corefile_check(const char *in, size_t len, const struct hg_corefile_spec *s, struct hg_error *err);
/* The template directives for k3s's coredns-custom ConfigMap; *out is a heap string. */
int hg_corefile_k3s_override(const struct hg_corefile_spec *s, char **out, struct hg_error *err);
