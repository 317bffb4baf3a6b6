"""docpaths.py TOP -- every file of the project that a document names exists.

The documents: docs/*.md, INSTALL, README.md and man/*.  A name is a word
ending in a source or document suffix (.c .h .sh .md .py), or a path under
one of the project's own folders that no instance has (docs/ tests/ tools/
bench/ man/ lib/ bin/ smtpd/ remote/ convert/).  It is found when it exists
from the top or from the document's folder, when a bare file name is
somewhere in the tree, or when it is the start of existing names (lib/dnsq
for lib/dnsq*.c); a word in capitals in a path (NAME, ID) stands for any.
Output: "PASS: ..." and "FAIL: DOC:LINE: NAME is not in the project".
"""
import fnmatch
import os
import re
import sys

SKIP_DIRS = {".git", "build", "san", "fuzz", "tests/out"}   # from the top: what builds and tests make
SUFFIXED = re.compile(r"(?<![\w./$@-])((?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.(?:c|h|sh|md|py))(?![\w/.-])")
ROOTED = re.compile(r"(?<![\w./$@-])((?:docs|tests|tools|bench|man|lib|bin|smtpd|remote|convert)/[\w./*-]*[\w*])")


def tree(top):
    files = []
    for d, dirs, fs in os.walk(top):
        dirs[:] = [x for x in dirs if os.path.relpath(os.path.join(d, x), top) not in SKIP_DIRS]
        files += [os.path.relpath(os.path.join(d, f), top) for f in fs]
        files += [os.path.relpath(os.path.join(d, x), top) for x in dirs]
    return files


def pattern(name):
    parts = [re.sub(r"(?<![A-Za-z])[A-Z][A-Z0-9_]+(?![a-z])", "*", p) for p in name.split("/")]
    return "/".join(parts)


def found(name, doc, top, files, bare):
    if os.path.exists(os.path.join(top, name)) or os.path.exists(os.path.join(top, os.path.dirname(doc), name)):
        return True
    if "/" not in name:
        return name in bare
    pat = pattern(name)
    return any(fnmatch.fnmatchcase(f, pat) or fnmatch.fnmatchcase(f, pat + "*") for f in files)


def main(top):
    files = tree(top)
    bare = {os.path.basename(f) for f in files}
    docs = ["INSTALL", "README.md"]
    docs += sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(top, "docs")) if f.endswith(".md"))
    docs += sorted(os.path.join("man", f) for f in os.listdir(os.path.join(top, "man")))
    missing = 0
    for doc in docs:
        text = open(os.path.join(top, doc), encoding="utf-8", errors="replace").read()
        text = text.replace("\\-", "-").replace("\\&", "").replace("\\fB", " ").replace("\\fR", " ").replace("\\fP", " ")
        names = 0
        for n, line in enumerate(text.split("\n"), 1):
            for name in sorted({m.group(1) for r in (SUFFIXED, ROOTED) for m in r.finditer(line)}):
                names += 1
                if not found(name, doc, top, files, bare):
                    print("FAIL: %s:%d: %s is not in the project" % (doc, n, name))
                    missing += 1
        print("%s: %d names" % (doc, names))
    print("%d document%s read, %d name%s missing" % (len(docs), "" if len(docs) == 1 else "s", missing, "" if missing == 1 else "s"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
