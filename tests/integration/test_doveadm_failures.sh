#!/bin/bash
# test_doveadm_failures.sh - migrations that fail, with real Dovecot: a
# wrong password, a source that is down, a user unknown at the source and
# a user unknown at the target.  Each job ends FAILURE with the reason in
# its error and details, is retried as code-max says (Dovecot 2.3.19 exits
# 134 on every imapc login/connect failure, 67 for a user the target does
# not know) with the configured sleeps, and runs the failure command once.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvfail

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}

dr_user good 'good-Pw' 20 1
dr_user wrongpw 'right-Pw' 5 2
# known to the target only: the source refuses the login
printf '%s:{PLAIN}%s:%s:%s::%s::\n' ghost 'ghost-Pw' "$MAIL_UID" "$MAIL_GID" \
	"$RIG_DIR/tgt/mail/ghost" >>"$RIG_DIR/tgt/passwd"
# a sourcehost where nothing listens
down_port=$(rig_free_port)
$DMFCTL sourcehost add down --host 127.0.0.1 --port "$down_port" --ssl no >/dev/null
dr_user downuser 'down-Pw'

# sleeps ID: the pauses (ms) between a failed attempt of job ID and the next
# one, from the worker log's timestamps, rounded to 50 ms
sleeps() {
	python3 - "$1" "$DR_DIR/w1.log" <<'PY'
import re, sys, datetime
job, log = sys.argv[1], sys.argv[2]
t = lambda l: datetime.datetime.strptime(l[:23], "%Y-%m-%dT%H:%M:%S.%f")
out, mark = [], None
for l in open(log, errors="replace"):
    if "[job %s " % job not in l:
        continue
    if "retrying the migration command" in l:
        mark = t(l)
    elif mark and "sync: running" in l:
        ms = (t(l) - mark).total_seconds() * 1000
        out.append(str(int(round(ms / 50.0)) * 50))
        mark = None
print(" ".join(out))
PY
}
flog=$DR_DIR/failure.log
failcmd=(
	"command:"
	"  sync:"
	"    failure:"
	"      name: /bin/sh"
	"      arguments: [\"-c\", \"echo \\\"failure \$1\\\" >> $flog\", sh, \"%{mdb:uid}\"]"
	"    post:"
	"      name: /bin/sh"
	"      arguments: [\"-c\", \"echo \\\"post \$1\\\" >> $flog\", sh, \"%{mdb:uid}\"]"
)
dr_config w1 "retry: {max: 1, sleep: 300, code-max: {134: 2}, code-sleep: {134: 700}}" \
	"${failcmd[@]}"
dr_worker_start w1

g=$(dr_job good 'good-Pw')
w=$(dr_job wrongpw 'Wrong-Pw-99')
gh=$(dr_job ghost 'ghost-Pw')
d=$(dr_job downuser 'down-Pw' --sourcehost down)
nt=$(dr_job nobody-at-target 'x-Pw')
dr_wait "$g" "$w" "$gh" "$d" "$nt" --timeout $((90 * DR_SLOW))
is "$DR_WAIT_RC" 4 "job wait reports a failed job (exit 4)"
is "$(dr_field "$g" 'j["status"]')" SUCCESS "the good job next to them succeeds"

for id in $w $gh $d; do
	u=$(dr_field "$id" 'j["uid"]')
	is "$(dr_field "$id" 'j["status"]')" FAILURE "$u: FAILURE"
	is "$(dr_step "$id" dsync '"%s %s %s" % (s["success"], s["exitCode"], s["attempts"])')" \
		"False 134 3" "$u: dsync failed with 134 after 3 attempts (1 + code-max.134 = 2 retries)"
	dur=$(dr_field "$id" 'j["durationMs"]')
	check "$u: two code-sleep.134 pauses of 700 ms (duration ${dur} ms >= 1400)" \
		[ "${dur:-0}" -ge 1400 ]
	is "$(sleeps "$id")" "700 700" "$u: the worker slept code-sleep.134 (700 ms) before each retry"
	is "$(grep -c "^failure $u\$" "$flog")" 1 "$u: the failure command ran once"
	is "$(dr_step "$id" 'post migration failure command' '"%s %s" % (s["success"], s["exitCode"])')" \
		"True 0" "$u: details: post migration failure command, exit 0"
	is "$(dr_field "$id" '[k for k in steps() if k in ("count local mailbox post sync", "count remote mailbox", "post migration command")]')" \
		"[]" "$u: no post-sync count and no post command after a failure"
	is "$(grep -c "^post $u\$" "$flog")" 0 "$u: the post command did not run"
done

like_ "$(dr_field "$w" 'j["error"]')" "Authentication failed" "wrong password: the error says Authentication failed"
like_ "$(dr_step "$w" dsync 's["errors"]')" \
	"Failed to initialize user: imapc: Login to 127.0.0.1 failed: Authentication failed" \
	"wrong password: dsync.errors holds Dovecot's Error line"
like_ "$(dr_field "$gh" 'j["error"]')" "Authentication failed" "unknown source user: the login is refused"
like_ "$(dr_field "$d" 'j["error"]')" "Connection refused" "source down: the error says Connection refused"
like_ "$(dr_step "$d" dsync 's["errors"]')" "connect(127.0.0.1, $down_port) failed: Connection refused" \
	"source down: dsync.errors holds the connect error"
panics=$(dr_field "$w" 'len([e for e in step("dsync")["errors"] if "Panic" in e or "backtrace" in e])')
is "$panics" 0 "Dovecot's Panic/backtrace lines are not kept as errors"

# a user the target's userdb does not know: exit 67, not retried
is "$(dr_field "$nt" 'j["status"]')" FAILURE "unknown target user: FAILURE"
is "$(dr_step "$nt" dsync '"%s %s" % (s["exitCode"], s["attempts"])')" "67 1" \
	"unknown target user: exit 67, not retried"
like_ "$(dr_field "$nt" 'j["error"]')" "doesn't exist" "unknown target user: the error says the user doesn't exist"
like_ "$(dr_step "$nt" dsync 's["errors"]')" "User doesn't exist" "unknown target user: dsync.errors holds Dovecot's line"
is "$(grep -c '^failure nobody-at-target$' "$flog")" 1 "unknown target user: the failure command ran"

# the same failure with retries off: one attempt, no sleep
DR_BLOCKS=()
dr_source NORETRY "retry: {max: 0, code-max: {}}" "${failcmd[@]}"
dr_stop_check w1
dr_config w2
dr_worker_start w2
n=$(dr_job downuser 'down-Pw' --source NORETRY --sourcehost down)
dr_wait "$n" --timeout $((30 * DR_SLOW))
is "$(dr_step "$n" dsync '"%s %s" % (s["exitCode"], s["attempts"])')" "134 1" \
	"retry.max 0 and code-max {}: a single attempt"
check "no retry: no sleep (duration $(dr_field "$n" 'j["durationMs"]') ms < 1400)" \
	[ "$(dr_field "$n" 'j["durationMs"]')" -lt 1400 ]
is "$(grep -c '^failure downuser$' "$flog")" 2 "the failure command ran for that job too"
is "$(cat "$DR_DIR"/w*.log | grep -c -E 'Wrong-Pw-99|right-Pw|down-Pw')" 0 "no password in the worker log"
dr_stop_check w2
echo "1..$DW_T"
