# valgrind.sh - valgrind memcheck as scripts/valgrind.sh and
# tests/integration/test_memcheck_worker.sh run it (source it):
#   "${VG[@]}" --log-file=DIR/NAME.%p.vg PROGRAM ARGS...
#   vg_sum DIR/NAME.*.vg   # VG_ERR errors, VG_LOST bytes definitely plus
#                          # indirectly lost, VG_LOGS process logs
#   vg_show DIR/NAME.*.vg  # the errors and leak records as TAP comments
# Leaks definitely or indirectly lost are errors (exit 99); the
# suppressions (tests/valgrind.supp) cover third-party libraries only.
: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck shell=bash disable=SC2054,SC2034 # (commas inside options; VG is for the caller)
VG=(valgrind --tool=memcheck --leak-check=full
	--show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--num-callers=40 --keep-debuginfo=yes --gen-suppressions=all
	--suppressions="$abs_top_srcdir/tests/valgrind.supp")

vg_sum() {
	local f e d i
	VG_ERR=0 VG_LOST=0 VG_LOGS=0
	for f in "$@"; do
		[ -e "$f" ] || continue
		VG_LOGS=$((VG_LOGS + 1))
		e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tail -1 | tr -d ,)
		d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1 | tr -d ,)
		i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1 | tr -d ,)
		# no summary: a forked child that exec'd another program (not
		# followed: --trace-children=no) when the log holds only
		# valgrind's banner; anything more, and it died under valgrind
		if [ -z "$e" ]; then
			e=$(grep -E '^==[0-9]+== ' "$f" | grep -v -c -E \
				'^==[0-9]+== ( *|Memcheck, .*|Copyright .*|Using Valgrind.*|Command: .*|Parent PID: .*)$')
			[ "$e" -eq 0 ] || e=1
		fi
		VG_ERR=$((VG_ERR + e)) VG_LOST=$((VG_LOST + ${d:-0} + ${i:-0}))
	done
}

vg_show() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || continue
		grep -E -A30 '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination|Process terminating|[0-9,]+ .*bytes in .* (definitely|indirectly) lost)' "$f" |
			head -80 | sed 's/^/#   /'
	done
}
