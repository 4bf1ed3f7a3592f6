/* SPDX-License-Identifier: Apache-2.0 */
/* One configuration model for both personalities: the keys of the CNI plugin entry and of the
 * hook's config file are the same, and pod/container annotations override some of them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/ip.h"
#include "base/error.h"

#define HG_DEFAULT_STATE_DIR "/run/host-gateway"
#define HG_ANNOTATION_ENABLED "host-gateway.io/enabled"
#define HG_ANNOTATION_NAMES "host-gateway.io/names"
#define HG_ANNOTATION_EXTRA_HOSTS "host-gateway.io/extra-hosts"
#define HG_ANNOTATION_LOCALHOST_PORTS "host-gateway.io/localhost-ports"
#define HG_MAX_HOST_IPS 8

/* What configuration plus annotations may ask for, so that the work an annotation causes
 * is bounded (README "Limits"). A port element is one port of a remapped localhostPorts
 * range or of a hostLoopbackPorts entry (nftables has no range-to-range offset, so those
 * are one map element per port); a localhostPorts entry that keeps its port numbers is
 * one rule and counts once. */
#define HG_MAX_NAMES 64
#define HG_MAX_EXTRA_HOSTS 256
#define HG_MAX_PORT_SPECS 256     /* localhostPorts + hostLoopbackPorts entries */
#define HG_MAX_PORT_ELEMENTS 4096
#define HG_MAX_ANNOTATION_LEN 16384

enum hg_hostip_kind {
	HG_HOSTIP_AUTO,         /* prevResult gateway, else the netns default route */
	HG_HOSTIP_NODE_GATEWAY, /* default-route gateway of the netns the plugin runs in */
	HG_HOSTIP_LITERAL,
};

struct hg_hostip_spec {
	enum hg_hostip_kind kind;
	struct hg_ip ip; /* HG_HOSTIP_LITERAL only */
};

struct hg_extra_host {
	char *name;
	bool host_gateway; /* "name:host-gateway": resolves to the host address(es) */
	struct hg_ip ip;   /* otherwise */
};

enum hg_proto { HG_TCP, HG_UDP };
/* "tcp" or "udp". */
const char *hg_proto_name(enum hg_proto p);
/* The inverse: -1 for anything else. */
int hg_parse_proto(const char *s, enum hg_proto *out);
/* A port of 1 to 65535 in the len bytes at s, decimal digits only (at most 5): -1
 * otherwise. */
int hg_parse_port(const char *s, size_t len, uint16_t *out);

/* "5432", "6379/tcp", "53/udp", "8000-8010", "8080:80" (container port : host port). */
struct hg_port_map {
	enum hg_proto proto;
	uint16_t first, last;   /* ports as the container uses them */
	uint16_t host_first;    /* first host port; host_first + (p - first) for each p */
};

enum hg_failure_policy { HG_FAIL_IGNORE, HG_FAIL_FAIL };

struct hg_config {
	bool enabled;
	char **names;
	struct hg_hostip_spec host_ips[HG_MAX_HOST_IPS];
	size_t n_host_ips;
	struct hg_extra_host *extra_hosts;
	size_t n_extra_hosts;
	char *state_dir;
	char *log_file;
	struct hg_ip virtual_ips[2];
	size_t n_virtual_ips;
	bool host_alias;
	struct hg_port_map *localhost_ports;
	size_t n_localhost_ports;
	struct hg_port_map *host_loopback_ports;
	size_t n_host_loopback_ports;
	enum hg_failure_policy failure_policy;
	bool names_annotated; /* names or extra hosts came from annotations */
};

/* The defaults; -1 when out of memory (hg_config_free frees what was made). */
int hg_config_init(struct hg_config *c);
void hg_config_free(struct hg_config *c);
static inline void hg_config_freep(struct hg_config *c) { hg_config_free(c); }
#define _cleanup_config_ __attribute__((cleanup(hg_config_freep)))

/* Reads the keys of obj (a CNI plugin entry or the hook config file) over the defaults.
 * Unknown keys are ignored (CNI requires it); a known key with a bad value is
 * HG_CNI_INVALID_CONFIG naming the key and the value. allow_failure_policy is the hook's. */
int hg_config_load_json(struct hg_config *c, json_t *obj, bool allow_failure_policy, struct hg_error *err);

/* Applies the host-gateway.io annotations of a string map (pod or container annotations). */
int hg_config_apply_annotations(struct hg_config *c, json_t *annotations, struct hg_error *err);

/* For DEL, GC and poststop, which undo from records and must never fail on configuration:
 * reads only stateDir and logFile, keeping the default of an invalid one. Returns the
 * number of invalid keys; err describes the last one (untouched when there is none). */
int hg_config_load_locations(struct hg_config *c, json_t *obj, struct hg_error *err);

/* The port elements a configuration asks for (see HG_MAX_PORT_ELEMENTS). */
size_t hg_config_port_elements(const struct hg_config *c);

/* Parsers shared with the annotations and the tests: 0, or -1 for text they refuse (and,
 * hg_parse_extra_host, when out of memory). */
int hg_parse_name(const char *s);
int hg_parse_extra_host(const char *s, struct hg_extra_host *out);
int hg_parse_port_map(const char *s, struct hg_port_map *out);
