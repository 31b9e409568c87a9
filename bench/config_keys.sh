#!/bin/bash
# bench/config_keys.sh - time loading a configuration whose one map holds
# N keys (issue 10, item 5: loading must be linear in a map's key count).
#
#   bench/config_keys.sh [DMF_WORKER] [N...]
#
# DMF_WORKER defaults to _build/core/worker/dmf-worker; N to 10000 20000
# 40000 80000.  Prints one line per N: keys, seconds (best of 3), and the
# seconds per 10k keys, which stays flat when loading is linear.  Also
# times the same keys as top-level keys (merged into the root map) and
# as keys of a map given twice (the second document merges into the first).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/_build/core/worker/dmf-worker}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 20000 40000 80000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # N LAYOUT FILE
	python3 - "$1" "$2" "$3" <<'PY'
import sys
n, layout, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, "w") as f:
    if layout == "nested":
        f.write("dmf:\n  command:\n    inject:\n")
        for i in range(n):
            f.write(f"      key{i}x: value{i}\n")
    elif layout == "top":
        for i in range(n):
            f.write(f"top{i}: value{i}\n")
    else:  # two documents of the same map
        for doc in range(2):
            f.write("---\nbench:\n")
            for i in range(n):
                f.write(f"  k{i}: v{doc}.{i}\n")
PY
}

best_of_3() { # FILE
	local best=
	for _ in 1 2 3; do
		local s e
		s=$(date +%s.%N)
		"$bin" -c "$1" --print-config >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then
			best=$t
		fi
	done
	echo "$best"
}

printf '%-8s %8s %10s %10s\n' layout keys seconds s/10k
for layout in nested top twice; do
	for n in "${sizes[@]}"; do
		gen "$n" "$layout" "$tmp/c.yml"
		t=$(best_of_3 "$tmp/c.yml")
		printf '%-8s %8d %10.3f %10.3f\n' "$layout" "$n" "$t" \
			"$(echo "$t * 10000 / $n" | bc -l)"
	done
done
