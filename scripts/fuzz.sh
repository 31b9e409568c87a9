#!/bin/bash
# fuzz.sh [SECONDS] - build the libFuzzer targets of tests/fuzz/ (clang,
# ASan+UBSan) in _build-fuzz and run each for SECONDS (default 10), from
# its seeds (tests/fuzz/seeds/NAME plus the project's own fixtures) and the
# corpus kept in _build-fuzz/corpus/NAME by earlier runs.  The test
# command runs it briefly; `scripts/fuzz.sh 600` is the long run.
# FUZZ_TARGETS="keystore config" runs only those targets (names as in
# tests/fuzz/fuzz_NAME.c; the default is all of them).  Writes
# one TAP result per target (_build-fuzz/tests/fuzz/NAME.trs, counted by
# scripts/test.sh); a crash leaves its input in _build-fuzz/crashes/.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
bld=$top/_build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)
all_targets="config inject command analyzer pkcs12 unwrap job_row http_auth http_bodies keystore"
targets=${FUZZ_TARGETS:-$all_targets}
for t in $targets; do
	case " $all_targets " in
	*" $t "*) ;;
	*)
		echo "fuzz.sh: unknown target '$t' in FUZZ_TARGETS (known: $all_targets)" >&2
		exit 2
		;;
	esac
done
cd "$top" || exit 1
[ -x configure ] || ./autogen.sh > /tmp/dmf-autogen.log 2>&1 || { cat /tmp/dmf-autogen.log; exit 1; }
mkdir -p "$bld" && cd "$bld" || exit 1
if [ ! -f Makefile ]; then
	CC=clang "$top/configure" -q --enable-fuzzing --enable-sanitizers \
		--without-libsystemd 2> >(grep -v "cannot remove 'core'" >&2) || exit 1
fi
progs=()
for t in $targets; do progs+=("tests/fuzz/fuzz_$t"); done
make -j"$jobs" "${progs[@]}" > build-fuzz.log 2>&1 || { tail -40 build-fuzz.log; exit 1; }

# seeds from the project's own files
seed() { # seed TARGET FILE...
	local d=$bld/corpus/$1 f
	case " $targets " in *" $1 "*) ;; *) return 0 ;; esac
	mkdir -p "$d"
	for f in "${@:2}"; do [ -f "$f" ] && cp -f "$f" "$d/seed-$(basename "$f")"; done
}
seed config "$top"/conf/*.yml "$top"/conf/*/*.yml
seed analyzer "$top"/tests/fixtures/doveadm/*.log
for t in $targets; do seed "$t" "$top"/tests/fuzz/seeds/"$t"/*; done
if [ -d "$bld/corpus/pkcs12" ] && [ ! -f "$bld/corpus/pkcs12/seed-keystore.p12" ] &&
	command -v openssl > /dev/null; then
	openssl rand -hex 32 > "$bld/k.txt"
	openssl req -x509 -newkey rsa:1024 -nodes -subj /CN=fuzz -days 1 \
		-keyout "$bld/k.pem" -out "$bld/c.pem" > /dev/null 2>&1 &&
		openssl pkcs12 -export -inkey "$bld/k.pem" -in "$bld/c.pem" -name key1 \
			-passout pass:password -out "$bld/corpus/pkcs12/seed-keystore.p12" 2> /dev/null
	rm -f "$bld/k.txt" "$bld/k.pem" "$bld/c.pem"
fi

mkdir -p "$bld/tests/fuzz" "$bld/crashes"
status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $targets; do
	log=$bld/tests/fuzz/$t.log
	"$bld/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$bld/crashes/$t-" "$bld/corpus/$t" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok - fuzz_$t: ${execs:-?} runs in ${secs} s, ${cov:-cov ?}, no crash"
		echo ":test-result: PASS" > "$bld/tests/fuzz/$t.trs"
	else
		echo "not ok - fuzz_$t: exit $rc after ${execs:-?} runs; input in $bld/crashes/"
		grep -E -A25 '^==[0-9]+==ERROR|runtime error|SUMMARY' "$log" | head -40 | sed 's/^/#   /'
		echo ":test-result: FAIL" > "$bld/tests/fuzz/$t.trs"
		status=1
	fi
done
exit $status
