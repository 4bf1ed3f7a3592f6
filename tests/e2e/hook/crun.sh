#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook through real crun bundles (issue 4): see bundles.sh for the cases. crun
# runs behind the hybrid-cgroup fix of hook-lib.sh (a private mount namespace per crun
# command), so nothing changes for the rest of the machine.
. "$(dirname "$0")/hook-lib.sh"
. "$(dirname "$0")/bundles.sh"
hk_init hook-crun
hk_matrix crun
hg_log "PASS"
