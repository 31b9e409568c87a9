#!/bin/bash
# http.sh - the worker's HTTP server under load: requests per second and
# p99 latency of /health and /prometheus over plain HTTP and over HTTPS (a
# keystore from dmf-worker-gen-certs), with wrk (keep-alive, 2 threads, 50
# connections), while two workers (one serving plain HTTP, one HTTPS) each
# run 50 simulated jobs at a time against a private MariaDB; then the jobs
# finished per second with and without the scrape load (the scrape must not
# slow the jobs measurably).
# Prerequisites: mariadbd, openssl, wrk (apt-get install wrk).
# Usage: bench/http.sh [BUILDDIR]   (default: the current directory)
# Prints figures, not a pass/fail; takes about 40 s.
set -u
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-.}" && pwd)
export abs_top_srcdir abs_top_builddir
. "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/http.sh"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
if ! mdb_have; then echo "mariadbd is not installed"; exit 1; fi
[ -x "$DW_WORKER" ] || { echo "build core/worker/dmf-worker in $abs_top_builddir first"; exit 1; }
dw_init http-bench
SECS=${HTTP_BENCH_SECONDS:-8}
"$HT_GEN_CERTS" -d "$DW_DIR/certs" -p bench >/dev/null
PH=$(mdb_free_port)
PS=$(mdb_free_port)
DW_MIN_SLEEP=50ms DW_MAX_SLEEP=200ms
ht_config plain "jobs: { max: 50 }" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: $PH
endpoints:
  health:
    sensitive: false
  prometheus:
    sensitive: false
EOT
ht_config tls "jobs: { max: 50 }" <<EOT
micronaut:
  ssl:
    enabled: true
    port: $PS
    key-store:
      path: file:$DW_DIR/certs/keystore.p12
      password: bench
endpoints:
  health:
    sensitive: false
  prometheus:
    sensitive: false
EOT
dw_enqueue 200000 50000
dw_worker_start plain
dw_worker_start tls
ht_wait_code 200 20 "http://127.0.0.1:$PH/health" >/dev/null
ht_wait_code 200 20 "https://localhost:$PS/health" --cacert "$DW_DIR/certs/worker.pem" >/dev/null

run() {
	local label=$1 url=$2 out rps p99
	out=$(wrk -t2 -c50 -d"${SECS}s" --latency "$url" 2>&1)
	rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	printf '%-28s %10s req/s   p99 %8s   non-2xx %s\n' "$label" "$rps" "$p99" "${non2xx:-0}"
}
done_jobs() { mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'"; }
echo "wrk: 2 threads, 50 connections, keep-alive, ${SECS} s each; 2 workers x 50 simulated jobs running"
before=$(done_jobs)
t0=$(date +%s.%N)
run "/health plain HTTP" "http://127.0.0.1:$PH/health"
run "/prometheus plain HTTP" "http://127.0.0.1:$PH/prometheus"
run "/health HTTPS" "https://127.0.0.1:$PS/health"
run "/prometheus HTTPS" "https://127.0.0.1:$PS/prometheus"
t1=$(date +%s.%N)
after=$(done_jobs)
loaded=$(awk -v n=$((after - before)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
t0=$(date +%s.%N)
start=$(done_jobs)
sleep $((4 * SECS))
end=$(done_jobs)
t1=$(date +%s.%N)
quiet=$(awk -v n=$((end - start)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
echo "jobs finished per second under the scrape load: $loaded ($((after - before)) jobs)"
echo "jobs finished per second without load:         $quiet ($((end - start)) jobs)"
awk -v l="$loaded" -v q="$quiet" 'BEGIN { printf "dispatch rate under load / without: %.3f\n", (q > 0 ? l / q : 0) }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
