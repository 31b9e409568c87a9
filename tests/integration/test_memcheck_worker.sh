#!/bin/bash
# test_memcheck_worker.sh - a worker (simulator job worker, HTTPS with the
# dmf-worker-gen-certs keystore, authenticated scrapes) processes
# DMF_MEMCHECK_JOBS (200) simulator jobs from its own MariaDB and drains
# on `dmfctl backend stop`; it must exit 0 with every job SUCCESS exactly
# once, and with no memory error and no leak:
# - in a plain build it runs under valgrind memcheck (tests/lib/valgrind.sh:
#   no error, nothing definitely or indirectly lost);
# - in an --enable-sanitizers build (valgrind cannot run ASan programs) it
#   runs as built, LeakSanitizer checking at exit: no sanitizer report.
# scripts/valgrind.sh runs it too, keeping the logs in DMF_MEMCHECK_LOGS.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/http.sh"
. "$abs_top_srcdir/tests/lib/valgrind.sh"
dw_skip_unless_ready
command -v curl > /dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
if grep -q -- '--enable-sanitizers' "$abs_top_builddir/config.log" 2> /dev/null; then
	mode=sanitizers
elif command -v valgrind > /dev/null; then
	mode=valgrind
else
	echo "1..0 # SKIP valgrind is not installed (and this is no sanitizer build)"
	exit 0
fi
n=${DMF_MEMCHECK_JOBS:-200}
echo "1..12"
dw_init memcheck
logs=${DMF_MEMCHECK_LOGS:-$DW_DIR/vg}
mkdir -p "$logs" && rm -f "$logs"/worker.*.vg

certs=$DW_DIR/certs
"$HT_GEN_CERTS" -d "$certs" -p 'ks pass' > /dev/null 2>&1 ||
	{ echo "Bail out! dmf-worker-gen-certs failed"; exit 1; }
P=$(mdb_free_port)
B=https://localhost:$P
TLS=(--cacert "$certs/worker.pem")
AUTH=(-u 'admin:mem-pw')
# valgrind runs the worker 20-50 times slower: a lease that cannot
# expire under it, so that no job is rescued
# shellcheck disable=SC2034 # read by dw_config
DW_LEASE=60s DW_HEARTBEAT=1s DW_TERMINATION=30000
ht_config vg "jobs: { max: 8, cache: { size: 100, refresh: 1s } }" < <(
	ht_tls_yaml "$P" "$certs/keystore.p12" "ks pass"
	printf 'http:\n  admin:\n    username: admin\n    password: mem-pw\n'
)
if [ $mode = valgrind ]; then
	{
		echo '#!/bin/bash'
		printf 'exec'
		printf ' %q' "${VG[@]}" --log-file="$logs/worker.%p.vg" "$DW_WORKER"
		echo ' "$@"'
	} > "$DW_DIR/vg-worker"
	chmod +x "$DW_DIR/vg-worker"
	DW_WORKER=$DW_DIR/vg-worker
fi
dw_enqueue "$n" 50
start=$(date +%s.%N)
dw_worker_start vg
check "HTTPS /health answers 200 while the jobs run" ht_wait_code 200 120 "$B/health" "${TLS[@]}"
scrapes=0
while ! dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 1 > /dev/null; do
	ht_body "$B/prometheus" "${TLS[@]}" "${AUTH[@]}" > "$DW_DIR/scrape.txt" &&
		scrapes=$((scrapes + 1))
	[ "$(echo "$(date +%s.%N) - $start > 900" | bc)" = 1 ] && break
done
done_s=$(echo "$(date +%s.%N) - $start" | bc)
check "all $n jobs left the queue (${done_s} s, $scrapes scrapes of /prometheus)" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 1
is "$(ht_code "$B/prometheus" "${TLS[@]}" -u admin:wrong)" 401 "/prometheus with a wrong password: 401"
ht_body "$B/prometheus" "${TLS[@]}" "${AUTH[@]}" > "$DW_DIR/final.txt"
check "/prometheus authenticated: $n jobs counted succeeded" \
	grep -qE "^dmf_jobs_succeeded_total\\{source=\"POD_1\",phase=\"sync\"\\} $n\$" "$DW_DIR/final.txt"
$DMFCTL backend stop default/vg > /dev/null
dw_worker_wait vg 300 || kill -KILL "$(dw_pid vg)"
exit_s=$(echo "$(date +%s.%N) - $start" | bc)
is "$DW_RC" 0 "the worker drains on dmfctl backend stop and exits 0"
is "$(mdb_sql "SELECT status FROM backends WHERE name = 'default/vg'"):$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE ended IS NULL")" \
	"3:0" "after the drain: backend stopped, no attempt left open"
dw_check_exactly_once "$n"
if [ $mode = valgrind ]; then
	vg_sum "$logs"/worker.*.vg
	check "valgrind watched the worker ($VG_LOGS log)" [ "$VG_LOGS" -ge 1 ]
	is "$VG_ERR:$VG_LOST" "0:0" "valgrind: no error, nothing definitely or indirectly lost"
	[ "$VG_ERR:$VG_LOST" = 0:0 ] || vg_show "$logs"/worker.*.vg
else
	ok_ "# SKIP valgrind does not run sanitizer builds; LeakSanitizer checks at exit"
	check "no sanitizer report (ASan, UBSan, LeakSanitizer at exit)" ht_log_clean "$DW_DIR/vg.log"
fi
echo "# $mode: $n jobs done in ${done_s} s, worker exited after ${exit_s} s"
[ -z "${DMF_MEMCHECK_LOGS:-}" ] || cp "$DW_DIR/vg.log" "$logs/worker.log"
