#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every relative link of README.md, docs/*.md and tests/**/README.md resolves: the file
exists, and a #fragment names a heading of the Markdown file it points at (GitHub's
anchors). No root, no network: external links (scheme://, mailto:) are not followed.

Usage: docs-links.py SOURCE_ROOT. Exit 0 when every link resolves, 1 otherwise (one line
per broken link: FILE:LINE: TARGET: why)."""
import glob
import os
import re
import sys

LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r'`', '', heading.strip()).lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path):
    seen, out, code = {}, set(), False
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('```'):
                code = not code
                continue
            m = None if code else re.match(r'^#{1,6}\s+(.*?)\s*#*\s*$', line)
            if m:
                s = slug(m.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                out.add(s if n == 0 else f'{s}-{n}')
    return out


def main(root):
    files = [os.path.join(root, 'README.md')]
    files += sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
    files += sorted(glob.glob(os.path.join(root, 'tests', '**', 'README.md'), recursive=True))
    bad = 0
    for md in files:
        code = False
        with open(md, encoding='utf-8') as f:
            for no, line in enumerate(f, 1):
                if line.startswith('```'):
                    code = not code
                    continue
                if code:
                    continue
                for target in LINK.findall(re.sub(r'`[^`]*`', '', line)):
                    if re.match(r'^[a-z][a-z0-9+.-]*:', target):
                        continue
                    path, _, frag = target.partition('#')
                    dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
                    why = None
                    if not os.path.exists(dest):
                        why = 'no such file'
                    elif frag and dest.endswith('.md') and frag not in anchors(dest):
                        why = f'no heading with the anchor #{frag}'
                    if why:
                        print(f'{os.path.relpath(md, root)}:{no}: {target}: {why}')
                        bad += 1
    print(f'{len(files)} files checked, {bad} broken link(s)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))
