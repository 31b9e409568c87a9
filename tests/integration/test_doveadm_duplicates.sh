#!/bin/bash
# test_doveadm_duplicates.sh - duplicate UIDs at the source (spec 3.2).
# A tiny IMAP proxy (lib/imap_uid_proxy.py) in front of the real source
# rewrites one UID in FETCH replies, so that two INBOX messages carry the
# same UID; real dsync then prints "Mailbox 'INBOX' state corrupted:
# Expunged message reappeared in session (uid=N < next_uid=M)" and exits
# 75.  The job must report the UID in dsync.invalid; with move-duplicates
# the worker moves that UID at the source into lost+found-INBOX.
# The last part repairs duplicates in folders with non-ASCII names
# ("Entwürfe", "日本語"): the repair must name them in modified UTF-7
# (RFC 3501 5.1.3) on the wire, as the real source Dovecot expects.
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

dr_user dupa dupa-Pw 30 7
dr_user dupb dupb-Pw 30 7
dr_proxy_inbox dupa dup1
# dup2's proxy heals once the worker expunged UID 2 through it (the
# duplicate is then gone at the source), so the retry can succeed
DR_PROXY_HEAL=1 dr_proxy_inbox dupb dup2
# non-ASCII folders: USER FOLDER, 3 mails saved into FOLDER (UIDs 1-3);
# the proxy (it decodes the modified UTF-7 names the clients select)
# gives UID 3 of FOLDER the UID 2
msg() { printf 'From: a@example.org\r\nSubject: m%s\r\nMessage-ID: <%s.%s@x>\r\n\r\nbody %s\r\n' "$1" "$1" "$2" "$1"; }
utf_user() {
	dr_user "$1" "$1-Pw" 4 3
	rig_src_doveadm mailbox create -u "$1" "$2"
	for i in 1 2 3; do msg "$i" "$1" | rig_src_doveadm save -u "$1" -m "$2"; done
	DR_PROXY_HEAL=1 dr_proxy 3 2 "$2"
	$DMFCTL sourcehost add "$1" --host 127.0.0.1 --port "$DR_PROXY_PORT" --ssl no >/dev/null
}
utf_user dupu "Entwürfe"
utf_user dupj "日本語"
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

inbox_before=$(doveadm -c "$SRC_CONF" -f tab mailbox status -u dupb messages INBOX | tail -n 1 | cut -f 2)
uid2_before=$(doveadm -c "$SRC_CONF" -f tab fetch -u dupb 'uid hdr.message-id' mailbox INBOX uid 2 | tail -n +2 | tr '\t' ' ')
b=$(dr_job dupb dupb-Pw --sourcehost dup2 --source MOVE)
dr_wait "$b" --timeout $((60 * DR_SLOW))
echo "# move-duplicates job: $(dr_field "$b" 'j["status"]'), dsync attempts $(dr_step "$b" dsync 's["attempts"]')"
like_ "$(dr_step "$b" dsync 'json.dumps(s.get("invalid"))')" '"INBOX": ["2"]' \
	"move-duplicates: dsync.invalid still lists INBOX UID 2 (found, even if resolved)"
is "$(dr_step "$b" 'move duplicates' 's["success"]')" true "  its own details entry: move duplicates, success"
like_ "$(dr_step "$b" 'move duplicates' 's["command"]')" "UID COPY 2 INBOX/lost+found-INBOX" "  what it did"
is "$(dr_field "$b" 'steps().index("move duplicates") < steps().index("dsync")')" true \
	"  the move entry comes before the dsync entry (made before the retry)"
# the IMAP side effects, read from the real source server
lf=$(doveadm -c "$SRC_CONF" mailbox list -u dupb | grep 'lost+found' | head -n 1)
is "$lf" "INBOX/lost+found-INBOX" "move-duplicates: the source now has INBOX/lost+found-INBOX"
is "$(doveadm -c "$SRC_CONF" -f tab mailbox status -u dupb messages "$lf" | tail -n 1 | cut -f 2)" 1 \
	"  holding the one duplicate message"
is "$(doveadm -c "$SRC_CONF" -f tab fetch -u dupb 'hdr.message-id' mailbox "$lf" all | tail -n +2)" \
	"$(echo "$uid2_before" | cut -d' ' -f2-)" "  the message that had UID 2"
is "$(doveadm -c "$SRC_CONF" -f tab mailbox status -u dupb messages INBOX | tail -n 1 | cut -f 2)" $((inbox_before - 1)) \
	"  the original is expunged from INBOX ($inbox_before -> $((inbox_before - 1)))"
is "$(doveadm -c "$SRC_CONF" -f tab fetch -u dupb uid mailbox INBOX uid 2 | tail -n +2 | wc -l)" 0 "  UID 2 is gone from INBOX"
is "$(dr_field "$b" 'j["status"]')" SUCCESS "  the retry after the move succeeds"
check "  no source password in the move's entry" [ -z "$(dr_json "$b" | grep -F dupb-Pw)" ]
# without the proxy the mailbox now migrates cleanly
c=$(dr_job dupb dupb-Pw --source MOVE)
dr_wait "$c" --timeout $((60 * DR_SLOW))
is "$(dr_field "$c" 'j["status"]')" SUCCESS "after the move, a direct sync succeeds"
is "$(dr_count "$TGT_CONF" dupb)" "$(dr_count "$SRC_CONF" dupb)" "  and the counts match"

# utf_check USER FOLDER WIRE: the repair of FOLDER (modified UTF-7: WIRE)
utf_check() {
	local u=$1 f=$2 w=$3 j lf
	j=$(dr_job "$u" "$u-Pw" --sourcehost "$u" --source MOVE)
	dr_wait "$j" --timeout $((60 * DR_SLOW))
	is "$(dr_step "$j" dsync 'json.dumps(s.get("invalid"), ensure_ascii=False)')" "{\"$f\": [\"2\"]}" \
		"$f: dsync.invalid lists UID 2 under the UTF-8 name"
	is "$(dr_step "$j" 'move duplicates' 's["success"]')" true "  the move duplicates entry succeeds"
	like_ "$(dr_step "$j" 'move duplicates' 's["command"]')" "UID COPY 2 $f/lost+found-$f" "  what it did"
	lf=$(rig_src_doveadm mailbox list -u "$u" | grep 'lost+found')
	is "$lf" "$f/lost+found-$f" "  the source has $f/lost+found-$f (doveadm mailbox list)"
	is "$(rig_src_doveadm mailbox list -7 -u "$u" | grep 'lost+found')" "$w/lost+found-$w" \
		"  stored under the modified UTF-7 name $w/lost+found-$w (mailbox list -7)"
	is "$(rig_src_doveadm -f tab fetch -u "$u" 'hdr.message-id' mailbox "$lf" all | tail -n +2 | tr -d ' <>')" \
		"2.$u@x" "  holding the message that had UID 2"
	is "$(rig_src_doveadm -f tab fetch -u "$u" uid mailbox "$f" all | tail -n +2 | tr '\n' ' ')" "1 3 " \
		"  the original is expunged from $f (UIDs 1 3 left)"
	is "$(dr_field "$j" 'j["status"]')" SUCCESS "  the retry after the move succeeds"
	is "$(dr_count "$TGT_CONF" "$u")" "$(dr_count "$SRC_CONF" "$u")" "  and the target has what the source has"
}
utf_check dupu "Entwürfe" "Entw&APw-rfe"
utf_check dupj "日本語" "&ZeVnLIqe-"
dr_stop_check w1
echo "1..$DW_T"
