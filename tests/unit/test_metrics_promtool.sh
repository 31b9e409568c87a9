#!/bin/sh
# test_metrics_promtool.sh - `promtool check metrics` on the Prometheus
# rendering of a registry populated as a running worker's
# (tests/unit/metrics_dump.c), with and without # HELP lines, and the
# names a scrape must find there.  Prints TAP.
set -u

builddir=${abs_top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
dump="$builddir/tests/unit/metrics_dump"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v promtool >/dev/null 2>&1; then
	echo "1..0 # SKIP promtool not installed (Debian package prometheus)"
	exit 0
fi
echo "1..26"
n=0
t() { # t OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

"$dump" >"$tmp/on.txt" 2>"$tmp/on.err"
[ $? = 0 ] && t OK "dump with descriptions" || { t FAIL "dump with descriptions"; sed 's/^/# /' "$tmp/on.err"; }
"$dump" --descriptions=off >"$tmp/off.txt" 2>"$tmp/off.err"
[ $? = 0 ] && t OK "dump without descriptions" || t FAIL "dump without descriptions"

# promtool exits 1 on a format error, 3 on lint problems only.  Allowed
# lint: system_cpu_count is the spec's (and Micrometer's) name for
# system.cpu.count, which Prometheus' naming rules frown on; without
# descriptions every family has "no help text", as Micrometer's has.
for f in on off; do
	promtool check metrics <"$tmp/$f.txt" >"$tmp/$f.lint" 2>&1
	rc=$?
	if [ $rc = 0 ] || [ $rc = 3 ]; then
		t OK "promtool check metrics ($f): parses (exit $rc)"
	else
		t FAIL "promtool check metrics ($f): parses (exit $rc)"
		sed 's/^/# /' "$tmp/$f.lint"
	fi
	grep -v -e '^system_cpu_count non-histogram and non-summary metrics should not have "_count" suffix$' \
		-e ' no help text$' "$tmp/$f.lint" >"$tmp/$f.rest"
	if [ $f = on ] && grep -q 'no help text' "$tmp/$f.lint"; then
		t FAIL "promtool ($f): no unexpected lint problems"
		sed 's/^/# /' "$tmp/$f.lint"
	elif [ -s "$tmp/$f.rest" ]; then
		t FAIL "promtool ($f): no unexpected lint problems"
		sed 's/^/# /' "$tmp/$f.rest"
	else
		t OK "promtool ($f): no unexpected lint problems"
	fi
done

grep -q '^# HELP ' "$tmp/on.txt" && t OK "HELP lines with descriptions" || t FAIL "HELP lines with descriptions"
grep -q '^# HELP ' "$tmp/off.txt" && t FAIL "no HELP lines without descriptions" || t OK "no HELP lines without descriptions"

for re in \
	'^process_uptime_seconds [0-9.e+-]*$' \
	'^process_start_time_seconds [0-9.e+]*$' \
	'^process_files_open_files [0-9]*$' \
	'^process_memory_rss_bytes [0-9.e+]*$' \
	'^system_cpu_count [0-9]*$' \
	'^executor_active_threads{name="worker-executor"} 1$' \
	'^executor_pool_max_threads{name="worker-executor"} 4$' \
	'^executor_seconds_count{name="worker-executor"} 1$' \
	'^executor_idle_seconds_bucket{name="worker-executor",le="+Inf"} 1$' \
	'^hikaricp_connections_max{pool="HikariPool-1"} 10$' \
	'^hikaricp_connections_acquire_seconds_count{pool="HikariPool-1"} 0$' \
	'^dmf_jobs_claimed_total{source="POD_1",phase="sync"} 2$' \
	'^dmf_jobs_failed_total{source="POD \\"2\\"\\\\x",phase="sync",class="worker_error"} 1$' \
	'^dmf_jobs_failed_total{source="POD_1",phase="sync",class="invalid_row"} 1$' \
	'^dmf_jobs_duration_seconds_bucket{source="POD_1",phase="sync",status="SUCCESS",le="60"} 1$' \
	'^dmf_messages_saved_total{source="POD_1"} 124$' \
	'^dmf_migrated_bytes_total{source="POD_1"} 115000$' \
	'^dmf_doveadm_dsync_runs_total{outcome="ok"} 3$'; do
	if grep -q -- "$re" "$tmp/on.txt"; then
		t OK "found: $re"
	else
		t FAIL "found: $re"
	fi
done
