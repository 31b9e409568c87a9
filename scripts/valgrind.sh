#!/bin/bash
# valgrind.sh [unit|worker|all] - valgrind memcheck over every C unit test
# program of tests/unit/ and over a worker that processes DMF_MEMCHECK_JOBS
# (200) simulator jobs from its own MariaDB and drains
# (tests/integration/test_memcheck_worker.sh, which the test suite also
# runs).  Builds a plain tree (no sanitizers) in _build-valgrind.  Each
# process runs under valgrind --leak-check=full
# --errors-for-leak-kinds=definite,indirect --error-exitcode=99 with
# tests/valgrind.supp (third-party library noise only; tests/lib/valgrind.sh
# has the options).  A unit test passes when it passes as usual, valgrind
# counts 0 errors and nothing definitely or indirectly lost.  Prints TAP
# and the figures; exits 0 when all passed.  Logs (one per process):
# _build-valgrind/valgrind/NAME.PID.vg.  About 1.5 minutes on 2 cores.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bld=$top/_build-valgrind
what=${1:-all}
out=$bld/valgrind
case "$what" in unit | worker | all) ;; *)
	echo "usage: valgrind.sh [unit|worker|all]" >&2
	exit 2
	;;
esac
command -v valgrind > /dev/null || {
	echo "1..0 # SKIP valgrind is not installed"
	exit 0
}
abs_top_srcdir=$top
. "$top/tests/lib/valgrind.sh"

cd "$top" || exit 1
[ -x configure ] || ./autogen.sh > /tmp/dmf-autogen.log 2>&1 || { cat /tmp/dmf-autogen.log; exit 1; }
mkdir -p "$bld" && cd "$bld" || exit 1
if [ ! -f Makefile ]; then
	"$top/configure" -q --enable-werror 2> >(grep -v "cannot remove 'core'" >&2) || exit 1
fi
jobs=$(nproc 2>/dev/null || echo 2)
{ make -j"$jobs" && make -j"$jobs" check TESTS=; } > build-valgrind.log 2>&1 ||
	{ tail -40 build-valgrind.log; exit 1; }
rm -rf "$out" && mkdir -p "$out"
status=0

# (1) the unit test programs, each in the environment `make check` gives
if [ "$what" != worker ]; then
	# shellcheck disable=SC2016 # $(TESTS) is make's, not the shell's
	units=$(printf 'vg-print:\n\t@echo $(TESTS)\n' | make -s -f Makefile -f - vg-print |
		tr ' ' '\n' | grep '^tests/unit/' | grep -v '\.sh$')
	n=0 checks=0 errs=0 lost=0 t0=$(date +%s.%N)
	for t in $units; do
		name=$(basename "$t")
		start=$(date +%s.%N)
		env top_srcdir="$top" srcdir="$top" abs_top_srcdir="$top" \
			top_builddir="$bld" abs_top_builddir="$bld" \
			nice -n 5 ./libtool --mode=execute "${VG[@]}" \
			--log-file="$out/$name.%p.vg" "./$t" > "$out/$name.tap" 2>&1
		rc=$?
		secs=$(echo "$(date +%s.%N) - $start" | bc)
		vg_sum "$out/$name".*.vg
		pass=$(grep -c '^ok ' "$out/$name.tap")
		fail=$(grep -c '^not ok ' "$out/$name.tap")
		plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out/$name.tap" | tail -1)
		n=$((n + 1)) checks=$((checks + pass)) errs=$((errs + VG_ERR))
		lost=$((lost + VG_LOST))
		line="$name under valgrind: $pass/${plan:-?} checks, exit $rc, $VG_ERR errors, $VG_LOST bytes lost ($VG_LOGS process(es), $(printf %.1f "$secs") s)"
		if [ "$rc" -eq 0 ] && [ "$fail" -eq 0 ] && [ "${plan:-x}" = "$pass" ] &&
			[ "$VG_ERR" -eq 0 ] && [ "$VG_LOST" -eq 0 ]; then
			echo "ok $n - $line"
		else
			echo "not ok $n - $line"
			grep '^not ok' "$out/$name.tap" | head -5 | sed 's/^/#   /'
			vg_show "$out/$name".*.vg
			status=1
		fi
	done
	echo "1..$n"
	echo "# unit tests: $n programs, $checks checks passed, $errs valgrind errors, $lost bytes definitely/indirectly lost, $(printf %.0f "$(echo "$(date +%s.%N) - $t0" | bc)") s"
fi

# (2) a worker over simulator jobs and its drain
if [ "$what" != unit ]; then
	echo "# worker: tests/integration/test_memcheck_worker.sh under valgrind"
	abs_top_srcdir="$top" abs_top_builddir="$bld" DMF_MEMCHECK_LOGS="$out" \
		bash "$top/tests/integration/test_memcheck_worker.sh" > "$out/worker.tap" 2>&1
	sed 's/^/    /' "$out/worker.tap"
	if grep -q '^not ok' "$out/worker.tap" || ! grep -q '^1\.\.' "$out/worker.tap" ||
		[ "$(grep -c '^ok' "$out/worker.tap")" != "$(sed -n 's/^1\.\.//p' "$out/worker.tap")" ]; then
		echo "not ok - the worker under valgrind"
		status=1
	else
		echo "ok - the worker under valgrind"
	fi
fi
echo "# logs in $out"
exit $status
