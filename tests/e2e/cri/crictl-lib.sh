# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# kubelet's steps through crictl (cri-tools, built by scripts/install-runtimes.sh), against
# any CRI runtime whose socket is CRI_SOCK (containerd: cri-lib.sh; CRI-O: crio-lib.sh).
# Sourced, never run, after tests/lib/common.sh and hg_init. Configs are JSON files
# shaped like the ones kubelet sends (PodSandboxConfig, ContainerConfig), written under
# HG_TMP/crictl.
#
#   cri_prebuild COMPONENT...   scripts/install-runtimes.sh COMPONENT... (built, or found in
#                               the cache): call it BEFORE hg_init. A cold build takes
#                               minutes; under the host lock it would hold up every other
#                               test on the machine (they give up after 300 s) and eat this
#                               test's own timeout. Fails when one cannot be built
#   crictl_need                 CRICTL = the built crictl (fails when it cannot be built)
#   cc ARG...                   crictl on CRI_SOCK (runtime and image endpoint), no
#                               /etc/crictl.yaml read; in netns CC_NETNS when set (a
#                               runtime whose streaming server is on another netns' loopback)
#   cc_pod_config NAME UID ANNOTATIONS_JSON [CGROUP_PARENT]
#                               writes a PodSandboxConfig (namespace default, the pod's
#                               own network namespace, a pid namespace per container,
#                               log folder HG_TMP/pods/UID/logs) and prints its path
#   cc_ctr_config NAME IMAGE HOSTS_FILE ANNOTATIONS_JSON [EXTRA_JSON]
#                               writes a ContainerConfig (`sleep 3600`, HOSTS_FILE
#                               mounted at /etc/hosts as kubelet mounts etc-hosts), with
#                               EXTRA_JSON deep-merged into it when given (e.g. kubelet's
#                               linux.security_context.namespace_options, which CRI-O
#                               checks against the pod's), and prints its path
#   cc_runp POD_CONFIG [HANDLER]    crictl runp; prints the pod id
#   cc_run_container POD_ID CTR_CONFIG POD_CONFIG
#                               crictl create + start; prints the container id
#   cc_exec CID SCRIPT          crictl exec (the streaming server, as kubectl exec)
#                               `sh -c SCRIPT`; prints stdout, fails unless exit 0
#   cc_stop_rm CID              crictl stop (no grace) + rm
#   cc_stopp_rmp POD_ID         crictl stopp + rmp
#   cc_pod_ip POD_ID            the pod's IP from crictl inspectp
#   cri_kubelet_hosts FILE IP HOSTNAME
#                               write FILE as kubelet writes a pod's etc-hosts: opened
#                               with O_TRUNC and rewritten in place (same inode)
#   cri_kindnet_conflist VERSION SUBNET IPAM_DIR [ENTRIES_JSON]
#                               kindnetd's 10-kindnet.conflist (ptp + host-local +
#                               portmap) at cniVersion VERSION, ENTRIES (an array) appended
#   cri_image_layout DIR TAG CMD...
#                               an OCI image layout DIR/layout (tag TAG) of the busybox
#                               rootfs whose command is CMD, tarred to DIR/image.tar, for
#                               a runtime to import (work files in DIR; log DIR/build.log)
#   cri_cni_tracer WRAPPER BIN TRACE
#                               writes WRAPPER, a CNI plugin that runs BIN with the call's
#                               environment and stdin and appends one JSON line per call
#                               to TRACE: {t, cmd, cid, netns, ifname, args, conf, rc, out}
#                               (conf: the config the runtime sent, out: the answer, each
#                               parsed when it is JSON): what a runtime sends (STATUS, GC
#                               with cni.dev/valid-attachments, ...) and what BIN answered.
#                               Calls from any process and mount namespace; no PATH needed

CRICTL=${CRICTL:-}

cri_prebuild() {
	[ "$(id -u)" -eq 0 ] || return 0 # hg_init skips the test
	"$HG_SOURCE_ROOT/scripts/install-runtimes.sh" "$@" >/dev/null ||
		hg_fail "scripts/install-runtimes.sh $* failed"
}

crictl_need() {
	local env
	env=$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env crictl) ||
		hg_fail "crictl could not be built (scripts/install-runtimes.sh crictl)"
	eval "$env"
	CRICTL=$HG_CRICTL_BIN/crictl
	[ -x "$CRICTL" ] || hg_fail "crictl missing at $CRICTL"
}

cc() {
	local -a pre=()
	# The streaming server (exec) listens on the runtime's loopback: crictl joins its netns.
	[ -z "${CC_NETNS:-}" ] || pre=(nsenter "--net=/run/netns/$CC_NETNS")
	"${pre[@]}" "$CRICTL" --config /dev/null --runtime-endpoint "unix://$CRI_SOCK" --image-endpoint "unix://$CRI_SOCK" \
		--timeout 60s "$@"
}

cc_pod_config() {
	local f=$HG_TMP/crictl/pod-$1-$2.json
	mkdir -p "$HG_TMP/crictl" "$HG_TMP/pods/$2/logs"
	jq -n --arg n "$1" --arg u "$2" --argjson ann "$3" --arg cg "${4:-}" --arg logs "$HG_TMP/pods/$2/logs" '
		{metadata: {name: $n, uid: $u, namespace: "default", attempt: 0},
		 hostname: $n, log_directory: $logs,
		 labels: {"io.kubernetes.pod.name": $n, "io.kubernetes.pod.namespace": "default",
		          "io.kubernetes.pod.uid": $u},
		 annotations: $ann,
		 linux: ({security_context: {namespace_options: {network: 0, pid: 1, ipc: 0}}}
		         + if $cg == "" then {} else {cgroup_parent: $cg} end)}' >"$f"
	echo "$f"
}

cc_ctr_config() {
	local f=$HG_TMP/crictl/ctr-$1-$RANDOM.json extra='{}'
	[ -z "${5:-}" ] || extra=$5
	mkdir -p "$HG_TMP/crictl"
	jq -n --arg n "$1" --arg img "$2" --arg h "$3" --argjson ann "$4" --argjson extra "$extra" '
		{metadata: {name: $n, attempt: 0}, image: {image: $img},
		 command: ["sleep", "3600"], log_path: "\($n)/0.log",
		 labels: {"io.kubernetes.container.name": $n},
		 annotations: $ann,
		 mounts: [{container_path: "/etc/hosts", host_path: $h}]} * $extra' >"$f"
	echo "$f"
}

cc_runp() {
	local id
	id=$(cc runp ${2:+--runtime "$2"} "$1") || return 1
	[ -n "$id" ] || return 1
	echo "$id"
}

cc_run_container() {
	local id
	id=$(cc create "$1" "$2" "$3") || return 1
	[ -n "$id" ] || return 1
	cc start "$id" >/dev/null || return 1
	echo "$id"
}

cc_exec() {
	cc exec "$1" sh -c "$2"
}

cc_stop_rm() {
	cc stop --timeout 0 "$1" >/dev/null && cc rm "$1" >/dev/null
}

cc_stopp_rmp() {
	cc stopp "$1" >/dev/null && cc rmp "$1" >/dev/null
}

cc_pod_ip() {
	cc inspectp -o json "$1" | jq -r .status.network.ip
}

cri_kubelet_hosts() {
	# kubelet's managedHostsFileContent, written with os.WriteFile (O_TRUNC, same inode).
	printf '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n%s\t%s\n' \
		"$2" "$3" >"$1"
}

cri_image_layout() {
	local w=$1 tag=$2 i
	shift 2
	local -a cmd=()
	for i; do cmd+=(--config.cmd "$i"); done
	rm -rf "$w"
	mkdir -p "$w" || return 1
	if ! {
		e2e_make_rootfs "$w/rootfs" &&
			umoci init --layout "$w/layout" &&
			umoci new --image "$w/layout:$tag" &&
			umoci unpack --image "$w/layout:$tag" "$w/bundle" &&
			cp -a "$w/rootfs/." "$w/bundle/rootfs/" &&
			umoci repack --image "$w/layout:$tag" "$w/bundle" &&
			umoci config --image "$w/layout:$tag" "${cmd[@]}" --config.env PATH=/bin:/sbin:/usr/bin &&
			umoci gc --layout "$w/layout" &&
			tar -C "$w/layout" -cf "$w/image.tar" .
	} >"$w/build.log" 2>&1; then
		cat "$w/build.log" >&2
		return 1
	fi
}

cri_cni_tracer() {
	local w=$1 bin=$2 trace=$3
	: >"$trace"
	cat >"$w" <<-EOF
		#!/bin/sh
		t=\$(/bin/mktemp -d '$trace.call.XXXXXX') || exit 5
		/bin/cat >"\$t/in"
		'$bin' "\$@" <"\$t/in" >"\$t/out"
		rc=\$?
		/usr/bin/jq -nc --arg t "\$(/bin/date +%s.%N)" --arg cmd "\$CNI_COMMAND" --arg cid "\$CNI_CONTAINERID" \\
			--arg netns "\$CNI_NETNS" --arg ifname "\$CNI_IFNAME" --arg args "\$CNI_ARGS" --argjson rc "\$rc" \\
			--rawfile in "\$t/in" --rawfile out "\$t/out" \\
			'{t: (\$t | tonumber), cmd: \$cmd, cid: \$cid, netns: \$netns, ifname: \$ifname, args: \$args,
			  conf: (\$in | try fromjson catch .), rc: \$rc, out: (\$out | try fromjson catch .)}' >"\$t/line"
		/usr/bin/flock '$trace.lock' /bin/sh -c '/bin/cat "\$1" >>"\$2"' sh "\$t/line" '$trace'
		/bin/cat "\$t/out"
		/bin/rm -rf "\$t"
		exit \$rc
	EOF
	chmod 755 "$w"
}

cri_kindnet_conflist() {
	jq -n --arg v "$1" --arg sub "$2" --arg data "$3" --argjson extra "${4:-[]}" '
		{cniVersion: $v, name: "kindnet", plugins: ([
			{type: "ptp", ipMasq: false, mtu: 1500,
			 ipam: {type: "host-local", dataDir: $data, routes: [{dst: "0.0.0.0/0"}],
			        ranges: [[{subnet: $sub}]]}},
			{type: "portmap", capabilities: {portMappings: true}}] + $extra)}'
}
