#!/bin/bash
# test_db_multi.sh - several workers on one target against a real MariaDB:
# 1,000 simulator jobs over 100 mailboxes with 3 workers (READ COMMITTED),
# the claim path again under REPEATABLE READ with innodb_snapshot_isolation
# where the server knows it, and kill -9 of workers mid-job (rescue by the
# others, immediate recovery by a restarted one).  Every check reads the
# database's own records (jobs, job_attempts), not the worker logs.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..18"
dw_init multi

# --- 1,000 jobs, 3 workers, READ COMMITTED ---
for w in w1 w2 w3; do dw_config $w "jobs: { max: 8, cache: { size: 200, refresh: 1s } }"; done
dw_enqueue 1000 100
start=$(date +%s.%N)
for w in w1 w2 w3; do dw_worker_start $w; done
check "1,000 jobs finished within 90 s" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 90
end=$(date +%s.%N)
echo "# 1000 jobs in $(echo "$end - $start" | bc) s with 3 workers"
dw_check_exactly_once 1000
is "$(mdb_sql "SELECT COUNT(DISTINCT backend) FROM jobs")" 3 "all three workers took jobs"

# --- the claim path under REPEATABLE READ + snapshot isolation ---
for w in w1 w2 w3; do dw_worker_stop $w; done
mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
if mdb_sql "SET GLOBAL innodb_snapshot_isolation = ON" 2>/dev/null; then
	label="REPEATABLE READ with innodb_snapshot_isolation=ON"
else
	label="REPEATABLE READ (server without innodb_snapshot_isolation)"
fi
DW_ISOLATION=TRANSACTION_REPEATABLE_READ
for w in w1 w2 w3; do dw_config $w "jobs: { max: 8, cache: { size: 200, refresh: 1s } }"; done
dw_enqueue 300 30
for w in w1 w2 w3; do dw_worker_start $w; done
check "$label: 300 jobs finished" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 60
dw_check_exactly_once 300
for w in w1 w2 w3; do dw_worker_stop $w; done
mdb_sql "SET GLOBAL innodb_snapshot_isolation = OFF" 2>/dev/null
unset DW_ISOLATION

# --- kill -9 mid-job: rescue by the others, recovery on restart ---
mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
DW_MIN_SLEEP=100ms DW_MAX_SLEEP=400ms DW_LEASE=2s DW_HEARTBEAT=300ms
for w in w1 w2 w3; do dw_config $w "jobs: { max: 4, cache: { size: 100, refresh: 1s } }"; done
dw_enqueue 150 40
for w in w1 w2 w3; do dw_worker_start $w; done
dw_wait_sql "SELECT COUNT(*) > 0 FROM jobs WHERE status = 'RUNNING' AND backend = 'default/w1'" 1 20 >/dev/null
dw_wait_sql "SELECT COUNT(*) > 0 FROM jobs WHERE status = 'RUNNING' AND backend = 'default/w2'" 1 20 >/dev/null
kill -KILL "$(dw_pid w1)" "$(dw_pid w2)"
wait "$(dw_pid w1)" "$(dw_pid w2)" 2>/dev/null
held_w2=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING' AND backend = 'default/w2'")
# w1 comes back at once and takes its own jobs back; w2 stays dead
dw_worker_start w1
check "all jobs finished after two workers were killed" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 60
dw_check_exactly_once 150
rescued=$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'")
check "the killed workers' jobs were rescued ($rescued attempts, w2 held $held_w2)" \
	[ "$rescued" -ge 1 ]
check "the restarted worker recovered its own jobs at once" \
	grep -q "of the previous run of default/w1 queued again" "$DW_DIR/w1.log"
