#!/usr/bin/env python3
"""Embed a text file as a C string: embed.py INPUT OUTPUT SYMBOL."""
import sys

src, dst, sym = sys.argv[1:4]
data = open(src, encoding="utf-8").read()
with open(dst, "w", encoding="utf-8") as out:
    out.write("/* Generated from %s by scripts/embed.py. */\n#pragma once\n" % src.split("/")[-1])
    out.write("static const char %s[] =\n" % sym)
    for line in data.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.write('  "%s"\n' % esc)
    out.write(";\n")
