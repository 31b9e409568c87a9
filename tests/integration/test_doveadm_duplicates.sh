#!/bin/bash
# test_doveadm_duplicates.sh - duplicate UIDs at the source (spec 3.2).
# A tiny IMAP proxy (lib/imap_uid_proxy.py) in front of the real source
# rewrites one UID in FETCH replies, so that two INBOX messages carry the
# same UID; real dsync then prints "Mailbox 'INBOX' state corrupted:
# Expunged message reappeared in session (uid=N < next_uid=M)" and exits
# 75.  The job must report the UID in dsync.invalid; with move-duplicates
# the worker moves that UID at the source into lost+found-INBOX.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvdup

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
retry='retry: {max: 1, sleep: 100, code-max: {75: 1}, code-sleep: {75: 100}}'
dr_source MOVE "$retry" "move-duplicates: true"

# proxy_for USER NAME: a sourcehost NAME behind a proxy that gives the
# user's last INBOX message the UID 2
proxy_for() {
	local next
	next=$(doveadm -c "$SRC_CONF" -f tab mailbox status -u "$1" uidnext INBOX | tail -n 1 | awk -F "\t" "{ print \$NF }")
	dr_proxy $((next - 1)) 2 INBOX
	$DMFCTL sourcehost add "$2" --host 127.0.0.1 --port "$DR_PROXY_PORT" --ssl no >/dev/null
	echo "# $2: proxy on port $DR_PROXY_PORT rewrites INBOX UID $((next - 1)) to 2"
}
dr_user dupa dupa-Pw 30 7
dr_user dupb dupb-Pw 30 7
proxy_for dupa dup1
proxy_for dupb dup2
dr_config w1 "$retry"
dr_worker_start w1

a=$(dr_job dupa dupa-Pw --sourcehost dup1)
dr_wait "$a" --timeout $((60 * DR_SLOW))
is "$(dr_field "$a" 'j["status"]')" FAILURE "duplicate UID without move-duplicates: FAILURE"
is "$(dr_step "$a" dsync '"%s %s" % (s["exitCode"], s["attempts"])')" "75 2" \
	"  dsync exits 75; retried once as code-max.75 says"
is "$(dr_step "$a" dsync 'json.dumps(s.get("invalid"))')" '{"INBOX": ["2"]}' \
	"  dsync.invalid lists INBOX UID 2, once"
like_ "$(dr_step "$a" dsync 's["errors"]')" "Expunged message reappeared in session (uid=2 < next_uid=" \
	"  dsync.errors holds Dovecot's line"
e=$(dr_field "$a" 'j["error"]')
check "  the job has an error text ($e)" [ -n "$e" ] && [ "$e" != None ]
is "$(doveadm -c "$SRC_CONF" mailbox list -u dupa | grep -c lost+found)" 0 \
	"  nothing was moved at the source"

b=$(dr_job dupb dupb-Pw --sourcehost dup2 --source MOVE)
dr_wait "$b" --timeout $((60 * DR_SLOW))
echo "# move-duplicates job: $(dr_field "$b" 'j["status"]'), dsync attempts $(dr_step "$b" dsync 's["attempts"]')"
like_ "$(dr_step "$b" dsync 'json.dumps(s.get("invalid"))')" '"INBOX": ["2"]' \
	"move-duplicates: dsync.invalid still lists INBOX UID 2 (found, even if resolved)"
# while the plugin says it cannot move duplicates yet, the two checks of
# the move are TODO (TAP: expected failures)
todo=
grep -q 'move-duplicates is not supported yet' "$DR_DIR/w1.log" &&
	todo=" # TODO the plugin does not implement move-duplicates yet"
lf=$(doveadm -c "$SRC_CONF" mailbox list -u dupb | grep 'lost+found' | head -n 1)
like_ "$lf" "lost+found-INBOX" "move-duplicates: the source now has a lost+found-INBOX folder$todo"
if [ -n "$lf" ]; then
	is "$(doveadm -c "$SRC_CONF" -f tab mailbox status -u dupb messages "$lf" | tail -n 1 | awk -F "\t" "{ print \$NF }")" 1 \
		"  holding the one duplicate message$todo"
else
	nok_ "  holding the one duplicate message$todo"
fi
# without the proxy the mailbox now migrates cleanly
c=$(dr_job dupb dupb-Pw --source MOVE)
dr_wait "$c" --timeout $((60 * DR_SLOW))
is "$(dr_field "$c" 'j["status"]')" SUCCESS "after the move, a direct sync succeeds"
is "$(dr_count "$TGT_CONF" dupb)" "$(dr_count "$SRC_CONF" dupb)" "  and the counts match"
dr_stop_check w1
echo "1..$DW_T"
