#!/bin/bash
# test_doveadm_secrets.sh - the user's password (and the master password)
# never appear in the process list while doveadm runs (sampled from
# /proc/*/cmdline every few ms), in the worker log, in the job details
# and error, in the command logs, or in leftover per-job doveadm configs;
# for a successful job, a failed one (wrong password: Dovecot's own Error
# lines) and a master-user job.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvsecret

PW='Pw"s3cr3t $(x) #%u'"'"'q'
WRONG='Wr0ng-Pa55-Zq8y'
MASTER=$SRC_MASTER_PASS
dr_user sec "$PW" 150 9
dr_user sec2 'sec2-own-Pw' 40 10
dr_source MASTER "retry: {max: 0, code-max: {}}" \
	"imapc: {master-user: $SRC_MASTER_USER, master-password: '$MASTER'}"
dr_config w1 "retry: {max: 1, sleep: 100, code-max: {134: 1}, code-sleep: {134: 100}}"

# sample every process's argv while the jobs run (the secrets reach the
# sampler in a file, not in its own argv)
printf '%s\n' "$PW" "$WRONG" "$MASTER" >"$DR_DIR/secrets"
python3 - "$DR_DIR/sample" "$DR_DIR/secrets" <<'PY' &
import os, sys, time
out = sys.argv[1]
secrets = [s.encode() for s in open(sys.argv[2]).read().splitlines() if s]
seen = hits = rounds = 0
deadline = time.time() + 120
while not os.path.exists(out + ".stop") and time.time() < deadline:
    rounds += 1
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read()
        except OSError:
            continue
        if b"doveadm" in argv.split(b"\0")[0]:
            seen += 1
        if any(s in argv for s in secrets):
            hits += 1
            with open(out + ".hits", "ab") as f:
                f.write(argv.replace(b"\0", b" ") + b"\n")
    time.sleep(0.003)
with open(out, "w") as f:
    f.write("%d %d %d\n" % (seen, hits, rounds))
PY
sampler=$!
dr_worker_start w1
a=$(dr_job sec "$PW")
b=$(dr_job sec "$WRONG")
c=$(dr_job sec2 'not-the-password' --source MASTER)
dr_wait "$a" "$b" "$c" --timeout $((60 * DR_SLOW))
touch "$DR_DIR/sample.stop"
wait $sampler
read -r seen hits rounds <"$DR_DIR/sample"

is "$(dr_field "$a" 'j["status"]')" SUCCESS "the job with the right password succeeds"
is "$(dr_field "$b" 'j["status"]')" FAILURE "the job with a wrong password fails"
is "$(dr_field "$c" 'j["status"]')" SUCCESS "the master-user job succeeds"
check "the sampler saw doveadm processes ($seen argv samples in $rounds rounds)" [ "$seen" -gt 0 ]
is "$hits" 0 "no password in any process's argv while doveadm ran"
[ "$hits" = 0 ] || sed 's/^/#   /' "$DR_DIR/sample.hits"

for s in "$PW" "$WRONG" "$MASTER"; do
	check "not in the worker log: ${s:0:3}..." dr_no_secret "$s" "$DR_DIR/w1.log"
	check "not in the command logs: ${s:0:3}..." dr_no_secret "$s" "$DR_CMDLOG"
	for id in $a $b $c; do
		dr_json "$id" >"$DR_DIR/job-$id.json"
	done
	check "not in the job records (details, error): ${s:0:3}..." \
		dr_no_secret "$s" "$DR_DIR"/job-*.json
	mdb_sql "SELECT details, error FROM jobs" >"$DR_DIR/jobs.sql"
	check "not in the database's job rows: ${s:0:3}..." dr_no_secret "$s" "$DR_DIR/jobs.sql"
done
check "the command logs were written ($(ls "$DR_CMDLOG" | wc -l) files)" \
	[ "$(ls "$DR_CMDLOG" | wc -l)" -ge 3 ]
check "the command logs show <hidden> instead" grep -rqF '<hidden>' "$DR_CMDLOG"
is "$(find "$DR_DIR/run-doveadm" -type f 2>/dev/null | wc -l)" 0 \
	"no per-job doveadm config is left in the runtime dir"
perm=$(stat -c %a "$DR_DIR/run-doveadm" 2>/dev/null)
is "$perm" 700 "the runtime dir is 0700"
is "$(dr_field "$a" 'j["hasPassword"]')" true "job show says only hasPassword"
case "$(dr_step "$a" dsync 's["command"]')" in
*"<hidden>"* | *"-c "*) ok_ "dsync.command hides the password" ;;
*) nok_ "dsync.command hides the password" ;;
esac
dr_stop_check w1
echo "1..$DW_T"
