#!/bin/bash
# db_bench.sh - Migration Database figures against a private local MariaDB:
#   1. jobs per second dispatched end to end (simulator, zero sleep) with 1
#      and with 4 workers;
#   2. the claim query's cost with 1,000 vs 100,000 queued jobs (it must not
#      grow with the queue), with its EXPLAIN plan.
# Usage: bench/db_bench.sh [BUILDDIR]   (default: the current directory)
# Prints figures, not a pass/fail; takes about a minute.
set -u
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-.}" && pwd)
export abs_top_srcdir abs_top_builddir
. "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
if ! mdb_have; then echo "mariadbd is not installed"; exit 1; fi
[ -x "$DW_WORKER" ] || { echo "build core/worker/dmf-worker in $abs_top_builddir first"; exit 1; }
dw_init bench
N=${DB_BENCH_JOBS:-3000}

throughput() {
	local workers=$1 start end secs
	mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
	DW_MIN_SLEEP=0 DW_MAX_SLEEP=0
	for i in $(seq 1 "$workers"); do
		dw_config "b$i" "jobs: { max: 16, cache: { size: 1000, refresh: 2s } }"
	done
	dw_enqueue "$N" "$N"
	start=$(date +%s.%N)
	for i in $(seq 1 "$workers"); do dw_worker_start "b$i"; done
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status <> 'SUCCESS'" 0 300 >/dev/null
	end=$(date +%s.%N)
	for i in $(seq 1 "$workers"); do dw_worker_stop "b$i"; done
	secs=$(echo "$end - $start" | bc)
	printf "end to end, %d worker(s) x 16 slots: %d jobs in %.2f s = %.0f jobs/s\n" \
		"$workers" "$N" "$secs" "$(echo "$N / $secs" | bc -l)"
}

# The claim transaction as the poller runs it, 300 times in one session.
claim_cost() {
	local queued=$1 sql i start end
	mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
	dw_enqueue "$queued" "$queued"
	mdb_sql "ANALYZE TABLE jobs" >/dev/null
	sql=$(for i in $(seq 1 300); do
		echo "START TRANSACTION;"
		echo "SELECT id, uid FROM jobs FORCE INDEX (ix_jobs_claim) WHERE target = 'default' AND status = 'QUEUED' AND source IN ('POD_1') ORDER BY prio_key, submitted, id LIMIT 16 FOR UPDATE SKIP LOCKED;"
		echo "ROLLBACK;"
	done)
	start=$(date +%s.%N)
	mdb_sql "$sql" >/dev/null
	end=$(date +%s.%N)
	printf "claim query, %6d queued jobs: %.3f ms per claim transaction (300 runs)\n" \
		"$queued" "$(echo "($end - $start) * 1000 / 300" | bc -l)"
	echo "  rows read by one claim: $(mdb_sql "FLUSH STATUS;
		SELECT id FROM jobs FORCE INDEX (ix_jobs_claim) WHERE target = 'default' AND status = 'QUEUED' AND source IN ('POD_1') ORDER BY prio_key, submitted, id LIMIT 16;
		SHOW SESSION STATUS LIKE 'Handler_read_%'" | awk '$1 ~ /^Handler/ {s += $2} END {print s}')"
	# the cache load reads the first cache.size rows in index order too
	echo "  EXPLAIN:"
	mdb_sql "EXPLAIN SELECT id, uid FROM jobs FORCE INDEX (ix_jobs_claim) WHERE target = 'default' AND status = 'QUEUED' AND source IN ('POD_1') ORDER BY prio_key, submitted, id LIMIT 1000" |
		sed 's/^/    /'
}

echo "MariaDB $(mdb_sql_root 'SELECT VERSION()'), $(nproc) cores"
throughput 1
throughput 4
claim_cost 1000
claim_cost 100000
