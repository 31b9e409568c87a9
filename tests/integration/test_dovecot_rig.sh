#!/bin/bash
# test_dovecot_rig.sh - prove the Dovecot test rig (tests/integration/lib):
# a source Dovecot serving IMAP and a target that `doveadm backup -R imapc:`
# writes into.  Prints TAP.  Needs root (drops to the dmfmail user) and
# dovecot-core + dovecot-imapd; skips otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/dovecot.sh"

n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
is() {
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		echo "#   got: '$1'"
		echo "#   expected: '$2'"
		failed=$((failed + 1))
	fi
}

if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null ||
	[ ! -x /usr/lib/dovecot/imap ]; then
	echo "1..0 # SKIP needs root, dovecot-core and dovecot-imapd"
	exit 0
fi

trap rig_cleanup EXIT
rig_init || { echo "Bail out! rig_init failed"; exit 1; }
PW='al1ce "pw#$x\\%u'
rig_add_user alice "$PW"
rig_add_user bob 'bob-Pw'

dovecot_source_start
ok $? "source Dovecot starts on 127.0.0.1:$SRC_IMAP_PORT"
dovecot_target_start
ok $? "target Dovecot starts"

out=$(rig_genmail --seed 1 fill alice "$PW" --count 120)
ok $? "generate mail: $out"
out=$(rig_src_doveadm mailbox list -u alice | sort | tr '\n' '|')
is "$out" "Archive|Archive/2024|Archive/2024/Q1 Reports|Entwürfe|INBOX|Sent Items|Ünïcødé|Ünïcødé/日本語|" \
	"source has nested, spaced and non-ASCII folders"

maillog=(-o "mail_plugins=notify mail_log"
	-o "plugin/mail_log_events=save copy expunge mailbox_create mailbox_delete mailbox_rename"
	-o "plugin/mail_log_fields=uid box msgid size vsize")
log=$RIG_DIR/sync1.log
start=$(date +%s.%N)
rig_sync alice "$PW" "${maillog[@]}" >"$log" 2>&1
rc=$?
end=$(date +%s.%N)
is "$rc" 0 "full sync: doveadm backup -R -u alice imapc: exits 0"
echo "# full sync of 120 messages: $(echo "$end - $start" | bc) s"
src=$(rig_count "$SRC_CONF" alice)
tgt=$(rig_count "$TGT_CONF" alice)
is "$tgt" "$src" "counts equal after full sync (messages vsize: $src)"
is "$(grep -c ': Info: copy from ' "$log")" 120 "mail_log shows 120 saves"
remote=$(rig_count "$TGT_CONF" alice -o mail=imapc: -o imapc_host=127.0.0.1 \
	-o imapc_port="$SRC_IMAP_PORT" -o imapc_user=alice \
	-o imapc_password="$PW" -o imapc_ssl=no 2>/dev/null)
is "$remote" "$src" "remote count through imapc equals the source's"

rig_genmail --seed 3 expunge alice "$PW" --count 10 >/dev/null
rig_genmail --seed 2 --start 1000 add alice "$PW" --count 25 >/dev/null
log=$RIG_DIR/sync2.log
rig_sync alice "$PW" "${maillog[@]}" >"$log" 2>&1
is "$?" 0 "incremental sync exits 0"
is "$(rig_count "$TGT_CONF" alice)" "$(rig_count "$SRC_CONF" alice)" \
	"counts equal after incremental sync"
is "$(grep -c ': Info: copy from ' "$log")" 25 "incremental sync saved 25"
is "$(grep -c ': Info: expunge: ' "$log")" 10 "incremental sync expunged 10"

# master user: imapc_password is the master's; bob's own password unused
rig_genmail --seed 4 fill bob 'bob-Pw' --count 15 >/dev/null
rig_doveadm -o imapc_host=127.0.0.1 -o imapc_port="$SRC_IMAP_PORT" \
	-o imapc_user=bob -o imapc_master_user="$SRC_MASTER_USER" \
	-o imapc_password="$SRC_MASTER_PASS" -o imapc_ssl=no \
	backup -R -u bob imapc: >"$RIG_DIR/master.log" 2>&1
is "$?" 0 "master-user login through imapc_master_user"
is "$(rig_count "$TGT_CONF" bob)" "$(rig_count "$SRC_CONF" bob)" \
	"master-user sync counts equal"

# per-job config: the password is in a 0600 file, not in argv
rig_genmail --seed 5 --start 2000 add alice "$PW" --count 5 >/dev/null
jc=$(rig_jobconf alice "$PW")
is "$(stat -c %a "$jc")" 600 "per-job config is mode 0600"
doveadm -c "$jc" backup -R -u alice imapc: >"$RIG_DIR/sync3.log" 2>&1 &
pid=$!
args=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)
wait $pid
is "$?" 0 "sync with the per-job config (-c FILE, !include TARGET) exits 0"
case "$args" in *"$PW"*) r=1 ;; *) r=0 ;; esac
ok $r "password not in the process's argv ($args)"
is "$(rig_count "$TGT_CONF" alice)" "$(rig_count "$SRC_CONF" alice)" \
	"counts equal after per-job-config sync"
if grep -qF "$PW" "$RIG_DIR"/sync*.log "$RIG_DIR"/tgt/dovecot.log 2>/dev/null; then
	r=1
else
	r=0
fi
ok $r "password appears in no doveadm output"

# the master-user variant of the per-job config
jc=$(rig_jobconf bob "$SRC_MASTER_PASS" "$SRC_MASTER_USER")
doveadm -c "$jc" backup -R -u bob imapc: >/dev/null 2>&1
is "$?" 0 "per-job config with imapc_master_user works"

# failures keep their classified lines (DESIGN.md section 4)
jc=$(rig_jobconf alice 'wrong password')
rc=$( (doveadm -c "$jc" backup -R -u alice imapc: >"$RIG_DIR/fail.log" 2>&1
	echo $?) 2>/dev/null)
ok "$([ "$rc" != 0 ] && echo 0 || echo 1)" "wrong password fails (exit $rc)"
grep -q 'Error: Failed to initialize user: imapc: Login to .* failed: Authentication failed' \
	"$RIG_DIR/fail.log"
ok $? "wrong password prints the login-failed Error line"

dovecot_source_stop
dovecot_target_stop
ok 0 "both instances stopped by PID"
echo "1..$n"
[ "$failed" = 0 ]
