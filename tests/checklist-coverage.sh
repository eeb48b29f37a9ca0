#!/bin/sh
# checklist-coverage.sh - which cases of ../shared/spec/mta-sts-checklist.md
# sections 1.1-1.9 (STS-*, MON-*) a test names, and where.  A test names a
# case by its id in a test function, an assertion line or a capture's
# README.  Prints "ID<TAB>files" for covered cases, then the uncovered
# ones, then a count.  Informational: it never fails.
top=$(cd "$(dirname "$0")/.." && pwd)
list=$top/../shared/spec/mta-sts-checklist.md
[ -f "$list" ] || { echo "checklist-coverage: $list not found"; exit 0; }
ids=$(grep -oE '^\* \*\*(STS|MON)-[0-9]+' "$list" | sed 's/^\* \*\*//' |
    sort -u -V)
covered=0 total=0 missing=""
for id in $ids; do
	total=$((total + 1))
	num=${id#*-} pfx=${id%-*}
	# In C a case is a test function (sts_017 for STS-17) or one named
	# before the colon of the comment that heads a test function; in
	# scripts and capture READMEs, a line naming it.
	fn="^$(echo "$pfx" | tr 'A-Z' 'a-z')_0*$num\\("
	where=$(cd "$top" && { grep -lE "$fn" tests/unit/*.c;
	    for f in tests/unit/*.c; do
		awk -v id="$id" '
		    /^\/\* / { head = $0; sub(/:.*/, "", head); next }
		    /^static void/ && head != "" {
			n = split(head, w, /[^A-Z0-9-]+/)
			for (i = 1; i <= n; i++) if (w[i] == id) hit = 1
		    }
		    { head = "" }
		    END { exit !hit }' "$f" && echo "$f"
	    done;
	    grep -lE "$id([^0-9]|\$)" tests/*.sh tests/*.py tests/fetch/* \
	    pcaps/*/README.md; } 2>/dev/null | grep -v checklist-coverage |
	    tr '\n' ' ')
	if [ -n "$where" ]; then
		covered=$((covered + 1))
		printf '%s\t%s\n' "$id" "$where"
	else
		missing="$missing $id"
	fi
done
echo "not named by any test:$missing"
echo "checklist 1.1-1.9: $covered of $total cases named by tests"
