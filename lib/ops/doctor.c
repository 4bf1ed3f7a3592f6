/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway doctor` (see doctor.h): the checks, in the order a packet meets them. The
 * probes run inside the container's network namespace; everything else is read in the
 * namespace doctor runs in, which is the host's. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/conflist.h"
#include "ops/doctor.h"
#include "base/firewall.h"
#include "base/hostaddr.h"
#include "os/hosts.h"
#include "os/nft.h"
#include "os/nft-trace.h"
#include "os/netns.h"
#include "os/sysctl.h"
#include "os/probe.h"
#include "ops/record.h"
#include "os/route.h"
#include "os/target.h"
#include "base/util.h"
#include "os/fs.h"

void hg_checks_free(struct hg_checks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].id);
		free(c->v[i].message);
		free(c->v[i].fix);
		json_decref(c->v[i].rule);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

int hg_checks_add(struct hg_checks *c, const char *id, enum hg_check_status status, const char *fix,
		  const char *fmt, ...)
{
	struct hg_check *grown = realloc(c->v, (c->n + 1) * sizeof(*c->v));
	if (!grown)
		return -1;
	c->v = grown;
	struct hg_check *k = &c->v[c->n];
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&k->message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	k->id = strdup(id);
	k->fix = fix ? strdup(fix) : NULL;
	k->status = status;
	k->rule = NULL;
	if (!k->id || (fix && !k->fix)) {
		free(k->id);
		free(k->fix);
		free(k->message);
		return -1;
	}
	c->n++;
	return 0;
}

bool hg_checks_failed(const struct hg_checks *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].status == HG_CHECK_FAIL)
			return true;
	return false;
}

bool hg_checks_diagnosed(const struct hg_checks *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].status != HG_CHECK_UNKNOWN)
			return true;
	return false;
}

const char *hg_check_status_name(enum hg_check_status s)
{
	return s == HG_CHECK_PASS ? "pass" : s == HG_CHECK_FAIL ? "fail" : "unknown";
}

int hg_doctor_parse_port(const char *s, struct hg_doctor_port *out)
{
	const char *slash = strchr(s, '/');
	enum hg_proto proto = HG_TCP;
	uint16_t port;
	if (hg_parse_port(s, slash ? (size_t) (slash - s) : strlen(s), &port) < 0 ||
	    (slash && hg_parse_proto(slash + 1, &proto) < 0))
		return -EINVAL;
	out->port = port;
	out->proto = proto;
	return 0;
}

/* ---- /etc/hosts ---- */

/* The next token of a hosts line in [*p, end): blanks are spaces, tabs and CR (a CRLF
 * file); false at the end of the line. */
static bool next_token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	const char *e = s;
	while (e < end && *e != ' ' && *e != '\t' && *e != '\r')
		e++;
	*p = e;
	*tok = s;
	*len = (size_t) (e - s);
	return e > s;
}

enum hg_hosts_name_state hg_doctor_hosts_name(const char *content, const char *name, const struct hg_ip *ip,
					      char other[HG_IP_STRLEN], unsigned *line)
{
	const char *p = content;
	size_t name_len = strlen(name);
	unsigned n = 0;
	other[0] = '\0';
	*line = 0;
	/* Lines of any length, as the resolver reads them (glibc grows its buffer): the tokens
	 * are looked at where they are, never copied into a buffer that could cut them. */
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *hash = memchr(p, '#', (size_t) (end - p));
		const char *cur = p, *tok;
		char addr[HG_IP_STRLEN + 1];
		size_t len;
		struct hg_ip a;
		n++;
		p = eol ? eol + 1 : NULL;
		if (hash)
			end = hash;
		if (!next_token(&cur, end, &tok, &len) || len >= sizeof(addr))
			continue;
		memcpy(addr, tok, len);
		addr[len] = '\0';
		if (hg_ip_parse(addr, false, &a) < 0 || a.family != ip->family)
			continue;
		while (next_token(&cur, end, &tok, &len)) {
			if (len != name_len || strncasecmp(tok, name, len) != 0)
				continue;
			*line = n;
			if (hg_ip_equal(&a, ip))
				return HG_HOSTS_NAME_OK;
			hg_ip_str(&a, other);
			return HG_HOSTS_NAME_SHADOWED;
		}
	}
	return HG_HOSTS_NAME_MISSING;
}

/* ---- CNI configuration folder ---- */

int hg_doctor_conflist_check(json_t *list, const char *path, const char *dir, struct hg_checks *out)
{
	json_t *plugins = json_object_get(list, "plugins"), *p;
	size_t i;
	char fix[1024];
	snprintf(fix, sizeof(fix), "host-gateway install --cni-conf-dir %s", dir);
	json_array_foreach(plugins, i, p) {
		if (!hg_conflist_is_ours(p))
			continue;
		if (i == 0) {
			snprintf(fix, sizeof(fix), "move the {\"type\": \"host-gateway\"} entry of %s after the main plugin", path);
			return hg_checks_add(out, "cni-conflist", HG_CHECK_FAIL, fix,
					     "host-gateway is the first plugin of %s: it must come after the main plugin", path);
		}
		const char *main_type = json_string_value(json_object_get(json_array_get(plugins, 0), "type"));
		return hg_checks_add(out, "cni-conflist", HG_CHECK_PASS, NULL, "%s chains host-gateway after %s", path,
				     main_type ? main_type : "the main plugin");
	}
	return hg_checks_add(out, "cni-conflist", HG_CHECK_FAIL, fix,
			     "host-gateway is missing from %s, the configuration runtimes load", path);
}

static int check_conf_dir(const char *dir, struct hg_checks *out)
{
	_cleanup_strv_ char **names = calloc(1, sizeof(char *));
	_cleanup_closedir_ DIR *d = opendir(dir);
	char fix[1024];
	struct dirent *e;
	snprintf(fix, sizeof(fix), "host-gateway install --cni-conf-dir %s", dir);
	if (!names)
		return -1;
	if (!d)
		return hg_checks_add(out, "cni-conflist", HG_CHECK_FAIL, NULL, "cannot read %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		struct stat st;
		if (!hg_conflist_is_cni_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (strv_push(&names, e->d_name) < 0)
			return -1;
	}
	int idx = hg_conflist_pick_primary(names);
	if (idx < 0)
		return hg_checks_add(out, "cni-conflist", HG_CHECK_FAIL, NULL,
				     "%s holds no CNI configuration (*.conflist, *.conf, *.json)", dir);
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len = 0;
	struct hg_error rerr = {0};
	if (asprintf(&path, "%s/%s", dir, names[idx]) < 0)
		return -1;
	/* Install's reader: a FIFO there must not hang us, nor /dev/zero fill the memory. A
	 * symlink is followed, as runtimes do. */
	if (hg_read_file(path, HG_CONFLIST_MAX_SIZE, HG_READ_FOLLOW, NULL, &text, &len, &rerr) < 0)
		return hg_checks_add(out, "cni-conflist", HG_CHECK_FAIL, NULL, "cannot read %s: %s", path, rerr.msg);
	json_auto_t *list = NULL;
	bool converted = false;
	if (hg_conflist_parse(path, text, len, &list, &converted, &rerr) < 0)
		return hg_checks_add(out, "cni-conflist", HG_CHECK_FAIL, NULL, "%s is not a valid configuration: %s", path,
				     rerr.msg);
	return hg_doctor_conflist_check(list, path, dir, out);
}

/* ---- the container ---- */

struct doctor {
	const struct hg_doctor_opts *o;
	struct hg_checks *out;
	const char *nspath;
	int nsfd;
	struct hg_config cfg;
	struct hg_record rec;
	bool have_rec;
	struct hg_container_net cn;
	struct hg_gateway gw[2];
	struct hg_host_addrs host, targets;
	bool reachable[2];
	int peer[2];          /* the host end of the container's link toward the host */
	char iif[2][IF_NAMESIZE]; /* where the container's packets enter the host */
	bool rp_strict;
	char back_if[IF_NAMESIZE]; /* where the host's route back to the container leaves */
	char back_ip[HG_IP_STRLEN];
	struct hg_ip local[256]; /* the host's own addresses */
	size_t n_local;
	/* one probe */
	struct hg_ip dst, src;
	enum hg_proto proto;
	uint16_t port, sport;
	int fd;
	int result, errnum;
};

static int gather_container(void *ctx, struct hg_error *err)
{
	struct doctor *d = ctx;
	if (hg_addresses(d->cn.addrs, HG_MAX_CONTAINER_ADDRS, &d->cn.n_addrs, err) < 0)
		return -1;
	return hg_route_default_gateways(d->gw, err);
}

static int container_routes(void *ctx, struct hg_error *err)
{
	struct doctor *d = ctx;
	for (int s = 0; s < 2; s++) {
		const struct hg_ip *h = &d->host.ip[s];
		char ifname[16];
		if (!h->family)
			continue;
		d->reachable[s] = hg_route_reachable(h, err) == 1;
		if (d->reachable[s] && hg_route_oif(h, ifname, err) == 0) {
			int idx = (int) if_nametoindex(ifname);
			if (idx > 0 && hg_link_peer(idx, &d->peer[s], err) < 0)
				d->peer[s] = 0;
		}
	}
	return 0;
}

/* In the container: the probe's socket, bound, and its source address. */
static int probe_open_in(void *ctx, struct hg_error *err)
{
	struct doctor *d = ctx;
	int r = hg_probe_source(&d->dst, &d->src);
	if (r < 0)
		memset(&d->src, 0, sizeof(d->src)); /* no route: the attempt says so */
	d->fd = hg_probe_open(&d->dst, d->proto, &d->sport);
	if (d->fd < 0)
		return hg_error_errno(err, HG_CNI_IO, -d->fd, "probe socket");
	return 0;
}

static int probe_in(void *ctx, struct hg_error *err)
{
	struct doctor *d = ctx;
	d->result = hg_probe_connect(d->fd, &d->dst, d->proto, d->port, HG_PROBE_TIMEOUT_MS, &d->errnum);
	if (d->result < 0)
		return hg_error_errno(err, HG_CNI_IO, -d->result, "probe");
	return 0;
}

static const char *fam_name(int s) { return s ? "IPv6" : "IPv4"; }

static int load_config(struct doctor *d, struct hg_error *err)
{
	json_error_t je;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (hg_config_init(&d->cfg) < 0)
		return hg_error_oom(err);
	if (!d->o->config_given && access(d->o->config, F_OK) < 0 && errno == ENOENT)
		return 0; /* no hook config on this machine: the defaults */
	if (hg_read_file(d->o->config, HG_CONFLIST_MAX_SIZE, HG_READ_FOLLOW, NULL, &text, &len, err) < 0)
		return -1;
	json_auto_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s: %s", d->o->config, je.text);
	json_t *obj = doc;
	if (json_is_array(json_object_get(doc, "plugins"))) { /* a whole conflist: our entry of it */
		obj = hg_conflist_find(doc);
		if (!obj)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s has no host-gateway entry", d->o->config);
	}
	if (hg_config_load_json(&d->cfg, obj, true, err) < 0)
		return hg_error_prefix(err, "%s", d->o->config);
	return 0;
}

/* Where the container's packets of family slot s enter the host: the host end of its veth
 * (or the bridge that end is a port of); else the interface of the route back. */
static void find_iif(struct doctor *d, int s)
{
	char name[IF_NAMESIZE] = "", master[16] = "";
	struct hg_error e = {0};
	if (d->peer[s] > 0 && if_indextoname((unsigned) d->peer[s], name)) {
		if (hg_link_master(name, master, &e) == 0 && master[0])
			snprintf(d->iif[s], sizeof(d->iif[s]), "%s", master);
		else
			snprintf(d->iif[s], sizeof(d->iif[s]), "%s", name);
		return;
	}
	for (size_t i = 0; i < d->cn.n_addrs; i++) {
		if (hg_family_slot(d->cn.addrs[i].family) == s && hg_route_oif(&d->cn.addrs[i], name, &e) == 0) {
			snprintf(d->iif[s], sizeof(d->iif[s]), "%s", name);
			return;
		}
	}
}

static int sysctl_int(const char *iface, const char *key)
{
	char path[256], v[32];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", iface, key);
	if (hg_sysctl_read(path, v, sizeof(v)) < 0)
		return -1;
	return atoi(v);
}

static int check_rp_filter(struct doctor *d)
{
	const struct hg_ip *cip = NULL;
	char out_if[16] = "", ipbuf[HG_IP_STRLEN], fix[256];
	struct hg_error e = {0};
	for (size_t i = 0; i < d->cn.n_addrs && !cip; i++)
		if (d->cn.addrs[i].family == AF_INET)
			cip = &d->cn.addrs[i];
	if (!cip || !d->iif[0][0])
		return 0;
	hg_ip_str(cip, ipbuf);
	if (hg_route_oif(cip, out_if, &e) < 0)
		return hg_checks_add(d->out, "rp-filter", HG_CHECK_FAIL, NULL,
				     "the host has no route back to the container's %s", ipbuf);
	snprintf(d->back_if, sizeof(d->back_if), "%s", out_if);
	snprintf(d->back_ip, sizeof(d->back_ip), "%s", ipbuf);
	int all = sysctl_int("all", "rp_filter"), dev = sysctl_int(d->iif[0], "rp_filter");
	int eff = all > dev ? all : dev;
	if (strcmp(out_if, d->iif[0]) == 0 || eff != 1)
		return hg_checks_add(d->out, "rp-filter", HG_CHECK_PASS, NULL,
				     "rp_filter on %s is %d and replies to %s leave through %s", d->iif[0], eff, ipbuf,
				     out_if);
	d->rp_strict = true;
	char key[64], q[300];
	/* sysctl reads dots as separators: a name with one (a VLAN's eth0.100) is written
	 * with slashes, which keep the dots after them. */
	snprintf(key, sizeof(key), strchr(d->iif[0], '.') ? "net/ipv4/conf/%s/rp_filter=2" : "net.ipv4.conf.%s.rp_filter=2",
		 d->iif[0]);
	if (all == 1)
		snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.all.rp_filter=2 %s", hg_fw_shell_word(key, q, sizeof(q)));
	else
		snprintf(fix, sizeof(fix), "sysctl -w %s", hg_fw_shell_word(key, q, sizeof(q)));
	return hg_checks_add(d->out, "rp-filter", HG_CHECK_FAIL, fix,
			     "rp_filter is strict (1) on %s but the route back to %s leaves through %s: the host drops "
			     "the container's packets",
			     d->iif[0], ipbuf, out_if);
}

static json_t *ruleset(void)
{
	json_t *j = NULL;
	struct hg_error e = {0};
	if (!hg_nft_available() || hg_nft_list_json("list ruleset", &j, &e) < 0)
		return NULL;
	return j;
}

/* The host port a probe of port lands on: localhostPorts may remap it. */
static uint16_t host_port_of(const struct hg_config *c, enum hg_proto proto, uint16_t port)
{
	for (size_t i = 0; i < c->n_localhost_ports; i++) {
		const struct hg_port_map *m = &c->localhost_ports[i];
		if (m->proto == proto && port >= m->first && port <= m->last)
			return (uint16_t) (m->host_first + (port - m->first));
	}
	return port;
}

static bool in_localhost_ports(const struct hg_config *c, enum hg_proto proto, uint16_t port)
{
	for (size_t i = 0; i < c->n_localhost_ports; i++)
		if (c->localhost_ports[i].proto == proto && port >= c->localhost_ports[i].first &&
		    port <= c->localhost_ports[i].last)
			return true;
	return false;
}

/* Why nothing accepted a refused connection to host:port. */
static int explain_refused(struct doctor *d, const char *id, const char *what, const struct hg_ip *host,
			   uint16_t port)
{
	struct hg_listeners l;
	char fix[512], hbuf[HG_IP_STRLEN], obuf[HG_IP_STRLEN];
	const char *pn = hg_proto_name(d->proto);
	hg_ip_str(host, hbuf);
	if (hg_listeners_read(d->proto, port, &l) < 0)
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, NULL, "%s: refused (the host's sockets are unreadable)",
				     what);
	if (hg_listeners_cover(&l, host)) {
		char legacy[512];
		hg_legacy_iptables(legacy, sizeof(legacy));
		if (legacy[0])
			return hg_checks_add(d->out, id, HG_CHECK_FAIL, "list them: iptables-legacy -S",
					     "%s: refused, although a socket listens on %u/%s: no nftables rule rejects it, "
					     "but the kernel also holds legacy iptables rules (%s), which nftables cannot show",
					     what, port, pn, legacy);
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, "find the reject rule: nft -a list ruleset",
				     "%s: refused, although a socket listens on %u/%s: a firewall rejects it", what,
				     port, pn);
	}
	if (l.loopback || l.n_other) {
		snprintf(fix, sizeof(fix),
			 "bind the service to %s (or 0.0.0.0/::), or add \"hostLoopbackPorts\": [\"%u/%s\"] to the "
			 "host-gateway configuration",
			 hbuf, port, pn);
		if (l.loopback)
			return hg_checks_add(d->out, id, HG_CHECK_FAIL, fix,
					     "%s: refused: %u/%s listens only on 127.0.0.1/::1 on the host, not on %s", what,
					     port, pn, hbuf);
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, fix, "%s: refused: %u/%s listens only on %s, not on %s",
				     what, port, pn, hg_ip_str(&l.other[0], obuf), hbuf);
	}
	snprintf(fix, sizeof(fix), "start the service on the host, listening on %s or 0.0.0.0/:: port %u/%s", hbuf, port,
		 pn);
	return hg_checks_add(d->out, id, HG_CHECK_FAIL, fix, "%s: refused: nothing listens on %u/%s on the host", what,
			     port, pn);
}

static bool is_local(const struct doctor *d, const struct hg_ip *ip)
{
	if ((ip->family == AF_INET && ip->bytes[0] == 127) || d->n_local == 0 || d->n_local == ARRAY_SIZE(d->local))
		return true;
	for (size_t i = 0; i < d->n_local; i++)
		if (hg_ip_equal(&d->local[i], ip))
			return true;
	return false;
}

enum evidence { EV_NONE, EV_TRACE, EV_COUNTER, EV_RULES };
static const char *const evidence_name[] = {"", "trace", "counter", "rules"};

struct finding {
	enum evidence ev;
	bool certain;
	struct hg_fw_verdict v;
	char *text; /* the rule's text from the listing, or NULL */
};

/* The rule that explains a probe that failed: the trace's when there was one, else the
 * drop rule whose counter moved, else the ruleset evaluated against the probe. */
static void find_rule(struct doctor *d, int s, json_t *before, json_t *after, const struct hg_fw_trace_event *ev,
		      size_t n_ev, const struct hg_ip *host, uint16_t host_port, struct finding *f)
{
	char oif[16] = "";
	struct hg_error e = {0};
	struct hg_fw_probe probe = {.iifname = d->iif[s], .saddr = d->src, .daddr = *host,
				    .proto = hg_proto_name(d->proto), .sport = d->sport, .dport = host_port,
				    .local = is_local(d, host)};
	if (!probe.local && hg_route_oif(host, oif, &e) == 0)
		probe.oifname = oif;
	if (!hg_ip_equal(&d->dst, host) || !probe.saddr.family) { /* 127.0.0.1: the container's own address */
		memset(&probe.saddr, 0, sizeof(probe.saddr));
		for (size_t i = 0; i < d->cn.n_addrs && !probe.saddr.family; i++)
			if (d->cn.addrs[i].family == host->family)
				probe.saddr = d->cn.addrs[i];
	}
	memset(f, 0, sizeof(*f));
	if (n_ev) {
		/* The trace is the kernel's word: when it saw the probe and no drop, no nftables
		 * rule dropped it, whatever the rules look like. */
		if (hg_fw_trace_verdict(after, ev, n_ev, &f->v)) {
			f->ev = EV_TRACE;
			f->certain = true;
		}
	} else if (hg_fw_find_dropper_for(before, after, &probe, &f->v) && f->v.handle) {
		f->ev = EV_COUNTER;
		f->certain = true;
		snprintf(f->v.verdict, sizeof(f->v.verdict), "drop");
	} else {
		int r = after ? hg_fw_match_probe(before, after, &probe, &f->v) : 0;
		if (r)
			f->ev = EV_RULES;
		f->certain = r == 1;
	}
	if (f->v.shape == HG_FW_FIREWALLD)
		hg_fw_firewalld_zone(after, &probe, &f->v);
	if (f->ev != EV_NONE && f->v.handle) {
		_cleanup_free_ char *listing = NULL;
		struct hg_error e = {0};
		if (hg_nft_list_text("list ruleset", &listing, &e) == 0)
			f->text = hg_fw_rule_text(listing, f->v.family, f->v.table, f->v.chain, f->v.handle);
	}
}

/* "inet myfw input rule handle 3: iifname "x" tcp dport 8080 drop", "ip filter INPUT
 * policy drop". */
static void describe(const struct finding *f, char *buf, size_t size)
{
	if (f->v.handle)
		snprintf(buf, size, "%s: %s %s %s rule handle %lld%s%s", hg_fw_shape_name(f->v.shape), f->v.family,
			 f->v.table, f->v.chain, (long long) f->v.handle, f->text ? ": " : "", f->text ? f->text : "");
	else
		snprintf(buf, size, "%s: %s %s %s policy drop", hg_fw_shape_name(f->v.shape), f->v.family, f->v.table,
			 f->v.chain);
}

/* A JSON string of bytes from the ruleset (a comment in the rule's text, a name may hold
 * any byte): invalid UTF-8 becomes '?', as in the checks' strings, rather than json_pack
 * failing and the "rule" being lost. NULL stays NULL. */
static json_t *ruleset_text(const char *s)
{
	if (!s)
		return NULL;
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return NULL;
	hg_utf8_sanitize(copy);
	return json_string(copy);
}

static json_t *rule_json(const struct finding *f)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:I, s:o?, s:s, s:s, s:b, s:o?}", "shape", hg_fw_shape_name(f->v.shape),
			 "family", f->v.family, "table", ruleset_text(f->v.table), "chain", ruleset_text(f->v.chain),
			 "handle", (json_int_t) f->v.handle, "text", ruleset_text(f->text), "verdict",
			 f->v.verdict[0] ? f->v.verdict : "drop", "evidence", evidence_name[f->ev], "certain", f->certain,
			 "unevaluated", ruleset_text(f->certain ? NULL : f->v.unknown));
}

static int add_finding(struct doctor *d, const char *id, enum hg_check_status st, const struct finding *f,
		       const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add_finding(struct doctor *d, const char *id, enum hg_check_status st, const struct finding *f,
		       const char *fix, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0 || hg_checks_add(d->out, id, st, fix, "%s", msg) < 0)
		return -1;
	if (f && f->ev != EV_NONE)
		d->out->v[d->out->n - 1].rule = rule_json(f);
	return 0;
}

/* One probe of dst:port from the container, explained. host: where it lands on the host. */
static int probe_one(struct doctor *d, int s, const struct hg_ip *dst, const struct hg_ip *host, uint16_t port,
		     uint16_t host_port, struct hg_error *err)
{
	char id[128], what[128], dbuf[HG_IP_STRLEN], desc[1024], legacy[512], trace_note[600] = "";
	const char *pn = hg_proto_name(d->proto);
	struct hg_fw_trace_event ev[64];
	size_t n_ev = 0;
	hg_ip_str(dst, dbuf);
	snprintf(id, sizeof(id), "port-%s-%s-%u", pn, dbuf, port);
	snprintf(what, sizeof(what), s ? "[%s]:%u/%s" : "%s:%u/%s", dbuf, port, pn);
	json_auto_t *before = ruleset();
	d->dst = *dst;
	d->port = port;
	d->fd = -1;
	if (hg_netns_run(d->nsfd, probe_open_in, d, err) < 0)
		return -1;
	struct hg_nft_trace tr = {.mon = -1};
	bool tracing = false;
	if (d->o->trace && (d->src.family || !hg_ip_equal(dst, host))) {
		struct hg_error te = {0};
		/* The trace sees the packets as the host does: to host, on the port localhostPorts
		 * maps to. A probe of 127.0.0.1 reaches the host translated, from a source other
		 * than the one seen here: only the destination and the ports are matched then. */
		const struct hg_ip *src = hg_ip_equal(dst, host) ? &d->src : NULL;
		if (hg_nft_trace_start(&tr, src, host, pn, d->sport, host_port, &te) == 0)
			tracing = true;
		else
			snprintf(trace_note, sizeof(trace_note), " (not traced: %s)", te.msg);
	}
	int r = hg_netns_run(d->nsfd, probe_in, d, err);
	if (tracing) {
		n_ev = hg_nft_trace_read(&tr, 50, ev, ARRAY_SIZE(ev));
		hg_nft_trace_stop(&tr);
	}
	close(d->fd);
	d->fd = -1;
	if (r < 0)
		return -1;
	json_auto_t *after = ruleset();
	if (d->result == HG_PROBE_OPEN)
		return hg_checks_add(d->out, id, HG_CHECK_PASS, NULL, "%s answers from the container", what);

	struct finding f;
	find_rule(d, s, before, after, ev, n_ev, host, host_port, &f);
	_cleanup_free_ char *rule_text = f.text;
	bool rejected = strcmp(f.v.verdict, "reject") == 0;
	/* A rule explains what was seen: a drop, silence; a reject, a refusal or an ICMP error. */
	bool explains = f.ev != EV_NONE &&
			(d->result == HG_PROBE_TIMEOUT || d->result == HG_PROBE_SILENT ||
			 (rejected && (d->result == HG_PROBE_REFUSED || d->result == HG_PROBE_UNREACHABLE)));
	if (explains) {
		_cleanup_free_ char *fix = hg_fw_fix(&f.v, d->iif[s], pn, host_port);
		const char *path = is_local(d, host) ? "input" : "forward";
		const char *act = rejected ? "rejects" : "drops";
		describe(&f, desc, sizeof(desc));
		if (f.certain)
			return add_finding(d, id, HG_CHECK_FAIL, &f, fix, "%s: the host's %s path %s it (%s)%s%s", what,
					   path, act, desc, f.ev == EV_TRACE ? ", traced" : "", trace_note);
		/* Maybe: a TCP port without answer is a failure all the same; UDP silence is not. */
		return add_finding(d, id, d->result == HG_PROBE_SILENT ? HG_CHECK_UNKNOWN : HG_CHECK_FAIL, &f, fix,
				   "%s: %s within %d ms; the host's %s path may %s it (%s), after \"%s\" that doctor "
				   "cannot evaluate (--trace tells)%s",
				   what, d->result == HG_PROBE_SILENT ? "no answer and no ICMP error" : "no answer",
				   HG_PROBE_TIMEOUT_MS, path, rejected ? "reject" : "drop", desc, f.v.unknown, trace_note);
	}
	if (d->result == HG_PROBE_REFUSED)
		return explain_refused(d, id, what, host, host_port);
	if (d->result == HG_PROBE_SILENT)
		return hg_checks_add(d->out, id, HG_CHECK_UNKNOWN, NULL,
				     "%s: no answer and no ICMP error within %d ms, and no rule on the host's path drops it%s: "
				     "open but silent, or lost on the way (UDP cannot tell)%s",
				     what, HG_PROBE_TIMEOUT_MS, tracing ? " (traced)" : "", trace_note);
	if (s == 0 && d->rp_strict)
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, "fix rp_filter (see the rp-filter check)",
				     "%s: no answer: the host's strict rp_filter drops the container's packets", what);
	if (s == 0 && d->back_if[0] && strcmp(d->back_if, d->iif[0]) != 0) {
		char fix[256], q[80];
		snprintf(fix, sizeof(fix), "route %s back through %s on the host (ip route replace %s dev %s)", d->back_ip,
			 d->iif[0], d->back_ip, hg_fw_shell_word(d->iif[0], q, sizeof(q)));
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, fix,
				     "%s: no answer: the host's replies to %s leave through %s, not %s where the "
				     "container's packets arrive",
				     what, d->back_ip, d->back_if, d->iif[0]);
	}
	struct hg_fw_verdict v;
	if (after && hg_fw_shape_of(after, &v) != HG_FW_NONE) {
		_cleanup_free_ char *fix = hg_fw_fix(&v, d->iif[s], pn, host_port);
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, fix, "%s: %s, and the host's input is filtered by %s (%s %s %s)",
				     what, d->result == HG_PROBE_TIMEOUT ? "no answer" : "rejected with an ICMP error",
				     hg_fw_shape_name(v.shape), v.family, v.table, v.chain);
	}
	hg_legacy_iptables(legacy, sizeof(legacy));
	if (d->result == HG_PROBE_TIMEOUT) {
		if (legacy[0])
			return hg_checks_add(d->out, id, HG_CHECK_FAIL,
					     strstr(legacy, "ip6 ") ? (strncmp(legacy, "ip6 ", 4) == 0 && !strstr(legacy, "; ")
									  ? "list them: ip6tables-legacy -S"
									  : "list them: iptables-legacy -S; ip6tables-legacy -S")
								    : "list them: iptables-legacy -S",
					     "%s: no answer within %d ms: dropped on the way; no nftables rule explains it, "
					     "but the kernel also holds legacy iptables rules (%s), which nftables cannot "
					     "show%s",
					     what, HG_PROBE_TIMEOUT_MS, legacy, trace_note);
		return hg_checks_add(d->out, id, HG_CHECK_FAIL, NULL,
				     "%s: no answer within %d ms: dropped on the way; no rule found that explains it%s%s",
				     what, HG_PROBE_TIMEOUT_MS, tracing ? " (traced)" : "", trace_note);
	}
	return hg_checks_add(d->out, id, HG_CHECK_FAIL, NULL, "%s: %s", what,
			     d->errnum ? strerror(d->errnum) : "no answer");
}

static int check_ports(struct doctor *d, struct hg_error *err)
{
	for (size_t i = 0; i < d->o->n_ports; i++) {
		const struct hg_doctor_port *p = &d->o->ports[i];
		uint16_t hp = host_port_of(&d->cfg, p->proto, p->port);
		d->proto = p->proto;
		for (int s = 0; s < 2; s++) {
			const struct hg_ip *h = &d->host.ip[s], *t = &d->targets.ip[s];
			if (!h->family || !d->reachable[s])
				continue;
			if (probe_one(d, s, h, h, p->port, p->port, err) < 0)
				return -1;
			if (t->family && !hg_ip_equal(t, h) && probe_one(d, s, t, h, p->port, p->port, err) < 0)
				return -1;
			if (s == 0 && in_localhost_ports(&d->cfg, p->proto, p->port)) {
				struct hg_ip lo;
				hg_ip_parse("127.0.0.1", false, &lo);
				if (probe_one(d, s, &lo, h, p->port, hp, err) < 0)
					return -1;
			}
		}
	}
	return 0;
}

static int check_addresses(struct doctor *d)
{
	char buf[HG_IP_STRLEN], id[32];
	int r = 0;
	if (d->cn.n_addrs == 0)
		return hg_checks_add(d->out, "container-address", HG_CHECK_FAIL,
				     "attach the container to a network (its CNI ADD did not run or failed)",
				     "the container has no global address");
	for (int s = 0; s < 2 && r == 0; s++) {
		int fam = s ? AF_INET6 : AF_INET;
		if (!hg_container_has_family(&d->cn, fam))
			continue;
		snprintf(id, sizeof(id), "host-address-%s", s ? "ipv6" : "ipv4");
		if (!d->host.ip[s].family) {
			r = hg_checks_add(d->out, id, HG_CHECK_FAIL,
					  "give the container a default route, or set \"hostIPs\" to the host's address in the "
					  "host-gateway configuration",
					  "no host address for %s: the container has no default route of that family and "
					  "hostIPs gives none",
					  fam_name(s));
			continue;
		}
		hg_ip_str(&d->host.ip[s], buf);
		r = hg_checks_add(d->out, id, HG_CHECK_PASS, NULL, "host address for %s: %s (from the %s)", fam_name(s), buf,
				  d->have_rec ? "attachment record" : "configuration");
		if (r < 0)
			break;
		snprintf(id, sizeof(id), "route-%s", s ? "ipv6" : "ipv4");
		char fix[256];
		snprintf(fix, sizeof(fix), "add a route to %s in the container (host-gateway's CNI ADD or hook adds it): "
			 "nsenter --net=%s ip route add %s dev IFACE", buf, d->nspath, buf);
		if (d->reachable[s])
			r = hg_checks_add(d->out, id, HG_CHECK_PASS, NULL, "the container has a route to %s", buf);
		else
			r = hg_checks_add(d->out, id, HG_CHECK_FAIL, fix, "the container has no route to %s", buf);
	}
	return r;
}

static int check_hosts(struct doctor *d)
{
	_cleanup_target_ struct hg_hosts_target t = {0};
	struct hg_error e = {0};
	bool gone = false;
	if (hg_target_for_pid(d->o->pid, &t, &e) < 0)
		return hg_checks_add(d->out, "hosts", HG_CHECK_UNKNOWN, NULL, "cannot check /etc/hosts of process %d: %s",
				     (int) d->o->pid, e.msg[0] ? e.msg : "unknown reason");
	e = (struct hg_error){0};
	/* Read-only: a read-only mount of the file is a container's right, and a diagnosis
	 * writes nothing. */
	_cleanup_close_ int fd = hg_target_open_read(&t, &gone, &e);
	if (fd < 0)
		return hg_checks_add(d->out, "hosts", HG_CHECK_UNKNOWN, NULL, "cannot open /etc/hosts of process %d: %s",
				     (int) d->o->pid, e.msg);
	_cleanup_free_ char *text = NULL;
	if (hg_read_fd(fd, "/etc/hosts", HG_HOSTS_MAX_SIZE, 0, NULL, &text, NULL, &e) < 0)
		return hg_checks_add(d->out, "hosts", HG_CHECK_UNKNOWN, NULL, "cannot read /etc/hosts of process %d: %s",
				     (int) d->o->pid, e.msg);

	/* What should be there: the record's entries (names and extra hosts), else the
	 * configured names on the addresses they resolve to. */
	size_t bad = 0, good = 0;
	size_t n_want = d->have_rec ? d->rec.n_entries : 2;
	for (size_t s = 0; s < n_want; s++) {
		const struct hg_ip *ip = d->have_rec ? &d->rec.entries[s].ip : &d->targets.ip[s];
		char *const *names = d->have_rec ? d->rec.entries[s].names : d->cfg.names;
		if (!ip->family)
			continue;
		char want[HG_IP_STRLEN], other[HG_IP_STRLEN], id[300], fix[600];
		hg_ip_str(ip, want);
		for (size_t i = 0; names && names[i]; i++) {
			unsigned line = 0;
			enum hg_hosts_name_state st = hg_doctor_hosts_name(text, names[i], ip, other, &line);
			snprintf(id, sizeof(id), "hosts-%s-%s", names[i], ip->family == AF_INET6 ? "ipv6" : "ipv4");
			int r = 0;
			if (st == HG_HOSTS_NAME_OK) {
				good++;
				continue;
			}
			bad++;
			if (st == HG_HOSTS_NAME_MISSING) {
				snprintf(fix, sizeof(fix),
					 "restart the container (its CNI ADD or OCI hook writes the names), or add the line "
					 "\"%s %s\" to /proc/%d/root/etc/hosts",
					 want, names[i], (int) d->o->pid);
				r = hg_checks_add(d->out, id, HG_CHECK_FAIL, fix, "%s is missing from the container's /etc/hosts",
						  names[i]);
			} else {
				snprintf(fix, sizeof(fix), "remove line %u (\"%s %s\") from the container's /etc/hosts", line,
					 other, names[i]);
				r = hg_checks_add(d->out, id, HG_CHECK_FAIL, fix,
						  "%s is shadowed in the container's /etc/hosts: line %u maps it to %s, not %s",
						  names[i], line, other, want);
			}
			if (r < 0)
				return r;
		}
	}
	if (bad == 0 && good > 0)
		return hg_checks_add(d->out, "hosts", HG_CHECK_PASS, NULL, "the container's /etc/hosts maps all %zu names",
				     good);
	return 0;
}

static int run_container(struct doctor *d, struct hg_error *err)
{
	bool gone = false;
	char pidns[64];
	if (geteuid() != 0)
		return hg_error_set(err, HG_CNI_NETNS, "doctor needs root to enter the container's network namespace");
	if (d->o->pid > 0) {
		snprintf(pidns, sizeof(pidns), "/proc/%d/ns/net", (int) d->o->pid);
		d->nspath = pidns;
	} else {
		d->nspath = d->o->netns;
	}
	d->nsfd = hg_netns_open(d->nspath, &gone, err);
	if (d->nsfd < 0)
		return -1;
	if (load_config(d, err) < 0)
		return -1;
	struct hg_netns_id id;
	if (hg_netns_identify_full(d->nsfd, &id) < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "identify %s", d->nspath);
	int found = hg_record_find_by_netns(d->cfg.state_dir, &id, &d->rec, err);
	if (found < 0)
		return -1;
	d->have_rec = found == 1;
	if (hg_netns_run(d->nsfd, gather_container, d, err) < 0)
		return -1;
	if (d->have_rec) {
		d->host = d->rec.host_ips;
		d->targets = d->rec.targets;
	} else {
		struct hg_gateway node[2] = {0};
		struct hg_error e = {0};
		hg_route_default_gateways(node, &e); /* only hostIPs "node-gateway" needs it */
		hg_hostaddr_choose(&d->cfg, &d->cn, d->gw, node, &d->host);
		hg_hostaddr_targets(&d->cfg, &d->cn, &d->host, &d->targets);
	}
	if (hg_netns_run(d->nsfd, container_routes, d, err) < 0)
		return -1;
	for (int s = 0; s < 2; s++)
		if (d->host.ip[s].family)
			find_iif(d, s);
	if (check_addresses(d) < 0 || check_rp_filter(d) < 0)
		return hg_error_oom(err);
	struct hg_error le = {0};
	if (hg_addresses(d->local, ARRAY_SIZE(d->local), &d->n_local, &le) < 0)
		d->n_local = 0; /* then every host address counts as the host's own */
	if (check_ports(d, err) < 0)
		return -1;
	if (d->o->pid > 0 && check_hosts(d) < 0)
		return hg_error_oom(err);
	return 0;
}

int hg_doctor_run(const struct hg_doctor_opts *o, struct hg_checks *out, struct hg_error *err)
{
	struct doctor d = {.o = o, .out = out, .nsfd = -1};
	int r = 0;
	hg_record_init(&d.rec);
	if (o->netns || o->pid > 0)
		r = run_container(&d, err);
	if (r == 0 && o->cni_conf_dir && check_conf_dir(o->cni_conf_dir, out) < 0)
		r = hg_error_oom(err);
	if (d.nsfd >= 0)
		close(d.nsfd);
	hg_record_free(&d.rec);
	hg_config_free(&d.cfg);
	return r;
}
