/* SPDX-License-Identifier: Apache-2.0 */
/* Sysctls, under /proc/sys of the current network namespace. */
#pragma once

#include <stddef.h>
#include "base/error.h"

/* Writes a sysctl under /proc/sys of the current namespace; *old gets the previous value. */
int hg_sysctl_write(const char *path, const char *value, char *old, size_t old_size, struct hg_error *err);
/* The value of a sysctl, without its trailing newline; -1 with errno (callers make the
 * error: a missing one is often no error at all). */
int hg_sysctl_read(const char *path, char *value, size_t size);
