#!/bin/bash
# test_doveadm_hostile.sh - hostile user ids through the whole doveadm
# path (database row -> injection -> argv -> per-job doveadm config ->
# real Dovecot): a real user whose name holds blanks, $( ), backticks, ;,
# &, | and %u is migrated completely and nothing in its name is run or
# expanded; ids that look like options or shell code fail as unknown
# users without side effects, and the worker keeps going.
# Dovecot itself refuses " ' and \ in user names (userdb), and by default
# any character outside auth_username_chars; this rig allows all others.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvhostile

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
# the marker file a smuggled command would create (lower case: Dovecot's
# auth_username_format %Lu lowercases user names)
pwned=/tmp/dmf-hostile-pwned-$$
rm -f "$pwned"
# Dovecot's default auth_username_chars refuses these names at login
for c in "$SRC_CONF" "$TGT_CONF"; do echo 'auth_username_chars =' >>"$c"; done
dovecot_source_stop
dovecot_target_stop
dovecot_source_start && dovecot_target_start || { echo "Bail out! restart Dovecot"; exit 1; }

H="h \$(touch $pwned);%u&\`touch $pwned\`|x{y}%n"
rig_add_user "$H" 'h-Pw%u$x'
# imaplib cannot log such a user in: save the mails with doveadm
msg() { printf 'From: a@example.org\r\nSubject: m%s\r\nMessage-ID: <%s@x>\r\n\r\nbody %s\r\n' "$1" "$1" "$1"; }
for i in 1 2 3 4 5; do msg "$i" | rig_src_doveadm save -u "$H"; done
rig_src_doveadm mailbox create -u "$H" 'Sub $(id) Dir'
for i in 6 7; do msg "$i" | rig_src_doveadm save -u "$H" -m 'Sub $(id) Dir'; done

dr_config w1 "retry: {max: 0, code-max: {}}"
dr_worker_start w1
h=$(dr_job "$H" 'h-Pw%u$x')
o1=$(dr_job '-o mail_location=maildir:/tmp/dmf-evil-x --help' 'x-Pw')
o2=$(dr_job "\`touch $pwned\`; touch $pwned" 'x-Pw')
o3=$(dr_job $'line1\nline2 -u root' 'x-Pw')
o4=$(dr_job '../../../../etc/passwd' 'x-Pw')
# a placeholder inside a job value is never expanded (and ':' cannot be in
# a passwd-file user name, so this one is unknown)
o5=$(dr_job 'p%{mdb:sourcepasswd}%{conf:imapc_master_password}' 'Pl4ceh0lder-Pw')
dr_wait "$h" "$o1" "$o2" "$o3" "$o4" "$o5" --timeout $((60 * DR_SLOW))

is "$(dr_field "$h" 'j["status"]')" SUCCESS "hostile but real uid: SUCCESS"
is "$(dr_field "$h" 'j["uid"]')" "$H" "  the uid is stored and shown as given"
is "$(dr_count "$TGT_CONF" "$H")" "$(dr_count "$SRC_CONF" "$H")" "  all 7 mails migrated (counts equal)"
is "$(dr_field "$h" '"%s %s" % (j["syncSaved"], j["originMessages"])')" "7 7" \
	"  syncSaved and originMessages are 7 (imapc_user was not %-expanded)"
like_ "$(dr_step "$h" dsync 's["command"]')" "-u " "  dsync.command shows the uid as one (quoted) word"
check "  nothing in the uid was run (no $pwned)" [ ! -e "$pwned" ]
check "  the target mail dir is the user's own" [ -d "$RIG_DIR/tgt/mail/$H" ]
for id in $o1 $o2 $o4 $o5; do
	u=$(dr_field "$id" 'repr(j["uid"])')
	is "$(dr_field "$id" 'j["status"]')" FAILURE "uid $u: FAILURE (unknown user)"
	is "$(dr_step "$id" dsync 's["exitCode"]')" 67 "uid $u: doveadm exit 67, the uid stayed one argument"
done
# a line break cannot go into the per-job Dovecot config
is "$(dr_field "$o3" 'j["status"]')" FAILURE "uid with a line break: FAILURE"
like_ "$(dr_field "$o3" 'j["error"]')" "line break" "  the error says why"
like_ "$(dr_step "$o5" dsync 's["command"]')" "p%{mdb:sourcepasswd}%{conf:imapc_master_password}" \
	"placeholders in the uid stay literal in the command"
check "  and the password is not substituted anywhere" \
	dr_no_secret Pl4ceh0lder-Pw "$DR_DIR/w1.log" "$DR_CMDLOG"
check "no option smuggled through the uid (/tmp/dmf-evil-x absent)" [ ! -e /tmp/dmf-evil-x ]
check "no command smuggled through the uid ($pwned absent)" [ ! -e "$pwned" ]
is "$(ls "$RIG_DIR/tgt/mail" | grep -c -F -e '..' -e 'passwd')" 0 "no path escape at the target"
is "$(find "$DR_CMDLOG" -mindepth 1 ! -type f | wc -l)" 0 \
	"command logs: plain files only, none outside the log dir"
check "  one command log per job ($(ls "$DR_CMDLOG" | wc -l) files)" [ "$(ls "$DR_CMDLOG" | wc -l)" -ge 5 ]
is "$(grep -c 'h-Pw%u' "$DR_DIR/w1.log")" 0 "the password is not in the worker log"
n=$(dr_job "$H" 'h-Pw%u$x')
dr_wait "$n" --timeout $((30 * DR_SLOW))
is "$(dr_field "$n" '"%s %s" % (j["status"], j["syncSaved"])')" "SUCCESS 0" \
	"the worker goes on: a second sync of the hostile uid finds nothing new"
rm -f "$pwned"
dr_stop_check w1
echo "1..$DW_T"
