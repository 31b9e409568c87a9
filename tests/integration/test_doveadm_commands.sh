#!/bin/bash
# test_doveadm_commands.sh - pre/post/failure commands of the doveadm worker
# (spec 3.13) and the configurable failures (spec 3.14), with real Dovecot.
# Each case is a source with its own block; one worker serves them all.
# The local-count failures use the scripted stand-in doveadm
# (lib/doveadm_standin.sh): it fails chosen `mailbox status` calls and
# hands every other call to the real doveadm, because a real local count
# on a healthy target does not fail on demand.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvcmd

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}

mlog=$DR_DIR/marks.log
# mark WHAT: a command that appends "WHAT <source> <uid>" to $mlog
mark() {
	echo "{name: /bin/sh, arguments: [\"-c\", \"echo \\\"\$1 \$2 \$3\\\" >> $mlog\", sh, \"$1\", \"%{mdb:source}\", \"%{mdb:uid}\"]}"
}
fails='{name: /bin/false}'
noretry='retry: {max: 0, code-max: {}}'

dr_source CMDS "$noretry" \
	"command: {sync: {pre: $(mark pre-sync), post: $(mark post-sync), failure: $(mark failure)}, cutover: {pre: $(mark pre-cutover), post: $(mark post-cutover), failure: $(mark failure)}}"
dr_source PRENOFLAG "$noretry" "command: {sync: {pre: $fails, post: $(mark post), failure: $(mark failure)}}"
dr_source PREFLAG "$noretry" "command: {sync: {pre: $fails, post: $(mark post), failure: $(mark failure)}}" \
	"failure-flags: {pre: {pre-migration-command: true}}"
dr_source POSTNOFLAG "$noretry" "command: {sync: {post: $fails, failure: $(mark failure)}}"
dr_source POSTFLAG "$noretry" "command: {sync: {post: $fails, failure: $(mark failure)}}" \
	"failure-flags: {pre: {post-migration-command: true}}"
# failure-flags.<phase>: the flag of one phase does not fail the other
dr_source PHASEFLAG "$noretry" \
	"command: {sync: {post: $fails, failure: $(mark failure)}, cutover: {post: $fails, failure: $(mark failure)}}" \
	"failure-flags: {cutover: {post-migration-command: true}}"
# a remote count command (it must be doveadm mailbox status) against a port
# where nothing listens
down_port=$(rig_free_port)
badremote="{name: doveadm, flags: '-f tab', options: [{name: -o, value: 'mail=imapc:'}, {name: -o, value: imapc_host=127.0.0.1}, {name: -o, value: imapc_port=$down_port}, {name: -o, value: 'imapc_user=%{mdb:ruid}'}], sub-command: {name: mailbox status, arguments: [messages vsize, INBOX], options: [{name: -u, value: '%{mdb:uid}'}]}}"
dr_source REMOTENOFLAG "$noretry" "count: {remote-command: $badremote}" "command: {sync: {failure: $(mark failure)}}"
dr_source REMOTEFLAG "$noretry" "count: {remote-command: $badremote}" "command: {sync: {failure: $(mark failure)}}" \
	"failure-flags: {pre: {count-remote: true}}"
dr_source CPRENOFLAG "$noretry" "command: {sync: {failure: $(mark failure)}}"
dr_source CPREFLAG "$noretry" "command: {sync: {failure: $(mark failure)}}" \
	"failure-flags: {pre: {count-local-pre: true}}"
dr_source CPOSTFLAG "$noretry" "command: {sync: {failure: $(mark failure)}}" \
	"failure-flags: {pre: {count-local-post: true}}"
dr_source COPYOK "$noretry" "copy-imapc-inbox: true" "remove-imapc-path: true" \
	"imapc-inbox-owner: '$MAIL_USER:$MAIL_USER'"
dr_source COPYFLAG "$noretry" "copy-imapc-inbox: true" "imapc-inbox-owner: 'no-such-user-x:no-such-group-x'" \
	"command: {sync: {failure: $(mark failure)}}" \
	"failure-flags: {pre: {copy-imapc-inbox: true}}"

# spec 3.11.4.4: the sourcehost's own status command (with the password
# injected: it must go to a per-job config, not the command line)
$DMFCTL sourcehost add srcst --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no --commands \
	"{\"status\": {\"name\": \"doveadm\", \"flags\": \"-f tab\", \"options\": [
	{\"name\": \"-o\", \"value\": \"mail=imapc:\"}, {\"name\": \"-o\", \"value\": \"imapc_host=%{mdb:sourcehost}\"},
	{\"name\": \"-o\", \"value\": \"imapc_port=$SRC_IMAP_PORT\"}, {\"name\": \"-o\", \"value\": \"imapc_user=%{mdb:ruid}\"},
	{\"name\": \"-o\", \"value\": \"imapc_password=%{mdb:sourcepasswd}\"}],
	\"sub-command\": {\"name\": \"mailbox status\", \"arguments\": [\"messages vsize\", \"INBOX/*\", \"INBOX\", \"*\"],
	\"options\": [{\"name\": \"-u\", \"value\": \"%{mdb:uid}\"}]}}}" >/dev/null

users="shstatus cmd1 prenoflag preflag postnoflag postflag phaseflag remnoflag remflag cprenoflag cpreflag cpostflag copyok copyflag"
seed=1
for u in $users; do
	dr_user "$u" "$u-Pw" 8 $seed
	seed=$((seed + 1))
done
dr_standin
echo "cprenoflag:1 cpreflag:1 cpostflag:2" >"$DR_STANDIN/status-local.fail"
echo 75 >"$DR_STANDIN/status-local.exit"
dr_config w1 "$noretry"
dr_worker_start w1

declare -A job
enq() { job[$1]=$(dr_job "$1" "$1-Pw" --source "$2" "${@:3}"); }
# copy-imapc-inbox copies the local INBOX (none: nothing to copy): give
# copyok and copyflag one first
enq copyok POD_1
enq copyflag POD_1
dr_wait "${job[copyok]}" "${job[copyflag]}" --timeout $((30 * DR_SLOW))
enq cmd1 CMDS
enq shstatus POD_1 --sourcehost srcst
enq prenoflag PRENOFLAG
enq preflag PREFLAG
enq postnoflag POSTNOFLAG
enq postflag POSTFLAG
enq phaseflag PHASEFLAG
enq remnoflag REMOTENOFLAG
enq remflag REMOTEFLAG
enq cprenoflag CPRENOFLAG
enq cpreflag CPREFLAG
enq cpostflag CPOSTFLAG
enq copyok COPYOK
enq copyflag COPYFLAG
dr_wait "${job[@]}" --timeout $((120 * DR_SLOW))
st() { dr_field "${job[$1]}" 'j["status"]'; }
entry() { dr_step "${job[$1]}" "$2" '"%s %s" % (s["success"], s.get("exitCode"))'; }

# pre/post commands and their details
is "$(st cmd1)" SUCCESS "pre+post: SUCCESS"
is "$(grep ' cmd1$' "$mlog" | tr '\n' '|')" "pre-sync CMDS cmd1|post-sync CMDS cmd1|" \
	"pre ran before post, with %{mdb:source} and %{mdb:uid} injected"
is "$(dr_field "${job[cmd1]}" 'steps()')" \
	'["pre migration command", "count local mailbox pre sync", "dsync", "make target durable", "count local mailbox post sync", "count remote mailbox", "post migration command"]' \
	"details follow the order of operations (spec 3.15)"
is "$(entry cmd1 'pre migration command')" "True 0" "details: pre migration command, exit 0"
like_ "$(dr_step "${job[cmd1]}" 'pre migration command' 's["command"]')" "pre-sync CMDS cmd1" \
	"details: the pre command as run"
is "$(entry cmd1 'post migration command')" "True 0" "details: post migration command, exit 0"
c=$(dr_job cmd1 cmd1-Pw --source CMDS --phase cutover)
dr_wait "$c" --timeout $((30 * DR_SLOW))
is "$(dr_field "$c" 'j["status"]')" SUCCESS "cutover with pre+post: SUCCESS"
is "$(grep ' cmd1$' "$mlog" | tail -n 2 | tr '\n' '|')" "pre-cutover CMDS cmd1|post-cutover CMDS cmd1|" \
	"the cutover phase runs the cutover commands"
is "$(grep -c '^failure CMDS' "$mlog")" 0 "no failure command after successes"

# the sourcehost's status command
is "$(st shstatus)" SUCCESS "sourcehost with a status command: SUCCESS"
like_ "$(dr_step "${job[shstatus]}" 'count remote mailbox' 's["command"]')" "imapc_port=$SRC_IMAP_PORT" \
	"  the remote count is the sourcehost's status command"
like_ "$(dr_step "${job[shstatus]}" 'count remote mailbox' 's["command"]')" "imapc_password=<hidden>" \
	"  with the password hidden"
is "$(dr_field "${job[shstatus]}" '"%s %s" % (j["originMessages"], j["originSize"])')" \
	"$(dr_count "$SRC_CONF" shstatus)" "  originMessages/originSize are the source's"
check "  the password is in no command log" dr_no_secret shstatus-Pw "$DR_CMDLOG"

# pre-migration-command
is "$(st prenoflag)" SUCCESS "failing pre command without its flag: SUCCESS"
is "$(entry prenoflag 'pre migration command')" "False 1" "  details: pre migration command failed, exit 1"
is "$(grep -c 'post PRENOFLAG prenoflag' "$mlog")" 1 "  the migration and the post command still ran"
is "$(st preflag)" FAILURE "failing pre command with failure-flags.pre.pre-migration-command: FAILURE"
is "$(grep -c 'failure PREFLAG preflag' "$mlog")" 1 "  the failure command ran (spec 3.14)"
is "$(grep -c 'post PREFLAG preflag' "$mlog")" 0 "  no post command"
like_ "$(dr_field "${job[preflag]}" 'j["error"]')" "pre migration command" "  the error names the step"

# post-migration-command
is "$(st postnoflag)" SUCCESS "failing post command without its flag: SUCCESS"
is "$(entry postnoflag 'post migration command')" "False 1" "  details: post migration command failed"
is "$(grep -c 'failure POSTNOFLAG' "$mlog")" 0 "  no failure command"
is "$(st postflag)" FAILURE "failing post command with failure-flags.pre.post-migration-command: FAILURE"
is "$(dr_step "${job[postflag]}" dsync 's["success"]')" true "  although the migration itself succeeded"
is "$(grep -c 'failure POSTFLAG postflag' "$mlog")" 1 "  the failure command ran"
is "$(st phaseflag)" SUCCESS "a cutover-only flag does not fail the sync phase"
c=$(dr_job phaseflag phaseflag-Pw --source PHASEFLAG --phase cutover)
dr_wait "$c" --timeout $((30 * DR_SLOW))
is "$(dr_field "$c" 'j["status"]')" FAILURE "failure-flags.cutover.post-migration-command fails the cutover"

# count-remote
is "$(st remnoflag)" SUCCESS "failing remote count without its flag: SUCCESS"
is "$(dr_step "${job[remnoflag]}" 'count remote mailbox' '[s["success"], s.get("exitCode", 0) != 0, "imapc_port=%s" % '$down_port' in s["command"]]')" \
	"[false, true, true]" "  details: the configured count remote command ran and failed"
is "$(st remflag)" FAILURE "failing remote count with failure-flags.pre.count-remote: FAILURE"
is "$(grep -c 'failure REMOTEFLAG remflag' "$mlog")" 1 "  the failure command ran"

# count-local-pre / count-local-post (stand-in fails the local count)
is "$(st cprenoflag)" SUCCESS "failing local pre count without its flag: SUCCESS"
is "$(entry cprenoflag 'count local mailbox pre sync')" "False 75" "  details: count local mailbox pre sync failed, exit 75"
is "$(st cpreflag)" FAILURE "failing local pre count with failure-flags.pre.count-local-pre: FAILURE"
is "$(grep -c 'failure CPREFLAG cpreflag' "$mlog")" 1 "  the failure command ran"
is "$(st cpostflag)" FAILURE "failing local post count with failure-flags.pre.count-local-post: FAILURE"
is "$(entry cpostflag 'count local mailbox post sync')" "False 75" "  details: count local mailbox post sync failed"
is "$(dr_step "${job[cpostflag]}" dsync 's["success"]')" true "  after a successful migration"

# copy-imapc-inbox / remove-imapc-path
is "$(st copyok)" SUCCESS "copy-imapc-inbox + remove-imapc-path: SUCCESS"
is "$(entry copyok 'copy imapc inbox' | cut -d' ' -f1)" True "  details: copy imapc inbox succeeded"
is "$(entry copyok 'remove imapc inbox' | cut -d' ' -f1)" True "  details: remove imapc inbox succeeded"
check "  the imapc folder is gone afterwards" [ ! -e "$RIG_DIR/tgt/mail/copyok/imapc" ]
is "$(dr_boxes "$TGT_CONF" copyok)" "$(dr_boxes "$SRC_CONF" copyok)" "  the mailbox is complete"
is "$(st copyflag)" FAILURE "copy-imapc-inbox failing (bad owner) with its flag: FAILURE"
is "$(entry copyflag 'copy imapc inbox' | cut -d' ' -f1)" False "  details: copy imapc inbox failed"
is "$(grep -c 'failure COPYFLAG copyflag' "$mlog")" 1 "  the failure command ran"
dr_stop_check w1
echo "1..$DW_T"
