/* SPDX-License-Identifier: Apache-2.0 */
/* Entering a container's network namespace and coming back. Netlink sockets and
 * /proc/sys/net follow the namespace they are opened in, so work that needs them runs
 * inside hg_netns_run's callback and opens them there. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

struct hg_netns_id {
	dev_t dev;
	ino_t ino;
	uint64_t cookie; /* never reused by the kernel, unlike ino; 0 = unknown */
};

/* Opens a network namespace file (/var/run/netns/X, /proc/PID/ns/net); -1 with
 * HG_CNI_NETNS when it is missing or not a network namespace. *gone tells "missing". */
int hg_netns_open(const char *path, bool *gone, struct hg_error *err);
/* The device and inode of the namespace open at fd (cookie 0); -1 with errno. */
int hg_netns_identify(int fd, struct hg_netns_id *id);
/* The cookie of the network namespace this process is in now (SO_NETNS_COOKIE); 0 when
 * the kernel has none (before 5.14). */
uint64_t hg_netns_cookie(void);
/* hg_netns_identify plus the cookie, which takes entering the namespace (errno EIO when
 * that fails). */
int hg_netns_identify_full(int fd, struct hg_netns_id *id);
/* Is fd the namespace this process runs in? */
bool hg_netns_is_current(int fd);

typedef int (*hg_netns_fn)(void *ctx, struct hg_error *err);
/* Runs fn inside the namespace nsfd and returns to the current one, whatever fn returns. */
int hg_netns_run(int nsfd, hg_netns_fn fn, void *ctx, struct hg_error *err);

