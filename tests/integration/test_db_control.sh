#!/bin/bash
# test_db_control.sh - registration and admin control of a worker through
# the Migration Database, driven by dmfctl (spec 2.2.6-2.2.8, 2.3):
# first start registers target/memberid from the file, then the database
# values win; PAUSE, RESUME, maxThreads and STOP are obeyed within one
# refresh period; `state.type: config` runs without backend writes.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..21"
dw_init control
be() { mdb_sql "SELECT $1 FROM backends WHERE name = 'default/w1'"; }
running() { mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING' AND backend = 'default/w1'"; }

# --- registration, database wins ---
dw_config w1 "jobs: { max: 3, cache: { refresh: 300ms } }" "state: { initial: STARTED }"
dw_worker_start w1
check "first start registers default/w1" \
	dw_wait_sql "SELECT CONCAT(initial_state, ' ', max_threads, ' ', status) FROM backends WHERE name = 'default/w1'" "1 3 1" 10
is "$(mdb_sql "SELECT GROUP_CONCAT(source) FROM backend_sources WHERE backend = 'default/w1'")" POD_1 \
	"its sources come from the file"
json=$($DMFCTL backend show default/w1)
check "backend show prints the spec's fields" \
	bash -c "echo '$json' | grep -q '\"maxThreads\": 3' && echo '$json' | grep -q '\"initialState\": 1'"
dw_worker_stop w1
is "$(be status)" 3 "a stopped worker leaves status 3 (stopped)"
$DMFCTL backend set default/w1 --max-threads 2 --initial-state stopped >/dev/null
dw_worker_start w1
check "a restarted worker takes initialState from the database (paused)" \
	dw_wait_sql "SELECT status FROM backends WHERE name = 'default/w1' AND heartbeat > started" 0 10
is "$(be max_threads)" 2 "maxThreads from the database, not the file"
DW_MIN_SLEEP=300ms DW_MAX_SLEEP=400ms
dw_enqueue 40 40
sleep 1
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status <> 'QUEUED'")" 0 "a paused worker claims nothing"

# --- RESUME, maxThreads, PAUSE ---
dw_worker_stop w1
dw_config w1 "jobs: { max: 3, cache: { refresh: 300ms } }"
dw_worker_start w1
dw_wait_sql "SELECT status FROM backends WHERE name = 'default/w1' AND heartbeat > started" 0 10 >/dev/null
$DMFCTL backend resume default/w1 >/dev/null
check "RESUME: the worker runs jobs" \
	dw_wait_sql "SELECT status > 0 AND threads > 0 FROM backends WHERE name = 'default/w1'" 1 10
is "$(be "COALESCE(command, 'NULL')")" NULL "the command is cleared once obeyed"
max=0
for _ in $(seq 1 15); do r=$(running); [ "$r" -gt "$max" ] && max=$r; sleep 0.1; done
check "at most maxThreads=2 jobs at once (saw $max)" [ "$max" -le 2 ]
$DMFCTL backend set default/w1 --max-threads 4 >/dev/null
check "maxThreads raised to 4: four jobs run at once" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING' AND backend = 'default/w1'" 4 10
$DMFCTL backend pause default/w1 >/dev/null
check "PAUSE: status 0 and running jobs finish" \
	dw_wait_sql "SELECT CONCAT(status, ' ', threads) FROM backends WHERE name = 'default/w1'" "0 0" 10
done_before=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")
sleep 1
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'"):$(running)" "$done_before:0" \
	"a paused worker starts nothing new"
check "a paused worker keeps its heartbeat" \
	dw_wait_sql "SELECT heartbeat > NOW(3) - INTERVAL 2 SECOND FROM backends WHERE name = 'default/w1'" 1 5

# --- STOP: drain, then exit ---
$DMFCTL backend resume default/w1 >/dev/null
dw_wait_sql "SELECT COUNT(*) > 0 FROM jobs WHERE status = 'RUNNING'" 1 10 >/dev/null
$DMFCTL backend stop default/w1 >/dev/null
dw_worker_wait w1 15
is "$DW_RC" 0 "STOP: the worker drains and exits 0"
is "$(be status):$(running)" "3:0" "after STOP: status 3 and no job left running"
is "$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE ended IS NULL")" 0 \
	"every attempt of the stopped worker is closed"

# --- STOP with a job longer than the termination timeout ---
DW_MIN_SLEEP=20s DW_MAX_SLEEP=20s DW_TERMINATION=1000
dw_config w1 "jobs: { max: 2, cache: { refresh: 300ms } }"
$DMFCTL backend set default/w1 --max-threads 2 >/dev/null
dw_worker_start w1
$DMFCTL backend resume default/w1 >/dev/null
dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING'" 2 10 >/dev/null
$DMFCTL backend stop default/w1 >/dev/null
dw_worker_wait w1 15
is "$DW_RC" 0 "STOP after the termination timeout: exits 0"
is "$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RELEASED'"):$(running)" "2:0" \
	"the aborted jobs went back to the queue"

# --- state.type: config ---
DW_MIN_SLEEP=0 DW_MAX_SLEEP=20ms
mdb_sql "DELETE FROM jobs; DELETE FROM job_attempts"
dw_config w9 "jobs: { max: 4, cache: { refresh: 300ms } }" "state: { type: config }"
dw_enqueue 20 5
dw_worker_start w9
check "state type config: the database poller still runs the jobs" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'" 20 20
is "$(mdb_sql "SELECT COUNT(*) FROM backends WHERE name = 'default/w9'")" 0 \
	"state type config writes no backend row"
