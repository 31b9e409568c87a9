#!/bin/bash
# test_db_freeze.sh - the Migration Database frozen (SIGSTOP: a stalled
# server) while jobs finish, past their leases, then killed and started
# again: the result writes wait, the watchdog gives the jobs up while their
# writes are still in flight, then the writes fail.  Such a job must be
# given back to the queue once the database answers again, not held
# forever (RUNNING, its lease renewed with everything else the worker
# owns, never rescued).  Two rounds; every job ends SUCCESS exactly once.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..7"
dw_init freeze
fz_cleanup() {
	[ -n "${MDB_PID:-}" ] && kill -CONT "$MDB_PID" 2>/dev/null
	dw_cleanup
}
trap fz_cleanup EXIT

DW_LEASE=4s DW_HEARTBEAT=500ms DW_MIN_SLEEP=1200ms DW_MAX_SLEEP=2000ms
dw_config w1 "jobs: { max: 4, cache: { size: 100, refresh: 300ms } }"
dw_enqueue 24 24
dw_worker_start w1
for round in 1 2; do
	dw_wait_sql "SELECT COUNT(*) >= 1 FROM jobs WHERE status = 'RUNNING'" 1 30 >/dev/null
	sleep 0.5
	kill -STOP "$MDB_PID"
	echo "# round $round: database frozen"
	# the jobs finish and their result writes wait; the leases run out
	# (80 % of 4 s) while the writes are in flight; then the server dies
	# and the writes fail
	sleep 5
	kill -KILL "$MDB_PID"
	wait "$MDB_PID" 2>/dev/null
	MDB_PID=
	mdb_launch || { echo "Bail out! mariadbd did not come back"; exit 1; }
	echo "# round $round: database killed while frozen, started again"
done
check "every job ended (none held RUNNING by a worker that gave it up)" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 60
dw_check_exactly_once 24
check "the worker gave up jobs whose results it could not store" \
	grep -q "lease lost before its result could be stored\|cannot renew the job leases in time" "$DW_DIR/w1.log"
check "the worker is still running" kill -0 "$(dw_pid w1)"
