#!/bin/bash
# test_exactly_once_kill9.sh - no orphan outlives its worker: one MariaDB,
# 3 command workers, jobs of 1-6 s over a few mailboxes; in several rounds a
# worker running a long job is killed with SIGKILL and started again at
# once.  Its migration commands (tests/integration/lib/runs.sh: a shell with
# a child, in their own process group) must not run on beside the next run
# of the same mailbox: the shell dies with the worker (PR_SET_PDEATHSIG) and
# the restarted worker kills the group the database recorded for the job
# before it queues the job again.  Judged by the real runs (runs_check
# counts overlapping runs of one mailbox), then by the database: every job
# ended once with SUCCESS, none lost.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"
dw_skip_unless_ready
dw_need_command_plugin
JOBS=${KILL9_JOBS:-60}
BOXES=${KILL9_BOXES:-8}
ROUNDS=${KILL9_ROUNDS:-6}
echo "1..9"
dw_init kill9
RUNS=$DW_DIR/runs
runs_script "$RUNS"
# dw_cleanup (dw_init's trap) kills what is left of the runs too

for w in w1 w2 w3; do
	runs_worker_config "$RUNS" $w "jobs: { max: 4, cache: { refresh: 300ms } }" \
		"rescue: { limit: 100 }"
done
# job n: mailbox user(n % BOXES), a run of 1.0-6.0 s
mdb_sql "INSERT INTO jobs (target, source, uid, phase, imapoptions)
	SELECT 'default', 'POD_1', CONCAT('user', seq % $BOXES), 'sync',
	1000 + (seq * 7919) % 5001 FROM seq_1_to_$JOBS"
for w in w1 w2 w3; do dw_worker_start $w; done

# each round: a worker whose long run (>= 3 s) has been going for a while
kills=0 recovered=0
for round in $(seq 1 "$ROUNDS"); do
	victim=
	for _ in $(seq 1 100); do
		victim=$(mdb_sql "SELECT SUBSTRING_INDEX(backend, '/', -1) FROM jobs
			WHERE status = 'RUNNING' AND imapoptions >= 3000
			AND claimed < NOW(3) - INTERVAL 800000 MICROSECOND
			ORDER BY RAND() LIMIT 1")
		[ -n "$victim" ] && break
		sleep 0.1
	done
	[ -n "$victim" ] || break
	held=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING'
		AND backend = 'default/$victim'")
	pid=$(dw_pid "$victim")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	dw_worker_start "$victim"
	kills=$((kills + 1))
	recovered=$((recovered + held))
	echo "# round $round: kill -9 of $victim holding $held job(s), restarted"
	sleep 2
done

check "all $JOBS jobs finished" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 150
runs_wait_idle "$RUNS" 10
runs_check "$RUNS" "no two runs of one mailbox overlapped ($kills kill -9, $recovered jobs held by the killed workers)"
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")" "$JOBS" \
	"every job ended SUCCESS (none lost)"
is "$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'SUCCESS'")" "$JOBS" \
	"one SUCCESS attempt per job"
check "$ROUNDS workers were killed mid-run" [ "$kills" -ge 1 -a "$kills" -eq "$ROUNDS" ]
check "the restarted workers recovered their jobs" \
	[ "$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'")" -ge "$kills" ]
# every kill left a run cut short: a start without an end
cut=$(python3 - "$RUNS/runs.log" <<'EOT'
import sys
started, ended = set(), set()
for line in open(sys.argv[1]):
    kind, uid, pid, _ = line.split()
    (started if kind == "start" else ended if kind == "end" else set()).add((uid, pid))
print(len(started - ended))
EOT
)
check "the killed runs were cut short ($cut runs without an end)" [ "$cut" -ge "$kills" ]
check "no run is left" runs_wait_idle "$RUNS" 1
# the shell of a killed run died with its worker (PR_SET_PDEATHSIG); its
# sleep lived on until the restarted worker killed the recorded group
reaped=$(cat "$DW_DIR"/w?.log | grep -c "left by the previous run of this worker")
check "the restarted workers killed what the killed runs left ($reaped groups)" \
	[ "$reaped" -ge "$kills" ]
echo "# jobs $JOBS mailboxes $BOXES runs $RUNS_TOTAL kill-9 $kills held $recovered overlapping $RUNS_OVERLAP cut $cut lost $((JOBS - $(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")))"
