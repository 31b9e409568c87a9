# soak.sh - the fault soak (issue 15): jobs of the `command` job worker,
# whose migration command is the run recorder of lib/runs.sh, over several
# workers while random faults of every kind are injected, judged at the
# end by the recorded runs (runs_check.py) and the database.  Shared by
# tests/integration/test_soak.sh (a bounded short run) and scripts/soak.sh
# (the full run: 2,000 jobs over 4 workers).
#
#   . "$abs_top_srcdir/tests/integration/lib/soak.sh"
#   soak_skip_unless_ready
#   soak_run            # TAP lines and a "# soak: ..." figures line
#
# Sizes (environment): SOAK_JOBS (300), SOAK_WORKERS (4), SOAK_BOXES
# (jobs/10), SOAK_SEED (random; printed), SOAK_FAULT_PCT (2: per cent of
# the jobs given each job fault), SOAK_MAX_SECONDS (600: the fault loop
# stops then, whatever is left).
#
# Faults of the run (one at a time, in shuffled rounds of every kind, a
# random 0.3-1.5 s apart, until the queue is empty and each kind ran):
#   kill9    kill -9 of a worker that holds jobs, started again at once
#   sigstop  a worker that holds jobs frozen with its running commands
#            (every process of its session, as a VM pause does) for the
#            lease + 1.5 s, so another worker rescues its jobs; thawed
#            worker first, the commands only after it had 3 s to kill
#            them (docs/schema.md, "A frozen worker", says why)
#   dbrestart the MariaDB server killed (-9) or stopped (TERM), started again
#   diskfull the command-log directory (a 16 MB tmpfs) filled up for 1.5 s
# Faults given to jobs (their source picks the command):
#   hang     POD_HANG: the run sleeps 10 min; the source's timeout (1.5 s)
#            kills it: FAILURE "migration command timed out after 1500 ms"
#   flood    POD_FLOOD: the run writes 2 MB of lines to stdout and a 1 MB
#            line plus 0.5 MB of lines to stderr, then exits 0: SUCCESS
#            (the worker cuts lines at 64 KiB and keeps 20 stderr lines)
#   stall    POD_STALL: the run connects to lib/imap_stall.py (accepts,
#            never greets) and gives up after 1 s with exit 75: FAILURE
#            "migration command exited with status 75"

: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${abs_top_builddir:=$abs_top_srcdir}"
. "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"

SOAK_LIB=$abs_top_srcdir/tests/integration/lib
SOAK_LEASE_MS=3000
SOAK_HANG_TIMEOUT_MS=1500
SOAK_FROZEN=()

soak_skip_unless_ready() {
	dw_skip_unless_ready
	dw_need_command_plugin
	if [ "$(id -u)" != 0 ] || ! command -v setsid >/dev/null; then
		echo "1..0 # SKIP needs root (a tmpfs for the full disk) and setsid"
		exit 0
	fi
}

# soak_config MEMBERID
soak_config() {
	local flood="yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 2000000; head -c 1000000 /dev/zero | tr -c x x >&2; echo >&2; yes stderr-flood-line-0123456789 | head -c 500000 >&2"
	local stall="python3 $SOAK_LIB/imap_stall.py connect $SOAK_IMAP_PORT 1"
	cat >"$DW_DIR/$1.yml" <<EOT
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
        timeout: 30s
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$RUNS/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}"]
      POD_HANG:
        timeout: ${SOAK_HANG_TIMEOUT_MS}ms
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$RUNS/run.sh", "%{mdb:uid}", "600000"]
      POD_FLOOD:
        timeout: 30s
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$RUNS/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}", "0", "$flood"]
      POD_STALL:
        timeout: 30s
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$RUNS/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}", "0", "$stall"]
  worker:
    type: command
    plugin-dir: $abs_top_builddir/plugins/command/.libs
    command:
      logging:
        type: file
        file:
          format: "%(source)-%(user)-%(job).log"
          location: $SOAK_LOGS
          delete-on-success: true
    identity:
      target: default
      memberid: $1
    sources: [POD_1, POD_HANG, POD_FLOOD, POD_STALL]
    heartbeat: 300ms
    lease: ${SOAK_LEASE_MS}ms
    jobs: { max: 4, cache: { size: 100, refresh: 300ms } }
    rescue: { limit: 100 }
    termination:
      timeout: 2000
EOT
}

# soak_start MEMBERID: the worker leads a session of its own (setsid execs
# in place: $! is the worker), so its commands are the session's members
soak_start() {
	local id=$1 old pid keep=()
	old=$(dw_pid "$id")
	for pid in "${DW_PIDS[@]}"; do [ "$pid" = "$old" ] || keep+=("$pid"); done
	setsid "$DW_WORKER" -c "$DW_DIR/$id.yml" >>"$DW_DIR/$id.log" 2>&1 &
	eval "DW_PID_$id=$!"
	DW_PIDS=("${keep[@]}" $!)
	echo "$id $!" >>"$DW_DIR/workers.txt" # for soak_explain
}

# a random worker holding RUNNING jobs (empty when none does)
soak_busy_worker() {
	mdb_sql "SELECT SUBSTRING_INDEX(backend, '/', -1) FROM jobs
		WHERE status = 'RUNNING' GROUP BY backend ORDER BY RAND() LIMIT 1" 2>/dev/null
}

# members of session SID that are not stopped yet (but the leader)
soak_session_running() {
	ps -e -o pid=,sid=,stat= | awk -v s="$1" '$2 == s && $1 != s && $3 !~ /^[TZ]/ { print $1 }'
}

# soak_sid PID: the session of PID (field 6 of /proc/PID/stat, after the
# command name in parentheses); empty once PID is gone
soak_sid() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 0
	s=${s##*) }
	set -- $s
	echo "$4"
}

# soak_mark TEXT: "NS TEXT" in $DW_DIR/faults.txt, for soak_explain
soak_mark() {
	echo "$(date +%s%N) $*" >>"$DW_DIR/faults.txt"
}

# soak_explain: after an overlap, the records of each overlapping pair, the
# worker that started each run and its log lines about the mailbox, and the
# faults around them (times relative to the first run's start)
soak_explain() {
	python3 "$SOAK_LIB/soak_explain.py" "$RUNS/runs.log" "$DW_DIR/faults.txt" \
		"$DW_DIR/frozen.txt" "$DW_DIR" | sed 's/^/#   /'
}

soak_fault_kill9() {
	local w pid
	w=$(soak_busy_worker)
	[ -n "$w" ] || w=w$((1 + RANDOM % SOAK_WORKERS))
	pid=$(dw_pid "$w")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	soak_start "$w"
	soak_mark "kill9 $w pid $pid killed, started again as pid $(dw_pid "$w")"
	echo "# fault kill9: $w (pid $pid) killed, started again"
}

soak_fault_sigstop() {
	local w pid members p i left freeze_ms frozen_ns dead
	w=$(soak_busy_worker)
	[ -n "$w" ] || w=w$((1 + RANDOM % SOAK_WORKERS))
	pid=$(dw_pid "$w")
	# the worker first (it starts no command once stopped), then every
	# process of its session until none is left running
	soak_mark "sigstop $w pid $pid stopped"
	kill -STOP "$pid"
	SOAK_FROZEN=("$pid")
	for i in $(seq 1 50); do
		members=$(soak_session_running "$pid")
		[ -n "$members" ] || break
		for p in $members; do
			kill -STOP "$p" 2>/dev/null || continue
			# listed in the session, it may have left it before the
			# stop: a run's watcher between its fork and its setsid
			# (lib/runs.sh). Out of the worker's reach and no command
			# of it, it goes on at once and is not counted as frozen.
			if [ "$(soak_sid "$p")" = "$pid" ]; then
				SOAK_FROZEN+=("$p")
			else
				soak_mark "sigstop $w: pid $p left the session before its stop, continued"
				kill -CONT "$p" 2>/dev/null
			fi
		done
	done
	frozen_ns=$(date +%s%N)
	freeze_ms=$((SOAK_LEASE_MS + 1500))
	sleep "$(awk -v m=$freeze_ms 'BEGIN { printf "%.3f", m / 1000 }')"
	# thaw the worker; it must kill its stale commands (frozen, they did
	# nothing) on its own; what is left after 3 s is thawed anyway
	soak_mark "sigstop $w pid $pid continued"
	kill -CONT "$pid"
	for i in $(seq 1 30); do
		left=0
		for p in "${SOAK_FROZEN[@]:1}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
		[ $left = 0 ] && break
		sleep 0.1
	done
	# the runs killed while still stopped did nothing after the freeze
	dead=()
	for p in "${SOAK_FROZEN[@]:1}"; do
		if kill -0 "$p" 2>/dev/null; then
			# what outlived it, for the log: which process and group
			echo "# fault sigstop: left alive: $(ps -o pid=,ppid=,pgid=,sid=,stat=,args= -p "$p")"
		else
			dead+=("$p")
		fi
	done
	echo "$frozen_ns ${dead[*]}" >>"$DW_DIR/frozen.txt"
	echo "$frozen_ns ${SOAK_FROZEN[*]:1}" >>"$DW_DIR/frozen-all.txt" # for soak_explain
	for p in "${SOAK_FROZEN[@]:1}"; do kill -CONT "$p" 2>/dev/null; done
	SOAK_STOP_PROCS=$((SOAK_STOP_PROCS + ${#SOAK_FROZEN[@]} - 1))
	SOAK_STOP_LEFT=$((SOAK_STOP_LEFT + left))
	echo "# fault sigstop: $w frozen ${freeze_ms} ms with $((${#SOAK_FROZEN[@]} - 1)) processes of its commands; $left of them outlived the thaw by 3 s"
	SOAK_FROZEN=()
}

soak_fault_dbrestart() {
	local how
	soak_mark "dbrestart begins"
	if [ $((RANDOM % 2)) = 0 ]; then
		how=kill-9
		kill -KILL "$MDB_PID"
		wait "$MDB_PID" 2>/dev/null
	else
		how=stop
		mdb_stop
	fi
	sleep "0.$((2 + RANDOM % 7))"
	mdb_launch || {
		echo "Bail out! mariadbd did not come back"
		exit 1
	}
	soak_mark "dbrestart mariadbd $how, up again"
	echo "# fault dbrestart: mariadbd $how, started again"
}

soak_fault_diskfull() {
	soak_mark "diskfull begins"
	dd if=/dev/zero of="$SOAK_LOGS/zz-filler" bs=64k 2>/dev/null
	sleep 1.5
	rm -f "$SOAK_LOGS/zz-filler"
	soak_mark "diskfull ends"
	echo "# fault diskfull: $SOAK_LOGS full for 1.5 s"
}

soak_cleanup() {
	local p
	for p in "${SOAK_FROZEN[@]}"; do kill -CONT "$p" 2>/dev/null; done
	runs_kill_left "$RUNS"
	[ -n "${SOAK_IMAP_PID:-}" ] && kill "$SOAK_IMAP_PID" 2>/dev/null
	dw_cleanup_workers_only
	mountpoint -q "$SOAK_LOGS" 2>/dev/null && umount "$SOAK_LOGS"
	dw_cleanup
}

# stop the workers by PID before the tmpfs goes (dw_cleanup does the rest)
dw_cleanup_workers_only() {
	local pid
	for pid in "${DW_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${DW_PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}

soak_run() {
	local jobs=${SOAK_JOBS:-300} boxes seed kinds k i t0 n
	SOAK_WORKERS=${SOAK_WORKERS:-4}
	boxes=${SOAK_BOXES:-$((jobs / 10))}
	seed=${SOAK_SEED:-$RANDOM}
	RANDOM=$seed
	echo "1..17"
	echo "# soak: $jobs jobs, $SOAK_WORKERS workers, $boxes mailboxes, seed $seed"
	dw_init soak
	RUNS=$DW_DIR/runs
	SOAK_LOGS=$DW_DIR/cmdlogs
	trap soak_cleanup EXIT
	runs_script "$RUNS"
	mkdir -p "$SOAK_LOGS"
	mount -t tmpfs -o size=16m,mode=0700 soak-cmdlogs "$SOAK_LOGS" || {
		echo "Bail out! cannot mount a tmpfs on $SOAK_LOGS"
		exit 1
	}
	python3 "$SOAK_LIB/imap_stall.py" serve "$DW_DIR/imap.port" "$DW_DIR/imap.count" &
	SOAK_IMAP_PID=$!
	for _ in $(seq 1 50); do [ -s "$DW_DIR/imap.port" ] && break; sleep 0.1; done
	SOAK_IMAP_PORT=$(cat "$DW_DIR/imap.port")
	: >"$DW_DIR/imap.count"
	for s in POD_HANG POD_FLOOD POD_STALL; do $DMFCTL source add $s >/dev/null || exit 1; done

	# the jobs: mailbox, source (its job fault) and run length 100-800 ms
	python3 - "$jobs" "$boxes" "$seed" "${SOAK_FAULT_PCT:-2}" >"$DW_DIR/jobs.sql" <<'EOT'
import random, sys
n, boxes, seed, pct = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
r = random.Random(seed)
kinds = []
for i in range(n):
    x = r.random() * 100
    kinds.append("POD_HANG" if x < pct else "POD_FLOOD" if x < 2 * pct
                 else "POD_STALL" if x < 3 * pct else "POD_1")
for k in ("POD_HANG", "POD_FLOOD", "POD_STALL"):  # each at least once
    if k not in kinds:
        kinds[r.randrange(n // 2)] = k
rows = [f"('default', '{k}', 'user{r.randrange(boxes)}', 'sync', '{r.randint(100, 800)}')"
        for k in kinds]
print("INSERT INTO jobs (target, source, uid, phase, imapoptions) VALUES")
print(",\n".join(rows) + ";")
EOT
	mdb_sql "$(cat "$DW_DIR/jobs.sql")" || exit 1
	for i in $(seq 1 "$SOAK_WORKERS"); do soak_config "w$i"; done
	t0=$(date +%s%N)
	for i in $(seq 1 "$SOAK_WORKERS"); do soak_start "w$i"; done

	# the fault loop
	declare -A SOAK_N=([kill9]=0 [sigstop]=0 [dbrestart]=0 [diskfull]=0)
	SOAK_STOP_PROCS=0 SOAK_STOP_LEFT=0
	local round=() left
	while :; do
		left=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 2>/dev/null)
		if [ "$left" = 0 ] && [ "${SOAK_N[kill9]}" -gt 0 ] && [ "${SOAK_N[sigstop]}" -gt 0 ] &&
			[ "${SOAK_N[dbrestart]}" -gt 0 ] && [ "${SOAK_N[diskfull]}" -gt 0 ]; then
			break
		fi
		[ $((($(date +%s%N) - t0) / 1000000000)) -lt "${SOAK_MAX_SECONDS:-600}" ] || break
		if [ ${#round[@]} = 0 ]; then
			round=($(printf '%s\n' kill9 sigstop dbrestart diskfull | shuf --random-source=<(yes $RANDOM)))
		fi
		k=${round[0]}
		round=("${round[@]:1}")
		sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.3 + 1.2 * r / 32767 }')"
		echo "# t=$((($(date +%s%N) - t0) / 1000000)) ms: $k"
		"soak_fault_$k"
		SOAK_N[$k]=$((SOAK_N[$k] + 1))
	done

	check "every job ended (none QUEUED or RUNNING)" \
		dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 120
	local wall_ms=$((($(date +%s%N) - t0) / 1000000))
	runs_wait_idle "$RUNS" 10
	is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status NOT IN ('SUCCESS', 'FAILURE')
		OR (status = 'FAILURE' AND COALESCE(error, '') = '')")" 0 \
		"every job is SUCCESS or FAILURE with a reason"
	is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source IN ('POD_1', 'POD_FLOOD') AND status <> 'SUCCESS'")" 0 \
		"every job without a job fault ended SUCCESS, and so did the flooding ones"
	is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source = 'POD_HANG' AND NOT (status = 'FAILURE'
		AND error = 'migration command timed out after ${SOAK_HANG_TIMEOUT_MS} ms')")" 0 \
		"every hanging job ended FAILURE: timed out after ${SOAK_HANG_TIMEOUT_MS} ms"
	is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source = 'POD_STALL' AND NOT (status = 'FAILURE'
		AND error = 'migration command exited with status 75'
		AND COALESCE(JSON_SEARCH(details, 'one', '%server stalled%', NULL, '\$[*].command.errors') IS NOT NULL, FALSE))")" 0 \
		"every job against the stalled IMAP server ended FAILURE: exit 75, its error line in the details"
	# details: an array of {"step": {...}} entries; the flood's stderr
	# is cut to 20 lines and a "... N more lines" entry
	is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source = 'POD_FLOOD' AND NOT COALESCE(
		JSON_LENGTH(JSON_EXTRACT(details, '\$[*].command.errors'), '\$[0]') = 21
		AND JSON_VALUE(JSON_EXTRACT(details, '\$[*].command.errors[20]'), '\$[0]') LIKE '... % more lines'
		AND LENGTH(JSON_EXTRACT(details, '\$[*].command.errors')) < 30000, FALSE)")" 0 \
		"the flooding jobs' details keep 20 stderr lines of at most 1 KiB and the number of the others"
	# a run frozen with its worker and killed before it was continued did
	# no work after the freeze: it ends there (runs_check.py --frozen);
	# counted until its kill after the thaw, it overlaps the rescue
	local raw
	raw=$(python3 "$RUNS_LIB_DIR/runs_check.py" "$RUNS/runs.log" | sed -n 's/^runs [0-9]* overlapping \([0-9]*\).*/\1/p')
	: >>"$DW_DIR/frozen.txt"
	RUNS_FROZEN=$DW_DIR/frozen.txt runs_check "$RUNS" \
		"no two runs of one mailbox overlapped (judged by the recorded runs; frozen runs end at the freeze)"
	[ "${RUNS_OVERLAP:-0}" = 0 ] || soak_explain
	# every SUCCESS has a run of its mailbox that ended: per mailbox, at
	# least as many completed runs as SUCCESS jobs
	mdb_sql "SELECT uid, COUNT(*) FROM jobs WHERE status = 'SUCCESS' GROUP BY uid" >"$DW_DIR/succ.txt"
	local unbacked
	unbacked=$(python3 - "$RUNS/runs.log" "$DW_DIR/succ.txt" <<'EOT'
import sys
ends = {}
for line in open(sys.argv[1]):
    k, uid, _, _ = line.split()
    if k == "end":
        ends[uid] = ends.get(uid, 0) + 1
bad = 0
for line in open(sys.argv[2]):
    uid, n = line.split()
    bad += max(0, int(n) - ends.get(uid, 0))
print(bad)
EOT
)
	is "$unbacked" 0 "every SUCCESS job has a completed run of its mailbox"
	local lost
	lost=$(($(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status NOT IN ('SUCCESS', 'FAILURE')") + unbacked))
	local kinds_ok=1
	for k in kill9 sigstop dbrestart diskfull; do [ "${SOAK_N[$k]}" -gt 0 ] || kinds_ok=; done
	local hang flood stall
	hang=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source = 'POD_HANG'")
	flood=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source = 'POD_FLOOD'")
	stall=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source = 'POD_STALL'")
	check "every kind of fault was injected" [ -n "$kinds_ok" -a "$hang" -gt 0 -a "$flood" -gt 0 -a "$stall" -gt 0 ]
	check "the workers rescued the frozen workers' jobs ($(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'") attempts RESCUED)" \
		[ "$(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'")" -ge "${SOAK_N[sigstop]}" ]
	is "$SOAK_STOP_LEFT" 0 \
		"every thawed worker killed its frozen commands itself ($SOAK_STOP_PROCS processes frozen)"
	local cmdlog_err
	cmdlog_err=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE JSON_EXTRACT(details, '\$[*].commandLog.error') IS NOT NULL")
	check "jobs that met the full disk say so in their details ($cmdlog_err) and the full disk failed none" \
		[ "$cmdlog_err" -gt 0 -a "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE source IN ('POD_1', 'POD_FLOOD')
			AND status = 'FAILURE' AND JSON_EXTRACT(details, '\$[*].commandLog.error') IS NOT NULL")" = 0 ]
	local accepted
	accepted=$(wc -l <"$DW_DIR/imap.count")
	check "the stalled IMAP server accepted a connection for each stalled run ($accepted)" \
		[ "$accepted" -ge "$stall" ]
	local alive=0 w
	for w in $(seq 1 "$SOAK_WORKERS"); do kill -0 "$(dw_pid w$w)" 2>/dev/null && alive=$((alive + 1)); done
	is "$alive" "$SOAK_WORKERS" "no worker crashed (every worker started is still running)"
	local clean=0
	for w in $(seq 1 "$SOAK_WORKERS"); do
		dw_worker_stop "w$w"
		[ "$DW_RC" = 0 ] && clean=$((clean + 1))
	done
	is "$clean" "$SOAK_WORKERS" "every worker stopped cleanly on SIGTERM (exit 0)"
	check "no sanitizer report or crash in the worker logs" \
		lacks -E 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault' "$DW_DIR"/w*.log
	check "no run is left" runs_wait_idle "$RUNS" 5
	echo "# soak: jobs $jobs," \
		"faults kill9 ${SOAK_N[kill9]} sigstop ${SOAK_N[sigstop]} dbrestart ${SOAK_N[dbrestart]}" \
		"diskfull ${SOAK_N[diskfull]} hang $hang flood $flood stall $stall," \
		"runs $RUNS_TOTAL, overlapping $RUNS_OVERLAP, lost $lost," \
		"(overlaps counting the frozen runs as running until their kill after the thaw: $raw)," \
		"success $(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'")," \
		"failure $(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'FAILURE'")," \
		"rescued $(mdb_sql "SELECT COUNT(*) FROM job_attempts WHERE outcome = 'RESCUED'")," \
		"commandLog errors $cmdlog_err, wall $((wall_ms / 1000)).$(printf %03d $((wall_ms % 1000))) s"
}
