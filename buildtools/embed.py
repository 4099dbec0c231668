#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a C file defining `const char NAME[]` with the bytes of a text file."""
import sys

src, dst, name = sys.argv[1:4]
with open(src, 'rb') as f:
    data = f.read()
with open(dst, 'w') as f:
    f.write('/* Generated from %s by buildtools/embed.py. */\n' % src.split('/')[-1])
    f.write('const char %s[] =\n' % name)
    for line in data.decode('utf-8').splitlines(keepends=True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        f.write('\t"%s"\n' % esc)
    f.write(';\n')
