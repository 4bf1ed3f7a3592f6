/* SPDX-License-Identifier: Apache-2.0 */
/* Stream sockets with deadlines: a peer that stops reading or writing costs a bounded
 * wait, never a hung process. Every fd here is non-blocking and close-on-exec. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/error.h"

/* CLOCK_MONOTONIC in milliseconds: deadlines survive changes of the wall clock. */
int64_t hg_monotonic_ms(void);

/* Connects to the unix stream socket at path; *fd owned by the caller. */
int hg_unix_connect(const char *path, int *fd, struct hg_error *err);
/* Takes over an inherited, already connected socket (NRI_PLUGIN_SOCKET): checks that it
 * is a stream socket, makes it non-blocking and close-on-exec. */
int hg_unix_adopt(int fd, struct hg_error *err);
/* Waits until fd is readable or deadline_ms (hg_monotonic_ms) passes, then reads at most
 * cap bytes. Returns the count (0 at end of stream), -ETIMEDOUT at the deadline (err
 * unset: not a failure in itself), another negative errno with err set on failure. A
 * deadline_ms < 0 waits without limit. */
ssize_t hg_fd_read_some(int fd, void *buf, size_t cap, int64_t deadline_ms, struct hg_error *err);
/* Writes all len bytes by deadline_ms; -1 (err) on failure or when the peer does not take
 * them in time. */
int hg_fd_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms, struct hg_error *err);
