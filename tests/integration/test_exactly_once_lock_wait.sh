#!/bin/bash
# test_exactly_once_lock_wait.sh - a claim whose statements wait for a lock
# longer than the lease.  Another transaction (here a client; in the fault
# soak a worker frozen in the middle of its own transaction) makes a
# statement of the claim wait 5 s, past the 3 s lease its UPDATE set when
# it began (NOW(3) is a statement's start): in one round the INSERT of the
# attempt waits for a gap lock on job_attempts, in the other the UPDATE
# waits for the mailbox's running key, taken by an uncommitted claim of
# another job of the mailbox that is then rolled back.  Before the fix the
# claim committed that run-out lease, and the heartbeat waiting behind the
# claim's row wrote a run-out lease too: any worker rescued the job at once
# while the claimant, trusting its last heartbeat, ran it, and two runs of
# the mailbox overlapped (the fault soak found this).  Now the claim starts
# the leases as its last statement before COMMIT, a renewal never shortens
# a lease, and each job's deadline in the worker is its own
# (db_claim_res.leased_ms, then what each heartbeat reads is left of the
# job's lease).  Judged by the runs.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"
dw_skip_unless_ready
dw_need_command_plugin
echo "1..11"
dw_init lockwait
RUNS=$DW_DIR/runs
runs_script "$RUNS"

for w in w1 w2; do
	runs_worker_config "$RUNS" $w "jobs: { max: 4, cache: { refresh: 300ms } }" \
		"rescue: { limit: 100 }"
done

# lock_round NAME UID SQL-HOLDING-A-LOCK: one job of mailbox UID (2 s), of
# a source no worker serves; a client transaction runs SQL-HOLDING-A-LOCK
# (it may use @id, the job's id), sleeps 5 s and rolls back; once it holds
# its lock the job's source is one the workers serve, and they claim it
lock_round() {
	local name=$1 uid=$2 lock_sql=$3 id t0 held_ms
	: >"$RUNS/runs.log"
	mdb_sql "INSERT INTO jobs (target, source, uid, phase, imapoptions)
		VALUES ('default', 'POD_HOLD', '$uid', 'sync', '2000')"
	id=$(mdb_sql "SELECT MAX(id) FROM jobs WHERE uid = '$uid'")
	"$MDB_CLIENT" --no-defaults -uroot --socket="$MDB_SOCKET" -N -B "$MDB_DB" -e "
		SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;
		SET @id = $id; BEGIN; $lock_sql; SELECT SLEEP(5) AS locker_sleeps; ROLLBACK" \
		>"$DW_DIR/locker-$name.out" 2>&1 &
	local locker=$!
	t0=$(date +%s%N)
	dw_wait_sql "SELECT COUNT(*) FROM information_schema.processlist
		WHERE info LIKE 'SELECT SLEEP(5) AS locker_sleeps%'" 1 10 >/dev/null
	mdb_sql "UPDATE jobs SET source = 'POD_1' WHERE id = $id"
	# the claim waits, and maybe the claimant's heartbeat behind its row
	check "$name: the claim of job $id waits for the lock" \
		dw_wait_sql "SELECT COUNT(*) > 0 FROM information_schema.innodb_trx
			WHERE trx_state = 'LOCK WAIT'" 1 10
	wait "$locker"
	held_ms=$((($(date +%s%N) - t0) / 1000000))
	check "$name: job $id ended SUCCESS" \
		dw_wait_sql "SELECT status FROM jobs WHERE id = $id" SUCCESS 30
	runs_wait_idle "$RUNS" 10
	runs_check "$RUNS" "$name: no two runs of $uid overlapped (the claim waited ${held_ms} ms, lease 3 s)"
	is "$RUNS_TOTAL" 1 "$name: $uid ran once"
	is "$(mdb_sql "SELECT CONCAT(COUNT(*), ' ', SUM(outcome = 'SUCCESS')) FROM job_attempts WHERE job_id = $id")" "1 1" \
		"$name: one attempt, SUCCESS: the claim that waited kept the job (its lease started at its end), nobody rescued it"
}

for w in w1 w2; do dw_worker_start $w; done
sleep 1
lock_round "INSERT waits" boxA \
	"SELECT COUNT(*) FROM job_attempts WHERE job_id >= @id FOR UPDATE"
# another job of boxB, of a source no worker serves, taken by the client
mdb_sql "INSERT INTO jobs (target, source, uid, phase) VALUES ('default', 'POD_X', 'boxB', 'sync')"
other=$(mdb_sql "SELECT MAX(id) FROM jobs")
lock_round "UPDATE waits" boxB \
	"UPDATE jobs SET status = 'RUNNING', owner = 'locker', lease_until = NOW(3) + INTERVAL 1 HOUR WHERE id = $other"
check "no worker gave a job up" lacks -F 'cannot renew the job leases in time' "$DW_DIR/w1.log" "$DW_DIR/w2.log"
for w in w1 w2; do dw_worker_stop $w; done
