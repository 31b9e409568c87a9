#!/bin/bash
# test_db_outage.sh - the Migration Database stopped for 20 s in the middle
# of a run and started again: the workers reconnect on their own, results
# that could not be written meanwhile are written afterwards (their leases
# outlast the outage), nothing is lost and nothing runs twice.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..7"
dw_init outage

DW_LEASE=45s DW_HEARTBEAT=1s DW_MIN_SLEEP=10ms DW_MAX_SLEEP=80ms
for w in w1 w2; do dw_config $w "jobs: { max: 4, cache: { size: 100, refresh: 1s } }"; done
dw_enqueue 600 60
for w in w1 w2; do dw_worker_start $w; done
dw_wait_sql "SELECT COUNT(*) >= 100 FROM jobs WHERE status = 'SUCCESS'" 1 30 >/dev/null
mdb_stop
echo "# database stopped"
sleep 20
mdb_launch || { echo "Bail out! mariadbd did not come back"; exit 1; }
echo "# database started again"
check "all 600 jobs finished after the outage" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 90
dw_check_exactly_once 600
check "both workers are still running" \
	kill -0 "$(dw_pid w1)" "$(dw_pid w2)"
check "the workers noticed the outage and came back" \
	grep -q "database reachable again" "$DW_DIR/w1.log" "$DW_DIR/w2.log"
