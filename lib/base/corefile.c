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

/* ---- a growable string ---------------------------------------------------------------- */

int cf_sbuf_add(struct cf_sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

int cf_sbuf_str(struct cf_sbuf *b, const char *s) { return cf_sbuf_add(b, s, strlen(s)); }

int cf_sbuf_fmt(struct cf_sbuf *b, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s = NULL;
		return -1;
	}
	return cf_sbuf_add(b, s, n);
}

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
		return hg_error_set(err, HG_CNI_IO, "out of memory");
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
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	return 0;
}

/* ---- k3s: the coredns-custom override -------------------------------------------------- */

int hg_corefile_k3s_override(const struct hg_corefile_spec *s, char **out, struct hg_error *err)
{
	struct cf_sbuf b = {0};

	if (s->n_ips == 0 || strv_len(s->names) == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address or no name to add");
	/* k3s imports *.override into its main server block, which already has a hosts plugin
	 * (NodeHosts) and may have only one: the template plugin answers instead. Per name, one
	 * template per address family answers the address; the last one answers every other
	 * type with an empty NOERROR, as the hosts plugin does, because an NXDOMAIN for AAAA
	 * makes some resolvers (musl) drop the A answer too. `match` keeps subdomains out
	 * (a template's zone covers them), and `fallthrough` hands them on: without it a
	 * template that does not match answers SERVFAIL. Query names reach the regex in lower
	 * case, so the names are written in lower case. */
	if (cf_sbuf_fmt(&b, "# host-gateway: the host's names resolve to its virtual IP in every pod.\n"
			 "# Content of the key host-gateway.override of the ConfigMap kube-system/coredns-custom,\n"
			 "# imported by k3s into its main server block. Generated: regenerate, do not edit.\n") < 0)
		goto oom;
	for (char **name = s->names; *name; name++) {
		_cleanup_free_ char *lower = strdup(*name);
		struct cf_sbuf re = {0};
		if (!lower)
			goto oom;
		for (char *p = lower; *p; p++)
			*p = tolower((unsigned char) *p);
		/* Names hold only [A-Za-z0-9_.-]: a dot is the one character to escape. */
		if (cf_sbuf_str(&re, "^") < 0)
			goto oom;
		for (const char *p = lower; *p; p++)
			if ((*p == '.' ? cf_sbuf_str(&re, "\\.") : cf_sbuf_add(&re, p, 1)) < 0) {
				free(re.p);
				goto oom;
			}
		if (cf_sbuf_str(&re, "\\.$") < 0) {
			free(re.p);
			goto oom;
		}
		int r = 0;
		for (size_t i = 0; i < s->n_ips && r == 0; i++) {
			char ip[HG_IP_STRLEN];
			const char *type = s->ips[i].family == AF_INET ? "A" : "AAAA";
			r = cf_sbuf_fmt(&b,
				     "template IN %s %s {\n"
				     "    match \"%s\"\n"
				     "    answer \"{{ .Name }} 60 IN %s %s\"\n"
				     "    fallthrough\n"
				     "}\n",
				     type, lower, re.p, type, hg_ip_str(&s->ips[i], ip));
		}
		if (r == 0)
			r = cf_sbuf_fmt(&b,
				     "template IN ANY %s {\n"
				     "    match \"%s\"\n"
				     "    rcode NOERROR\n"
				     "    fallthrough\n"
				     "}\n",
				     lower, re.p);
		free(re.p);
		if (r < 0)
			goto oom;
	}
	*out = TAKE_PTR(b.p);
	return 0;
oom:
	free(b.p);
	return hg_error_set(err, HG_CNI_IO, "out of memory");
}
