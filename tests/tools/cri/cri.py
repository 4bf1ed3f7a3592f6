#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A minimal CRI (runtime.v1) client for the e2e tests: one call per run, like crictl.

    cri.py --socket SOCK --stubs DIR [--timeout SECS] METHOD [REQUEST]

METHOD is a RuntimeService method (RunPodSandbox) or SERVICE/METHOD
(ImageService/ImageStatus). REQUEST is the request message as JSON (field names as in
the .proto or in their JSON form), '@FILE', or '-' for stdin; default {}. The response is
printed as one JSON object with the .proto field names; bytes fields (ExecSync's stdout
and stderr) are printed as text. Exit 0 on success; on a gRPC error the status code and
details go to stderr and the exit status is 3.

Messages come from runtime_v1_min.proto beside this file, compiled with protoc into DIR
on first use (protoc --python_out: no grpc code generator is needed, the call goes
through grpc's generic channel.unary_unary with the messages' own serializers).
"""
import argparse
import base64
import importlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = "runtime_v1_min.proto"
PACKAGE = "runtime.v1"


def load_stubs(stubs):
    mod = os.path.join(stubs, "runtime_v1_min_pb2.py")
    src = os.path.join(HERE, PROTO)
    if not os.path.exists(mod) or os.path.getmtime(mod) < os.path.getmtime(src):
        os.makedirs(stubs, exist_ok=True)
        subprocess.run(["protoc", "-I", HERE, "--python_out=" + stubs, src], check=True)
    sys.path.insert(0, stubs)
    return importlib.import_module("runtime_v1_min_pb2")


def main():
    ap = argparse.ArgumentParser(description="one CRI runtime.v1 call")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--stubs", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("method")
    ap.add_argument("request", nargs="?", default="{}")
    a = ap.parse_args()

    import grpc
    from google.protobuf import json_format

    pb = load_stubs(a.stubs)
    service, _, method = a.method.rpartition("/")
    service = service or "RuntimeService"
    sdesc = pb.DESCRIPTOR.services_by_name.get(service)
    mdesc = sdesc.methods_by_name.get(method) if sdesc else None
    if mdesc is None:
        print("cri.py: unknown method %s/%s" % (service, method), file=sys.stderr)
        return 2
    req_cls = getattr(pb, mdesc.input_type.name)
    resp_cls = getattr(pb, mdesc.output_type.name)

    text = a.request
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        with open(text[1:]) as f:
            text = f.read()
    req = json_format.Parse(text, req_cls())

    with grpc.insecure_channel("unix://" + os.path.abspath(a.socket)) as ch:
        call = ch.unary_unary(
            "/%s.%s/%s" % (PACKAGE, service, method),
            request_serializer=req_cls.SerializeToString,
            response_deserializer=resp_cls.FromString,
        )
        try:
            resp = call(req, timeout=a.timeout)
        except grpc.RpcError as e:
            print("cri.py: %s: %s: %s" % (method, e.code().name, e.details()), file=sys.stderr)
            return 3

    out = json_format.MessageToDict(resp, preserving_proto_field_name=True)
    for f in resp.DESCRIPTOR.fields:
        if f.type == f.TYPE_BYTES and f.name in out:
            out[f.name] = base64.b64decode(out[f.name]).decode("utf-8", "replace")
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
