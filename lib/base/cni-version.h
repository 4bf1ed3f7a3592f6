/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI specification versions host-gateway speaks: the one list that the plugin's VERSION
 * answer and cniVersion check, the install's conflist check, --version and --help use. */
#pragma once

#include <stdbool.h>

/* The list, oldest first, written once: X(first, next, last) expands each version through
 * one of three macros, so that the array, the texts and the bounds below all come from it. */
#define HG_CNI_VERSIONS_X(first, next, last) first("0.3.0") next("0.3.1") next("0.4.0") next("1.0.0") last("1.1.0")

#define HG_CNI_V_SELF_(v) v
#define HG_CNI_V_NONE_(v)
#define HG_CNI_V_COMMA_(v) ", " v
#define HG_CNI_V_SPACE_(v) " " v
/* "0.3.0", the oldest, and "1.1.0", the latest (the version of our own error documents). */
#define HG_CNI_VERSION_OLDEST HG_CNI_VERSIONS_X(HG_CNI_V_SELF_, HG_CNI_V_NONE_, HG_CNI_V_NONE_)
#define HG_CNI_VERSION_LATEST HG_CNI_VERSIONS_X(HG_CNI_V_NONE_, HG_CNI_V_NONE_, HG_CNI_V_SELF_)
/* "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0" and "0.3.0 0.3.1 0.4.0 1.0.0 1.1.0": string literals. */
#define HG_CNI_VERSIONS_COMMAS HG_CNI_VERSIONS_X(HG_CNI_V_SELF_, HG_CNI_V_COMMA_, HG_CNI_V_COMMA_)
#define HG_CNI_VERSIONS_WORDS HG_CNI_VERSIONS_X(HG_CNI_V_SELF_, HG_CNI_V_SPACE_, HG_CNI_V_SPACE_)

extern const char *const hg_cni_versions[]; /* NULL-terminated, oldest first */

/* "1.0.0" → 10000; -1 when not a version. */
int hg_cni_version_number(const char *v);
/* v is one of hg_cni_versions. */
bool hg_cni_version_supported(const char *v);
