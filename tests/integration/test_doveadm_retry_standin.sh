#!/bin/bash
# test_doveadm_retry_standin.sh - the storage-timeout retry with
# retry.debug-mode (the retry runs `doveadm -D`) and the obox
# parallel-writes retry (spec 3.10: later attempts get
# `-o plugin/obox_max_parallel_writes=1`).
#
# STAND-IN: community Dovecot 2.3 has no obox, and a real index-lock
# timeout cannot be produced on demand, so dmf.doveadm.path is the scripted
# stand-in lib/doveadm_standin.sh.  It prints the obox / lock-timeout Error
# lines (as Dovecot Pro prints them) and exits 75 on the chosen attempts,
# records every call's arguments, and hands all other calls, including the
# successful retries, to the real doveadm: the mail really is migrated.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvretry

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}

retry='retry: {max: 3, sleep: 100, code-max: {75: 3}, code-sleep: {75: 100}, debug-mode: true}'
dr_source NODEBUG 'retry: {max: 3, sleep: 100, code-max: {75: 3}, code-sleep: {75: 100}, debug-mode: false}'
for u in dbg nodbg pw pwdbg plain; do dr_user "$u" "$u-Pw" 10 3; done
dr_standin
S=${DR_STANDIN:?}
# dbg, nodbg: attempt 1 hits an index lock timeout
# pw: attempts 1 and 2 hit an obox PUT timeout; pwdbg: attempt 1 does
# plain: fails once with an error that is neither (exit 75)
echo "dbg:1 nodbg:1 pw:1 pw:2 pwdbg:1 plain:1" >"$S/sync.fail"
lock='dsync(USER): Error: Mailbox INBOX: Timeout (180s) while waiting for lock for transaction log file /srv/mail/USER/dovecot.index.log (WRITE lock held by pid 4242)'
put='dsync(USER): Error: Mailbox INBOX: Saving mail failed: write(obox) failed: PUT http://obox.example.org/mails/USER/0f1e failed: Absolute request timeout expired after 30.001 secs (connected)'
echo "$lock" >"$S/sync.dbg.msg"
echo "$lock" >"$S/sync.nodbg.msg"
echo "$put" >"$S/sync.pw.msg"
echo "$put" >"$S/sync.pwdbg.msg"
echo 'dsync(USER): Error: Mailbox INBOX: Something else went wrong' >"$S/sync.plain.msg"

dr_config w1 "$retry"
dr_worker_start w1
a=$(dr_job dbg dbg-Pw)
b=$(dr_job nodbg nodbg-Pw --source NODEBUG)
c=$(dr_job pw pw-Pw --source NODEBUG)
d=$(dr_job pwdbg pwdbg-Pw)
e=$(dr_job plain plain-Pw)
dr_wait "$a" "$b" "$c" "$d" "$e" --timeout $((60 * DR_SLOW))
is "$DR_WAIT_RC" 0 "every job succeeds on a retry"

# calls of USER's migration command, one line each
syncs() { grep "^sync .* -u $1 " "$S/calls.log"; }
has() { case "$1" in *"$2"*) echo yes ;; *) echo no ;; esac; }
flags() { # per attempt: D (has -D) / P (has parallel writes) / -
	syncs "$1" | while read -r line; do
		f=
		case " $line " in *" -D "*) f=${f}D ;; esac
		case "$line" in *plugin/obox_max_parallel_writes=1*) f=${f}P ;; esac
		echo "${f:--}"
	done | tr '\n' ' '
}

is "$(flags dbg)" "- D " "debug-mode: the retry after a storage timeout runs with -D"
is "$(dr_step "$a" dsync '"%s %s" % (s["success"], s["attempts"])')" "True 2" "  dsync: success after 2 attempts"
like_ "$(dr_step "$a" dsync 's["errors"]')" "Timeout (180s) while waiting for lock" "  the timeout is in dsync.errors"
is "$(dr_boxes "$TGT_CONF" dbg)" "$(dr_boxes "$SRC_CONF" dbg)" "  the mailbox is complete"
is "$(flags nodbg)" "- - " "debug-mode false: the retry runs without -D"
is "$(flags pw)" "- P P " "parallel writes: every attempt after the PUT timeout gets obox_max_parallel_writes=1"
is "$(dr_step "$c" dsync 's["attempts"]')" 3 "  3 attempts"
is "$(flags pwdbg)" "- DP " "debug-mode + PUT timeout (also a storage timeout): -D and the parallel-writes option"
is "$(flags plain)" "- - " "another error: a plain retry"
is "$(dr_boxes "$TGT_CONF" pw)" "$(dr_boxes "$SRC_CONF" pw)" "parallel writes: the mailbox is complete"
dr_stop_check w1
echo "1..$DW_T"
