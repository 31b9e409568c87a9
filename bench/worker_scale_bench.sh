#!/bin/bash
# worker_scale_bench.sh - the worker's own costs against a private MariaDB
# (issue 13), figures not a pass/fail:
#   1. RSS of dmf-worker with 400 jobs running at once (command worker,
#      each job `sleep`; VmRSS/VmHWM of the worker process only, children
#      excluded), and with none;
#   2. dispatch rate (simulator, zero sleep, 1 worker, jobs.max 16, the
#      first DISPATCH jobs) and the claim transaction's cost with 1,000,
#      100,000 and 1,000,000 queued jobs;
#   3. database statements per minute of one idle worker with the shipped
#      settings (jobs.cache.refresh 5s, heartbeat and poll defaults):
#      SHOW GLOBAL STATUS deltas of Questions and Com_* over IDLE_SECS.
# Usage: bench/worker_scale_bench.sh [BUILDDIR]
# Env: SCALE_QUEUES ("1000 100000 1000000") DISPATCH (2000) RSS_JOBS (400)
#      IDLE_SECS (60)
set -u
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${1:-}" ]; then
	abs_top_builddir=$(cd "$1" && pwd)
elif [ -x "$abs_top_srcdir/_build/core/worker/dmf-worker" ]; then
	abs_top_builddir=$abs_top_srcdir/_build
else
	abs_top_builddir=$(pwd)
fi
export abs_top_srcdir abs_top_builddir
. "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
if ! mdb_have; then echo "mariadbd is not installed"; exit 1; fi
[ -x "$DW_WORKER" ] || { echo "build core/worker/dmf-worker in $abs_top_builddir first"; exit 1; }
QUEUES=${SCALE_QUEUES:-1000 100000 1000000}
DISPATCH=${DISPATCH:-2000}
RSS_JOBS=${RSS_JOBS:-400}
IDLE_SECS=${IDLE_SECS:-60}
CW_PLUGINS=$abs_top_builddir/plugins/command/.libs
now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
dw_init scale
echo "MariaDB $(mdb_sql_root 'SELECT VERSION()'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# a worker config with the shipped defaults except what is given
base_config() {
	local id=$1 type=$2
	shift 2
	cat <<EOT
micronaut:
  ssl:
    enabled: false
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
dmf:
  simulator:
    min-sleep: 0
    max-sleep: 0
  command:
    source:
      default:
        command:
          sync:
            sync:
              name: /bin/sleep
              arguments: ["120"]
  worker:
    type: $type
    plugin-dir: $([ "$type" = command ] && echo "$CW_PLUGINS" || echo "$DW_PLUGINS")
    command:
      logging:
        type: "off"
    identity:
      target: default
      memberid: $id
    sources: [POD_1]
EOT
	for line in "$@"; do echo "    $line"; done
}
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# --- 1. RSS with RSS_JOBS running jobs ---
mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
base_config rss command "jobs: { max: $RSS_JOBS }" "termination: { timeout: 2000 }" >"$DW_DIR/rss.yml"
dw_worker_start rss
pid=$(dw_pid rss)
sleep 3
echo "== RSS, no job: VmRSS $(kb "$pid" VmRSS) kB, threads $(ls /proc/"$pid"/task | wc -l)"
dw_enqueue "$RSS_JOBS" "$RSS_JOBS"
t0=$(now)
for _ in $(seq 1 600); do
	n=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'RUNNING'")
	[ "$n" -ge "$RSS_JOBS" ] && break
	sleep 0.1
done
sleep 3
kids=$(pgrep -P "$pid" -c)
echo "== RSS, $n running jobs (reached in $(calc "$(now) - $t0") s, $kids child processes): VmRSS $(kb "$pid" VmRSS) kB, VmHWM $(kb "$pid" VmHWM) kB, threads $(ls /proc/"$pid"/task | wc -l) (children excluded)"
dw_worker_stop rss
mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"

# --- 2. dispatch rate and claim cost by queue size ---
claim_cost() {
	local sql start end
	sql=$(for _ in $(seq 1 300); do
		echo "START TRANSACTION;"
		echo "SELECT id, uid FROM jobs FORCE INDEX (ix_jobs_claim) WHERE target = 'default' AND status = 'QUEUED' AND source IN ('POD_1') ORDER BY prio_key, submitted, id LIMIT 16 FOR UPDATE SKIP LOCKED;"
		echo "ROLLBACK;"
	done)
	mdb_sql "$sql" >/dev/null # warm
	start=$(now)
	mdb_sql "$sql" >/dev/null
	end=$(now)
	CLAIM=$(calc "($end - $start) * 1000 / 300")
}
declare -A CL
for q in $QUEUES; do
	mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
	t0=$(now)
	dw_enqueue "$q" "$q"
	mdb_sql "ANALYZE TABLE jobs" >/dev/null
	fill=$(calc "$(now) - $t0")
	claim_cost
	CL[$q]=$CLAIM
	base_config disp simulator "jobs: { max: 16 }" >"$DW_DIR/disp.yml"
	t0=$(now)
	want=$((q < DISPATCH ? q : DISPATCH))
	dw_worker_start disp
	for _ in $(seq 1 3000); do
		n=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")
		[ "$n" -ge "$want" ] && break
		sleep 0.1
	done
	t1=$(now)
	dw_worker_stop disp
	printf '== %7d queued (made in %.1f s): claim transaction %.3f ms (300 runs); dispatch %d jobs in %.2f s = %.0f jobs/s (from the worker'"'"'s start)\n' \
		"$q" "$fill" "$CLAIM" "$n" "$(calc "$t1 - $t0")" "$(calc "$n / ($t1 - $t0)")"
done
set -- $QUEUES
first=$1
for q in $QUEUES; do last=$q; done
printf '== RESULT: claim cost at %d queued / at %d queued = %.2f (target <= 1.5)\n' \
	"$last" "$first" "$(calc "${CL[$last]} / ${CL[$first]}")"

# --- 3. statements per minute of one idle worker (shipped settings) ---
mdb_sql "DELETE FROM job_attempts; DELETE FROM jobs"
base_config idle simulator >"$DW_DIR/idle.yml"
dw_worker_start idle
sleep 10
stat() {
	mdb_sql_root "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_select', 'Com_update', 'Com_insert', 'Com_commit', 'Com_begin', 'Com_rollback', 'Com_set_option', 'Com_stmt_execute')" |
		awk '{ printf "%s=%s ", $1, $2 }'
}
s0=$(stat)
sleep "$IDLE_SECS"
s1=$(stat)
dw_worker_stop idle
# the two status reads themselves are 2 Questions each way: subtract them
awk -v a="$s0" -v b="$s1" -v secs="$IDLE_SECS" 'BEGIN {
	n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, "="); v0[kv[1]] = kv[2] }
	n = split(b, y, " "); out = ""
	for (i = 1; i <= n; i++) { split(y[i], kv, "="); d = kv[2] - v0[kv[1]]; if (kv[1] == "Questions") d -= 1
		out = out sprintf(" %s %.1f/min", kv[1], d * 60 / secs) }
	print "== idle worker, " secs " s:" out
}'
