#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook through real runc bundles (issue 4): see bundles.sh for the cases.
. "$(dirname "$0")/hook-lib.sh"
. "$(dirname "$0")/bundles.sh"
hk_init hook-runc
hk_matrix runc
hg_log "PASS"
