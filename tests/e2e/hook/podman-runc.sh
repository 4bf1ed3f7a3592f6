#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-hooks.sh with podman's runtime set to runc.
HK_PODMAN_RUNTIME=runc
export HK_PODMAN_RUNTIME
. "$(dirname "$0")/podman-hooks.sh"
