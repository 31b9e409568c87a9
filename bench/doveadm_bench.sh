#!/bin/bash
# doveadm_bench.sh - what the worker adds to a migration: 10 mailboxes of
# 5,000 messages each (~200 MB each, genmail's size mix) migrated from a
# real source Dovecot into a real target
#   (a) through dmf-worker + the doveadm plugin (jobs from MariaDB, jobs.max 2)
#   (b) by running the same doveadm commands directly, 2 at a time
# and prints both times and their ratio (the worker should add < 3%).
# Both sides do what durability: job (the default) does: three `doveadm
# mailbox path` lookups, the migration command with -o mail_fsync=never,
# and one syncfs of the user's filesystem (`sync -f`) after it.
#
# Usage: bench/doveadm_bench.sh [BUILDDIR]     (default: _build, else .)
# Env:   BENCH_USERS (10) BENCH_MSGS (5000) BENCH_ROUNDS (5) BENCH_PAR (2)
#        BENCH_KEEP=1 keeps the temp dir.
# Needs root, dovecot-core, dovecot-imapd, mariadb-server and a build.
# The mailboxes are written straight into the source's maildirs
# (bench/maildir_fill.py; IMAP APPEND would take ~8 minutes), indexed once
# by the source Dovecot, and reused for every run; the target is emptied
# before each run.  One untimed warm-up run comes first; then the direct
# and the worker runs alternate, BENCH_ROUNDS times each; the best of each
# is compared.
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
. "$abs_top_srcdir/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
USERS=${BENCH_USERS:-10}
MSGS=${BENCH_MSGS:-5000}
ROUNDS=${BENCH_ROUNDS:-5}
PAR=${BENCH_PAR:-2}
[ -n "${BENCH_KEEP:-}" ] && DW_KEEP=1

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# calc EXPR: awk arithmetic (no bc on a minimal Debian)
calc() { awk "BEGIN { print $1 }"; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

dr_init bench
users=()
for i in $(seq -w 1 "$USERS"); do users+=("u$i"); done
echo "== generating $USERS x $MSGS messages into the source's maildirs"
t=$(now)
# (wait for the fill processes by PID: mariadbd is a background job too)
fills=()
for u in "${users[@]}"; do
	rig_add_user "$u" "$u-Pw" >/dev/null
	mkdir -p "$RIG_DIR/src/mail/$u"
	python3 "$abs_top_srcdir/bench/maildir_fill.py" "$RIG_DIR/src/mail/$u/Mail" \
		"$MSGS" --seed "${u#u}" --uid "$MAIL_UID" --gid "$MAIL_GID" >"$DR_DIR/fill.$u" &
	fills+=($!)
	if [ ${#fills[@]} -ge 2 ]; then
		wait "${fills[0]}"
		fills=("${fills[@]:1}")
	fi
done
for p in "${fills[@]}"; do wait "$p"; done
bytes=$(cat "$DR_DIR"/fill.* | sed 's/.*bytes=//' | awk '{ s += $1 } END { print s }')
echo "   $((USERS * MSGS)) messages, $((bytes / 1048576)) MB in $(secs "$t" "$(now)") s"
echo "== indexing them in the source Dovecot"
t=$(now)
for u in "${users[@]}"; do
	rig_src_doveadm index -u "$u" '*' >/dev/null 2>&1 ||
		rig_src_doveadm mailbox status -u "$u" messages '*' >/dev/null
done
echo "   $(secs "$t" "$(now)") s"

# the worker's commands for one user, as its details show them (the
# per-job config carries the imapc settings and the password)
mail_plugins=$(doveconf -c "$TGT_CONF" -h mail_plugins 2>/dev/null)
maillog_plugins="${mail_plugins:+$mail_plugins }notify mail_log"
direct_user() {
	local u=$1 jc t0
	t0=$(date +%s%N)
	jc=$(rig_jobconf "$u" "$u-Pw")
	{
		doveadm -c "$TGT_CONF" -f tab mailbox status -u "$u" "messages vsize" 'INBOX/*' INBOX '*'
		# what durability: job does around the migration command
		{
			doveadm -c "$TGT_CONF" mailbox path -u "$u" INBOX
			doveadm -c "$TGT_CONF" mailbox path -u "$u" -t index INBOX
			doveadm -c "$TGT_CONF" mailbox path -u "$u" -t control INBOX
		} >"$DR_DIR/direct.$u.paths"
		doveadm -c "$jc" -o mail_fsync=never \
			-o "imapc_features=rfc822.size fetch-headers" \
			-o mail_prefetch_count=20 \
			-o "mail_plugins=$maillog_plugins" \
			-o "plugin/mail_log_events=save copy expunge mailbox_create mailbox_delete mailbox_rename" \
			-o "plugin/mail_log_fields=uid box msgid size vsize" \
			backup -R -u "$u" imapc: || echo "dsync of $u failed: $?" >&2
		sync -f "$(head -1 "$DR_DIR/direct.$u.paths")"
		doveadm -c "$TGT_CONF" -f tab mailbox status -u "$u" "messages vsize" 'INBOX/*' INBOX '*'
		doveadm -c "$jc" -f tab -o mail=imapc: mailbox status -u "$u" "messages vsize" 'INBOX/*' INBOX '*'
	} >"$DR_DIR/direct.$u.log" 2>&1
	rm -f "$jc"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$DR_DIR/direct.$u.ms"
}
export -f direct_user rig_jobconf rig_conf_quote
export RIG_DIR TGT_CONF SRC_IMAP_PORT DR_DIR maillog_plugins

# CPU seconds from /proc/PID/stat: own (utime+stime) and reaped children
# (cutime+cstime): immune to the load other processes put on the machine
cpu_own() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / t }'; }
cpu_children() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }'; }

reset_target() {
	local u
	for u in "${users[@]}"; do rm -rf "$RIG_DIR/tgt/mail/$u"; done
	sync
}
run_direct() {
	reset_target
	local t0 t1
	local c0
	c0=$(cpu_children $$)
	t0=$(now)
	printf '%s\n' "${users[@]}" | xargs -P "$PAR" -I{} bash -c 'direct_user {}'
	t1=$(now)
	DIRECT_CPU=$(secs "$c0" "$(cpu_children $$)")
	DIRECT=$(secs "$t0" "$t1")
	DIRECT_SUM=$(cat "$DR_DIR"/direct.*.ms | awk '{ s += $1 } END { printf "%.2f", s / 1000 }')
}
DR_JOBS_MAX=$PAR dr_config bench
dr_worker_start bench
run_worker() {
	reset_target
	local ids=() u t0 t1 w0 k0 pid
	pid=$(dw_pid bench)
	w0=$(cpu_own "$pid")
	k0=$(cpu_children "$pid")
	t0=$(now)
	for u in "${users[@]}"; do ids+=("$(dr_job "$u" "$u-Pw")"); done
	dr_wait "${ids[@]}" --timeout 900
	t1=$(now)
	[ "$DR_WAIT_RC" = 0 ] || echo "   WARNING: not all worker jobs succeeded (dmfctl job wait: $DR_WAIT_RC)"
	WORKER_WALL=$(secs "$t0" "$t1")
	WORKER_CPU=$(secs "$w0" "$(cpu_own "$pid")")
	WORKER_KIDS_CPU=$(secs "$k0" "$(cpu_children "$pid")")
	local in=$(IFS=,; echo "${ids[*]}")
	# the worker's own span: first job started -> last job finished
	WORKER=$(mdb_sql "SELECT ROUND(TIMESTAMPDIFF(MICROSECOND, MIN(started), MAX(finished)) / 1e6, 2)
		FROM jobs WHERE id IN ($in)")
	WORKER_SUM=$(mdb_sql "SELECT ROUND(SUM(duration_ms) / 1000, 2) FROM jobs WHERE id IN ($in)")
	LAST_IDS=("${ids[@]}")
}
check_counts() {
	local u bad=0
	for u in "${users[@]}"; do
		[ "$(dr_count "$TGT_CONF" "$u")" = "$(dr_count "$SRC_CONF" "$u")" ] || bad=$((bad + 1))
	done
	echo "$bad"
}

echo "== warm-up run (direct, not timed)"
run_direct
echo "   $DIRECT s; mailboxes whose counts differ: $(check_counts)"
best_d= best_w= best_ww=
ratios=() cpu_pct=()
for r in $(seq 1 "$ROUNDS"); do
	run_direct
	echo "== round $r: direct doveadm, $PAR at a time: $DIRECT s; sum of the per-user runs $DIRECT_SUM s; doveadm CPU $DIRECT_CPU s (bad counts: $(check_counts))"
	run_worker
	echo "== round $r: dmf-worker, jobs.max $PAR: $WORKER s first start to last finish, $WORKER_WALL s enqueue to job wait; sum of the job durations $WORKER_SUM s; doveadm CPU $WORKER_KIDS_CPU s, dmf-worker's own CPU $WORKER_CPU s (bad counts: $(check_counts))"
	ratios+=("$(calc "$WORKER / $DIRECT")")
	cpu_pct+=("$(calc "100 * $WORKER_CPU / $WORKER_KIDS_CPU")")
	if [ -z "$best_d" ] || lt "$DIRECT" "$best_d"; then best_d=$DIRECT; fi
	if [ -z "$best_w" ] || lt "$WORKER" "$best_w"; then best_w=$WORKER; fi
	if [ -z "$best_ww" ] || lt "$WORKER_WALL" "$best_ww"; then best_ww=$WORKER_WALL; fi
done
id=${LAST_IDS[0]}
echo "== one worker job (${users[0]}): $(dr_field "$id" '"%s saved=%s target=%s/%s origin=%s/%s" % (j["status"], j["syncSaved"], j["targetMessages"], j["targetSize"], j["originMessages"], j["originSize"])')"
echo "   dsync command: $(dr_step "$id" dsync 's["command"]')"
ratio=$(calc "$best_w / $best_d")
ratio_w=$(calc "$best_ww / $best_d")
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "== per-round worker/direct ratios: ${ratios[*]} (median $(median "${ratios[@]}"))"
echo "== dmf-worker's own CPU as % of the doveadm CPU it ran: ${cpu_pct[*]} (median $(median "${cpu_pct[@]}")%)"
printf '== RESULT: %d x %d messages, parallelism %d: direct %.2f s, worker %.2f s (ratio %.3f, overhead %+.1f%%); enqueue-to-wait %.2f s (ratio %.3f)\n' \
	"$USERS" "$MSGS" "$PAR" "$best_d" "$best_w" "$ratio" "$(calc "($ratio - 1) * 100")" \
	"$best_ww" "$ratio_w"
