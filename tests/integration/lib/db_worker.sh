# db_worker.sh - helpers for the Migration Database integration tests:
# a private MariaDB with the schema, worker configurations, workers started
# and stopped by PID, and checks made from the database's own records.
#
#   . "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
#   dw_init NAME [mariadbd options]   # temp dir, server, schema, target,
#                                     # source POD_1; sets DW_DIR, DMFCTL
#   dw_config MEMBERID [YAML...]      # writes $DW_DIR/MEMBERID.yml
#                                     # (DW_LEASE, DW_HEARTBEAT, DW_MIN_SLEEP,
#                                     # DW_MAX_SLEEP, DW_URL_PARAMS: e.g.
#                                     # "?socketTimeout=1500")
#   dw_worker_start MEMBERID          # starts dmf-worker; DW_PID_<id>
#   dw_wait_sql SQL EXPECTED SECONDS  # polls until SQL prints EXPECTED
#   dw_cleanup                        # stops workers and server, removes
# Every process is stopped by its PID; nothing outside DW_DIR is touched.

: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${abs_top_builddir:=$abs_top_srcdir}"
. "$abs_top_srcdir/tests/integration/lib/mariadb.sh"

DW_WORKER=$abs_top_builddir/core/worker/dmf-worker
# commands start through the built gate program (core/exec/exec_gate.c),
# as they do through the installed one; DMF_EXEC_GATE= forks them
: "${DMF_EXEC_GATE=$abs_top_builddir/core/exec/dmf-exec-gate}"
export DMF_EXEC_GATE
DW_CTL=$abs_top_builddir/core/dmfctl/dmfctl
DW_PLUGINS=$abs_top_builddir/plugins/simulator/.libs
DW_PIDS=()
DW_T=0

ok_() { DW_T=$((DW_T + 1)); echo "ok $DW_T - $1"; }
nok_() { DW_T=$((DW_T + 1)); echo "not ok $DW_T - $1"; DW_FAILED=1; }
# check DESCRIPTION COMMAND...: one TAP line from a command's status
check() {
	local desc=$1
	shift
	if "$@"; then ok_ "$desc"; else nok_ "$desc"; fi
}
# lacks [GREP_OPTION...] [--] PATTERN FILE...: true when every FILE is there
# (a file, or a directory with -r) and none holds PATTERN. A missing FILE
# fails, with a line naming it: a bare `! grep` passes it (grep's status 2).
# On a match it names the files, never the line (PATTERN may be a secret).
lacks() {
	local opts=() pat f rc
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
		[ "$1" = -- ] && { shift; break; }
		opts+=("$1")
		shift
	done
	pat=$1
	shift
	[ $# -gt 0 ] || { echo "# lacks: no file given"; return 1; }
	for f in "$@"; do
		[ -r "$f" ] || { echo "# lacks: $f is not there"; return 1; }
	done
	grep -q "${opts[@]}" -- "$pat" "$@"
	rc=$?
	[ $rc = 0 ] && grep -l "${opts[@]}" -- "$pat" "$@" | sed 's/^/#   matched in /'
	[ $rc = 1 ]
}
# is GOT EXPECTED DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then ok_ "$3"; else
		nok_ "$3"
		echo "#   got: '$1'"
		echo "#   expected: '$2'"
	fi
}

dw_skip_unless_ready() {
	if ! mdb_have; then
		echo "1..0 # SKIP mariadbd is not installed"
		exit 0
	fi
	if [ ! -x "$DW_WORKER" ] || [ ! -x "$DW_CTL" ] ||
		[ ! -e "$DW_PLUGINS/simulator.so" ]; then
		echo "Bail out! build core/worker/dmf-worker, core/dmfctl/dmfctl and the simulator plugin first"
		exit 1
	fi
}

# the command job worker's plugin is built (its tests run it)
dw_need_command_plugin() {
	if [ ! -e "$abs_top_builddir/plugins/command/.libs/command.so" ]; then
		echo "Bail out! build plugins/command/command.la first"
		exit 1
	fi
}

dw_init() {
	local name=$1
	shift
	DW_DIR=$(mktemp -d "/tmp/dmf-$name.XXXXXX")
	trap dw_cleanup EXIT
	mdb_start "$DW_DIR/db" "$@" || {
		echo "Bail out! cannot start mariadbd"
		exit 1
	}
	cat >"$DW_DIR/ctl.yml" <<EOT
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
EOT
	DMFCTL="$DW_CTL -c $DW_DIR/ctl.yml --schema-dir $abs_top_srcdir/core/db/schema"
	$DMFCTL db migrate >/dev/null || {
		echo "Bail out! dmfctl db migrate failed"
		exit 1
	}
	$DMFCTL target add default >/dev/null &&
		$DMFCTL source add POD_1 >/dev/null || exit 1
}

# dw_config MEMBERID [extra YAML lines under dmf.worker, indented 4]
dw_config() {
	local id=$1
	shift
	{
		cat <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: -1 # any free port: tests run side by side
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB${DW_URL_PARAMS:-}
    username: $MDB_USER
    password: $MDB_PASSWORD
    transaction-isolation: ${DW_ISOLATION:-TRANSACTION_READ_COMMITTED}
dmf:
  simulator:
    min-sleep: ${DW_MIN_SLEEP:-0}
    max-sleep: ${DW_MAX_SLEEP:-50ms}
  worker:
    type: simulator
    plugin-dir: $DW_PLUGINS
    command:
      logging:
        type: "off"
    identity:
      target: default
      memberid: $id
    sources: [POD_1]
    heartbeat: ${DW_HEARTBEAT:-300ms}
    lease: ${DW_LEASE:-3s}
    termination:
      timeout: ${DW_TERMINATION:-5000}
EOT
		for line in "$@"; do echo "    $line"; done
	} >"$DW_DIR/$id.yml"
}

# dw_worker_start MEMBERID: start a worker with $DW_DIR/MEMBERID.yml
dw_worker_start() {
	local id=$1
	"$DW_WORKER" -c "$DW_DIR/$id.yml" >>"$DW_DIR/$id.log" 2>&1 &
	eval "DW_PID_$id=$!"
	DW_PIDS+=($!)
}

dw_pid() { eval "echo \${DW_PID_$1:-}"; }

# dw_worker_wait MEMBERID SECONDS: wait for the worker to exit and set
# DW_RC to its exit status ("timeout" when it did not exit).  Do not call
# it in $(...): only this shell can wait for its children.
dw_worker_wait() {
	local pid
	pid=$(dw_pid "$1")
	DW_RC=timeout
	for _ in $(seq 1 $(($2 * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			DW_RC=$?
			return 0
		fi
		sleep 0.1
	done
	return 1
}

dw_worker_stop() {
	local pid
	pid=$(dw_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	dw_worker_wait "$1" 20 || kill -KILL "$pid" 2>/dev/null
}

# dw_wait_sql SQL EXPECTED SECONDS: true once SQL prints EXPECTED
dw_wait_sql() {
	local got
	for _ in $(seq 1 $(($3 * 10))); do
		got=$(mdb_sql "$1" 2>/dev/null)
		[ "$got" = "$2" ] && return 0
		sleep 0.1
	done
	echo "# waited $3 s for [$1] = '$2', last got '$got'"
	return 1
}

# dw_enqueue N UIDS [SOURCE]: N queued jobs over UIDS mailboxes (SQL bulk)
dw_enqueue() {
	mdb_sql "INSERT INTO jobs (target, source, uid, phase)
		SELECT 'default', '${3:-POD_1}', CONCAT('user', seq % $2), 'sync'
		FROM seq_1_to_$1"
}

# The database's own proof: every job SUCCESS, exactly one SUCCESS attempt
# per job, and no two attempts of one mailbox overlapping in time.
dw_check_exactly_once() {
	local n=$1
	is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")" "$n" \
		"all $n jobs ended SUCCESS"
	is "$(mdb_sql "SELECT COUNT(*) FROM (SELECT job_id FROM job_attempts
		WHERE outcome = 'SUCCESS' GROUP BY job_id HAVING COUNT(*) <> 1) x")" 0 \
		"every job has exactly one SUCCESS attempt"
	is "$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'SUCCESS'")" "$n" \
		"$n SUCCESS attempts in job_attempts"
	is "$(mdb_sql "SELECT COUNT(*) FROM job_attempts a JOIN job_attempts b
		ON a.target = b.target AND a.uid = b.uid AND a.id < b.id
		AND a.claimed < COALESCE(b.ended, NOW(6))
		AND b.claimed < COALESCE(a.ended, NOW(6))")" 0 \
		"no two jobs of one mailbox ran at the same time"
}

dw_cleanup() {
	local pid
	for pid in "${DW_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${DW_PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# runs of lib/runs.sh (a test that set RUNS): what is left of them
	if [ -n "${RUNS:-}" ] && declare -F runs_kill_left >/dev/null; then
		runs_kill_left "$RUNS"
	fi
	mdb_stop
	if [ -n "${DW_FAILED:-}" ] && [ -n "${DW_DIR:-}" ]; then
		for f in "$DW_DIR"/*.log; do
			[ -e "$f" ] || continue
			echo "# --- tail of $f"
			tail -n 15 "$f" | sed 's/^/#   /'
		done
	fi
	[ -n "${DW_KEEP:-}" ] || rm -rf "${DW_DIR:-/nonexistent}"
}
