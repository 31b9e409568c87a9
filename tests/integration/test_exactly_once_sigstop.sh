#!/bin/bash
# test_exactly_once_sigstop.sh - a worker frozen (SIGSTOP) past its lease:
# another worker rescues its jobs; after SIGCONT the stale worker writes
# nothing and kills its commands at once (its lease watchdog runs on the
# monotonic clock).  A frozen process cannot kill its children: with the
# command worker its commands run on while it is frozen (the overlap is
# measured and reported, docs/schema.md); with the doveadm worker and real
# Dovecot, dsync's per-user lock (sync-lock, `backup -l`) makes the
# rescuing worker's dsync wait while the stale one holds the lock.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
. "$abs_top_srcdir/tests/integration/lib/runs.sh"
dr_skip_unless_ready
echo "1..12"
dr_init sigstop
RUNS=$DR_DIR/runs
runs_script "$RUNS"
ss_cleanup() {
	for w in c1 d1; do kill -CONT "$(dw_pid $w)" 2>/dev/null; done
	runs_kill_left "$RUNS"
	dr_cleanup
}
trap ss_cleanup EXIT
now_ns() { date +%s%N; }

# --- command worker: 3 runs of 9 s, c1 frozen, c2 rescues ---
for w in c1 c2; do
	runs_worker_config "$RUNS" $w "jobs: { max: 4, cache: { refresh: 300ms } }"
done
mdb_sql "INSERT INTO jobs (target, source, uid, phase, imapoptions)
	SELECT 'default', 'POD_1', CONCAT('box', seq), 'sync', 9000 FROM seq_1_to_3"
dw_worker_start c1
dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE uid LIKE 'box%' AND status = 'RUNNING'" 3 20 >/dev/null
sleep 1
kill -STOP "$(dw_pid c1)"
dw_worker_start c2
check "c2 rescued and runs the frozen worker's jobs" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE uid LIKE 'box%' AND status = 'RUNNING' AND backend = 'default/c2'" 3 20
sleep 1
cont=$(now_ns)
kill -CONT "$(dw_pid c1)"
dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE uid LIKE 'box%' AND status = 'SUCCESS'" 3 30 >/dev/null
runs_wait_idle "$RUNS" 10
# the c1 runs are the first three starts; their gone time after SIGCONT
late=$(python3 - "$RUNS/runs.log" "$cont" <<'EOT'
import sys
starts, gone = [], {}
for line in open(sys.argv[1]):
    k, uid, pid, ns = line.split()
    if k == "start":
        starts.append((uid, pid))
    elif k == "gone":
        gone[(uid, pid)] = int(ns)
print(max((gone.get(r, 10**20) - int(sys.argv[2])) // 1000000 for r in starts[:3]))
EOT
)
check "after SIGCONT the stale worker killed its commands at once (last gone ${late} ms after SIGCONT)" \
	[ "$late" -ge 0 -a "$late" -lt 500 ]
is "$(mdb_sql "SELECT COUNT(*) FROM job_attempts a JOIN jobs j ON j.id = a.job_id
	WHERE j.uid LIKE 'box%' AND a.backend = 'default/c1' AND a.outcome <> 'RESCUED'")" 0 \
	"the stale worker wrote nothing: its attempts ended RESCUED"
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE uid LIKE 'box%' AND status = 'SUCCESS' AND backend = 'default/c2'")" 3 \
	"every job ended SUCCESS once, by the rescuing worker"
check "c1 gave its jobs up on its own clock" grep -q "cannot renew the job leases in time" "$DW_DIR/c1.log"
out=$(python3 "$RUNS_LIB_DIR/runs_check.py" "$RUNS/runs.log")
echo "# command worker, frozen past its lease (its commands run on beside the rescue until SIGCONT: documented):"; sed "s/^/#   /" <<<"$out"
check "the overlap lasted only while c1 was frozen" [ "$(sed -n 's/^runs [0-9]* overlapping \([0-9]*\).*/\1/p' <<<"$out")" -le 3 ]
for w in c1 c2; do dw_worker_stop $w; done

# --- doveadm worker: d1 frozen while its dsync holds the user's lock ---
dr_user alice pw 400
DR_PROXY_DELAY=20 dr_proxy -1 -1
$DMFCTL sourcehost add slow --host 127.0.0.1 --port "$DR_PROXY_PORT" --ssl no >/dev/null
for w in d1 d2; do
	dr_config $w "analyze-log: true" "sync-lock: 30s" \
		"count: {pre: false, post: false, remote: false}"
	sed -i 's/^    heartbeat: 500ms$/    heartbeat: 300ms/; s/^    lease: 20s$/    lease: 2s/' "$DR_DIR/$w.yml"
done
id=$(dr_job alice pw --sourcehost slow)
dr_worker_start d1
lock=$RIG_DIR/tgt/mail/alice/.dovecot-sync.lock
for _ in $(seq 1 100); do [ -e "$lock" ] && break; sleep 0.1; done
sleep 1
kill -STOP "$(dw_pid d1)"
dr_worker_start d2
dw_wait_sql "SELECT backend FROM jobs WHERE id = $id" default/d2 20 >/dev/null
# holders and waiters of the lock, by the parent (worker) of each process
lockers() {
	local ino
	ino=$(stat -c %i "$lock" 2>/dev/null) || return
	awk -v i=":$ino " 'index($0, i) { print ($2 == "->" ? "wait" : "hold"), ($2 == "->" ? $6 : $5) }' /proc/locks |
		while read -r what pid; do
			echo "$what $(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)"
		done | sort -u | tr '\n' ' '
}
state=
for _ in $(seq 1 50); do
	state=$(lockers)
	case "$state" in *wait*) break ;; esac
	sleep 0.1
done
is "$state" "hold $(dw_pid d1) wait $(dw_pid d2) " \
	"while the frozen d1's dsync holds alice's lock, the rescuing d2's dsync waits for it"
sleep 1
is "$(lockers)" "hold $(dw_pid d1) wait $(dw_pid d2) " "d2's dsync still waits, it wrote nothing"
kill -CONT "$(dw_pid d1)"
check "job $id ended SUCCESS (by d2)" dr_wait "$id" --timeout 60
is "$(mdb_sql "SELECT backend FROM jobs WHERE id = $id")" default/d2 "the rescuing worker stored the result"
is "$(mdb_sql "SELECT outcome FROM job_attempts WHERE job_id = $id AND backend = 'default/d1'")" RESCUED \
	"the stale doveadm worker wrote nothing"
is "$(dr_count "$TGT_CONF" alice)" "$(dr_count "$SRC_CONF" alice)" "alice migrated whole"
