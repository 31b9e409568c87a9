#!/bin/bash
# durable_bench.sh - durability: job vs the target's mail_fsync (issue 13):
# one mailbox of 5,000 messages (~194 MB, genmail's size mix) migrated from
# a real source Dovecot into a real target Dovecot with Dovecot's defaults
# (mail_fsync = optimized, no imapc_features, no prefetch), five ways, run
# side by side (the variants alternate within every round):
#   direct-defaults  doveadm backup -R, no -o settings (no mail_log either:
#                    the plain command; the worker loads mail_log)
#   direct-tuned     + the shipped sync-settings (imapc_features, prefetch)
#   direct-never     + -o mail_fsync=never, no final sync (the floor:
#                    not durable, the reference of "within 1.15x")
#   worker-job       dmf-worker + doveadm plugin, shipped defaults
#                    (durability: job: mail_fsync=never + syncfs at the end)
#   worker-dovecot   dmf-worker, durability: dovecot (target's mail_fsync)
# The target is emptied and `sync`ed before every run, so no run pays for
# the dirty pages of the one before.  Worker times are the job's own
# duration (started -> finished, from the database); the enqueue-to-done
# wall time is printed as well.  Prints median and best of each variant
# and the ratios of the issue's targets.
#
# Usage: bench/durable_bench.sh [BUILDDIR]   (default: _build, else .)
# Env:   BENCH_MSGS (5000) BENCH_ROUNDS (5) BENCH_KEEP=1
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
MSGS=${BENCH_MSGS:-5000}
ROUNDS=${BENCH_ROUNDS:-5}
[ -n "${BENCH_KEEP:-}" ] && DW_KEEP=1
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
calc() { awk "BEGIN { print $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best() { printf '%s\n' "$@" | sort -g | head -1; }

dr_init dbench
# the target with Dovecot's defaults: drop the rig's speed settings
dovecot_target_stop
sed -i '/^mail_fsync/d; /^imapc_features/d; /^mail_prefetch_count/d' "$TGT_CONF"
dovecot_target_start || { echo "target Dovecot did not start"; exit 1; }
echo "== target: mail_fsync=$(doveconf -c "$TGT_CONF" -h mail_fsync)," \
	"imapc_features='$(doveconf -c "$TGT_CONF" -h imapc_features)'," \
	"mail_prefetch_count=$(doveconf -c "$TGT_CONF" -h mail_prefetch_count)," \
	"filesystem $(stat -f -c %T "$RIG_DIR/tgt/mail")"
u=u1
rig_add_user "$u" "$u-Pw" >/dev/null
mkdir -p "$RIG_DIR/src/mail/$u"
t=$(now)
python3 "$abs_top_srcdir/bench/maildir_fill.py" "$RIG_DIR/src/mail/$u/Mail" \
	"$MSGS" --seed 1 --uid "$MAIL_UID" --gid "$MAIL_GID" >"$DR_DIR/fill.$u"
rig_src_doveadm index -u "$u" '*' >/dev/null 2>&1 ||
	rig_src_doveadm mailbox status -u "$u" messages '*' >/dev/null
echo "== source: $(dr_count "$SRC_CONF" "$u") (messages bytes), made in $(secs "$t" "$(now)") s"

dr_source DOVE "durability: dovecot"
dr_config bench
dr_worker_start bench
sleep 1

tuned=(-o "imapc_features=rfc822.size fetch-headers" -o mail_prefetch_count=20)
reset_target() { rm -rf "$RIG_DIR/tgt/mail/$u"; sync; }
direct() {
	local jc t0 rc
	reset_target
	jc=$(rig_jobconf "$u" "$u-Pw")
	t0=$(now)
	doveadm -c "$jc" "$@" backup -R -u "$u" imapc: >"$DR_DIR/direct.log" 2>&1
	rc=$?
	T=$(secs "$t0" "$(now)")
	rm -f "$jc"
	[ $rc = 0 ] || echo "   WARNING: direct doveadm exited $rc"
}
worker() {
	local id t0
	reset_target
	t0=$(now)
	id=$(dr_job "$u" "$u-Pw" --source "$1")
	dr_wait "$id" --timeout 600
	W=$(secs "$t0" "$(now)")
	[ "$(dr_field "$id" 'j["status"]')" = SUCCESS ] || echo "   WARNING: job $id: $(dr_field "$id" 'j["status"], j.get("error")')"
	T=$(mdb_sql "SELECT ROUND(duration_ms / 1000, 2) FROM jobs WHERE id = $id")
	LAST_ID=$id
}
check() { [ "$(dr_count "$TGT_CONF" "$u")" = "$(dr_count "$SRC_CONF" "$u")" ] || echo "   WARNING: counts differ"; }

echo "== warm-up (direct-tuned, not timed)"
direct "${tuned[@]}"
declare -A R WW
for r in $(seq 1 "$ROUNDS"); do
	line="round $r:"
	direct; check; R[dd]+="$T "; line+=" direct-defaults $T"
	worker POD_1; check; R[wj]+="$T "; WW[wj]+="$W "; line+=", worker-job $T ($W)"
	direct "${tuned[@]}"; check; R[dt]+="$T "; line+=", direct-tuned $T"
	worker DOVE; check; R[wd]+="$T "; WW[wd]+="$W "; line+=", worker-dovecot $T ($W)"
	direct -o mail_fsync=never "${tuned[@]}"; check; R[dn]+="$T "; line+=", direct-never $T"
	echo "== $line  (s; worker: job duration (enqueue to done))"
done

id=$(mdb_sql "SELECT MAX(id) FROM jobs WHERE source = 'POD_1'")
echo "   $(dr_step "$id" 'make target durable' 's')"
echo "   dsync command: $(dr_step "$id" dsync 's["command"]')"
echo "   steps of job $id (durationMs): $(dr_field "$id" '" ".join("%s=%s" % (k, v.get("durationMs")) for e in j.get("details") or [] if isinstance(e, dict) for k, v in e.items() if isinstance(v, dict))')"
echo "   job $id: started $(mdb_sql "SELECT started FROM jobs WHERE id = $id"), duration_ms $(mdb_sql "SELECT duration_ms FROM jobs WHERE id = $id")"
for k in dd dt dn wj wd; do
	# shellcheck disable=SC2086
	printf '== %-16s median %5.2f s, best %5.2f s  (%s)\n' \
		"$(case $k in dd) echo direct-defaults ;; dt) echo direct-tuned ;; dn) echo direct-never ;; wj) echo worker-job ;; wd) echo worker-dovecot ;; esac)" \
		"$(median ${R[$k]})" "$(best ${R[$k]})" "${R[$k]% }"
done
# shellcheck disable=SC2086
{
	mdd=$(median ${R[dd]}) mwj=$(median ${R[wj]}) mdn=$(median ${R[dn]}) mwd=$(median ${R[wd]}) mdt=$(median ${R[dt]})
}
printf '== RESULT: direct-defaults / worker-job = %.2fx (target >= 2); worker-job / direct-never = %.3f (target <= 1.15); worker-dovecot / worker-job = %.2fx; direct-tuned / worker-job = %.2fx (medians)\n' \
	"$(calc "$mdd / $mwj")" "$(calc "$mwj / $mdn")" "$(calc "$mwd / $mwj")" "$(calc "$mdt / $mwj")"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
