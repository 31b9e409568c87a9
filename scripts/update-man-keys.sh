#!/bin/bash
# update-man-keys.sh [BUILD-DIR] - rewrite the KEYS section of
# man/dmf-worker.yml.5 from the configuration schema
# (tests/unit/test_man_keys --man-keys, built in BUILD-DIR, default _build).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
make -s -C "$build" tests/unit/test_man_keys
page=$top/man/dmf-worker.yml.5
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
"$build/tests/unit/test_man_keys" --man-keys > "$keys"
awk -v keys="$keys" '
	/^\.\\" END KEYS$/ { skip = 0 }
	!skip { print }
	/^\.\\" BEGIN KEYS$/ { while ((getline l < keys) > 0) print l; skip = 1 }
' "$page" > "$page.new"
mv "$page.new" "$page"
echo "update-man-keys: $(grep -c '^\.TP$' "$page") entries in $page"
