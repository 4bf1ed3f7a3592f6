#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A runtime of the test's own for `host-gateway nri`: it listens where the plugin connects
and speaks NRI's multiplexer and ttrpc framing by hand (the messages through protobuf
classes that protoc generates from nri/nri.proto, passed as --pb-dir). Each phase is one
connection of the plugin: a valid conversation, then a hostile peer. Exits 0 when every
expectation held, 1 with a message otherwise."""
import argparse
import os
import socket
import struct
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--socket")
ap.add_argument("--launch", help="start this binary as NRI starts a pre-registered plugin (fd 3) instead of listening")
ap.add_argument("--pb-dir", required=True)
ap.add_argument("--pid", type=int, help="the plugin's pid: its memory is watched")
ap.add_argument("--rss-max-kb", type=int, default=64 * 1024)
ap.add_argument("--tiny-frames", type=int, default=1_000_000)
args = ap.parse_args()
sys.path.insert(0, args.pb_dir)
import nri_pb2 as pb  # noqa: E402

PLUGIN = "nri.pkg.api.v1alpha1.Plugin"
RUNTIME = "nri.pkg.api.v1alpha1.Runtime"
CONN_PLUGIN, CONN_RUNTIME = 1, 2
REQ, RSP, DATA = 1, 2, 3
MAX = 4 << 20
EVENTS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 10)


def log(msg):
    print(f"[fake-runtime] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


def rss_kb():
    with open(f"/proc/{args.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("plugin gone: no VmRSS")


def alive_check(what):
    try:
        os.kill(args.pid, 0)
    except ProcessLookupError:
        fail(f"the plugin died during {what}")
    kb = rss_kb()
    log(f"after {what}: plugin alive, VmRSS {kb} kB")
    if kb > args.rss_max_kb:
        fail(f"VmRSS {kb} kB after {what}, over {args.rss_max_kb} kB")


def mux(conn, payload):
    return struct.pack(">II", conn, len(payload)) + payload


def ttrpc(stream, mtype, payload, flags=0):
    return struct.pack(">IIBB", len(payload), stream, mtype, flags) + payload


def request(stream, method, msg=b"", service=PLUGIN, raw_payload=None, timeout_ms=2000):
    payload = raw_payload if raw_payload is not None else msg.SerializeToString()
    r = pb.Request(service=service, method=method, payload=payload, timeout_nano=timeout_ms * 1000000)
    return mux(CONN_PLUGIN, ttrpc(stream, REQ, r.SerializeToString()))


class Peer:
    """One accepted connection: frames out, ttrpc messages in (per logical connection)."""

    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(5)
        self.buf = b""
        self.off = 0
        self.streams = {CONN_PLUGIN: b"", CONN_RUNTIME: b""}

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(1 << 16)
        if not chunk:
            raise EOFError
        # Consumed bytes are dropped only here: slicing per frame would copy the buffer
        # once per frame, quadratic over a flood of answers.
        self.buf = self.buf[self.off:] + chunk
        self.off = 0

    def message(self, conn):
        """The next ttrpc message on conn: (stream, type, payload)."""
        while True:
            st = self.streams[conn]
            if len(st) >= 10:
                length, stream, mtype, _flags = struct.unpack(">IIBB", st[:10])
                if len(st) >= 10 + length:
                    self.streams[conn] = st[10 + length:]
                    return stream, mtype, st[10:10 + length]
            while (len(self.buf) - self.off < 8 or
                   len(self.buf) - self.off < 8 + struct.unpack_from(">II", self.buf, self.off)[1]):
                self._fill()
            cid, n = struct.unpack_from(">II", self.buf, self.off)
            if cid not in self.streams:
                fail(f"the plugin sent a frame on connection {cid}")
            self.streams[cid] += self.buf[self.off + 8:self.off + 8 + n]
            self.off += 8 + n

    def answer(self, stream):
        """The plugin's answer on the plugin service to our request on stream."""
        got, mtype, payload = self.message(CONN_PLUGIN)
        if got != stream or mtype != RSP:
            fail(f"expected the answer on stream {stream}, got type {mtype} on stream {got}")
        r = pb.Response()
        r.ParseFromString(payload)
        return r

    def call(self, stream, method, msg=b"", **kw):
        self.send(request(stream, method, msg, **kw))
        return self.answer(stream)

    def expect_closed(self, what, within=10):
        """The plugin drops the connection (EOF or reset) within `within` seconds."""
        self.s.settimeout(within)
        try:
            while True:
                chunk = self.s.recv(1 << 16)
                if not chunk:
                    break
        except (ConnectionResetError, BrokenPipeError):
            pass
        except socket.timeout:
            fail(f"{what}: the plugin kept the connection open")
        log(f"{what}: the plugin dropped the connection")

    def close(self):
        self.s.close()


def ok(rsp, what):
    if rsp.HasField("status") and rsp.status.code != 0:
        fail(f"{what}: status {rsp.status.code} {rsp.status.message}")


def code(rsp, want, what):
    got = rsp.status.code if rsp.HasField("status") else 0
    if got != want:
        fail(f"{what}: expected status {want}, got {got} ({rsp.status.message})")
    log(f"{what}: status {got} ({rsp.status.message})")


srv = None


def accept_registered(expect_name="host-gateway", expect_idx="50"):
    """Accepts the plugin's next connection and answers its RegisterPlugin."""
    conn, _ = srv.accept()
    p = Peer(conn)
    stream, mtype, payload = p.message(CONN_RUNTIME)
    req = pb.Request()
    req.ParseFromString(payload)
    if mtype != REQ or stream % 2 != 1 or req.service != RUNTIME or req.method != "RegisterPlugin":
        fail(f"first message: type {mtype} stream {stream} {req.service}.{req.method}")
    reg = pb.RegisterPluginRequest()
    reg.ParseFromString(req.payload)
    if (reg.plugin_name, reg.plugin_idx) != (expect_name, expect_idx):
        fail(f"registered as {reg.plugin_idx}-{reg.plugin_name}")
    p.send(mux(CONN_RUNTIME, ttrpc(stream, RSP, pb.Response(status=pb.Status(code=0), payload=b"").SerializeToString())))
    return p, stream


def configure(p, stream=1):
    rsp = p.call(stream, "Configure", pb.ConfigureRequest(runtime_name="fake-runtime", runtime_version="v0.0.1",
                                                          registration_timeout=5000, request_timeout=2000,
                                                          NRI_version="v0.10.0"))
    ok(rsp, "Configure")
    cr = pb.ConfigureResponse()
    cr.ParseFromString(rsp.payload)
    if cr.events != EVENTS:
        fail(f"events 0x{cr.events:x}, expected 0x{EVENTS:x}")


def pod(pid="pod-1", netns="/var/run/netns/cni-fake"):
    p = pb.PodSandbox(id=pid, name="web", uid="uid-1", namespace="default", ips=["10.0.0.2"],
                      linux_pod=pb.LinuxPodSandbox(namespaces=[pb.LinuxNamespace(type="network", path=netns)]))
    p.annotations["host-gateway.io/extra-hosts"] = "db.local:host-gateway"
    return p


def container(cid="ctr-1", pod_id="pod-1"):
    return pb.Container(id=cid, pod_sandbox_id=pod_id, name="app", state=1,
                        mounts=[pb.Mount(destination="/etc/hosts", type="bind", source="/var/lib/kubelet/pods/x/etc-hosts",
                                         options=["rbind", "rw"])])


if args.launch:
    # What NRI does for /opt/nri/plugins/IDX-NAME: a socketpair, the peer as fd 3, the
    # plugin's name and index in the environment, no argument.
    import subprocess
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def as_fd3():
        os.dup2(theirs.fileno(), 3)

    proc = subprocess.Popen([args.launch], env={"NRI_PLUGIN_SOCKET": "3", "NRI_PLUGIN_NAME": "hg-launched",
                                                "NRI_PLUGIN_IDX": "07"},
                            preexec_fn=as_fd3, pass_fds=(theirs.fileno(), 3))
    theirs.close()
    p = Peer(ours)
    stream, mtype, payload = p.message(CONN_RUNTIME)
    req = pb.Request()
    req.ParseFromString(payload)
    reg = pb.RegisterPluginRequest()
    reg.ParseFromString(req.payload)
    if (req.method, reg.plugin_name, reg.plugin_idx) != ("RegisterPlugin", "hg-launched", "07"):
        fail(f"launched plugin registered as {reg.plugin_idx}-{reg.plugin_name} ({req.method})")
    p.send(mux(CONN_RUNTIME, ttrpc(stream, RSP, pb.Response(status=pb.Status(code=0)).SerializeToString())))
    args.pid = proc.pid
    configure(p)
    ok(p.call(3, "Synchronize", pb.SynchronizeRequest()), "Synchronize (launched)")
    ok(p.call(5, "Shutdown", pb.Empty()), "Shutdown (launched)")
    p.close()
    rc = proc.wait(10)
    if rc != 0:
        fail(f"the launched plugin exited {rc} when the runtime closed its socket")
    log("launched as a pre-registered plugin: registered from the environment, exit 0 at the end")
    sys.exit(0)

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(args.socket)
srv.listen(4)
srv.settimeout(40)

# ---- 1. a valid conversation, then wrong requests the plugin answers with an error ----
p, reg_stream = accept_registered()
log(f"registered (stream {reg_stream})")
configure(p, 1)
ok(p.call(3, "Synchronize", pb.SynchronizeRequest(pods=[pod("pod-0")], more=True)), "Synchronize part 1")
rsp = p.call(5, "Synchronize", pb.SynchronizeRequest(pods=[pod()], containers=[container()], more=False))
ok(rsp, "Synchronize part 2")
sr = pb.SynchronizeResponse()
sr.ParseFromString(rsp.payload)
if sr.more:
    fail("last Synchronize answered with more")
ok(p.call(7, "RunPodSandbox", pb.RunPodSandboxRequest(pod=pod("pod-2"))), "RunPodSandbox")
rsp = p.call(9, "CreateContainer", pb.CreateContainerRequest(pod=pod("pod-2"), container=container("ctr-2", "pod-2")))
ok(rsp, "CreateContainer")
cc = pb.CreateContainerResponse()
cc.ParseFromString(rsp.payload)
if cc.HasField("adjust") and cc.adjust.ByteSize():
    fail(f"a container with an /etc/hosts mount gets its names there, not an adjustment: {cc.adjust}")
ok(p.call(11, "StateChange", pb.StateChangeEvent(event=2, pod=pod("pod-2"))), "StateChange STOP_POD_SANDBOX")
ok(p.call(13, "StopContainer", pb.StopContainerRequest(pod=pod("pod-2"), container=container("ctr-2", "pod-2"))),
   "StopContainer")
ok(p.call(15, "RemovePodSandbox", pb.RemovePodSandboxRequest(pod=pod("pod-2"))), "RemovePodSandbox")
ok(p.call(17, "PostStartContainer", raw_payload=b""), "PostStartContainer (not subscribed)")
code(p.call(19, "Frobnicate", raw_payload=b""), 12, "unknown method")
code(p.call(21, "Configure", service="no.such.Service", raw_payload=b""), 12, "unknown service")
code(p.call(23, "RunPodSandbox", raw_payload=b"\xff\xff\xff\xff\x0f garbage"), 3, "garbage RunPodSandboxRequest")
p.send(mux(CONN_PLUGIN, ttrpc(25, REQ, b"\x0a\xff\xff\xff\x7f")))
code(p.answer(25), 3, "garbage ttrpc Request")
p.send(mux(CONN_PLUGIN, ttrpc(26, REQ, request(0, "Configure", raw_payload=b"")[18:])))
code(p.answer(26), 3, "even stream id")
# Frames of unknown connections, a data message and a stray response: ignored.
p.send(mux(7, b"whatever") + mux(0, b"") + mux(CONN_PLUGIN, ttrpc(27, DATA, b"x")) + mux(CONN_PLUGIN, ttrpc(29, RSP, b"")))
# A request cut into one-byte frames, then two requests in one frame.
for b in request(31, "RunPodSandbox", pb.RunPodSandboxRequest(pod=pod("pod-3")))[8:]:
    p.send(mux(CONN_PLUGIN, bytes([b])))
ok(p.answer(31), "RunPodSandbox in one-byte frames")
two = request(33, "StateChange", pb.StateChangeEvent(event=11))[8:] + request(35, "StateChange", pb.StateChangeEvent(event=99))[8:]
p.send(mux(CONN_PLUGIN, two))
ok(p.answer(33), "two requests in one frame (1)")
ok(p.answer(35), "two requests in one frame (2)")
# A container without an /etc/hosts mount: the OCI hook injected (createRuntime and
# poststop running the plugin's own binary), when the plugin shares the host's mount
# namespace (the runtime resolves the path there); else nothing.
rsp = p.call(37, "CreateContainer", pb.CreateContainerRequest(
    pod=pod("pod-2"), container=pb.Container(id="ctr-3", pod_sandbox_id="pod-2", name="bare", state=1)))
ok(rsp, "CreateContainer without an /etc/hosts mount")
cc = pb.CreateContainerResponse()
cc.ParseFromString(rsp.payload)
mine = os.stat(f"/proc/{args.pid}/ns/mnt")
try:
    host = os.stat("/proc/1/ns/mnt")
except PermissionError:  # the plugin then compares with its parent's, as here
    with open(f"/proc/{args.pid}/stat") as f:
        ppid = f.read().rsplit(")", 1)[1].split()[1]
    host = os.stat(f"/proc/{ppid}/ns/mnt")
if (mine.st_dev, mine.st_ino) == (host.st_dev, host.st_ino):
    h = cc.adjust.hooks
    if len(h.create_runtime) != 1 or len(h.poststop) != 1:
        fail(f"no createRuntime + poststop hook for a container without /etc/hosts: {cc.adjust}")
    cr, ps = h.create_runtime[0], h.poststop[0]
    if list(cr.args[:3]) != ["host-gateway", "hook", "createRuntime"] or list(ps.args[:3]) != ["host-gateway", "hook", "poststop"]:
        fail(f"hook arguments: {list(cr.args)} / {list(ps.args)}")
    if cr.path != os.path.realpath(f"/proc/{args.pid}/exe") or cr.path != ps.path:
        fail(f"hook path {cr.path}, the plugin is {os.path.realpath(f'/proc/{args.pid}/exe')}")
    log(f"hook injected for a container without /etc/hosts: {cr.path} {' '.join(cr.args[1:])}")
elif cc.HasField("adjust") and cc.adjust.ByteSize():
    fail(f"a plugin outside the host's mount namespace injected {cc.adjust}")
ok(p.call(39, "Shutdown", pb.Empty()), "Shutdown")
p.close()
alive_check("the valid conversation")

# ---- 2. truncated frames: half a header, then a frame cut short ----
p, _ = accept_registered()
configure(p)
p.send(b"\x00\x00\x00")
p.close()
p, _ = accept_registered()
configure(p)
p.send(request(3, "RunPodSandbox", pb.RunPodSandboxRequest(pod=pod()))[:30])
p.close()
alive_check("truncated frames")

# ---- 3. oversize lengths: a multiplexer frame, then a ttrpc message, over 4 MiB ----
p, _ = accept_registered()
configure(p)
p.send(struct.pack(">II", CONN_PLUGIN, MAX + 11) + b"\x00" * 64)
p.expect_closed("multiplexer frame of 4 MiB + 11")
p.close()
p, _ = accept_registered()
configure(p)
p.send(mux(CONN_PLUGIN, struct.pack(">IIBB", MAX + 1, 3, REQ, 0) + b"\x00" * 64))
p.expect_closed("ttrpc message of 4 MiB + 1")
p.close()
# The largest message allowed, in many frames: it is read (garbage protobuf: an error).
p, _ = accept_registered()
configure(p)
big = ttrpc(3, REQ, pb.Request(service=PLUGIN, method="RunPodSandbox", payload=b"\xff" * (MAX - 64)).SerializeToString())
if len(big) - 10 > MAX:
    fail("test bug: the big message is over the limit")
for i in range(0, len(big), 4096):
    p.send(mux(CONN_PLUGIN, big[i:i + 4096]))
code(p.answer(3), 3, "a 4 MiB request with a garbage payload")
alive_check("oversize lengths")
p.close()

# ---- 4. a million tiny frames: empty ones on the plugin service, one-byte ones on an
# unknown connection; then a request that must still be answered ----
p, _ = accept_registered()
configure(p)
n = args.tiny_frames
t0 = time.monotonic()
batch = (mux(CONN_PLUGIN, b"") + mux(9, b"z")) * 10000
for _ in range(n // 20000):
    p.send(batch)
ok(p.call(3, "RunPodSandbox", pb.RunPodSandboxRequest(pod=pod("pod-tiny"))), f"RunPodSandbox after {n} tiny frames")
log(f"{n} tiny frames and the answer after them in {(time.monotonic() - t0) * 1000:.0f} ms")
alive_check("a million tiny frames")
# The same many requests, all answered with errors, read as they come.
sent = 0
reader_err = []


def drain(peer, count):
    try:
        for i in range(count):
            r = peer.answer(2 * i + 5)
            if r.status.code != 12:
                reader_err.append(f"answer {i}: status {r.status.code}")
                return
    except Exception as e:  # noqa: BLE001
        reader_err.append(repr(e))


count = 100000
t = threading.Thread(target=drain, args=(p, count))
t.start()
chunk = b"".join(request(2 * i + 5, "Nope", raw_payload=b"") for i in range(count))
p.send(chunk)
t.join(60)
if t.is_alive() or reader_err:
    fail(f"{count} unknown-method requests: {reader_err or 'answers stopped'}")
log(f"{count} unknown-method requests answered with Unimplemented")
alive_check("100000 unanswerable requests")
p.close()

# ---- 5. a peer that sends and never reads: the plugin's answers back up, it gives up ----
p, _ = accept_registered()
configure(p)
flood = b"".join(request(2 * i + 3, "Nope", raw_payload=b"") for i in range(200000))
p.s.settimeout(30)
try:
    p.send(flood)
    p.expect_closed("a peer that never reads", within=20)
except (BrokenPipeError, ConnectionResetError):
    log("a peer that never reads: the plugin dropped the connection")
alive_check("a peer that never reads")
p.close()

# ---- 6. registration refused: the plugin drops and comes back ----
conn, _ = srv.accept()
p = Peer(conn)
stream, _, _ = p.message(CONN_RUNTIME)
p.send(mux(CONN_RUNTIME, ttrpc(stream, RSP, pb.Response(status=pb.Status(code=3, message="no thanks")).SerializeToString())))
p.expect_closed("registration refused")
p.close()
p, _ = accept_registered()
configure(p)
ok(p.call(3, "RunPodSandbox", pb.RunPodSandboxRequest(pod=pod("pod-last"))), "RunPodSandbox after everything")
alive_check("the whole conversation")
p.close()
log("PASS")
