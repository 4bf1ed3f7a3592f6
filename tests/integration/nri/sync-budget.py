#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A runtime of the test's own for sync-budget.sh: it listens where `host-gateway nri`
connects, has it attach --pods pods (all in --netns) through a Synchronize with a long
timeout, then sends a Synchronize that lists none of them with a timeout of --timeout-ms:
the answer must come within that timeout, whatever number of records of gone pods wait to
be collected. A last Synchronize with a long timeout collects what was left. Exits 0 when
every expectation held, 1 with a message otherwise."""
import argparse
import os
import socket
import struct
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--socket", required=True)
ap.add_argument("--pb-dir", required=True)
ap.add_argument("--netns", required=True)
ap.add_argument("--pods", type=int, default=6000)
ap.add_argument("--timeout-ms", type=int, default=1000)
ap.add_argument("--records", required=True, help="the stateDir's nri folder")
ap.add_argument("--pid-file", required=True, help="the plugin's pid: its memory is watched")
args = ap.parse_args()
sys.path.insert(0, args.pb_dir)
import nri_pb2 as pb  # noqa: E402

PLUGIN = "nri.pkg.api.v1alpha1.Plugin"
REQ, RSP = 1, 2


def log(msg):
    print(f"[sync-budget] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


def mux(conn, payload):
    return struct.pack(">II", conn, len(payload)) + payload


def ttrpc(stream, mtype, payload):
    return struct.pack(">IIBB", len(payload), stream, mtype, 0) + payload


class Peer:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(120)
        self.buf = b""
        self.streams = {1: b"", 2: b""}
        self.stream = 1

    def message(self, conn):
        while True:
            st = self.streams[conn]
            if len(st) >= 10:
                length, stream, mtype, _ = struct.unpack(">IIBB", st[:10])
                if len(st) >= 10 + length:
                    self.streams[conn] = st[10 + length:]
                    return stream, mtype, st[10:10 + length]
            while len(self.buf) < 8 or len(self.buf) < 8 + struct.unpack_from(">II", self.buf)[1]:
                chunk = self.s.recv(1 << 16)
                if not chunk:
                    fail("the plugin closed the connection")
                self.buf += chunk
            cid, n = struct.unpack_from(">II", self.buf)
            self.streams[cid] += self.buf[8:8 + n]
            self.buf = self.buf[8 + n:]

    def call(self, method, msg, timeout_ms):
        self.stream += 2
        r = pb.Request(service=PLUGIN, method=method, payload=msg.SerializeToString(),
                       timeout_nano=timeout_ms * 1000000)
        t0 = time.monotonic()
        self.s.sendall(mux(1, ttrpc(self.stream, REQ, r.SerializeToString())))
        stream, mtype, payload = self.message(1)
        ms = (time.monotonic() - t0) * 1000
        if stream != self.stream or mtype != RSP:
            fail(f"{method}: answer of type {mtype} on stream {stream}")
        rsp = pb.Response()
        rsp.ParseFromString(payload)
        if rsp.HasField("status") and rsp.status.code != 0:
            fail(f"{method}: status {rsp.status.code} {rsp.status.message}")
        return ms


def records():
    try:
        return len(os.listdir(args.records))
    except FileNotFoundError:
        return 0


srv = socket.socket(socket.AF_UNIX)
srv.bind(args.socket)
srv.listen(1)
srv.settimeout(30)
conn, _ = srv.accept()
p = Peer(conn)
stream, mtype, _ = p.message(2)
p.s.sendall(mux(2, ttrpc(stream, RSP, pb.Response(status=pb.Status(code=0)).SerializeToString())))
p.call("Configure", pb.ConfigureRequest(runtime_name="fake-runtime", runtime_version="v0.0.1",
                                        registration_timeout=5000, request_timeout=120000,
                                        NRI_version="v0.10.0"), 120000)


def pod(i):
    return pb.PodSandbox(id=f"pod-{i}", name=f"p{i}", uid=f"uid-{i}", namespace="default",
                         linux_pod=pb.LinuxPodSandbox(namespaces=[pb.LinuxNamespace(type="network",
                                                                                    path=args.netns)]))


ms = p.call("Synchronize", pb.SynchronizeRequest(pods=[pod(i) for i in range(args.pods)]), 120000)
n = records()
log(f"Synchronize of {args.pods} pods: {n} attached in {ms:.0f} ms")
if n < args.pods * 9 // 10:
    fail(f"only {n} of {args.pods} pods attached")
ms = p.call("Synchronize", pb.SynchronizeRequest(pods=[]), args.timeout_ms)
left = records()
log(f"Synchronize of none, timeout {args.timeout_ms} ms: answered in {ms:.0f} ms, {n - left} records collected, "
    f"{left} left")
if ms >= args.timeout_ms:
    fail(f"the answer came in {ms:.0f} ms, past the runtime's timeout of {args.timeout_ms} ms")
ms = p.call("Synchronize", pb.SynchronizeRequest(pods=[]), 120000)
log(f"Synchronize of none, long timeout: answered in {ms:.0f} ms, {records()} records left")
if records():
    fail(f"{records()} records of gone pods left")
# Thousands of containers with an etc-hosts mount whose pods are not listed, among
# thousands of pods: each container looks for its pod among all of them.
n = 20000
ms = p.call("Synchronize", pb.SynchronizeRequest(
    pods=[pb.PodSandbox(id=f"other-{i}") for i in range(n)],
    containers=[pb.Container(id=f"ctr-{i}", pod_sandbox_id=f"gone-{i}", state=2,
                             mounts=[pb.Mount(destination="/etc/hosts", source="/nonexistent/etc-hosts")])
                for i in range(n)]), 2000)
log(f"Synchronize of {n} pods and {n} containers, timeout 2000 ms: answered in {ms:.0f} ms")
if ms >= 2000:
    fail(f"the answer came in {ms:.0f} ms, past the runtime's timeout of 2000 ms")
# A Synchronize in 16 parts of 290000 empty pods each (580 kB on the wire, 45 MB decoded):
# the parts held count against the decoding budget of the next one, the plugin stays small.


def rss_kb():
    with open(f"/proc/{open(args.pid_file).read().strip()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("plugin gone")


part = pb.SynchronizeRequest(pods=[pb.PodSandbox() for _ in range(290000)], more=True)
refused = 0
for i in range(16):
    p.stream += 2
    r = pb.Request(service=PLUGIN, method="Synchronize", payload=part.SerializeToString(), timeout_nano=20 * 10**9)
    p.s.sendall(mux(1, ttrpc(p.stream, REQ, r.SerializeToString())))
    p.message(1)
    kb = rss_kb()
    if kb > 128 * 1024:
        fail(f"VmRSS {kb} kB after {i + 1} parts of a Synchronize")
log(f"a Synchronize in 16 parts of 290000 pods: VmRSS {rss_kb()} kB at most 128 MiB")
p.call("Synchronize", pb.SynchronizeRequest(pods=[]), 2000)
p.s.close()
log("PASS")
