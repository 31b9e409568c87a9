#!/bin/bash
# test_exactly_once_galera.sh - the Migration Database on a 3-node MariaDB
# Galera cluster on loopback, one command worker per node (so the claims
# of different workers meet only in Galera's certification at COMMIT):
# several hundred short jobs over a few mailboxes, then the same while one
# node is stopped and started again.  Judged by the migration command's own
# records (runs.sh: start, end, process group gone) and not only by the
# database: no two runs of one mailbox overlapped, every job ended SUCCESS
# once, none lost, and no job started from a claim that did not commit.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/galera.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"
if ! gal_have; then
	echo "1..0 # SKIP no galera-4 provider, rsync, ss/lsof or mysql user (Galera cluster)"
	exit 0
fi
dw_skip_unless_ready
CW_PLUGINS=$abs_top_builddir/plugins/command/.libs
dw_need_command_plugin
JOBS1=${GAL_JOBS1:-300}
JOBS2=${GAL_JOBS2:-300}
UIDS=${GAL_UIDS:-20}
RUN_MS=${GAL_RUN_MS:-40}
echo "1..14"

DW_DIR=$(mktemp -d /tmp/dmf-galera.XXXXXX)
chmod 0711 "$DW_DIR"
gal_cleanup() {
	local pid
	for pid in "${DW_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${DW_PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	runs_kill_left "$RUNS"
	gal_stop
	if [ -n "${DW_FAILED:-}" ]; then
		for f in "$DW_DIR"/w*.log; do
			[ -e "$f" ] || continue
			echo "# --- tail of $f"
			tail -n 15 "$f" | sed 's/^/#   /'
		done
	fi
	[ -n "${DW_KEEP:-}" ] || rm -rf "$DW_DIR"
}
trap gal_cleanup EXIT
t0=$(date +%s)
gal_start "$DW_DIR/gal" 3 || {
	echo "Bail out! cannot start the Galera cluster: $GAL_ERROR"
	exit 1
}
echo "# cluster of 3 nodes synced in $(($(date +%s) - t0)) s"
sql() { gal_sql 1 "$1"; }

cat >"$DW_DIR/ctl.yml" <<EOT
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$GAL_PORT_1/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
EOT
DMFCTL="$DW_CTL -c $DW_DIR/ctl.yml --schema-dir $abs_top_srcdir/core/db/schema"
$DMFCTL db migrate >/dev/null && $DMFCTL target add default >/dev/null &&
	$DMFCTL source add POD_1 >/dev/null || {
	echo "Bail out! schema setup on the cluster failed"
	exit 1
}
RUNS=$DW_DIR/runs
runs_script "$RUNS"

# worker wI talks to node I only
for i in 1 2 3; do
	cat >"$DW_DIR/w$i.yml" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: -1 # any free port: tests run side by side
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$(gal_var PORT $i)/$MDB_DB?connectTimeout=2000
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
      memberid: w$i
    sources: [POD_1]
    heartbeat: 300ms
    lease: 3s
    jobs: { max: 4, cache: { size: 100, refresh: 300ms } }
    termination:
      timeout: 2000
EOT
done

enqueue() { # N
	sql "INSERT INTO jobs (target, source, uid, phase, imapoptions)
		SELECT 'default', 'POD_1', CONCAT('user', seq % $UIDS), 'sync', '$RUN_MS'
		FROM seq_1_to_$1"
}
wait_done() { # EXPECTED-SUCCESS SECONDS
	local got
	for _ in $(seq 1 $(($2 * 5))); do
		got=$(sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'
			OR status = 'FAILURE'" 2>/dev/null)
		[ "$got" = "$1" ] && return 0
		sleep 0.2
	done
	echo "# waited $2 s for $1 ended jobs, got $got"
	return 1
}
# every job has one SUCCESS attempt and no other open one
check_db() { # N LABEL
	is "$(sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")" "$1" \
		"$2: all $1 jobs ended SUCCESS"
	is "$(sql "SELECT COUNT(*) FROM jobs j WHERE (SELECT COUNT(*) FROM
		job_attempts a WHERE a.job_id = j.id AND a.outcome = 'SUCCESS') <> 1")" 0 \
		"$2: every job has exactly one SUCCESS attempt"
}
# "job started (..., attempt N)" lines whose attempt the database never
# recorded: a run started from a claim that did not commit
phantom_starts() {
	local f n=0 c
	for f in "$DW_DIR"/w*.log; do
		c=$(grep -c 'job started (.*attempt 0)' "$f")
		n=$((n + c))
	done
	echo "$n"
}
taken_away() { cat "$DW_DIR"/w*.log | grep -c 'was taken away from this worker'; }

# --- 1: all nodes up ---
enqueue "$JOBS1"
t1=$(date +%s)
for i in 1 2 3; do dw_worker_start "w$i"; done
check "phase 1: all $JOBS1 jobs ended" wait_done "$JOBS1" 120
echo "# phase 1: $JOBS1 jobs in $(($(date +%s) - t1)) s"
check_db "$JOBS1" "phase 1"
runs_check "$RUNS" "phase 1: no two runs of one mailbox overlapped"
echo "# phase 1: jobs $JOBS1, runs $RUNS_TOTAL, overlapping $RUNS_OVERLAP," \
	"attempt-0 starts $(phantom_starts), taken-away $(taken_away)," \
	"job_attempts rows $(sql "SELECT COUNT(*) FROM job_attempts")"
is "$(phantom_starts)" 0 "phase 1: no job started from a claim that did not commit (attempt 0)"
is "$RUNS_TOTAL" "$JOBS1" "phase 1: one run per job"

# --- 2: node 2 stopped and started again while jobs run ---
N=$((JOBS1 + JOBS2))
enqueue "$JOBS2"
dw_wait_sql_gal() { # COUNT SECONDS
	for _ in $(seq 1 $(($2 * 10))); do
		[ "$(sql "SELECT COUNT(*) >= $1 FROM jobs WHERE status = 'SUCCESS'")" = 1 ] &&
			return 0
		sleep 0.1
	done
	return 1
}
dw_wait_sql_gal $((JOBS1 + JOBS2 / 5)) 60
gal_stop_node 2
echo "# node 2 stopped at $(sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'") jobs done"
sleep 4
t2=$(date +%s)
gal_start_node 2 || {
	echo "Bail out! node 2 did not rejoin"
	exit 1
}
echo "# node 2 back (joined in $(($(date +%s) - t2)) s)"
check "phase 2: all $N jobs ended" wait_done "$N" 120
check_db "$N" "phase 2"
runs_check "$RUNS" "phase 2 (node stopped and restarted): no two runs of one mailbox overlapped"
echo "# phase 2: jobs $N, runs $RUNS_TOTAL, overlapping $RUNS_OVERLAP," \
	"attempt-0 starts $(phantom_starts), taken-away $(taken_away)," \
	"rescued $(sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'")," \
	"lost $(sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')")"
is "$(phantom_starts)" 0 "phase 2: no job started from a claim that did not commit"
is "$(sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')")" 0 \
	"phase 2: no job lost"
check "all three workers still run" kill -0 "$(dw_pid w1)" "$(dw_pid w2)" "$(dw_pid w3)"
back_again() {
	for _ in $(seq 1 100); do
		grep -q "database reachable again" "$DW_DIR/w2.log" && return 0
		sleep 0.2
	done
	return 1
}
check "worker 2 noticed the node loss and came back" back_again
echo "# total wall time $(($(date +%s) - t0)) s"
