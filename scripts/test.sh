#!/bin/bash
# test.sh - build everything with -Werror and run the whole test suite:
# unit and integration tests, the same again under ASan+UBSan (built
# without libsystemd, so the daemon's own sd_notify code is tested too),
# the libFuzzer targets for a few seconds each (scripts/fuzz.sh), then
# `make distcheck`.  Prints TAP totals and ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$(id -u)" -eq 0 ] && { bash scripts/deps.sh || exit 1; }

./autogen.sh > /tmp/dmf-autogen.log 2>&1 || { cat /tmp/dmf-autogen.log; exit 1; }

status=0
run_suite() { # run_suite DIR CONFIGURE-ARGS...
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q --enable-werror "$@" 2> >(grep -v "cannot remove 'core'" >&2)) || return 1
	make -C "$dir" -j"$jobs" > "$dir/build.log" 2>&1 || { tail -50 "$dir/build.log"; return 1; }
	make -C "$dir" -j"$jobs" check > "$dir/check.log" 2>&1
	local rc=$? left
	# tests stop what they start, by PID: nothing of this build may be
	# left running (listed, then killed by the PIDs listed)
	left=$(ps -eo pid=,args= | awk -v d="$dir/" 'index($0, d) && $2 != "awk"')
	if [ -n "$left" ]; then
		echo "not ok - processes of $dir left running after its tests:"
		echo "$left" | sed 's/^/#   /'
		echo "$left" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null
		echo "not ok - leftover processes" > "$top/_build/leftover-${dir##*/}.trs.txt"
		rc=1
	fi
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/check.log" | grep -v '^PASS' | head -100
	[ $rc -eq 0 ] || { find "$dir/tests" -name '*.log' -newer "$dir/build.log" -print0 |
		xargs -0 grep -l -E '^(not ok|Bail out)' 2>/dev/null | head -5 | while read -r f; do
			echo "--- $f"; grep -E -B2 -A12 '^(not ok|Bail out)' "$f" | head -60; done; }
	return $rc
}

echo "== make format-check (.clang-format)"
mkdir -p "$top/_build"
if (cd "$top/_build" && { [ -f Makefile ] || "$top/configure" -q --enable-werror 2> >(grep -v "cannot remove 'core'" >&2); } &&
	make format-check); then :; else
	echo "not ok - make format-check" > "$top/_build/format.trs.txt"
	status=1
fi
echo "== build and test (-Werror)"
run_suite "$top/_build" || status=1
echo "== build and test under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite "$top/_build-asan" --enable-sanitizers --without-libsystemd || status=1
echo "== fuzz targets (libFuzzer, ${DMF_FUZZ_SECONDS:-5} s each; scripts/fuzz.sh 600 for the long run)"
bash "$top/scripts/fuzz.sh" "${DMF_FUZZ_SECONDS:-5}" || status=1
echo "== make distcheck"
if DMF_SKIP_INTEGRATION=1 make -C "$top/_build" -j"$jobs" distcheck > "$top/_build/distcheck.log" 2>&1; then
	echo "distcheck: ok"
else
	tail -40 "$top/_build/distcheck.log"
	echo "not ok - make distcheck" > "$top/_build/distcheck.trs.txt"
	status=1
fi

# TAP totals over every test point of both runs.
pass=0 fail=0 skip=0
for trs in $(find "$top/_build/tests" "$top/_build-asan/tests" "$top/_build-fuzz/tests/fuzz" -name '*.trs' 2>/dev/null); do
	p=$(grep -c '^:test-result: PASS' "$trs"); f=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs")
	s=$(grep -c '^:test-result: SKIP' "$trs")
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
done
for f in "$top"/_build/distcheck.trs.txt "$top"/_build/format.trs.txt "$top"/_build/leftover-*.trs.txt; do
	[ -f "$f" ] && fail=$((fail + 1)) && rm -f "$f"
done
[ $status -ne 0 ] && [ $fail -eq 0 ] && fail=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
