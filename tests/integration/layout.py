#!/usr/bin/python3
"""layout.py -- the source tree keeps one folder a program, and README says so.

Checks, on the checkout this file is in:
  - no source file under lib, smtpd, remote, queue, convert or control
    includes a file by a path that climbs out of its folder ('#include "../');
    a program reaches another program's code only through lib/;
  - every program's main (a file imc-*.c) sits in a folder that README's
    Layout section names, on a line that also names the program;
  - every folder README's Layout section names exists;
  - no folder holds two programs' mains, except the two families README
    names together: queue/inject/ (imc-inject and imc-pickup, the local
    injectors) and queue/admin/ (the queue tools, which share one module set);
  - imc-send's layers, as queue/send/send.h lists them: no object of
    build/queue/send/ uses a symbol defined by an object of a higher layer
    (nm's undefined symbols against the others' defined ones), the stages
    (one layer) may use each other, and every .c file of queue/send/ has
    its layer.
"""
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAMILIES = ("queue/inject", "queue/admin")
SRC = ["lib", "smtpd", "remote", "queue", "convert", "control"]
fails = 0


def check(name, ok, why=""):
    global fails
    if ok:
        print("PASS: " + name)
    else:
        fails += 1
        print("FAIL: %s: %s" % (name, why))


def sources():
    for top in SRC:
        for d, _, files in os.walk(os.path.join(TOP, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)


def layout_lines():
    text = open(os.path.join(TOP, "README.md")).read()
    m = re.search(r"^## Layout\n(.*?)^\S", text, re.S | re.M)
    return m.group(1).splitlines() if m else []


def layout_folders(lines):
    """(folder, the text of its entry) for each entry of the Layout block; an
    indented entry ("  send/") is below the last top-level one ("queue/")"""
    out, parent = [], ""
    for line in lines:
        m = re.match(r"^    ( *)([a-z.][a-z/]*/)\s", line + " ")
        if not m:
            if out and line.startswith("     "):
                out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
            continue
        folder = m.group(2).rstrip("/")
        if m.group(1):
            folder = parent + "/" + folder
        else:
            parent = folder
        out.append((folder, line[m.end():].strip()))
    return out


climbing = []
for path in sources():
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            if re.match(r'\s*#\s*include\s+"\.\./', line):
                climbing.append("%s:%d" % (os.path.relpath(path, TOP), n))
check("no #include \"../ in the programs or lib", not climbing, " ".join(climbing[:10]))

entries = layout_folders(layout_lines())
check("README has a Layout section", len(entries) > 5, "found %d entries" % len(entries))
for folder, _ in entries:
    if folder.startswith("."):
        continue
    check("README's folder %s/ exists" % folder, os.path.isdir(os.path.join(TOP, folder)))

described = dict(entries)
mains = {}
for path in sources():
    base = os.path.basename(path)
    if base.startswith("imc-") and base.endswith(".c"):
        folder = os.path.relpath(os.path.dirname(path), TOP)
        mains.setdefault(folder, []).append(base[:-2])
for folder, progs in sorted(mains.items()):
    for prog in progs:
        text = described.get(folder, "")
        check("README names %s in %s/" % (prog, folder), prog in text,
              "Layout says %r" % text if text else "no Layout entry for %s/" % folder)
    check("one program in %s/" % folder, len(progs) == 1 or folder in FAMILIES,
          "it holds " + " ".join(sorted(progs)))



def send_layers():
    """{file stem: layer number} from the layer table in send.h: rows
    " *   N what   files", a row of files alone continuing the one before"""
    text = open(os.path.join(TOP, "queue/send/send.h")).read()
    layers, layer = {}, None
    for line in text.splitlines():
        m = re.match(r"^ \*\s+(\d) [a-z][a-z ,]*?\s{2,}(.*)$", line)
        if m:
            layer, files = int(m.group(1)), m.group(2)
        elif layer is not None and re.match(r"^ \*\s{20,}\S", line):
            files = line
        else:
            layer = None if layers else layer
            continue
        for f in re.findall(r"([\w-]+)\.c", files):
            layers[f] = layer
    return layers


def nm(path, defined):
    args = ["nm", "--defined-only" if defined else "-u", path]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    if defined:
        return {l.split()[2] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] in "TDBRC"}
    return {l.split()[-1] for l in out.splitlines() if l.strip()}


layers = send_layers()
sources_send = sorted(f[:-2] for f in os.listdir(os.path.join(TOP, "queue/send")) if f.endswith(".c"))
check("send.h gives every queue/send/*.c its layer", layers and all(f in layers for f in sources_send),
      "no layer for " + " ".join(f for f in sources_send if f not in layers))
objdir = os.path.join(TOP, "build/queue/send")
objs = {f: os.path.join(objdir, f + ".o") for f in sources_send}
if not all(os.path.exists(o) for o in objs.values()):
    print("SKIP: imc-send's layers: build/queue/send/ is not built (make all)")
else:
    owner = {}
    for f, o in objs.items():
        for sym in nm(o, True):
            owner[sym] = f
    upward = []
    for f, o in objs.items():
        for sym in nm(o, False):
            g = owner.get(sym)
            if g and g != f and layers.get(g, 0) > layers.get(f, 0):
                upward.append("%s (layer %d) calls %s of %s (layer %d)" % (f, layers[f], sym, g, layers[g]))
    check("imc-send calls no layer above (%d objects)" % len(objs), not upward, "; ".join(upward[:8]))

sys.exit(1 if fails else 0)
