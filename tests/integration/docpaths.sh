# docpaths.sh -- no document cites a file that is not in the project: every
# file name and project path in docs/*.md, INSTALL, README.md and man/*
# exists (tests/tools/docpaths.py says what counts as a name).  A document
# that names a file the project lacks (DESIGN.md, say) fails with its line.
. "$(dirname "$0")/../lib.sh"
"$PYTHON" "$TOP/tests/tools/docpaths.py" "$TOP" > "$T_TMP/paths.out" 2>&1
rc=$?
cat "$T_TMP/paths.out"
check "docpaths.py ran (exit $rc)" test "$rc" = 0
check "every document was read" grep -q '^[0-9]* documents read' "$T_TMP/paths.out"
check "the documents name files (the search finds them)" sh -c "[ \$(awk '/: [0-9]+ names\$/ { n += \$2 } END { print n + 0 }' '$T_TMP/paths.out') -gt 100 ]"
check "INSTALL and SECURITY.md were among them" sh -c "grep -q '^INSTALL: ' '$T_TMP/paths.out' && grep -q '^docs/SECURITY.md: ' '$T_TMP/paths.out'"
check "no document names a missing file" sh -c "! grep -q '^FAIL' '$T_TMP/paths.out' && grep -q ' 0 names missing' '$T_TMP/paths.out'"
t_done
