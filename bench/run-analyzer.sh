#!/bin/sh
# run-analyzer.sh - analyzer throughput on ~200 MB of real doveadm logs.
#
#   bench/run-analyzer.sh [BUILD_DIR] [MB]
#
# Replicates the captured `doveadm -D backup -R imapc:` log of a 300-message
# sync (tests/fixtures/doveadm/debug-sync.log: Debug lines, mail_log "copy
# from" lines, timestamps) to about MB megabytes (default 200), plus a log
# of only mail_log and error lines (the non-debug worst case: every line
# reaches a regex), and prints the analyzer's MB/s for each.
set -e
srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-.}
mb=${2:-200}
bench=$build/bench/analyzer_bench
[ -x "$bench" ] || { echo "build $bench first (make bench/analyzer_bench)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/dmf-analyzer-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

replicate() { # SRC DST
	src=$1 dst=$2
	size=$(wc -c <"$src")
	n=$((mb * 1000000 / size + 1))
	i=0
	# double up: few, large appends
	cp "$src" "$dst"
	copies=1
	while [ $((copies * 2)) -le "$n" ]; do
		cat "$dst" "$dst" >"$dst.tmp" && mv "$dst.tmp" "$dst"
		copies=$((copies * 2))
	done
	while [ "$copies" -lt "$n" ]; do
		cat "$src" >>"$dst"
		copies=$((copies + 1))
	done
}

fx=$srcdir/tests/fixtures/doveadm
replicate "$fx/debug-sync.log" "$tmp/debug.log"
echo "== -D log ($(($(wc -c <"$tmp/debug.log") / 1000000)) MB, $(wc -l <"$tmp/debug.log") lines)"
"$bench" "$tmp/debug.log" 3

cat "$fx/incremental.log" "$fx/dupuid.log" "$fx/wrongpw.log" \
	"$fx/srcdown.log" >"$tmp/busy1.log"
grep 'copy from' "$fx/debug-sync.log" >>"$tmp/busy1.log"
replicate "$tmp/busy1.log" "$tmp/busy.log"
echo "== mail_log/error-only log ($(($(wc -c <"$tmp/busy.log") / 1000000)) MB, $(wc -l <"$tmp/busy.log") lines)"
"$bench" "$tmp/busy.log" 3
