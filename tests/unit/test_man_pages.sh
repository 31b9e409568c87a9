#!/bin/bash
# test_man_pages.sh - every man page renders with man -l and groff -ww
# without a warning, and dmf-worker(8)/dmfctl(8) document every option
# their --help prints.
set -uo pipefail
. "$top_srcdir/tests/lib/tap.sh"
command -v groff > /dev/null || { echo "1..0 # SKIP groff not installed (scripts/deps.sh)"; exit 0; }
for page in dmf-worker.8 dmfctl.8 dmf-worker.yml.5 dmf-worker-gen-certs.8 dmf-plugin.7; do
	f=$top_srcdir/man/$page
	err=$(groff -ww -z -b -man -Tutf8 "$f" 2>&1)
	is "$err" "" "$page: groff -ww -man: no warning"
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 > /dev/null)
	is "$err" "" "$page: man -l --warnings: no warning"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" 2>/dev/null)
	like "$out" "SEE ALSO" "$page: renders a SEE ALSO section"
done
# options from --help, each written in the page as \-\-name
for prog in core/worker/dmf-worker core/dmfctl/dmfctl; do
	name=${prog##*/}
	opts=$("$top_builddir/$prog" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	missing=
	for o in $opts; do
		grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$top_srcdir/man/$name.8" || missing="$missing $o"
	done
	[ -n "$opts" ] && ok 0 "$name --help lists options" || ok 1 "$name --help lists options"
	is "$missing" "" "$name(8) documents every option of $name --help"
done
# dmf-plugin(7) names every table of struct dmf_host and every function
# of each table (sdk/include/dmf/host.h)
h=$top_srcdir/sdk/include/dmf/host.h
page=$top_srcdir/man/dmf-plugin.7
tables=$(sed -n '/^struct dmf_host {/,/^};/p' "$h" | sed -n 's/.*const struct dmf_host_\([a-z_0-9]*\) \*\([a-z_0-9]*\);.*/\2/p')
[ -n "$tables" ]; ok $? "host.h: the tables of struct dmf_host found"
missing=
for t in $tables; do
	grep -qx ".B $t" "$page" || missing="$missing $t"
	for f in $(sed -n "/^struct dmf_host_$t {/,/^};/p" "$h" | grep -oE '\(\*[a-z_0-9]+\)' | tr -d '(*)'); do
		grep -qF "\\fB$f\\fP" "$page" || missing="$missing $t.$f"
	done
done
is "$missing" "" "dmf-plugin(7) documents every host table and function"
echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
