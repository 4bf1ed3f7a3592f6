#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The layers' rule (meson.build: each layer compiles against a view of the layers below it)
has one hole the compiler cannot close: a quoted include is first looked up in the including
file's own folder, so `#include "../ops/state.h"` in lib/os/fs.c compiles and links although
os may not see ops. Includes name the layer ("os/fs.h"): none may climb out of its folder
with "../" (or start at "./" or "/").

Usage: layers-includes.py SOURCE_ROOT. Exit 0 when no such include exists, 1 otherwise (one
line per include: FILE:LINE: the include)."""
import os
import re
import sys

LAYERS = ['lib/base', 'lib/os', 'lib/ops', 'plugin', 'hook', 'nri', 'cli']
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')


def main(root):
    bad = []
    for layer in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, layer)):
            for name in sorted(files):
                if not name.endswith(('.c', '.h')):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding='utf-8', errors='replace') as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        parts = target.split('/')
                        if target.startswith('/') or '..' in parts or parts[0] == '.':
                            bad.append(f'{os.path.relpath(path, root)}:{n}: #include "{target}"'
                                       ' (name the layer, e.g. "os/fs.h": a relative path escapes the layers)')
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
