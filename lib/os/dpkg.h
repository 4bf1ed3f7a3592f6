/* SPDX-License-Identifier: Apache-2.0 */
/* Debian's package database: which package owns a file. */
#pragma once

#include "base/error.h"

#define HG_DPKG_INFO_DIR "/var/lib/dpkg/info"

/* The Debian package whose file list (dpkg_info_dir/PKG.list) names path, in *pkg; 1 when
 * one does, 0 when none. Merged-/usr aliases (/lib/x for /usr/lib/x) count. */
int hg_dpkg_owner(const char *dpkg_info_dir, const char *path, char **pkg, struct hg_error *err);
