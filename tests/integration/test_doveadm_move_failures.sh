#!/bin/bash
# test_doveadm_move_failures.sh - the failure paths of the duplicate-UID
# repair (move-duplicates, spec 3.2) against the real source Dovecot.
# As in test_doveadm_duplicates.sh, the UID-rewriting proxy
# (lib/imap_uid_proxy.py) in front of the real source makes dsync's first
# attempt find a duplicate UID in INBOX.  With --then the proxy then fails
# from the third connection on (dsync's first attempt uses two: it
# reconnects once after the first "Expunged message reappeared"), the first
# of which is the worker's IMAP repair:
#   refuse    it stops listening: the kernel refuses the connect;
#   badlogin  the connection reaches the real source with a wrong
#             password: the real Dovecot refuses the login;
#   stall     it accepts and never answers (no greeting).
# Each must fail only the `move duplicates` step, with the reason in its
# entry; the job then fails because the retry meets the broken source or
# the same duplicate (its error is the migration command's), unless
# failure-flags.pre.move-duplicates is set: then the failed repair fails
# the job at once, without the retry.  After each one the same worker
# migrates another mailbox (directly from the source) successfully.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvmvf

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
retry='retry: {max: 1, sleep: 100, code-max: {75: 1, 134: 1}, code-sleep: {75: 100}}'
counts='count: {pre: false, post: false, remote: false}'
dr_source MOVE "$retry" "$counts" "move-duplicates: true"
dr_source MOVEF "$retry" "$counts" "move-duplicates: true" \
	"failure-flags: {pre: {move-duplicates: true}}"

inbox() { doveadm -c "$SRC_CONF" -f tab mailbox status -u "$1" messages INBOX | tail -n 1 | cut -f 2; }

dr_user fine fine-Pw 5 3
for u in mvr mvl mvs mvf; do dr_user $u $u-Pw 12 5; done
export DR_PROXY_THEN_FROM=3
DR_PROXY_THEN=refuse dr_proxy_inbox mvr refused
DR_PROXY_THEN=badlogin DR_PROXY_THEN_COUNT=1 dr_proxy_inbox mvl badlogin
bl_err=$DR_PROXY_ERR
DR_PROXY_THEN=stall DR_PROXY_THEN_COUNT=1 dr_proxy_inbox mvs stalled
DR_PROXY_THEN=refuse dr_proxy_inbox mvf refusedf
for u in mvr mvl mvs mvf; do eval "in_$u=\$(inbox $u)"; done
dr_config w1 "$retry"
dr_worker_start w1
pid=$(dw_pid w1)

# common checks of a failed repair: CASE USER JOB REASON
repair_failed() {
	local c=$1 u=$2 j=$3 why=$4 errs
	is "$(dr_step "$j" 'move duplicates' 's["success"]')" false \
		"$c: the move duplicates entry says it failed"
	like_ "$(dr_step "$j" 'move duplicates' 's["command"]')" "UID COPY 2 INBOX/lost+found-INBOX" \
		"  and what it tried"
	errs=$(dr_step "$j" 'move duplicates' 'json.dumps(s["errors"])')
	echo "# $c: move errors: $errs"
	like_ "$errs" "$why" "  its errors give the reason ($why)"
	check "  no source password in the job" [ -z "$(dr_json "$j" | grep -F "$u-Pw")" ]
	is "$(doveadm -c "$SRC_CONF" mailbox list -u "$u" | grep -c lost+found)" 0 \
		"  nothing was created at the source"
	is "$(inbox "$u")" "$(eval echo "\$in_$u")" "  nothing was expunged at the source"
}

# after each failure the same worker still migrates a mailbox
next_ok() {
	local j
	j=$(dr_job fine fine-Pw --source MOVE)
	dr_wait "$j" --timeout $((60 * DR_SLOW))
	is "$(dr_field "$j" 'j["status"]')" SUCCESS "  the worker goes on: the next job succeeds"
	check "  the same worker process ($pid) runs" kill -0 "$pid"
}

# -- connection refused, no flag: the retry runs (and is refused too)
a=$(dr_job mvr mvr-Pw --sourcehost refused --source MOVE)
dr_wait "$a" --timeout $((90 * DR_SLOW))
repair_failed refused mvr "$a" "Couldn't connect to server"
is "$(dr_field "$a" 'j["status"]')" FAILURE "  the job fails: its retry cannot reach the source either"
is "$(dr_step "$a" dsync 's["attempts"]')" 2 "  the failed repair did not stop the retry (2 dsync attempts)"
like_ "$(dr_field "$a" 'j["error"]')" "migration command failed" "  the job's error is the migration command's"
like_ "$(dr_field "$a" 'j["error"]')" "cannot connect to the source" "  which says why"
is "$(dr_field "$a" 'steps().index("move duplicates") < steps().index("dsync")')" true \
	"  the move entry comes before the dsync entry"
next_ok

# -- the real source refuses the login (wrong password), no flag
b=$(dr_job mvl mvl-Pw --sourcehost badlogin --source MOVE)
dr_wait "$b" --timeout $((90 * DR_SLOW))
repair_failed badlogin mvl "$b" "Login denied"
is "$(head -n 4 "$bl_err" | tr '\n' ' ')" \
	"session 1: pass session 2: pass session 3: badlogin session 4: pass " \
	"  the proxy garbled only the repair's login (connection 3); dsync's passed"
is "$(dr_field "$b" 'j["status"]')" FAILURE "  the job fails: the retry meets the same duplicate"
is "$(dr_step "$b" dsync 's["attempts"]')" 2 "  after 2 dsync attempts"
like_ "$(dr_step "$b" dsync 's["errors"]')" "Expunged message reappeared" "  dsync's own error"
next_ok

# -- a source that accepts and never answers, no flag
t0=$(date +%s)
s=$(dr_job mvs mvs-Pw --sourcehost stalled --source MOVE)
dr_wait "$s" --timeout $((120 * DR_SLOW))
t1=$(date +%s)
repair_failed stalled mvs "$s" "timed out"
is "$(dr_field "$s" 'j["status"]')" FAILURE "  the job fails: the retry meets the same duplicate"
is "$(dr_step "$s" dsync 's["attempts"]')" 2 "  after 2 dsync attempts"
echo "# the stalled job took $((t1 - t0)) s"
check "  the stalled repair gave up within the connect timeout (job: $((t1 - t0)) s < 40 s)" \
	[ $((t1 - t0)) -lt $((40 * DR_SLOW)) ]
next_ok

# -- connection refused with failure-flags.pre.move-duplicates: no retry
f=$(dr_job mvf mvf-Pw --sourcehost refusedf --source MOVEF)
dr_wait "$f" --timeout $((90 * DR_SLOW))
repair_failed "refused, flagged" mvf "$f" "Couldn't connect to server"
is "$(dr_field "$f" 'j["status"]')" FAILURE "  the job fails"
is "$(dr_step "$f" dsync 's["attempts"]')" 1 "  at once: no retry after the failed repair"
e=$(dr_field "$f" 'j["error"]')
like_ "$e" "move duplicates in INBOX" "  the job's error is the repair's ($e)"
like_ "$e" "failure-flags.pre.move-duplicates" "  and names the flag"
next_ok

dr_stop_check w1
echo "1..$DW_T"
