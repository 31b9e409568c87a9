#!/bin/bash
# test_plugin_symbols.sh - every built plugin exports exactly one
# dmf_plugin_v* symbol and nothing else of ours.
set -u
src=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${abs_top_builddir:-$src}
. "$src/tests/lib/tap.sh"
found=0
for so in "$bld"/plugins/*/.libs/*.so; do
	[ -f "$so" ] || continue
	found=1
	syms=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$')
	is "$(printf '%s\n' "$syms" | grep -c '^dmf_plugin_v[0-9]')" 1 "$(basename "$so") exports one dmf_plugin_v* symbol"
	is "$syms" "dmf_plugin_v1" "$(basename "$so") exports nothing else"
done
ok $((1 - found)) "plugins were built"
done_testing
