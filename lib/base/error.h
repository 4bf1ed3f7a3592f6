/* SPDX-License-Identifier: Apache-2.0 */
/* One error type for the whole library: where a failure is found, it is described once,
 * with the CNI error code that fits it; the fronts turn it into CNI error JSON or a hook log line. */
#pragma once

#include <stdarg.h>

enum hg_cni_code {
	HG_CNI_INCOMPATIBLE_VERSION = 1,
	HG_CNI_UNSUPPORTED_FIELD = 2,
	HG_CNI_UNKNOWN_CONTAINER = 3,
	HG_CNI_INVALID_ENV = 4,
	HG_CNI_IO = 5,
	HG_CNI_DECODE = 6,
	HG_CNI_INVALID_CONFIG = 7,
	HG_CNI_OWN_NETNS = 8,
	HG_CNI_TRY_AGAIN = 11,
	HG_CNI_NOT_READY = 50,
	/* Ours (documented in host-gateway(8), "CNI error codes"): */
	HG_CNI_NO_HOST_ADDRESS = 100,  /* no host address could be determined */
	HG_CNI_NETNS = 101,            /* entering the network namespace failed */
	HG_CNI_NETLINK = 102,          /* a route could not be read or written */
	HG_CNI_HOSTS_FILE = 103,       /* the hosts file was refused or could not be written */
	HG_CNI_NFTABLES = 104,         /* nftables rules could not be applied */
	HG_CNI_STATE = 105,            /* the state directory could not be used */
	HG_CNI_CHECK_FAILED = 106,     /* CHECK found one of our artefacts missing or altered */
};

struct hg_error {
	int code;
	int errnum; /* the errno behind it, when a system call failed; 0 otherwise */
	char msg[512];
	char details[512];
};

/* Fill err and return -1, so that `return hg_error_set(err, ...)` is one statement. */
int hg_error_set(struct hg_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with strerror(errnum) appended to the message. */
int hg_error_errno(struct hg_error *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix context to an error already set: "context: previous message". */
int hg_error_prefix(struct hg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one out-of-memory error: code HG_CNI_IO, message "out of memory"; returns -1. */
int hg_error_oom(struct hg_error *err);
void hg_error_details(struct hg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
