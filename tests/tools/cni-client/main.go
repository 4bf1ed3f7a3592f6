// cni-client drives a CNI conflist through the real libcni (Debian's
// golang-github-appc-cni-dev, v1.1.2), so tests see exactly what containerd
// and podman would send: injected name/cniVersion/prevResult, capability
// filtering, the on-disk result cache and libcni's result re-encoding.
//
// Usage: cni-client add|check|del CONFLIST_FILE CONTAINERID NETNS_PATH IFNAME [CNI_ARGS]
//
// Environment:
//
//	CNI_PATH            plugin directories, colon separated (required)
//	CNI_CACHE_DIR       libcni cache directory (default: libcni's /var/lib/cni)
//	CNI_RUNTIME_CONFIG  JSON object used as RuntimeConf.CapabilityArgs, e.g.
//	                    {"io.kubernetes.cri.pod-annotations":{"k":"v"}}
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s add|check|del CONFLIST_FILE CONTAINERID NETNS_PATH IFNAME [CNI_ARGS]\n",
		filepath.Base(os.Args[0]))
	os.Exit(2)
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "cni-client: "+format+"\n", a...)
	os.Exit(1)
}

// parseArgs splits "K=V;K2=V2" the way runtimes build CNI_ARGS; an empty
// string yields no args (libcni then exports CNI_ARGS empty).
func parseArgs(s string) [][2]string {
	var out [][2]string
	for _, kv := range strings.Split(s, ";") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

func main() {
	if len(os.Args) < 6 || len(os.Args) > 7 {
		usage()
	}
	cmd, confFile := os.Args[1], os.Args[2]

	list, err := libcni.ConfListFromFile(confFile)
	if err != nil {
		fail("%v", err)
	}

	rt := &libcni.RuntimeConf{
		ContainerID: os.Args[3],
		NetNS:       os.Args[4],
		IfName:      os.Args[5],
	}
	if len(os.Args) == 7 {
		rt.Args = parseArgs(os.Args[6])
	}
	if rc := os.Getenv("CNI_RUNTIME_CONFIG"); rc != "" {
		if err := json.Unmarshal([]byte(rc), &rt.CapabilityArgs); err != nil {
			fail("CNI_RUNTIME_CONFIG is not a JSON object: %v", err)
		}
	}

	var paths []string
	for _, p := range filepath.SplitList(os.Getenv("CNI_PATH")) {
		if p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		fail("CNI_PATH is empty")
	}
	cni := libcni.NewCNIConfigWithCacheDir(paths, os.Getenv("CNI_CACHE_DIR"), nil)
	ctx := context.Background()

	switch cmd {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail("%v", err)
		}
		// Printed in the last plugin's result version, unconverted.
		if err := res.Print(); err != nil {
			fail("printing result: %v", err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail("%v", err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail("%v", err)
		}
	default:
		usage()
	}
}
