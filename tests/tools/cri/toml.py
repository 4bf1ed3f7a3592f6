#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TOML <-> JSON for the e2e tests, so that containerd configurations can be merged with
jq's `*` (a deep merge of tables where the patch's values win, the way kind applies
containerdConfigPatches).

    toml.py to-json FILE         the TOML document as one JSON object
    toml.py from-json [FILE|-]   a JSON object as TOML (tables, strings, integers,
                                 floats, booleans, arrays of those)
"""
import json
import re
import sys
import tomllib

BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k):
    return k if BARE.match(k) else json.dumps(k)


def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError("cannot write %r as a TOML value" % (v,))


def emit(table, path, out):
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
    if path and (scalars or not tables):
        out.append("")
        out.append("[" + ".".join(key(p) for p in path) + "]")
    for k, v in scalars:
        out.append("%s = %s" % (key(k), value(v)))
    for k, v in tables:
        emit(v, path + [k], out)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "to-json":
        with open(sys.argv[2], "rb") as f:
            json.dump(tomllib.load(f), sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    if len(sys.argv) >= 2 and sys.argv[1] == "from-json":
        src = sys.argv[2] if len(sys.argv) >= 3 else "-"
        doc = json.load(sys.stdin if src == "-" else open(src))
        out = []
        emit(doc, [], out)
        sys.stdout.write("\n".join(out).lstrip("\n") + "\n")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
