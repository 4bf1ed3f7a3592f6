/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdlib.h>
#include <ctype.h>
#include <errno.h>
#include "base/config.h"
#include "base/util.h"

static const char *const default_names[] = {
	"host.docker.internal", "host.containers.internal", "gateway.docker.internal",
};

int hg_config_init(struct hg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->names = calloc(1, sizeof(char *));
	c->state_dir = strdup(HG_DEFAULT_STATE_DIR);
	if (!c->names || !c->state_dir)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(default_names); i++)
		if (strv_push(&c->names, default_names[i]) < 0)
			return -1;
	c->host_ips[0].kind = HG_HOSTIP_AUTO;
	c->n_host_ips = 1;
	c->failure_policy = HG_FAIL_IGNORE;
	return 0;
}

static void free_extra_hosts(struct hg_config *c)
{
	for (size_t i = 0; i < c->n_extra_hosts; i++)
		free(c->extra_hosts[i].name);
	free(c->extra_hosts);
	c->extra_hosts = NULL;
	c->n_extra_hosts = 0;
}

void hg_config_free(struct hg_config *c)
{
	strv_free(c->names);
	free_extra_hosts(c);
	free(c->state_dir);
	free(c->log_file);
	free(c->localhost_ports);
	free(c->host_loopback_ports);
	memset(c, 0, sizeof(*c));
}

/* A host name as /etc/hosts and resolvers accept it: letters, digits, '-', '_', '.'. */
int hg_parse_name(const char *s)
{
	size_t n = strlen(s);
	/* No empty label ("a..b", a trailing dot): resolvers and CoreDNS would not match it. */
	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || strstr(s, ".."))
		return -1;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_' && *p != '.')
			return -1;
	return 0;
}

/* Docker's --add-host: "name:IP", "name=IP", "name:host-gateway", IPv6 optionally in brackets. */
int hg_parse_extra_host(const char *s, struct hg_extra_host *out)
{
	const char *sep = strpbrk(s, ":=");
	char name[256], value[HG_IP_STRLEN + 2];
	struct hg_extra_host h = {0};

	if (!sep || (size_t) (sep - s) >= sizeof(name) || strlen(sep + 1) >= sizeof(value))
		return -1;
	memcpy(name, s, sep - s);
	name[sep - s] = '\0';
	strcpy(value, sep + 1);
	if (hg_parse_name(name) < 0)
		return -1;
	if (strcmp(value, "host-gateway") == 0) {
		h.host_gateway = true;
	} else {
		char *v = value;
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
			v[n - 1] = '\0';
			v++;
		}
		if (hg_ip_parse(v, false, &h.ip) < 0)
			return -1;
	}
	h.name = strdup(name);
	if (!h.name)
		return -1;
	*out = h;
	return 0;
}

const char *hg_proto_name(enum hg_proto p) { return p == HG_UDP ? "udp" : "tcp"; }

int hg_parse_proto(const char *s, enum hg_proto *out)
{
	if (strcmp(s, "tcp") == 0)
		*out = HG_TCP;
	else if (strcmp(s, "udp") == 0)
		*out = HG_UDP;
	else
		return -1;
	return 0;
}

int hg_parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char) s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

static int parse_port_range(const char *s, size_t len, uint16_t *first, uint16_t *last)
{
	const char *dash = memchr(s, '-', len);
	if (!dash) {
		if (hg_parse_port(s, len, first) < 0)
			return -1;
		*last = *first;
		return 0;
	}
	if (hg_parse_port(s, dash - s, first) < 0 || hg_parse_port(dash + 1, len - (dash - s) - 1, last) < 0 ||
	    *last < *first)
		return -1;
	return 0;
}

int hg_parse_port_map(const char *s, struct hg_port_map *out)
{
	struct hg_port_map m = {.proto = HG_TCP};
	size_t len = strlen(s);
	const char *slash = strchr(s, '/');

	if (slash) {
		if (hg_parse_proto(slash + 1, &m.proto) < 0)
			return -1;
		len = slash - s;
	}
	const char *colon = memchr(s, ':', len);
	if (!colon) {
		if (parse_port_range(s, len, &m.first, &m.last) < 0)
			return -1;
		m.host_first = m.first;
	} else {
		uint16_t hfirst, hlast;
		if (parse_port_range(s, colon - s, &m.first, &m.last) < 0 ||
		    parse_port_range(colon + 1, len - (colon - s) - 1, &hfirst, &hlast) < 0)
			return -1;
		/* A remapped range must keep its length, as Docker's -p requires. */
		if (hlast - hfirst != m.last - m.first)
			return -1;
		m.host_first = hfirst;
	}
	*out = m;
	return 0;
}

static int invalid(struct hg_error *err, const char *key, json_t *value, const char *why)
{
	_cleanup_free_ char *text = value ? json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	return hg_error_set(err, HG_CNI_INVALID_CONFIG, "invalid configuration: key \"%s\": %s%s%s", key,
			    text ? text : "", text ? " " : "", why);
}

/* Every list key accepts a JSON array of strings. */
static int require_string_array(json_t *v, const char *key, struct hg_error *err)
{
	size_t i;
	json_t *item;
	if (!json_is_array(v))
		return invalid(err, key, v, "must be an array of strings");
	json_array_foreach (v, i, item)
		if (!json_is_string(item))
			return invalid(err, key, item, "must be a string");
	return 0;
}

static int load_names(char ***names, json_t *v, const char *key, struct hg_error *err)
{
	_cleanup_strv_ char **list = calloc(1, sizeof(char *));
	size_t i;
	json_t *item;
	if (!list)
		return hg_error_oom(err);
	json_array_foreach (v, i, item) {
		const char *s = json_string_value(item);
		if (hg_parse_name(s) < 0)
			return invalid(err, key, item, "is not a valid host name");
		if (strv_contains(list, s))
			continue;
		if (strv_len(list) >= HG_MAX_NAMES)
			return invalid(err, key, NULL, "has more than " STR(HG_MAX_NAMES) " names");
		if (strv_push(&list, s) < 0)
			return hg_error_oom(err);
	}
	strv_free(*names);
	*names = TAKE_PTR(list);
	return 0;
}

static int add_extra_host(struct hg_config *c, const char *s, const char *key, json_t *shown,
			  struct hg_error *err)
{
	struct hg_extra_host h;
	if (c->n_extra_hosts >= HG_MAX_EXTRA_HOSTS)
		return invalid(err, key, NULL, "has more than " STR(HG_MAX_EXTRA_HOSTS) " entries (with extraHosts)");
	if (hg_parse_extra_host(s, &h) < 0)
		return invalid(err, key, shown, "is not NAME:IP or NAME:host-gateway");
	struct hg_extra_host *grown = realloc(c->extra_hosts, (c->n_extra_hosts + 1) * sizeof(*grown));
	if (!grown) {
		free(h.name);
		return hg_error_oom(err);
	}
	c->extra_hosts = grown;
	c->extra_hosts[c->n_extra_hosts++] = h;
	return 0;
}

static size_t port_elements(const struct hg_port_map *m, bool each_port)
{
	return each_port || m->host_first != m->first ? (size_t) (m->last - m->first) + 1 : 1;
}

size_t hg_config_port_elements(const struct hg_config *c)
{
	size_t total = 0;
	for (size_t i = 0; i < c->n_localhost_ports; i++)
		total += port_elements(&c->localhost_ports[i], false);
	for (size_t i = 0; i < c->n_host_loopback_ports; i++)
		total += port_elements(&c->host_loopback_ports[i], true);
	return total;
}

/* Checked as each entry is added, so that a long list is refused before it is expanded. */
static int add_port_map(struct hg_config *c, bool loopback, const char *s, const char *key, json_t *shown,
			struct hg_error *err)
{
	struct hg_port_map **list = loopback ? &c->host_loopback_ports : &c->localhost_ports;
	size_t *n = loopback ? &c->n_host_loopback_ports : &c->n_localhost_ports;
	struct hg_port_map m;
	if (hg_parse_port_map(s, &m) < 0)
		return invalid(err, key, shown,
			       "is not PORT, PORT/tcp, PORT/udp, FIRST-LAST or CONTAINER:HOST (ports 1-65535)");
	if (c->n_localhost_ports + c->n_host_loopback_ports >= HG_MAX_PORT_SPECS)
		return invalid(err, key, NULL,
			       "too many port entries: localhostPorts and hostLoopbackPorts together take at most " STR(
				       HG_MAX_PORT_SPECS));
	if (hg_config_port_elements(c) + port_elements(&m, loopback) > HG_MAX_PORT_ELEMENTS)
		return invalid(err, key, shown,
			       "asks for too many ports: localhostPorts remaps and hostLoopbackPorts together take at "
			       "most " STR(HG_MAX_PORT_ELEMENTS) " ports");
	struct hg_port_map *grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown)
		return hg_error_oom(err);
	*list = grown;
	(*list)[(*n)++] = m;
	return 0;
}

static int load_port_maps(struct hg_config *c, bool loopback, json_t *v, const char *key, struct hg_error *err)
{
	size_t i;
	json_t *item;
	struct hg_port_map **list = loopback ? &c->host_loopback_ports : &c->localhost_ports;
	free(*list);
	*list = NULL;
	*(loopback ? &c->n_host_loopback_ports : &c->n_localhost_ports) = 0;
	if (require_string_array(v, key, err) < 0)
		return -1;
	json_array_foreach (v, i, item)
		if (add_port_map(c, loopback, json_string_value(item), key, item, err) < 0)
			return -1;
	return 0;
}

static int load_host_ips(struct hg_config *c, json_t *v, struct hg_error *err)
{
	size_t i, n4 = 0, n6 = 0;
	json_t *item;
	if (require_string_array(v, "hostIPs", err) < 0)
		return -1;
	if (json_array_size(v) == 0)
		return invalid(err, "hostIPs", v, "must not be empty");
	if (json_array_size(v) > HG_MAX_HOST_IPS)
		return invalid(err, "hostIPs", v, "has too many entries");
	c->n_host_ips = 0;
	json_array_foreach (v, i, item) {
		const char *s = json_string_value(item);
		struct hg_hostip_spec spec = {0};
		if (strcmp(s, "auto") == 0)
			spec.kind = HG_HOSTIP_AUTO;
		else if (strcmp(s, "node-gateway") == 0)
			spec.kind = HG_HOSTIP_NODE_GATEWAY;
		else if (hg_ip_parse(s, false, &spec.ip) == 0)
			spec.kind = HG_HOSTIP_LITERAL;
		else
			return invalid(err, "hostIPs", item, "is not \"auto\", \"node-gateway\" or an IP address");
		if (spec.kind == HG_HOSTIP_LITERAL && (spec.ip.family == AF_INET ? ++n4 : ++n6) > 1)
			return invalid(err, "hostIPs", v, "has more than one IPv4 or more than one IPv6 address");
		c->host_ips[c->n_host_ips++] = spec;
	}
	return 0;
}

static int load_virtual_ips(struct hg_config *c, json_t *v, struct hg_error *err)
{
	size_t i;
	json_t *item;
	if (require_string_array(v, "virtualIPs", err) < 0)
		return -1;
	c->n_virtual_ips = 0;
	json_array_foreach (v, i, item) {
		struct hg_ip ip;
		if (hg_ip_parse(json_string_value(item), false, &ip) < 0)
			return invalid(err, "virtualIPs", item, "is not an IP address");
		for (size_t j = 0; j < c->n_virtual_ips; j++)
			if (c->virtual_ips[j].family == ip.family)
				return invalid(err, "virtualIPs", v, "has more than one address of a family");
		if (c->n_virtual_ips == 2)
			return invalid(err, "virtualIPs", v, "has more than one address of a family");
		c->virtual_ips[c->n_virtual_ips++] = ip;
	}
	return 0;
}

static int load_path(char **dst, json_t *v, const char *key, struct hg_error *err)
{
	const char *s = json_string_value(v);
	if (!s || s[0] != '/')
		return invalid(err, key, v, "must be an absolute path");
	char *copy = strdup(s);
	if (!copy)
		return hg_error_oom(err);
	free(*dst);
	*dst = copy;
	return 0;
}

int hg_config_load_json(struct hg_config *c, json_t *obj, bool allow_failure_policy, struct hg_error *err)
{
	json_t *v;

	if (!json_is_object(obj))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "invalid configuration: not a JSON object");
	if ((v = json_object_get(obj, "names"))) {
		if (require_string_array(v, "names", err) < 0 || load_names(&c->names, v, "names", err) < 0)
			return -1;
	}
	if ((v = json_object_get(obj, "hostIPs")) && load_host_ips(c, v, err) < 0)
		return -1;
	if ((v = json_object_get(obj, "extraHosts"))) {
		size_t i;
		json_t *item;
		if (require_string_array(v, "extraHosts", err) < 0)
			return -1;
		free_extra_hosts(c);
		json_array_foreach (v, i, item)
			if (add_extra_host(c, json_string_value(item), "extraHosts", item, err) < 0)
				return -1;
	}
	if ((v = json_object_get(obj, "stateDir")) && load_path(&c->state_dir, v, "stateDir", err) < 0)
		return -1;
	if ((v = json_object_get(obj, "logFile")) && load_path(&c->log_file, v, "logFile", err) < 0)
		return -1;
	if ((v = json_object_get(obj, "virtualIPs")) && load_virtual_ips(c, v, err) < 0)
		return -1;
	if ((v = json_object_get(obj, "hostAlias"))) {
		if (!json_is_boolean(v))
			return invalid(err, "hostAlias", v, "must be true or false");
		c->host_alias = json_is_true(v);
	}
	if ((v = json_object_get(obj, "localhostPorts")) && load_port_maps(c, false, v, "localhostPorts", err) < 0)
		return -1;
	if ((v = json_object_get(obj, "hostLoopbackPorts")) && load_port_maps(c, true, v, "hostLoopbackPorts", err) < 0)
		return -1;
	if (allow_failure_policy && (v = json_object_get(obj, "failurePolicy"))) {
		const char *s = json_string_value(v);
		if (s && strcmp(s, "ignore") == 0)
			c->failure_policy = HG_FAIL_IGNORE;
		else if (s && strcmp(s, "fail") == 0)
			c->failure_policy = HG_FAIL_FAIL;
		else
			return invalid(err, "failurePolicy", v, "must be \"ignore\" or \"fail\"");
	}
	if (c->host_alias && c->n_virtual_ips == 0)
		return invalid(err, "hostAlias", json_true(), "needs virtualIPs");
	return 0;
}

/* Splits a comma list, trimming blanks; empty items are skipped. */
static int split_commas(const char *s, char ***out)
{
	_cleanup_strv_ char **list = calloc(1, sizeof(char *));
	if (!list)
		return -1;
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > start) {
			char item[512];
			if ((size_t) (end - start) >= sizeof(item))
				return -1;
			memcpy(item, start, end - start);
			item[end - start] = '\0';
			if (strv_push(&list, item) < 0)
				return -1;
		}
	}
	*out = TAKE_PTR(list);
	return 0;
}

static int annotation_list(json_t *annotations, const char *key, char ***out, struct hg_error *err)
{
	json_t *v = json_object_get(annotations, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return invalid(err, key, v, "must be a comma-separated string");
	if (json_string_length(v) > HG_MAX_ANNOTATION_LEN)
		return invalid(err, key, NULL, "is longer than " STR(HG_MAX_ANNOTATION_LEN) " bytes");
	if (split_commas(json_string_value(v), out) < 0)
		return invalid(err, key, v, "must be a comma-separated string");
	return 1;
}

int hg_config_load_locations(struct hg_config *c, json_t *obj, struct hg_error *err)
{
	static const char *const keys[] = {"stateDir", "logFile"};
	int bad = 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(obj, keys[i]);
		struct hg_error e = {0};
		if (v && load_path(i == 0 ? &c->state_dir : &c->log_file, v, keys[i], &e) < 0) {
			*err = e;
			bad++;
		}
	}
	return bad;
}

int hg_config_apply_annotations(struct hg_config *c, json_t *annotations, struct hg_error *err)
{
	_cleanup_strv_ char **names = NULL, **extra = NULL, **ports = NULL;
	json_t *v;
	int r;

	if (!annotations || json_is_null(annotations))
		return 0;
	if (!json_is_object(annotations))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "invalid configuration: annotations are not an object");

	if ((v = json_object_get(annotations, HG_ANNOTATION_ENABLED))) {
		const char *s = json_string_value(v);
		if (s && strcmp(s, "true") == 0)
			c->enabled = true;
		else if (s && strcmp(s, "false") == 0)
			c->enabled = false;
		else
			return invalid(err, HG_ANNOTATION_ENABLED, v, "must be \"true\" or \"false\"");
	}
	if ((r = annotation_list(annotations, HG_ANNOTATION_NAMES, &names, err)) < 0)
		return -1;
	if (r > 0) {
		json_auto_t *arr = json_array();
		for (size_t i = 0; arr && names[i]; i++)
			if (json_array_append_new(arr, json_string(names[i])) < 0)
				return hg_error_oom(err);
		if (!arr)
			return hg_error_oom(err);
		if (load_names(&c->names, arr, HG_ANNOTATION_NAMES, err) < 0)
			return -1;
		c->names_annotated = true;
	}
	if ((r = annotation_list(annotations, HG_ANNOTATION_EXTRA_HOSTS, &extra, err)) < 0)
		return -1;
	for (size_t i = 0; r > 0 && extra[i]; i++) {
		json_auto_t *shown = json_string(extra[i]);
		if (add_extra_host(c, extra[i], HG_ANNOTATION_EXTRA_HOSTS, shown, err) < 0)
			return -1;
		c->names_annotated = true;
	}
	if ((r = annotation_list(annotations, HG_ANNOTATION_LOCALHOST_PORTS, &ports, err)) < 0)
		return -1;
	for (size_t i = 0; r > 0 && ports[i]; i++) {
		json_auto_t *shown = json_string(ports[i]);
		if (add_port_map(c, false, ports[i], HG_ANNOTATION_LOCALHOST_PORTS, shown, err) < 0)
			return -1;
	}
	return 0;
}
