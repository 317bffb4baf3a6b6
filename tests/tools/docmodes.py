"""docmodes.py -- compare a system-mode instance with the table of owners and
modes in docs/SECURITY.md section 2.4 (between the docmodes markers).

    docmodes.py table SECURITY.md             the rows, one a line
    docmodes.py compare SECURITY.md DIR BIN    every path under DIR and every
                                               file in BIN against the rows
    docmodes.py stated SECURITY.md FILE...     every "USER:GROUP NNNN" a
                                               document states, against the rows

A row's path is DIR/... or BIN/... with shell patterns per path component
(a '*' does not cross a '/'); a path takes the first row that matches.
Output: "PASS: ..." and "FAIL: ...: why" lines (tests/lib.sh's form); a
row that matches nothing fails too, so the table cannot go stale.
"""
import fnmatch
import grp
import os
import pwd
import re
import stat
import sys

BEGIN, END = "<!-- docmodes: begin -->", "<!-- docmodes: end -->"


def rows(doc):
    text = open(doc, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        sys.exit("FAIL: docmodes: %s has no docmodes table" % doc)
    out = []
    for line in text.split(BEGIN, 1)[1].split(END, 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("path", "") or cells[0].startswith("---"):
            continue
        path, kind, owner, mode = cells[:4]
        if kind not in ("d", "f", "s") or not re.fullmatch(r"[0-7]{4}", mode) or ":" not in owner:
            sys.exit("FAIL: docmodes: bad row in %s: %s" % (doc, line))
        out.append({"path": path, "kind": kind, "owner": owner, "mode": mode, "hits": 0})
    if not out:
        sys.exit("FAIL: docmodes: the table in %s is empty" % doc)
    return out


def matches(pattern, path):
    p, q = pattern.split("/"), path.split("/")
    return len(p) == len(q) and all(fnmatch.fnmatchcase(b, a) for a, b in zip(p, q))


def describe(path):
    st = os.lstat(path)
    kind = "d" if stat.S_ISDIR(st.st_mode) else "s" if stat.S_ISFIFO(st.st_mode) else "f"
    owner = "%s:%s" % (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name)
    return kind, owner, "%04o" % stat.S_IMODE(st.st_mode)


def paths(home, bindir):
    yield "DIR", home
    for d, dirs, files in os.walk(home):
        dirs[:] = [x for x in dirs if x != "supervise"]       # s6's, made at start
        for n in sorted(dirs + files):
            full = os.path.join(d, n)
            yield "DIR/" + os.path.relpath(full, home), full
    for n in sorted(os.listdir(bindir)):
        yield "BIN/" + n, os.path.join(bindir, n)


def compare(doc, home, bindir):
    table, bad, n = rows(doc), 0, 0
    for name, full in paths(home, bindir):
        n += 1
        row = next((r for r in table if matches(r["path"], name)), None)
        if row is None:
            print("FAIL: %s: in no row of the table" % name)
            bad += 1
            continue
        row["hits"] += 1
        got = describe(full)
        want = (row["kind"], row["owner"], row["mode"])
        if got != want:
            print("FAIL: %s: is %s, the table (row %s) says %s" % (name, " ".join(got), row["path"], " ".join(want)))
            bad += 1
    for r in table:
        if r["hits"]:
            print("PASS: %s %s %s (%d path%s)" % (r["path"], r["owner"], r["mode"], r["hits"], "" if r["hits"] == 1 else "s"))
        else:
            print("FAIL: row %s: matches nothing in the instance" % r["path"])
    print("compared %d paths, %d disagree" % (n, bad))


def stated(doc, files):
    table = rows(doc)
    pairs = {(r["owner"], r["mode"]) for r in table}
    pairs |= {(r["owner"], r["mode"][1:]) for r in table if r["mode"][0] == "0"}
    pat = re.compile(r"\b((?:root|imc[a-z]):(?:root|imc[a-z]))(?:\s|\\fR|\\fP|\)|,)+(?:mode\s+)?([0-7]{3,4})\b")
    for f in files:
        text = open(f, encoding="utf-8", errors="replace").read().replace("\\-", "-")
        found = wrong = 0
        for m in pat.finditer(text):
            if re.search(r"\b(was|were)\b", text[max(0, m.start() - 30):m.start()]):
                continue                     # what it used to be, in a finding's history
            found += 1
            line = text.count("\n", 0, m.start()) + 1
            if (m.group(1), m.group(2)) in pairs:
                continue
            wrong += 1
            print("FAIL: %s:%d: states %s %s, which no row of the table has" % (f, line, m.group(1), m.group(2)))
        if not wrong:
            print("PASS: %s: %d owner and mode statement%s agree with the table" % (f, found, "" if found == 1 else "s"))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "table":
        for r in rows(sys.argv[2]):
            print(r["path"], r["kind"], r["owner"], r["mode"])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        compare(*sys.argv[2:5])
    elif len(sys.argv) >= 4 and sys.argv[1] == "stated":
        stated(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
