#!/bin/bash
# test_process_record.sh - a command runs only once its process group is on
# record in job_processes (docs/schema.md): a worker that dies by kill -9
# leaves its commands' children behind, and only the record lets its
# restart kill them before it queues their jobs again.  A trigger on
# job_processes makes the record fail or take its time:
#   1. the record fails for a while: the command waits at its gate and
#      starts once the record is written (one run, the job SUCCESS);
#   2. the record keeps failing while the lease is renewed: the job fails
#      after a lease with a reason, its command never ran;
#   3. the worker is frozen (SIGSTOP) while its INSERT is being answered,
#      past its lease: the thawed worker does not start the command, the
#      job is given back and runs once;
#   4. the record fails, then the worker is killed (kill -9) and started
#      again: nothing of the old attempt ran, the job runs once.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"
dw_skip_unless_ready
dw_need_command_plugin
echo "1..14"
dw_init procrec
RUNS=$DW_DIR/runs
runs_script "$RUNS"
pr_cleanup() {
	kill -CONT "$(dw_pid w1)" 2>/dev/null
	dw_cleanup # with what is left of the runs
}
trap pr_cleanup EXIT

# mode 0: records pass; 1: they fail; 2: they take 1.5 s
mdb_sql "CREATE TABLE test_record_mode (mode INT NOT NULL); INSERT INTO test_record_mode VALUES (0)"
"$MDB_CLIENT" --no-defaults -uroot --socket="$MDB_SOCKET" "$MDB_DB" <<'EOT' || { echo "Bail out! cannot create the trigger"; exit 1; }
DELIMITER //
CREATE TRIGGER test_record_fault BEFORE INSERT ON job_processes FOR EACH ROW
BEGIN
	DECLARE m INT;
	SET m = (SELECT mode FROM test_record_mode LIMIT 1);
	IF m = 1 THEN
		SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: job_processes refused';
	ELSEIF m = 2 THEN
		DO SLEEP(1.5);
	END IF;
END//
DELIMITER ;
EOT
mode() { mdb_sql "UPDATE test_record_mode SET mode = $1"; }
starts() { grep -c "^start $1 " "$RUNS/runs.log"; }
# job UID [MS]: a job whose run lasts MS milliseconds (300)
job() { mdb_sql "INSERT INTO jobs (target, source, uid, phase, imapoptions) VALUES ('default', 'POD_1', '$1', 'sync', ${2:-300})"; }
status() { mdb_sql "SELECT status FROM jobs WHERE uid = '$1'"; }

DW_LEASE=3s DW_HEARTBEAT=300ms
runs_worker_config "$RUNS" w1 "jobs: { max: 2, cache: { refresh: 200ms } }"
dw_worker_start w1

# 1. failing for a while, then written
mode 1
job box1
dw_wait_sql "SELECT status FROM jobs WHERE uid = 'box1'" RUNNING 20 >/dev/null
sleep 1.5
is "$(starts box1)" 0 "1: while the record fails the command does not run"
check "1: the worker says the command waits for its record" \
	grep -q "cannot record process group .*test: job_processes refused.*waits until it is on record" "$DW_DIR/w1.log"
mode 0
check "1: once the record is written the job runs and ends SUCCESS" \
	dw_wait_sql "SELECT status FROM jobs WHERE uid = 'box1'" SUCCESS 20
is "$(starts box1)" 1 "1: one run"

# 2. failing for good while the database answers the heartbeat
mode 1
job box2
check "2: the job fails after a lease" dw_wait_sql "SELECT status FROM jobs WHERE uid = 'box2'" FAILURE 20
is "$(mdb_sql "SELECT error LIKE 'cannot run%' FROM jobs WHERE uid = 'box2'")" 1 \
	"2: its reason says the command could not run ($(mdb_sql "SELECT error FROM jobs WHERE uid = 'box2'"))"
is "$(starts box2)" 0 "2: its command never ran"
check "2: the log says the record was refused for a whole lease" \
	grep -q "cannot record process group .* for a whole lease" "$DW_DIR/w1.log"
mode 0

# 3. frozen while the INSERT is answered, past the lease (3 s)
mode 2
job box3
dw_wait_sql "SELECT COUNT(*) FROM information_schema.processlist
	WHERE info LIKE 'INSERT INTO job_processes%' OR info LIKE 'DO SLEEP(1.5)%'" 1 20 >/dev/null ||
	echo "# no INSERT INTO job_processes was seen in flight"
kill -STOP "$(dw_pid w1)"
sleep 4
mode 0
kill -CONT "$(dw_pid w1)"
check "3: the thawed worker does not start the command of the job it gave up" \
	dw_wait_sql "SELECT COUNT(*) > 0 FROM jobs WHERE uid = 'box3' AND status IN ('QUEUED', 'SUCCESS') OR uid = 'box3' AND attempts > 1" 1 20
check "3: it says so" grep -q "was given up while its process group .* was being recorded" "$DW_DIR/w1.log"
dw_wait_sql "SELECT status FROM jobs WHERE uid = 'box3'" SUCCESS 30 >/dev/null
is "$(starts box3)" 1 "3: the job ran once, in a later attempt ($(mdb_sql "SELECT attempts FROM jobs WHERE uid = 'box3'") attempts)"

# 4. failing, then the worker killed and started again: a command started
# without its record (a 3 s run) would outlive the kill unseen by the
# restart, which queues the job again at once
mode 1
job box4 3000
dw_wait_sql "SELECT status FROM jobs WHERE uid = 'box4'" RUNNING 20 >/dev/null
sleep 1
kill -KILL "$(dw_pid w1)"
wait "$(dw_pid w1)" 2>/dev/null
mode 0
dw_worker_start w1
check "4: the restarted worker runs the job" dw_wait_sql "SELECT status FROM jobs WHERE uid = 'box4'" SUCCESS 30
runs_wait_idle "$RUNS" 10
is "$(starts box4)" 1 "4: nothing of the killed worker's attempt ran: one run"
runs_check "$RUNS" "no two runs of one mailbox overlapped"
[ -z "${DW_FAILED:-}" ] || exit 1
