/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway doctor`: why a container does not reach the host. It first tries the asked
 * ports for real from inside the container's network namespace, then explains each failure
 * from what it can read (addresses, routes, listening sockets, the nftables ruleset and its
 * counters, rp_filter, the container's /etc/hosts, the CNI configuration folder). Read-only:
 * it changes no rule, sysctl or file, but with trace: then it adds a table of its own for
 * the time of each probe (os/nft-trace.h) and removes it. The result is a list of checks; the front prints them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/config.h"
#include "base/ip.h"
#include "base/error.h"

enum hg_check_status { HG_CHECK_PASS, HG_CHECK_FAIL, HG_CHECK_UNKNOWN };

struct hg_check {
	char *id;      /* stable, e.g. "port-tcp-10.0.0.1-8080" */
	enum hg_check_status status;
	char *message; /* one line */
	char *fix;     /* one line, or NULL */
	json_t *rule;  /* the firewall rule that explains a failed port, or NULL (--json "rule") */
};

struct hg_checks {
	struct hg_check *v;
	size_t n;
};

void hg_checks_free(struct hg_checks *c);
static inline void hg_checks_freep(struct hg_checks *c) { hg_checks_free(c); }
#define _cleanup_checks_ __attribute__((cleanup(hg_checks_freep)))
/* Appends a check (fix may be NULL); -1 when out of memory. */
int hg_checks_add(struct hg_checks *c, const char *id, enum hg_check_status status, const char *fix,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool hg_checks_failed(const struct hg_checks *c);
/* Did any check pass or fail (not every one "unknown")? */
bool hg_checks_diagnosed(const struct hg_checks *c);
const char *hg_check_status_name(enum hg_check_status s);

#define HG_DOCTOR_MAX_PORTS 64

struct hg_doctor_port {
	enum hg_proto proto;
	uint16_t port;
};

struct hg_doctor_opts {
	const char *netns;    /* a network namespace path, or NULL */
	pid_t pid;            /* > 0: /proc/PID/ns/net, and /proc/PID/root/etc/hosts */
	const char *config;   /* the hook config or a CNI entry (or conflist) JSON file */
	bool config_given;    /* a missing default config is the defaults; a missing given one is an error */
	const char *cni_conf_dir;
	struct hg_doctor_port ports[HG_DOCTOR_MAX_PORTS];
	size_t n_ports;
	bool trace;           /* trace the probes through nftables (a table of doctor's own, removed after) */
};

/* "8080", "8080/tcp", "53/udp"; -EINVAL. */
int hg_doctor_parse_port(const char *s, struct hg_doctor_port *out);

/* Runs every check the options ask for into *out. -1 (err says why) when no diagnosis is
 * possible: not root, the namespace or process is gone, the configuration is unreadable. */
int hg_doctor_run(const struct hg_doctor_opts *o, struct hg_checks *out, struct hg_error *err);

/* Pure checks, unit-tested. */

enum hg_hosts_name_state { HG_HOSTS_NAME_OK, HG_HOSTS_NAME_MISSING, HG_HOSTS_NAME_SHADOWED };
/* How a resolver reading the hosts text resolves name for ip's family: the first line of
 * that family naming it wins. OK when it maps ip, SHADOWED (its address in other, its
 * line number in *line) when it maps another address, MISSING when no line names it. */
enum hg_hosts_name_state hg_doctor_hosts_name(const char *content, const char *name, const struct hg_ip *ip,
					      char other[HG_IP_STRLEN], unsigned *line);

/* The check of one conflist (already parsed): ours present, and after the main plugin. */
int hg_doctor_conflist_check(json_t *list, const char *path, const char *dir, struct hg_checks *out);
