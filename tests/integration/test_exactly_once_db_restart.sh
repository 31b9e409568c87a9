#!/bin/bash
# test_exactly_once_db_restart.sh - MariaDB killed (kill -9 by PID) and
# started again ten times in a row while three command workers claim jobs
# and store results: every fault lands among claims and result writes
# (short jobs keep both going all the time; half the kills come right
# after a burst of claims, half when a wave of runs ends and its results
# are written).  Judged by the migration command's own records (runs.sh):
# no two runs of one mailbox overlapped, every job ended SUCCESS once,
# none lost.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"
dw_skip_unless_ready
CW_PLUGINS=$abs_top_builddir/plugins/command/.libs
dw_need_command_plugin
JOBS=${RST_JOBS:-600}
UIDS=${RST_UIDS:-30}
RUN_MS=${RST_RUN_MS:-150}
KILLS=${RST_KILLS:-10}
echo "1..7"
dw_init dbrestart
RUNS=$DW_DIR/runs
runs_script "$RUNS"
for w in w1 w2 w3; do
	cat >"$DW_DIR/$w.yml" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: -1 # any free port: tests run side by side
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB?connectTimeout=2000
    username: $MDB_USER
    password: $MDB_PASSWORD
dmf:
  command:
    source:
      default:
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$RUNS/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}"]
  worker:
    type: command
    plugin-dir: $CW_PLUGINS
    command:
      logging:
        type: "off"
    identity:
      target: default
      memberid: $w
    sources: [POD_1]
    heartbeat: 300ms
    lease: 4s
    jobs: { max: 4, cache: { size: 100, refresh: 300ms } }
    termination:
      timeout: 2000
EOT
done
mdb_sql "INSERT INTO jobs (target, source, uid, phase, imapoptions)
	SELECT 'default', 'POD_1', CONCAT('user', seq % $UIDS), 'sync', '$RUN_MS'
	FROM seq_1_to_$JOBS"
for w in w1 w2 w3; do dw_worker_start $w; done
t0=$(date +%s)
claims=0 writes=0
for k in $(seq 1 "$KILLS"); do
	# wait for work in flight, then pick the moment
	dw_wait_sql "SELECT COUNT(*) > 0 FROM jobs WHERE status = 'RUNNING'" 1 30 >/dev/null
	if [ $((k % 2)) = 1 ]; then
		# during claims: the moment the claims of a new wave appear
		before=$(mdb_sql "SELECT COUNT(*) FROM job_attempts")
		for _ in $(seq 1 100); do
			[ "$(mdb_sql "SELECT COUNT(*) FROM job_attempts")" -gt "$before" ] && break
			sleep 0.01
		done
		claims=$((claims + 1))
	else
		# during result writes: when the runs of a wave end
		sleep "$(awk -v m="$RUN_MS" 'BEGIN { printf "%.3f", m * 0.9 / 1000 }')"
		writes=$((writes + 1))
	fi
	kill -KILL "$MDB_PID"
	wait "$MDB_PID" 2>/dev/null
	sleep 0.5
	mdb_launch || {
		echo "Bail out! mariadbd did not come back after kill $k"
		exit 1
	}
	sleep 1
done
echo "# $KILLS kill -9 of mariadbd: $claims during claims, $writes during result writes"
check "all $JOBS jobs ended after $KILLS restarts" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 120
echo "# $JOBS jobs in $(($(date +%s) - t0)) s"
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")" "$JOBS" \
	"all $JOBS jobs ended SUCCESS"
is "$(mdb_sql "SELECT COUNT(*) FROM jobs j WHERE (SELECT COUNT(*) FROM job_attempts a
	WHERE a.job_id = j.id AND a.outcome = 'SUCCESS') <> 1")" 0 \
	"every job has exactly one SUCCESS attempt"
runs_check "$RUNS" "no two runs of one mailbox overlapped"
echo "# jobs $JOBS, runs $RUNS_TOTAL, overlapping $RUNS_OVERLAP, faults $KILLS" \
	"($claims during claims, $writes during result writes), lost" \
	"$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')")," \
	"rescued $(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'")," \
	"orphans queued again $(cat "$DW_DIR"/w*.log | grep -c 'does not run here')"
check "every job ran at least once" [ "$RUNS_TOTAL" -ge "$JOBS" ]
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')")" 0 \
	"no job lost"
check "the three workers are still running" \
	kill -0 "$(dw_pid w1)" "$(dw_pid w2)" "$(dw_pid w3)"
