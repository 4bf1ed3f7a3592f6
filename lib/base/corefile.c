/* SPDX-License-Identifier: Apache-2.0 */
/* The addresses and names of `host-gateway corefile`, and the k3s override (see corefile.h);
 * the edit itself is corefile-edit.c. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "base/corefile.h"
#include "base/corefile-int.h"
#include "base/config.h"
#include "base/util.h"

/* ---- the specification: addresses and names ------------------------------------------ */

void hg_corefile_spec_free(struct hg_corefile_spec *s)
{
	strv_free(s->names);
	s->names = NULL;
	s->n_ips = 0;
}

int hg_corefile_spec_add_ip(struct hg_corefile_spec *s, const char *text, struct hg_error *err)
{
	struct hg_ip ip;
	if (hg_ip_parse(text, false, &ip) < 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "\"%s\" is not an IPv4 or IPv6 address", text);
	for (size_t i = 0; i < s->n_ips; i++)
		if (s->ips[i].family == ip.family)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG,
					    "at most one IPv4 and one IPv6 address (\"%s\" is the second of its family)",
					    text);
	s->ips[s->n_ips++] = ip;
	return 0;
}

int hg_corefile_spec_add_name(struct hg_corefile_spec *s, const char *text, struct hg_error *err)
{
	if (hg_parse_name(text) < 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "\"%s\" is not a valid host name", text);
	if (s->names && strv_contains(s->names, text))
		return 0;
	if (strv_len(s->names) >= HG_MAX_NAMES)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "more than " STR(HG_MAX_NAMES) " names");
	if (strv_push(&s->names, text) < 0)
		return hg_error_oom(err);
	return 0;
}

int hg_corefile_spec_finish(struct hg_corefile_spec *s, struct hg_error *err)
{
	if (s->n_ips == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address given (--ip)");
	if (strv_len(s->names) > 0)
		return 0;
	/* The defaults are the configuration's, so that the CNI plugin, the hook and CoreDNS
	 * agree on what "the names of the host" are. */
	struct hg_config c;
	int r = hg_config_init(&c);
	if (r == 0) {
		strv_free(s->names);
		s->names = TAKE_PTR(c.names);
	}
	hg_config_free(&c);
	if (r < 0)
		return hg_error_oom(err);
	return 0;
}

/* ---- k3s: the coredns-custom override -------------------------------------------------- */

int hg_corefile_k3s_override(const struct hg_corefile_spec *s, char **out, struct hg_error *err)
{
	_cleanup_buf_ struct buf b = {0};

	if (s->n_ips == 0 || strv_len(s->names) == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address or no name to add");
	/* k3s imports *.override into its main server block, which already has a hosts plugin
	 * (NodeHosts) and may have only one: the template plugin answers instead. Per name, one
	 * template per address family answers the address; the last one answers every other
	 * type with an empty NOERROR, as the hosts plugin does, because an NXDOMAIN for AAAA
	 * makes some resolvers (musl) drop the A answer too. `match` keeps subdomains out
	 * (a template's zone covers them), and `fallthrough` hands them on: without it a
	 * template that does not match answers SERVFAIL. Query names reach the regex in lower
	 * case, so the names are written in lower case. Out of memory is checked once, at the
	 * end: a failed append makes every later one fail too (buf.h). */
	buf_fmt(&b, "# host-gateway: the host's names resolve to its virtual IP in every pod.\n"
		    "# Content of the key host-gateway.override of the ConfigMap kube-system/coredns-custom,\n"
		    "# imported by k3s into its main server block. Generated: regenerate, do not edit.\n");
	for (char **name = s->names; *name; name++) {
		_cleanup_free_ char *lower = strdup(*name);
		_cleanup_buf_ struct buf re = {0};
		if (!lower)
			return hg_error_oom(err);
		for (char *p = lower; *p; p++)
			*p = tolower((unsigned char) *p);
		/* Names hold only [A-Za-z0-9_.-]: a dot is the one character to escape. */
		buf_str(&re, "^");
		for (const char *p = lower; *p; p++)
			*p == '.' ? buf_str(&re, "\\.") : buf_add(&re, p, 1);
		if (buf_str(&re, "\\.$") < 0)
			return hg_error_oom(err);
		for (size_t i = 0; i < s->n_ips; i++) {
			char ip[HG_IP_STRLEN];
			const char *type = s->ips[i].family == AF_INET ? "A" : "AAAA";
			buf_fmt(&b,
				"template IN %s %s {\n"
				"    match \"%s\"\n"
				"    answer \"{{ .Name }} 60 IN %s %s\"\n"
				"    fallthrough\n"
				"}\n",
				type, lower, re.data, type, hg_ip_str(&s->ips[i], ip));
		}
		buf_fmt(&b,
			"template IN ANY %s {\n"
			"    match \"%s\"\n"
			"    rcode NOERROR\n"
			"    fallthrough\n"
			"}\n",
			lower, re.data);
	}
	if (buf_finish(&b, out, NULL) < 0)
		return hg_error_oom(err);
	return 0;
}
